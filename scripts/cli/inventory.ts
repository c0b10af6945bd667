/**
 * `amber inventory`: documents a cloud estate as evidence (every API answer preserved and hashed through the same
 * collect machinery as any other source) and exports the normalised `inventory` rows. Exposure is checked by
 * the catalogue's inventory detections (`amber detect`, `amber report`), like any other table.
 */
import { AwsInventorySource, INVENTORY_API_SPEC, type InventoryProblem } from '../../functions/aws/adapters/inventory-source.ts';
import { InvalidInputError, UsageError } from '../../shared/errors.ts';
import { collectEvidence, type CollectSummary } from '../../shared/evidence/collect.ts';
import { validateCaseName } from '../../shared/evidence/names.ts';
import { recogniseSource } from '../../shared/sources/recognise.ts';
import { INVENTORY_COLUMNS } from '../../shared/sources/inventory/index.ts';
import { resumePoint, type ResumePoint } from '../../shared/preservation/inventory-resume.ts';
import { CustodyLedger } from '../../shared/evidence/ledger.ts';
import { csvCell } from '../../shared/text/escape.ts';
import type { Values } from '../amber.ts';
import { optionalString, positiveInt, requireString } from './args.ts';
import { callerAccount, checkRegionNames, enabledRegions, homeRegion } from './aws-account.ts';
import { openCaseSession } from './case-session.ts';
import { actorFrom, lockerSpec, openLocker, signerFrom } from './context.ts';
import { writeExport } from './export.ts';
import { formatBytes, ProgressBar, t, type Io } from './io.ts';

export const INVENTORY_USAGE = 'amber inventory --case C --cloud aws [--region R ...|--all-regions] [--resume] | --cloud azure --subscription S ... [--tenant T] | --cloud gcp --project P [--project P ...]|--organization O [--format json|csv [--out FILE]] [--locker DIR] [--json]';
const DAY_MS = 86_400_000;
const FORMATS = ['json', 'csv'] as const;

/** Runs `amber inventory`. */
export async function runInventory(values: Values, _positionals: string[], io: Io): Promise<number> {
  const caseName = validateCaseName(requireString(values, 'case', INVENTORY_USAGE));
  const cloud = optionalString(values, 'cloud');
  const format = optionalString(values, 'format');
  if (format !== undefined && !(FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`unknown --format ${JSON.stringify(format)}`, { hint: `use one of ${FORMATS.join(', ')}` });
  }
  if (cloud === undefined && format === undefined) {
    throw new UsageError('missing --cloud (to take an inventory) or --format (to export the case\'s inventory rows)', { hint: `usage: ${INVENTORY_USAGE}` });
  }
  let code = 0;
  if (cloud !== undefined) code = await takeInventory(caseName, cloud, values, io);
  if (format !== undefined) code = Math.max(code, await exportInventory(caseName, format as (typeof FORMATS)[number], values, io));
  return code;
}

async function takeInventory(caseName: string, cloud: string, values: Values, io: Io): Promise<number> {
  if (cloud === 'azure') return (await import('./inventory-azure.ts')).takeAzureInventory(caseName, values, io);
  if (cloud === 'gcp') return (await import('./gcp-inventory.ts')).takeGcpInventory(caseName, values, io);
  if (cloud !== 'aws') throw new UsageError(`unknown --cloud ${JSON.stringify(cloud)}`, { hint: 'use aws, azure or gcp' });
  if ((values.subscription as string[] | undefined)?.length || values.tenant !== undefined) {
    throw new UsageError('--subscription and --tenant apply to --cloud azure', { hint: 'an AWS inventory reads the account of the credentials; name regions with --region' });
  }
  if (values.project !== undefined || values.organization !== undefined) {
    throw new UsageError('--project and --organization apply to --cloud gcp', { hint: 'an AWS inventory reads the account of the credentials: drop the flag' });
  }
  const regions = (values.region as string[] | undefined) ?? [];
  const all = values['all-regions'] === true;
  if (all && regions.length > 0) throw new UsageError('--region and --all-regions were both given', { hint: 'name the regions with --region, or read every enabled region with --all-regions' });
  checkRegionNames(regions);
  const retainDays = positiveInt(values, 'retain-days', 365);
  const signer = await signerFrom(optionalString(values, 'signing-key'), io);
  const home = regions[0] ?? (await homeRegion(INVENTORY_API_SPEC, io));
  const account = await callerAccount(INVENTORY_API_SPEC, home, io);
  const read = all ? await enabledRegions(INVENTORY_API_SPEC, home) : regions.length > 0 ? [...new Set(regions)] : [home];
  const store = await openLocker(lockerSpec(optionalString(values, 'locker'), io), io, { create: true });
  // --resume: the account's latest inventory in the case that did not finish, continued under its own stamp.
  let resume: ResumePoint | undefined;
  if (values.resume === true) {
    resume = await resumePoint(store, caseName, account, {
      recorded: async () => {
        try {
          return new Set((await CustodyLedger.open(store, caseName)).items().keys());
        } catch {
          // A ledger the interrupted run left unreadable: every kept answer is offered again, and collect sorts out
          // which are recorded (re-acquired) and which are not (recovered).
          return new Set<string>();
        }
      },
    });
    io.err(`Resuming the inventory of ${account} taken at ${resume.observedAt.toISOString()} (${resume.kept} answers already kept are read from the locker, not asked again)\n`);
  }
  const source = new AwsInventorySource({ regions: read, homeRegion: home, account, observedAt: resume?.observedAt ?? new Date(), ...(resume ? { preserved: resume.preserved } : {}) });
  // Refusals and disabled regions are recorded (manifest failures) and shown, never fatal; anything else is.
  const { summary, other } = await preserveInventory({ store, caseName, source, spec: INVENTORY_API_SPEC, retainDays, signer, io, unit: 'answers' });
  const result = { account, regions: read, stamp: source.stamp, answers: source.answers, resumed: source.resumed, problems: source.problems, collect: summary };
  if (values.json) io.out(`${JSON.stringify(result, null, 2)}\n`);
  else io.out(describe(summary, account, read, source.answers, source.problems, source.resumed));
  return other.length === 0 ? 0 : Math.max(...other.map((f) => f.exitCode));
}

