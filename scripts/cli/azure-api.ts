/**
 * `amber collect --from api:azure-activity|entra-signins|entra-audits|entra-risk|m365-audit|azure-state|
 * azure-iot-twins`: the CLI wiring of the Azure API sources, loaded only when one of them is named. Checks the
 * flags and the window, builds the token source (AMBER_AZURE_TOKEN, else DefaultAzureCredential) and the
 * source; base URLs come from AMBER_GRAPH_URL, AMBER_ARM_URL, AMBER_M365_URL, AMBER_IOTHUB_URL.
 */
import { ACTIVITY_RETENTION_DAYS, ACTIVITY_SPEC, activityLogSource } from '../../functions/azure/adapters/activity-log-source.ts';
import { azureTokensFromEnv } from '../../functions/azure/adapters/azure-auth.ts';
import { AzureHttp } from '../../functions/azure/adapters/azure-http.ts';
import { preservedPagesIn } from '../../functions/azure/adapters/azure-pages.ts';
import { AUDITS_SPEC, graphStateSource, graphWindowSource, RISK_SPEC, SIGNINS_SPEC, STATE_SPEC } from '../../functions/azure/adapters/graph-source.ts';
import { IOT_TWINS_SPEC, iotTwinsSource } from '../../functions/azure/adapters/iot-twins-source.ts';
import { M365_CONTENT_TYPES, M365_RETENTION_DAYS, M365_SPEC, managementActivitySource } from '../../functions/azure/adapters/management-activity-source.ts';
import { UsageError } from '../../shared/errors.ts';
import type { EvidenceSource } from '../../shared/ports/evidence-source.ts';
import type { ObjectStore } from '../../shared/ports/object-store.ts';
import type { Io } from './io.ts';

/** Every Azure api: source, with how far back its API serves records (undefined: current state, no window). */
export const AZURE_API_SOURCES: Readonly<Record<string, { readonly days?: number; readonly what: string }>> = {
  [ACTIVITY_SPEC]: { days: ACTIVITY_RETENTION_DAYS, what: 'Azure Activity Log (Azure Monitor)' },
  [SIGNINS_SPEC]: { days: 30, what: 'Entra ID sign-ins (Graph)' },
  [AUDITS_SPEC]: { days: 30, what: 'Entra ID directory audits (Graph)' },
  [RISK_SPEC]: { days: 90, what: 'Entra ID Identity Protection risky users and risk detections (Graph)' },
  [M365_SPEC]: { days: M365_RETENTION_DAYS, what: 'Microsoft 365 unified audit log (Management Activity API)' },
  [STATE_SPEC]: { what: 'Entra ID and Exchange Online current state (Graph)' },
  [IOT_TWINS_SPEC]: { what: 'IoT Hub device twins' },
};

/** True for the specs this module opens. */
export function isAzureApiSpec(spec: string): boolean {
  return Object.hasOwn(AZURE_API_SOURCES, spec);
}

/** The refusal of an api: source nobody knows, naming those there are. */
export function unknownApiSource(spec: string): UsageError {
  return new UsageError(`unknown API source ${JSON.stringify(spec)}`, { hint: `the API sources are api:aws-cloudtrail, ${Object.keys(AZURE_API_SOURCES).join(', ')}` });
}

/** The flags `collect` hands to an Azure api: source. */
export interface AzureApiOptions {
  readonly since?: string;
  readonly until?: string;
  readonly tenant?: string;
  readonly subscriptions?: readonly string[];
  readonly users?: readonly string[];
  readonly hub?: string;
  readonly openStore: () => Promise<ObjectStore>;
  readonly caseName: string;
}

/** Minutes a window's end must lie in the past: records of an open window are still arriving. */
export const AZURE_SETTLE_MINUTES = 15;
const DAY_MS = 86_400_000;
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i;
const HUB = /^[A-Za-z0-9-]{3,50}$/;

/**
 * Checks `--since/--until` for a source that keeps `days` days: both present, ISO-8601 with a zone, in order,
 * closed (ended AZURE_SETTLE_MINUTES ago, so a re-run reads the same pages). A window reaching further back than
 * the API serves gives a warning; one wholly older is refused, except for m365-audit, whose slices say it.
 */
