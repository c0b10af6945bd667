/**
 * `amber inventory --cloud gcp`: the Cloud Asset Inventory of projects (`--project P`, repeatable) or of an
 * organization (`--organization O`), every assets.list page preserved through `collect`. Loaded only for gcp.
 */
import { ASSET_SCOPE, checkScope, GCP_INVENTORY_SPEC, GcpAssetInventorySource, type GcpInventoryProblem, type InventoryScope } from '../../functions/gcp/adapters/asset-inventory-source.ts';
import { gcpTokenProvider } from '../../functions/gcp/adapters/gcp-http.ts';
import { UsageError } from '../../shared/errors.ts';
import type { CollectSummary } from '../../shared/evidence/collect.ts';
import type { Values } from '../amber.ts';
import { optionalString, positiveInt } from './args.ts';
import { lockerSpec, openLocker, signerFrom } from './context.ts';
import { preserveInventory } from './inventory.ts';
import { t, type Io } from './io.ts';


/** The scopes the flags name: projects (each once, in the order given) or one organization, never both. */
export function gcpScopes(values: Values): InventoryScope[] {
  const projects = [...new Set((values.project as string[] | undefined) ?? [])];
  const organization = optionalString(values, 'organization');
  if (values.region !== undefined || values['all-regions'] === true) {
    throw new UsageError('--region and --all-regions apply to --cloud aws', { hint: 'Cloud Asset Inventory reads every location of a project at once: drop the flag' });
  }
  if (projects.length > 0 && organization !== undefined) {
    throw new UsageError('--project and --organization were both given', { hint: 'inventory the projects (--project P, repeatable) or the whole organization (--organization O), in two runs if you need both' });
  }
  if (projects.length === 0 && organization === undefined) {
    throw new UsageError('--cloud gcp needs --project P (repeatable) or --organization O', { hint: 'e.g. amber inventory --case INC-1 --cloud gcp --project acme-prod-1' });
  }
  return organization !== undefined ? [checkScope({ kind: 'organization', id: organization })] : projects.map((id) => checkScope({ kind: 'project', id }));
}

/** Takes the inventory and prints what was kept and what was refused; refusals are recorded, never fatal. */
export async function takeGcpInventory(caseName: string, values: Values, io: Io): Promise<number> {
  const scopes = gcpScopes(values);
  const retainDays = positiveInt(values, 'retain-days', 365);
  const signer = await signerFrom(optionalString(values, 'signing-key'), io);
  const token = gcpTokenProvider(io.env, [ASSET_SCOPE], GCP_INVENTORY_SPEC);
  await token(); // no credentials: fail before the locker is opened, so nothing is stored
  const source = new GcpAssetInventorySource({
    scopes,
    observedAt: new Date(),
    tokenFor: () => token,
    ...(io.env.AMBER_GCP_ASSET_URL ? { baseUrl: io.env.AMBER_GCP_ASSET_URL } : {}),
  });
  const store = await openLocker(lockerSpec(optionalString(values, 'locker'), io), io, { create: true });
  const { summary, other } = await preserveInventory({ store, caseName, source, spec: GCP_INVENTORY_SPEC, retainDays, signer, io, unit: 'pages' });
  const scopeNames = scopes.map((s) => `${s.kind === 'project' ? 'projects' : 'organizations'}/${s.id}`);
  const result = { scopes: scopeNames, stamp: source.stamp, answers: source.answers, assets: source.assets, problems: source.problems, collect: summary };
  if (values.json) io.out(`${JSON.stringify(result, null, 2)}\n`);
  else io.out(describe(summary, scopeNames, source.answers, source.assets, source.problems));
  return other.length === 0 ? 0 : Math.max(...other.map((f) => f.exitCode));
}

function describe(s: CollectSummary, scopes: readonly string[], answers: Record<string, number>, assets: Record<string, number>, problems: readonly GcpInventoryProblem[]): string {
  const lines = [
    `Inventory of ${scopes.join(', ')} (Cloud Asset Inventory) preserved in case ${t(s.case)}: ${s.items} pages (${s.created} new), each hashed with SHA-256 while stored`,
    `  assets:   ${Object.entries(assets).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`,
    `  pages:    ${Object.values(answers).reduce((a, b) => a + b, 0)} over ${Object.keys(answers).length} queries`,
    `  manifest: ${t(s.manifest.key)} (sha256 ${s.manifest.sha256})`,
  ];
  if (problems.length > 0) {
    lines.push(`  not read (${problems.length}; recorded in the manifest):`);
    for (const p of problems) lines.push(`    ${t(p.scope)} ${p.contentType} ${t(p.assetType)}: ${t(p.code)}: ${t(p.message)}`);
  }
  for (const f of s.failures.filter((f) => !f.origin.startsWith(`${GCP_INVENTORY_SPEC}?`))) lines.push(`  NOT preserved: ${t(f.origin)}: ${t(f.reason)}`);
  lines.push(`  exposure: amber detect --case ${s.case} (the inventory-gcp-* detections)`);
  return `${lines.join('\n')}\n`;
}
