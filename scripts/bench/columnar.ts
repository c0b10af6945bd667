/**
 * bench:columnar — columnar once, against ONE plain DuckDB scan of the same gzip JSON measured in the same run.
 * A case of synthetic CloudTrail is generated and collected, then each step runs in its own process (so its peak
 * RSS is its own, read from process.resourceUsage()):
 *   scan         one plain DuckDB scan of the preserved gzip JSON (every Records array parsed and counted): the baseline;
 *   originals    today's path without Parquet: verify and parse every original, load, run the catalogue (for reference);
 *   materialise  the first query of the case: verify the originals, load, write the Parquet set, preserve and record it;
 *   catalogue    every later query: verify the Parquet set, then the whole catalogue over it.
 * Targets (issue 18): catalogue <= 1x one scan; materialise <= 2x one scan.
 *
 *   npm run bench:columnar [-- --events 100000 --files N --keep --skip-originals]
 */
import { spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadCatalogue } from '../../shared/detections/catalogue.ts';
import { runCatalogue } from '../../shared/detections/run.ts';
import { collectEvidence } from '../../shared/evidence/collect.ts';
import { CustodyLedger } from '../../shared/evidence/ledger.ts';
import { LocalEvidenceSource } from '../../shared/evidence/local-source.ts';
import { LocalObjectStore } from '../../shared/evidence/local-object-store.ts';
import { DuckDbQueryEngine } from '../../shared/query/duckdb-engine.ts';
import { loadCaseTables } from '../../shared/sources/case-tables.ts';
import { writeSyntheticCloudTrail } from '../../test/helpers/cloudtrail-synth.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    files: { type: 'string' },
    dir: { type: 'string', default: '.bench/columnar' },
    keep: { type: 'boolean' },
    'skip-originals': { type: 'boolean' },
    phase: { type: 'string' },
  },
});
const dir = resolve(values.dir!);
const actor = { principal: 'bench', tool: 'amber/bench' };
const seconds = (t0: number): number => (performance.now() - t0) / 1000;
const mb = (kb: number): string => `${(kb / 1024).toFixed(0)} MB`;

interface PhaseResult {
  readonly seconds: number;
  readonly maxRssKb: number;
  readonly note: string;
}

/** One step, in this (child) process: prints its result as JSON on the last line. */
async function phase(name: string): Promise<void> {
  const store = await LocalObjectStore.open(join(dir, 'locker'));
  const ledger = await CustodyLedger.open(store, 'bench');
  let note: string;
  const t0 = performance.now();
  if (name === 'scan') {
    const engine = await DuckDbQueryEngine.create();
    const files = [...ledger.items().values()].filter((i) => !i.key.includes('/_amber/')).map((i) => `'${store.pathOf(i.key).replace(/'/g, "''")}'`);
    const [scan] = await engine.query<{ n: number }>(
      `SELECT count(*) AS n FROM (SELECT unnest(Records) AS r FROM read_json([${files.join(', ')}], columns = {Records: 'JSON[]'}, format = 'unstructured', maximum_object_size = 67108864))`,
    );
    note = `${scan!.n} records`;
    await engine.close();
  } else {
    const engine = await DuckDbQueryEngine.create();
    const columnar = name !== 'originals';
    const tables = await loadCaseTables({ store, ledger, engine, actor, columnar });
    const loaded = seconds(t0);
    if (name === 'materialise') {
      const set = ledger.entries.findLast((e) => e.action === 'derived' && e.detail?.columnar !== undefined);
      const parquet = (set?.items ?? []).filter((i) => i.key.endsWith('.parquet'));
      note = `${tables.events.cloudtrail} events into ${parquet.length} Parquet files, ${(parquet.reduce((a, i) => a + i.size, 0) / 1e6).toFixed(1)} MB`;
    } else {
      const detections = await loadCatalogue();
      const t1 = performance.now();
      const run = await runCatalogue(engine, detections, { sources: tables.sources, sha256ByKey: tables.sha256ByKey });
      const ran = detections.length - (run.skipped?.length ?? 0);
      const slowest = Object.entries(run.timings).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([id, ms]) => `${id} ${ms.toFixed(0)} ms`).join(', ');
      note = `load ${loaded.toFixed(2)} s + ${ran} queries ${seconds(t1).toFixed(2)} s; ${run.findings.length} findings, ${run.errors.length} errors; slowest: ${slowest}`;
    }
    await ledger.flush();
    await engine.close();
  }
  const result: PhaseResult = { seconds: seconds(t0), maxRssKb: process.resourceUsage().maxRSS, note };
  console.log(JSON.stringify(result));
}

function inChild(name: string): PhaseResult {
  const self = fileURLToPath(import.meta.url);
  const run = spawnSync(process.execPath, ['--import', 'tsx', self, '--phase', name, '--dir', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`phase ${name} failed (${run.status}): ${run.stderr}`);
  const last = run.stdout.trim().split('\n').at(-1)!;
  return JSON.parse(last) as PhaseResult;
}

if (values.phase) {
  await phase(values.phase);
} else {
  const events = Number(values.events);
  const fileCount = Number(values.files ?? Math.max(1, Math.round(events / 2000)));
  await rm(dir, { recursive: true, force: true });
  let t0 = performance.now();
  const synth = await writeSyntheticCloudTrail({ dir: join(dir, 'src'), events, files: fileCount });
  console.log(`bench:columnar  ${events} events in ${synth.files.length} gz files (${(synth.bytes / 1e6).toFixed(0)} MB), generated in ${seconds(t0).toFixed(1)} s`);
  const store = await LocalObjectStore.open(join(dir, 'locker'), { create: true });
  t0 = performance.now();
  await collectEvidence({ store, caseName: 'bench', sources: [await LocalEvidenceSource.open(join(dir, 'src', 'AWSLogs'))], actor });
  console.log(`  collected in ${seconds(t0).toFixed(1)} s (not part of the comparison)`);

  const line = (label: string, r: PhaseResult, scan?: PhaseResult, target?: number): void => {
    const ratio = scan ? `  ${(r.seconds / scan.seconds).toFixed(2)}x one scan${target === undefined ? '' : ` (target <= ${target.toFixed(2)}: ${r.seconds / scan.seconds <= target ? 'met' : 'NOT met'})`}` : '';
    console.log(`${label.padEnd(34)}${r.seconds.toFixed(2).padStart(7)} s  peak RSS ${mb(r.maxRssKb).padStart(7)}${ratio}\n    ${r.note}`);
  };
  const scan = inChild('scan');
  line('one plain DuckDB scan (baseline):', scan);
  if (!values['skip-originals']) line('catalogue over the originals:', inChild('originals'), scan);
  line('first-time materialisation:', inChild('materialise'), scan, 2);
  line('whole catalogue over the Parquet:', inChild('catalogue'), scan, 1);
  if (!values.keep) await rm(dir, { recursive: true, force: true });
}