export function checkAzureWindow(spec: string, since: string | undefined, until: string | undefined, now: Date, days: number): { since: Date; until: Date; warnings: string[] } {
  const example = `e.g. --since ${new Date(now.getTime() - DAY_MS).toISOString().slice(0, 16)}:00Z --until ${new Date(now.getTime() - AZURE_SETTLE_MINUTES * 60_000).toISOString().slice(0, 16)}:00Z`;
  if (since === undefined || until === undefined) throw new UsageError(`${spec} needs a time window: --since and --until are required`, { hint: example });
  const s = parseIso(since, '--since', example);
  const u = parseIso(until, '--until', example);
  if (s.getTime() >= u.getTime()) throw new UsageError(`--since ${since} is not before --until ${until}`, { hint: `swap them or widen the window (${example})` });
  const settled = new Date(now.getTime() - AZURE_SETTLE_MINUTES * 60_000);
  if (u.getTime() > settled.getTime()) {
    throw new UsageError(`--until ${until} is ${u.getTime() > now.getTime() ? 'in the future' : `less than ${AZURE_SETTLE_MINUTES} minutes ago`}: records of an open window are still arriving, so its pages would change and a later run could not re-preserve them byte for byte`, {
      hint: `end the window at or before ${settled.toISOString().slice(0, 16)}:00Z, and collect later records in a second window`,
    });
  }
  const oldest = new Date(now.getTime() - days * DAY_MS);
  const warnings: string[] = [];
  if (u.getTime() <= oldest.getTime() && spec !== M365_SPEC) {
    throw new UsageError(`the window ends ${until}, more than ${days} days ago: ${spec} serves only the last ${days} days, so there is nothing to ask for`, {
      hint: 'collect an export of that period instead (diagnostic settings in a storage account, a Log Analytics export) with --from PATH',
    });
  }
  if (s.getTime() < oldest.getTime()) {
    warnings.push(`--since ${since} is more than ${days} days ago: ${spec} serves only records after ${oldest.toISOString()}${spec === M365_SPEC ? '; the slices before that are reported incomplete' : ''}; older records must come from an export (diagnostic settings, Log Analytics, a Purview audit search)`);
  }
  return { since: s, until: u, warnings };
}

function parseIso(value: string, flag: string, example: string): Date {
  const date = new Date(value);
  if (!ISO_WITH_ZONE.test(value) || Number.isNaN(date.getTime())) {
    throw new UsageError(`${flag} ${JSON.stringify(value)} is not an ISO-8601 time with a zone`, { hint: `write it like 2026-03-01T00:00:00Z (UTC) or with an offset (+02:00): ${example}` });
  }
  return date;
}

function tenantOf(spec: string, api: AzureApiOptions, io: Io, guidOnly: boolean): string {
  const tenant = api.tenant ?? (io.env.AZURE_TENANT_ID || undefined);
  if (tenant === undefined) {
    throw new UsageError(`${spec} needs the tenant: --tenant ID (or AZURE_TENANT_ID)`, { hint: 'the directory (tenant) id, e.g. --tenant 00000000-0000-0000-0000-000000000000 (az account show --query tenantId)' });
  }
  if (!GUID.test(tenant) && (guidOnly || !DOMAIN.test(tenant))) {
    throw new UsageError(`--tenant ${JSON.stringify(tenant)} is not a tenant id${guidOnly ? '' : ' or domain'}`, { hint: `write the directory id as a GUID${guidOnly ? ' (the Management Activity API takes no domain name)' : ', or a verified domain such as contoso.onmicrosoft.com'}` });
  }
  return tenant.toLowerCase();
}

/** A base URL from the environment variable `name` (https, or http on 127.0.0.1 only), else `fallback`. */
export function baseUrl(io: Io, name: string, fallback: string): string {
  const value = io.env[name] || fallback;
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname))) throw new Error('not https');
  } catch {
    throw new UsageError(`${name} ${JSON.stringify(value)} is not an https URL (http is accepted for 127.0.0.1 only)`, { hint: `unset it to use ${fallback}` });
  }
  return value.replace(/\/+$/, '');
}