/** What `preserveInventory` needs: the source of one cloud's answers and where they go. */
export interface InventoryPreservation {
  readonly store: Parameters<typeof collectEvidence>[0]['store'];
  readonly caseName: string;
  readonly source: Parameters<typeof collectEvidence>[0]['sources'][number];
  /** The origin prefix of the source's answers: their refusals are recorded and shown, never fatal. */
  readonly spec: string;
  readonly retainDays: number;
  readonly signer: Parameters<typeof collectEvidence>[0]['signer'];
  readonly io: Io;
  /** What the progress line counts: answers, pages. */
  readonly unit: string;
}

/**
 * Preserves one inventory's answers through the collect machinery (hashed as stored, recorded, sealed) with a
 * progress line; `other` holds the failures that are not the cloud's refusals (a failure to store), which are.
 */
export async function preserveInventory(p: InventoryPreservation): Promise<{ summary: CollectSummary; other: CollectSummary['failures'] }> {
  const progress = new ProgressBar(p.io, 'inventory');
  const summary = await collectEvidence({
    store: p.store,
    caseName: p.caseName,
    sources: [p.source],
    actor: actorFrom(p.io),
    retainUntil: new Date(Date.now() + p.retainDays * DAY_MS),
    recognise: recogniseSource,
    ...(p.signer ? { signer: p.signer } : {}),
    onProgress: (x) => progress.update(x.bytes, undefined, `${x.files} ${p.unit}, ${formatBytes(x.bytes)}  ${x.current ?? ''}`),
  });
  progress.done();
  return { summary, other: summary.failures.filter((f) => !f.origin.startsWith(`${p.spec}?`)) };
}

function describe(s: CollectSummary, account: string, regions: readonly string[], answers: Record<string, number>, problems: readonly InventoryProblem[], resumed: Record<string, number>): string {
  const kept = Object.values(resumed).reduce((a, b) => a + b, 0);
  const lines = [
    `Inventory of AWS account ${account} (${regions.join(', ')}) preserved in case ${t(s.case)}: ${s.items} answers (${s.created} new), each hashed with SHA-256 while stored`,
    `  answers:  ${Object.entries(answers).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`,
    ...(kept > 0 ? [`  resumed:  ${kept} answers kept by the interrupted run read from the locker (${Object.entries(resumed).map(([k, n]) => `${k} ${n}`).join(', ')})`] : []),
    `  manifest: ${t(s.manifest.key)} (sha256 ${s.manifest.sha256})`,
  ];
  if (problems.length > 0) {
    lines.push(`  not read (${problems.length}; recorded in the manifest):`);
    for (const p of problems) lines.push(`    ${t(p.region)} ${t(p.service)} ${t(p.operation)}: ${t(p.code)}: ${t(p.message)}`);
  }
  for (const f of s.failures.filter((f) => !f.origin.startsWith(`${INVENTORY_API_SPEC}?`))) lines.push(`  NOT preserved: ${t(f.origin)}: ${t(f.reason)}`);
  lines.push('  exposure: amber detect --case ' + s.case + ' (the inventory-* detections)');
  return `${lines.join('\n')}\n`;
}

/** Writes the case's inventory rows, ordered by account, region, type, id and evidence, as a JSON array or CSV (with each evidence object's SHA-256). */
async function exportInventory(caseName: string, format: 'json' | 'csv', values: Values, io: Io): Promise<number> {
  const session = await openCaseSession(caseName, optionalString(values, 'locker'), io, {}, await signerFrom(optionalString(values, 'signing-key'), io));
  try {
    if (!session.tables.sources.inventory) {
      throw new InvalidInputError(`case ${caseName} holds no inventory`, { hint: `take one first: amber inventory --case ${caseName} --cloud aws` });
    }
    const columns = [...INVENTORY_COLUMNS.map((c) => c.name), 'evidence_key', 'evidence_record'];
    const rows = await session.engine.query<Record<string, unknown>>(
      `SELECT ${columns.map((c) => `"${c}"`).join(', ')} FROM ${session.tables.sources.inventory} ORDER BY account, region, type, id, evidence_key, evidence_record`,
    );
    const sha = session.tables.sha256ByKey;
    function* text(): Generator<string> {
      if (format === 'csv') {
        yield `${[...columns, 'evidence_sha256'].join(',')}\n`;
        for (const r of rows) yield `${[...columns.map((c) => csvCell(r[c])), csvCell(sha.get(String(r.evidence_key)) ?? '')].join(',')}\n`;
        return;
      }
      yield '[\n';
      let first = true;
      for (const r of rows) {
        const out = Object.fromEntries(columns.map((c) => [c, c === 'evidence_record' ? Number(r[c]) : r[c] ?? null]));
        yield `${first ? '' : ',\n'}${JSON.stringify({ ...out, evidence_sha256: sha.get(String(r.evidence_key)) ?? null })}`;
        first = false;
      }
      yield '\n]\n';
    }
    const written = await writeExport(session, io, text(), optionalString(values, 'out'), { what: 'inventory', format, rows: rows.length });
    if (written.path) io.err(`Wrote ${rows.length} inventory rows (${format}) to ${t(written.path)}, sha256 ${written.sha256}\n`);
    return 0;
  } finally {
    await session.close();
  }
}

