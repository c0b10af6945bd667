/**
 * bench:detect — the whole detection catalogue over a case of synthetic CloudTrail (1M events in 500 gz
 * files by default), against ONE plain DuckDB scan of the same files measured in the same run.
 * The catalogue time is what `amber detect` does after collection: recognise each preserved file, load the
 * `cloudtrail` table (one scan, materialised), run every query. Target: catalogue <= 3x one scan.
 * Then the cloud's path: each preserved file derived into Parquet as derive-object does after preservation
 * (throughput in events/s and MB/s of gzip input, peak RSS of this process), and the whole catalogue over that
 * Parquet, against the same scan. Target: the catalogue over Parquet faster than one scan of the JSON.
 *
 *   npm run bench:detect [-- --events 1000000 --files 500 --keep]
 */
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadCatalogue } from '../../shared/detections/catalogue.ts';
import { runCatalogue } from '../../shared/detections/run.ts';
import { collectEvidence } from '../../shared/evidence/collect.ts';
import { CustodyLedger } from '../../shared/evidence/ledger.ts';
import { LocalEvidenceSource } from '../../shared/evidence/local-source.ts';
import { LocalObjectStore } from '../../shared/evidence/local-object-store.ts';
import { DuckDbQueryEngine } from '../../shared/query/duckdb-engine.ts';
import { loadCaseTables } from '../../shared/sources/case-tables.ts';
import { deriveObject } from '../../shared/sources/derive-object.ts';
import { writeSyntheticCloudTrail } from '../../test/helpers/cloudtrail-synth.ts';

const { values } = parseArgs({
  options: { events: { type: 'string', default: '1000000' }, files: { type: 'string', default: '500' }, dir: { type: 'string', default: '.bench/detect' }, keep: { type: 'boolean' } },
});
const events = Number(values.events);
const fileCount = Number(values.files);
const dir = resolve(values.dir!);
const actor = { principal: 'bench', tool: 'amber/bench' };
const seconds = (t0: number): number => (performance.now() - t0) / 1000;

await rm(dir, { recursive: true, force: true });
let t0 = performance.now();
const synth = await writeSyntheticCloudTrail({ dir: join(dir, 'src'), events, files: fileCount });
console.log(`bench:detect  ${events} events in ${synth.files.length} gz files (${(synth.bytes / 1e6).toFixed(0)} MB), generated in ${seconds(t0).toFixed(1)} s`);

const store = await LocalObjectStore.open(join(dir, 'locker'), { create: true });
t0 = performance.now();
await collectEvidence({ store, caseName: 'bench', sources: [await LocalEvidenceSource.open(join(dir, 'src', 'AWSLogs'))], actor });
console.log(`  collected into a local locker in ${seconds(t0).toFixed(1)} s (not part of the comparison)`);
const ledger = await CustodyLedger.open(store, 'bench');
const preserved = [...ledger.items().values()].map((i) => ({ path: store.pathOf(i.key), key: i.key, shape: 'records' as const }));

// Baseline: the cheapest full read DuckDB can do of the same files: every Records array parsed and counted.
const scanEngine = await DuckDbQueryEngine.create();
const fileList = preserved.map((p) => `'${p.path.replace(/'/g, "''")}'`).join(', ');
t0 = performance.now();
const [scan] = await scanEngine.query<{ n: number }>(
  `SELECT count(*) AS n FROM (SELECT unnest(Records) AS r FROM read_json([${fileList}], columns = {Records: 'JSON[]'}, format = 'unstructured', maximum_object_size = 67108864))`,
);
const scanSeconds = seconds(t0);
await scanEngine.close();
console.log(`one plain DuckDB scan:          ${scanSeconds.toFixed(2)} s  (${scan!.n} records)`);

// The catalogue, as `amber detect` runs it.
const detections = await loadCatalogue();
const engine = await DuckDbQueryEngine.create();
t0 = performance.now();
const tables = await loadCaseTables({ store, ledger, engine, actor });
const loadSeconds = seconds(t0);
const t1 = performance.now();
const run = await runCatalogue(engine, detections, { sources: tables.sources, sha256ByKey: tables.sha256ByKey });
const querySeconds = seconds(t1);
await engine.close();
const total = loadSeconds + querySeconds;
const ran = detections.length - (run.skipped?.length ?? 0);
console.log(`whole catalogue:                ${total.toFixed(2)} s  (load ${loadSeconds.toFixed(2)} s + ${ran} CloudTrail queries ${querySeconds.toFixed(2)} s; ${run.skipped?.length ?? 0} detections for other tables skipped; ${run.findings.length} findings, ${run.errors.length} errors)`);
const slowest = Object.entries(run.timings).sort((a, b) => b[1] - a[1]).slice(0, 3);
console.log(`  slowest queries: ${slowest.map(([id, ms]) => `${id} ${ms.toFixed(0)} ms`).join(', ')}`);
const ratio = total / scanSeconds;
console.log(`ratio catalogue / one scan:     ${ratio.toFixed(2)}  (target <= 3.00: ${ratio <= 3 ? 'met' : 'NOT met'})`);
if (run.errors.length > 0) console.log(`errors: ${JSON.stringify(run.errors)}`);

// The cloud's path: derive every preserved object (as derive-object does on each Object Created event).
const originals = [...ledger.items().values()].filter((i) => !i.derivedFrom && !i.key.includes('/_amber/'));
t0 = performance.now();
const parquet: string[] = [];
let derivedRows = 0;
for (const item of originals) {
  const r = await deriveObject({ store, actor }, { case: 'bench', key: item.key });
  parquet.push(...r.files.map((f) => store.pathOf(f.key)));
  derivedRows += r.files.reduce((n, f) => n + f.rows, 0);
}
const deriveSeconds = seconds(t0);
const rssMb = process.resourceUsage().maxRSS / 1024;
console.log(`derivation (one object at a time, 1 DuckDB thread): ${deriveSeconds.toFixed(2)} s, ${(derivedRows / deriveSeconds).toFixed(0)} events/s, ${(synth.bytes / 1e6 / deriveSeconds).toFixed(1)} MB/s of gzip JSON; peak RSS of this process ${rssMb.toFixed(0)} MB`);
const pq = await DuckDbQueryEngine.create();
await pq.exec(`CREATE VIEW cloudtrail AS SELECT * FROM read_parquet([${parquet.map((p) => `'${p.replace(/'/g, "''")}'`).join(', ')}])`);
t0 = performance.now();
const overParquet = await runCatalogue(pq, detections, { sources: { cloudtrail: 'main.cloudtrail' }, sha256ByKey: tables.sha256ByKey });
const parquetSeconds = seconds(t0);
await pq.close();
console.log(`whole catalogue over the derived Parquet: ${parquetSeconds.toFixed(2)} s  (${overParquet.findings.length} findings, ${overParquet.errors.length} errors); vs one scan of the JSON ${(scanSeconds / parquetSeconds).toFixed(1)}x faster (target > 1: ${parquetSeconds < scanSeconds ? 'met' : 'NOT met'})`);
if (!values.keep) await rm(dir, { recursive: true, force: true });