/** Opens one Azure api: source from the command line's flags. */
export async function openAzureApiSource(spec: string, io: Io, api: AzureApiOptions, allSpecs: readonly string[]): Promise<EvidenceSource> {
  const info = AZURE_API_SOURCES[spec];
  if (info === undefined) throw unknownApiSource(spec);
  if ((api.subscriptions?.length ?? 0) > 0 && !allSpecs.includes(ACTIVITY_SPEC)) throw new UsageError('--subscription applies only to api:azure-activity', { hint: 'add --from api:azure-activity, or drop the flag' });
  if ((api.users?.length ?? 0) > 0 && !allSpecs.includes(STATE_SPEC)) throw new UsageError('--user applies only to api:azure-state', { hint: 'add --from api:azure-state, or drop the flag' });
  if (api.hub !== undefined && !allSpecs.includes(IOT_TWINS_SPEC)) throw new UsageError('--hub applies only to api:azure-iot-twins', { hint: 'add --from api:azure-iot-twins, or drop the flag' });
  const now = new Date();
  const windowed = allSpecs.some((s) => s === 'api:aws-cloudtrail' || AZURE_API_SOURCES[s]?.days !== undefined);
  if (info.days === undefined && (api.since !== undefined || api.until !== undefined) && !windowed) {
    throw new UsageError(`${spec} reads current state, so --since/--until do not apply to it`, { hint: 'drop --since and --until (each run is a snapshot under its own time)' });
  }
  // Everything the command line says is checked before a token is asked for or the locker is opened.
  let build: (http: AzureHttp) => Promise<EvidenceSource>;
  if (spec === IOT_TWINS_SPEC) {
    const hub = api.hub;
    if (hub === undefined) throw new UsageError(`${spec} needs the hub: --hub NAME`, { hint: 'the IoT hub name, as in NAME.azure-devices.net' });
    if (!HUB.test(hub)) throw new UsageError(`--hub ${JSON.stringify(hub)} is not an IoT hub name`, { hint: 'letters, digits and hyphens, 3 to 50 of them (the NAME of NAME.azure-devices.net)' });
    const hubUrl = baseUrl(io, 'AMBER_IOTHUB_URL', `https://${hub}.azure-devices.net`);
    build = (http) => Promise.resolve(iotTwinsSource({ hub, hubUrl, at: now, http }));
  } else if (spec === STATE_SPEC) {
    const tenant = tenantOf(spec, api, io, false);
    const graphUrl = baseUrl(io, 'AMBER_GRAPH_URL', 'https://graph.microsoft.com');
    build = (http) => Promise.resolve(graphStateSource({ graphUrl, tenant, at: now, users: [...new Set(api.users ?? [])], http }));
  } else {
    const { since, until, warnings } = checkAzureWindow(spec, api.since, api.until, now, info.days!);
    for (const warning of warnings) io.err(`amber: warning: ${warning}\n`);
    if (spec === ACTIVITY_SPEC) {
      const subscriptions = [...new Set(api.subscriptions ?? [])];
      if (subscriptions.length === 0) throw new UsageError(`${spec} needs a subscription: --subscription ID (repeat for several)`, { hint: 'az account list --query [].id -o tsv lists them' });
      for (const s of subscriptions) if (!GUID.test(s)) throw new UsageError(`--subscription ${JSON.stringify(s)} is not a subscription id`, { hint: 'write it as a GUID, e.g. 00000000-0000-0000-0000-000000000000' });
      const armUrl = baseUrl(io, 'AMBER_ARM_URL', 'https://management.azure.com');
      build = async (http) => activityLogSource({ armUrl, subscriptions: subscriptions.map((s) => s.toLowerCase()), since, until, http, preserved: preservedPagesIn(await api.openStore(), api.caseName) });
    } else if (spec === M365_SPEC) {
      const tenant = tenantOf(spec, api, io, true);
      const m365Url = baseUrl(io, 'AMBER_M365_URL', 'https://manage.office.com');
      build = async (http) => managementActivitySource({ m365Url, tenant, contentTypes: M365_CONTENT_TYPES, since, until, now, http, preserved: preservedPagesIn(await api.openStore(), api.caseName) });
    } else {
      const tenant = tenantOf(spec, api, io, false);
      const graphUrl = baseUrl(io, 'AMBER_GRAPH_URL', 'https://graph.microsoft.com');
      build = async (http) => graphWindowSource(spec, { graphUrl, tenant, since, until, http, preserved: preservedPagesIn(await api.openStore(), api.caseName) });
    }
  }
  const http = new AzureHttp({ tokens: await azureTokensFromEnv(io.env) });
  return build(http);
}
