/**
 * `amber inventory --cloud azure`: Resource Graph, ARM and Microsoft Graph answers of one or more subscriptions
 * and their tenant, preserved through the same collect path as any source (see
 * functions/azure/adapters/inventory-source.ts). Tokens: AMBER_AZURE_TOKEN, else DefaultAzureCredential; base
 * URLs: AMBER_ARM_URL, AMBER_GRAPH_URL.
 */
import { azureTokensFromEnv } from '../../functions/azure/adapters/azure-auth.ts';
import { AzureHttp } from '../../functions/azure/adapters/azure-http.ts';
import { AZURE_INVENTORY_SPEC, AzureInventorySource, type AzureInventoryProblem } from '../../functions/azure/adapters/inventory-source.ts';
import { UsageError } from '../../shared/errors.ts';
import type { CollectSummary } from '../../shared/evidence/collect.ts';
import type { Values } from '../amber.ts';
import { optionalString, positiveInt } from './args.ts';
import { baseUrl } from './azure-api.ts';
import { lockerSpec, openLocker, signerFrom } from './context.ts';
import { preserveInventory } from './inventory.ts';
import { t, type Io } from './io.ts';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i;

/** The checked scope of an Azure inventory: subscriptions (lower-case GUIDs) and the tenant, if given. */
export function azureScope(values: Values, io: Io): { subscriptions: string[]; tenant?: string } {
  if ((values.region as string[] | undefined)?.length || values['all-regions'] === true) {
    throw new UsageError('--region and --all-regions apply to --cloud aws', { hint: 'an Azure inventory reads every location of the subscriptions named with --subscription' });
  }
  const subscriptions = [...new Set(((values.subscription as string[] | undefined) ?? []).map((s) => s.toLowerCase()))];
  if (subscriptions.length === 0) throw new UsageError('--cloud azure needs a subscription: --subscription ID (repeat for several)', { hint: 'az account list --query [].id -o tsv lists them' });
  for (const s of subscriptions) if (!GUID.test(s)) throw new UsageError(`--subscription ${JSON.stringify(s)} is not a subscription id`, { hint: 'write it as a GUID, e.g. 00000000-0000-0000-0000-000000000000' });
  const tenant = optionalString(values, 'tenant') ?? (io.env.AZURE_TENANT_ID || undefined);
  if (tenant !== undefined && !GUID.test(tenant) && !DOMAIN.test(tenant)) {
    throw new UsageError(`--tenant ${JSON.stringify(tenant)} is not a tenant id or domain`, { hint: 'write the directory id as a GUID, or a verified domain such as contoso.onmicrosoft.com' });
  }
  return { subscriptions, ...(tenant !== undefined ? { tenant: tenant.toLowerCase() } : {}) };
}

/** Takes an Azure inventory into `caseName`; returns the exit status. */
export async function takeAzureInventory(caseName: string, values: Values, io: Io): Promise<number> {
  const { subscriptions, tenant } = azureScope(values, io);
  const armUrl = baseUrl(io, 'AMBER_ARM_URL', 'https://management.azure.com');
  const graphUrl = baseUrl(io, 'AMBER_GRAPH_URL', 'https://graph.microsoft.com');
  const retainDays = positiveInt(values, 'retain-days', 365);
  const signer = await signerFrom(optionalString(values, 'signing-key'), io);
  const http = new AzureHttp({ tokens: await azureTokensFromEnv(io.env) });
  const source = new AzureInventorySource({ subscriptions, ...(tenant !== undefined ? { tenant } : {}), observedAt: new Date(), armUrl, graphUrl, http });
  const store = await openLocker(lockerSpec(optionalString(values, 'locker'), io), io, { create: true });
  // Refusals are recorded (manifest failures) and shown, never fatal; a failure to store is.
  const { summary, other } = await preserveInventory({ store, caseName, source, spec: AZURE_INVENTORY_SPEC, retainDays, signer, io, unit: 'answers' });
  const result = { subscriptions, tenant: source.tenant ?? null, answers: source.answers, problems: source.problems, collect: summary };
  if (values.json) io.out(`${JSON.stringify(result, null, 2)}\n`);
  else io.out(describe(summary, subscriptions, source.tenant, source.answers, source.problems));
  return other.length === 0 ? 0 : Math.max(...other.map((f) => f.exitCode));
}

function describe(s: CollectSummary, subscriptions: readonly string[], tenant: string | undefined, answers: Record<string, number>, problems: readonly AzureInventoryProblem[]): string {
  const lines = [
    `Inventory of Azure subscription${subscriptions.length > 1 ? 's' : ''} ${subscriptions.join(', ')}${tenant ? ` and tenant ${t(tenant)}` : ''} preserved in case ${t(s.case)}: ${s.items} answers (${s.created} new), each hashed with SHA-256 while stored`,
    `  answers:  ${Object.entries(answers).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`,
    `  manifest: ${t(s.manifest.key)} (sha256 ${s.manifest.sha256})`,
  ];
  if (problems.length > 0) {
    lines.push(`  not read (${problems.length}; recorded in the manifest):`);
    for (const p of problems) lines.push(`    ${t(p.scope)} ${p.api} ${t(p.query)}: ${t(p.code)}: ${t(p.message)}`);
  }
  for (const f of s.failures.filter((f) => !f.origin.startsWith(`${AZURE_INVENTORY_SPEC}?`))) lines.push(`  NOT preserved: ${t(f.origin)}: ${t(f.reason)}`);
  lines.push(`  exposure: amber detect --case ${s.case} (the inventory-* detections)`);
  return `${lines.join('\n')}\n`;
}
