/**
 * The function app's settings, read once at module scope into a typed object: exactly the variables the
 * Terraform module (infra/azure) sets. A missing or malformed one fails the cold start at once, naming every
 * problem, instead of failing later mid-preservation.
 */
import { InvalidInputError } from '../../shared/errors.ts';
import { durationMs } from '../../shared/detections/catalogue.ts';
import { parseKeyVaultKeyId } from './adapters/key-vault-signer.ts';
import { DEFENDER_SEVERITIES, type DefenderSeverity } from './triggers.ts';

/**
 * Log reading per invocation when AMBER_LOG_BUDGET_SECONDS is not set: the HTTP triggers must answer within the
 * 230 s Azure's front end waits, and the VMs of the request are preserved first.
 */
export const DEFAULT_LOG_BUDGET_SECONDS = 120;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What the Azure functions read from their app settings. */
export interface AzureConfig {
  /** The evidence locker: `azblob://<account>/<container>`, or a folder (local runs). */
  readonly locker: string;
  /** Resource group the snapshots are made in. */
  readonly snapshotResourceGroup: string;
  /** Retention of preserved objects, in days. */
  readonly retentionDays: number;
  readonly defenderMinSeverity: DefenderSeverity;
  /** Log window, in hours before a Defender alert. */
  readonly defaultWindowHours: number;
  /** ISO-8601 duration the timer's detection run looks back (PT1H). */
  readonly detectionWindow: string;
  /** The principal recorded in the ledger (the function app's managed identity). */
  readonly principal: string;
  /** ARM endpoint (sovereign clouds). */
  readonly armEndpoint?: string;
  /** The Key Vault key that signs seals and checkpoints (`https://<vault>.vault.azure.net/keys/<name>`); absent: unsigned. */
  readonly signingKey?: string;
  /** Log preservation of requests with a window (preserve-logs.ts). */
  readonly logs: { readonly tenant?: string; readonly budgetMs: number; readonly graphUrl?: string; readonly m365Url?: string; readonly risk?: boolean; readonly state?: boolean };
  /** The estate inventory (preserve-inventory.ts): taken as the first step of every VM preservation unless off. */
  readonly inventory: { readonly onPreserve: boolean };
}

/** Optional app settings, with what each is for and its default. */
export const OPTIONAL_AZURE_SETTINGS = {
  AMBER_LOG_TENANT_ID: 'Entra tenant (directory) id: when set, a request with a window also preserves Entra sign-ins and audits (Graph) and the Microsoft 365 audit log (Management Activity API); unset: the Activity Log only',
  AMBER_LOG_BUDGET_SECONDS: `seconds of log reading per invocation, below the host's functionTimeout (default ${DEFAULT_LOG_BUDGET_SECONDS}); what is not read by then is reported incomplete and the redelivered request resumes`,
  AMBER_ARM_ENDPOINT: 'Azure Resource Manager URL (sovereign clouds; default https://management.azure.com)',
  AMBER_GRAPH_URL: 'Microsoft Graph URL (sovereign clouds; default https://graph.microsoft.com)',
  AMBER_M365_URL: 'Office 365 Management API URL (sovereign clouds; default https://manage.office.com)',
  AMBER_INVENTORY_ON_PRESERVE: 'true or false: take the inventory of the subscription (Resource Graph, diagnostic settings, and Entra ID when AMBER_LOG_TENANT_ID is set) as the first step of every VM preservation (default true)',
  AMBER_LOG_ENTRA_RISK: 'true: a request with a window also preserves Entra ID Protection risk detections and risky users (needs AMBER_LOG_TENANT_ID; default false)',
  AMBER_LOG_AZURE_STATE: 'true: a request with a window also preserves a snapshot of the directory and mailbox state: grants, apps, conditional access, MFA registration, inbox rules (needs AMBER_LOG_TENANT_ID; default false)',
  AMBER_SIGNING_KEY: 'Key Vault EC P-256 key that signs every seal and checkpoint (ES256), https://<vault>.vault.azure.net/keys/<name>[/<version>]; unset: custody is unsigned',
} as const;

/** App settings the functions need, with what each is for (the Terraform module sets each one). */
export const AZURE_SETTINGS = {
  AMBER_LOCKER: 'the evidence locker, azblob://<account>/<container>',
  AMBER_SNAPSHOT_RESOURCE_GROUP: 'resource group the snapshots are created in',
  AMBER_RETENTION_DAYS: 'days preserved objects are retained (whole number, at least 1)',
  AMBER_DEFENDER_MIN_SEVERITY: `lowest Defender alert severity that starts preservation (${DEFENDER_SEVERITIES.join(', ')})`,
  AMBER_DEFAULT_LOG_WINDOW_HOURS: 'hours of logs before an alert a request covers (whole number, at least 1)',
  AMBER_DETECTION_WINDOW: 'ISO-8601 duration each scheduled detection run looks back, e.g. PT1H',
  AMBER_PRINCIPAL: 'principal recorded in the custody ledger: the function app (whose system-assigned identity acts)',
} as const;

