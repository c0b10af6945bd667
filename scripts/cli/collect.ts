/** `amber collect`: preserve sources into a case. */
import { UsageError } from '../../shared/errors.ts';
import { collectEvidence, type CollectSummary } from '../../shared/evidence/collect.ts';
import { validateCaseName } from '../../shared/evidence/names.ts';
import type { ObjectStore } from '../../shared/ports/object-store.ts';
import { sourceById } from '../../shared/sources/registry.ts';
import { recogniseSource } from '../../shared/sources/recognise.ts';
import type { Values } from '../amber.ts';
import { optionalString, positiveInt, requireString } from './args.ts';
import { actorFrom, lockerSpec, openLocker, openSource, signerFrom } from './context.ts';
import { apiReport } from './api-report.ts';
import { formatBytes, ProgressBar, t, type Io } from './io.ts';

const USAGE = 'amber collect --case C --from PATH|s3://bucket/prefix|azblob://account/container/prefix [...] [--locker DIR|s3://bucket|azblob://account/container] [--json]';
const DAY_MS = 86_400_000;

/** Runs `amber collect`. */
export async function runCollect(values: Values, positionals: string[], io: Io): Promise<number> {
  const caseName = validateCaseName(requireString(values, 'case', USAGE));
  const specs = [...((values.from as string[] | undefined) ?? []), ...positionals];
  if (specs.length === 0) throw new UsageError('missing --from', { hint: `usage: ${USAGE}` });
  const retainDays = positiveInt(values, 'retain-days', 365);
  const source = optionalString(values, 'source');
  if (source !== undefined && source !== 'cloudtrail') sourceById(source); // fails fast, listing the valid ids
  const api = apiFlags(values, specs);
  const allVersions = values['all-versions'] === true;
  if (allVersions && !specs.some((s) => s.startsWith('s3://') || s.startsWith('azblob://') || s.startsWith('gs://'))) {
    throw new UsageError('--all-versions applies only to s3://, azblob:// and gs:// sources', { hint: 'add --from s3://bucket/prefix, azblob://account/container/prefix or gs://bucket/prefix, or drop the flag' });
  }
  // Read before anything else: a wrong or unreadable key fails before a source is opened.
  const signer = await signerFrom(optionalString(values, 'signing-key'), io);
  // Opened once, on first need: an api: source resumes from the pages already in the locker.
  let opening: Promise<ObjectStore> | undefined;
  const openStore = (): Promise<ObjectStore> => (opening ??= openLocker(lockerSpec(optionalString(values, 'locker'), io), io, { create: true }));
  // Every source is checked before anything is stored: a typo fails fast instead of half-collecting.
  const sources = [];
  for (const spec of specs) sources.push(await openSource(spec, io, { ...api, openStore, caseName, specs }, { allVersions }));
  const store = await openStore();
  const progress = new ProgressBar(io, 'collecting');
  const summary = await collectEvidence({
    store,
    caseName,
    sources,
    actor: actorFrom(io),
    retainUntil: new Date(Date.now() + retainDays * DAY_MS),
    ...(source ? { source } : {}),
    recognise: recogniseSource,
    ...(signer ? { signer } : {}),
    onProgress: (p) => progress.update(p.bytes, undefined, `${p.files} objects, ${formatBytes(p.bytes)}  ${p.current ?? ''}`),
  });
  progress.done();
  const report = apiReport(sources); // Management Activity slices and notes of the Azure API sources, when any
  if (values.json) io.out(`${JSON.stringify({ ...summary, ...report.json }, null, 2)}\n`);
  else io.out(describe(summary) + report.text);
  if (summary.failures.length === 0) return 0;
  return Math.max(...summary.failures.map((f) => f.exitCode));
}

/** The flags that only api: sources take; refused when no api: source is named, so they are never ignored. */
function apiFlags(values: Values, specs: readonly string[]) {
  const regions = (values.region as string[] | undefined) ?? [];
  const logs = (values.log as string[] | undefined) ?? [];
  const given = ['since', 'until', 'all-regions', 'insights', 'tenant', 'hub', 'project', 'filter'].filter((f) => values[f] !== undefined);
  if (regions.length > 0) given.push('region');
  if (logs.length > 0) given.push('log');
  for (const f of ['subscription', 'user']) if (((values[f] as string[] | undefined) ?? []).length > 0) given.push(f);
  if (given.length > 0 && !specs.some((s) => s.startsWith('api:'))) {
    throw new UsageError(`--${given[0]} applies only to api: sources`, { hint: 'add --from api:aws-cloudtrail or api:gcp-logging, or drop the flag (files and S3 prefixes are collected whole)' });
  }
  const azureOnly = given.filter((f) => ['tenant', 'hub', 'subscription', 'user'].includes(f));
  if (azureOnly.length > 0 && !specs.some((s) => s.startsWith('api:') && s !== 'api:aws-cloudtrail' && s !== 'api:gcp-logging')) {
    throw new UsageError(`--${azureOnly[0]} applies only to the Azure api: sources`, { hint: 'add --from api:entra-signins (or another Azure source), or drop the flag' });
  }
  return {
    ...(typeof values.since === 'string' ? { since: values.since } : {}),
    ...(typeof values.until === 'string' ? { until: values.until } : {}),
    regions,
    allRegions: values['all-regions'] === true,
    insights: values.insights === true,
    ...(typeof values.tenant === 'string' ? { tenant: values.tenant } : {}),
    ...(typeof values.hub === 'string' ? { hub: values.hub } : {}),
    subscriptions: (values.subscription as string[] | undefined) ?? [],
    users: (values.user as string[] | undefined) ?? [],
    gcp: { logs, allVersions: values['all-versions'] === true, ...(typeof values.project === 'string' ? { project: values.project } : {}), ...(typeof values.filter === 'string' ? { filter: values.filter } : {}) },
  };
}

function describe(s: CollectSummary): string {
  const lines = [
    `Collected ${s.items} object${s.items === 1 ? '' : 's'} into case ${t(s.case)} (${s.created} new, ${s.reacquired} already preserved with the same bytes)`,
    `  ${formatBytes(s.bytes)} in ${s.seconds.toFixed(2)} s (${s.mbPerSecond.toFixed(1)} MB/s), every object hashed with SHA-256 while stored`,
    `  sources:  ${Object.entries(s.sources).map(([id, n]) => `${id} ${n}`).join(', ') || 'none recognised'}${Object.values(s.sources).reduce((a, b) => a + b, 0) < s.items ? ` (${s.items - Object.values(s.sources).reduce((a, b) => a + b, 0)} in no format Amber parses: preserved and hashed all the same)` : ''}`,
    `  locker:   ${t(s.locker)}`,
    `  manifest: ${t(s.manifest.key)} (sha256 ${s.manifest.sha256})`,
    `  ledger:   ${s.ledgerHead.seq} entries, head ${s.ledgerHead.sha256}`,
    ...(s.signedBy ? [`  signed:   manifest and checkpoint signed with key ${s.signedBy}`] : []),
  ];
  for (const w of s.warnings) lines.push(`  warning:  ${t(w.origin)}: ${t(w.reason)}`);
  if (s.failures.length > 0) {
    lines.push('', `NOT preserved (${s.failures.length}); fix and run the same command again (what is preserved stays as it is):`);
    for (const f of s.failures) lines.push(`  ${t(f.origin)}: ${t(f.reason)}`);
  }
  return `${lines.join('\n')}\n`;
}