/** Reads and checks every setting; one error lists every problem. */
export function readAzureConfig(env: NodeJS.ProcessEnv = process.env): AzureConfig {
  const problems: string[] = [];
  const get = (name: keyof typeof AZURE_SETTINGS): string => {
    const v = env[name];
    if (v === undefined || v.trim() === '') {
      problems.push(`${name} is not set (${AZURE_SETTINGS[name]})`);
      return '';
    }
    return v.trim();
  };
  const whole = (name: keyof typeof AZURE_SETTINGS): number => {
    const v = get(name);
    if (v !== '' && (!/^\d+$/.test(v) || Number(v) < 1)) problems.push(`${name} must be a whole number of at least 1, got ${JSON.stringify(v)}`);
    return Number(v);
  };
  const locker = get('AMBER_LOCKER');
  const snapshotResourceGroup = get('AMBER_SNAPSHOT_RESOURCE_GROUP');
  const retentionDays = whole('AMBER_RETENTION_DAYS');
  const severity = get('AMBER_DEFENDER_MIN_SEVERITY');
  if (severity !== '' && !DEFENDER_SEVERITIES.includes(severity as DefenderSeverity)) problems.push(`AMBER_DEFENDER_MIN_SEVERITY must be one of ${DEFENDER_SEVERITIES.join(', ')}, got ${JSON.stringify(severity)}`);
  const defaultWindowHours = whole('AMBER_DEFAULT_LOG_WINDOW_HOURS');
  const detectionWindow = get('AMBER_DETECTION_WINDOW');
  if (detectionWindow !== '') {
    try {
      if (durationMs(detectionWindow) <= 0) problems.push(`AMBER_DETECTION_WINDOW must be longer than zero, got ${JSON.stringify(detectionWindow)}`);
    } catch {
      problems.push(`AMBER_DETECTION_WINDOW must be an ISO-8601 duration such as PT1H or P1D, got ${JSON.stringify(detectionWindow)}`);
    }
  }
  const principal = get('AMBER_PRINCIPAL');
  const tenant = env.AMBER_LOG_TENANT_ID?.trim() || undefined;
  if (tenant !== undefined && !GUID.test(tenant)) problems.push(`AMBER_LOG_TENANT_ID must be a tenant id (a GUID), got ${JSON.stringify(tenant)}`);
  const budget = env.AMBER_LOG_BUDGET_SECONDS?.trim() || String(DEFAULT_LOG_BUDGET_SECONDS);
  if (!/^\d+$/.test(budget) || Number(budget) < 1) problems.push(`AMBER_LOG_BUDGET_SECONDS must be a whole number of at least 1, got ${JSON.stringify(budget)}`);
  for (const name of ['AMBER_GRAPH_URL', 'AMBER_M365_URL'] as const) {
    const v = env[name]?.trim();
    if (v && !/^https:\/\/[^\s/]+/.test(v)) problems.push(`${name} must be an https URL, got ${JSON.stringify(v)}`);
  }
  const onPreserve = env.AMBER_INVENTORY_ON_PRESERVE?.trim() || 'true';
  if (onPreserve !== 'true' && onPreserve !== 'false') problems.push(`AMBER_INVENTORY_ON_PRESERVE must be true or false, got ${JSON.stringify(onPreserve)}`);
  const flag = (name: 'AMBER_LOG_ENTRA_RISK' | 'AMBER_LOG_AZURE_STATE'): boolean => {
    const v = env[name]?.trim().toLowerCase() ?? '';
    if (v !== '' && v !== 'true' && v !== 'false') problems.push(`${name} must be true or false, got ${JSON.stringify(env[name])}`);
    if (v === 'true' && tenant === undefined) problems.push(`${name} is true but AMBER_LOG_TENANT_ID is not set: the risk and state pulls read a tenant's Microsoft Graph`);
    return v === 'true';
  };
  const risk = flag('AMBER_LOG_ENTRA_RISK');
  const state = flag('AMBER_LOG_AZURE_STATE');
  const signingKey = env.AMBER_SIGNING_KEY?.trim().replace(/^akv:/, '') || undefined;
  if (signingKey !== undefined) {
    try {
      parseKeyVaultKeyId(signingKey);
    } catch {
      problems.push(`AMBER_SIGNING_KEY must be a Key Vault key identifier (https://<vault>.vault.azure.net/keys/<name>), got ${JSON.stringify(signingKey)}`);
    }
  }
  if (problems.length > 0) {
    throw new InvalidInputError(`the Amber function app's settings are incomplete: ${problems.join('; ')}`, {
      hint: 'deploy with the Terraform module in infra/azure, which sets every AMBER_* setting, or set them on the function app',
    });
  }
  return {
    locker,
    snapshotResourceGroup,
    retentionDays,
    defenderMinSeverity: severity as DefenderSeverity,
    defaultWindowHours,
    detectionWindow,
    principal,
    ...(env.AMBER_ARM_ENDPOINT ? { armEndpoint: env.AMBER_ARM_ENDPOINT } : {}),
    ...(signingKey ? { signingKey } : {}),
    logs: {
      ...(tenant ? { tenant: tenant.toLowerCase() } : {}),
      budgetMs: Number(budget) * 1000,
      ...(env.AMBER_GRAPH_URL?.trim() ? { graphUrl: env.AMBER_GRAPH_URL.trim() } : {}),
      ...(env.AMBER_M365_URL?.trim() ? { m365Url: env.AMBER_M365_URL.trim() } : {}),
      ...(risk ? { risk } : {}),
      ...(state ? { state } : {}),
    },
    inventory: { onPreserve: onPreserve === 'true' },
  };
}
