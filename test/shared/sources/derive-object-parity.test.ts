/**
 * Parity: the same case analysed locally from its preserved originals (loadCaseTables, as `amber detect`) and from
 * the Parquet derive-object writes (queried as Athena queries it, per case and window, here on DuckDB through the
 * Athena compatibility layer) gives the same findings, record for record; a scheduled run's finding cites a record
 * that resolves in the preserved original; and the derivation is byte-identical when repeated elsewhere.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIncident } from '../../../shared/demo/incident.ts';
import { loadCatalogue, type Detection } from '../../../shared/detections/catalogue.ts';
import { CLOUDTRAIL_DERIVED, derivedCaseRuns, derivedTables } from '../../../shared/detections/case-sources.ts';
import { runCatalogue, type Finding } from '../../../shared/detections/run.ts';
import { runScheduledDetections } from '../../../shared/detections/scheduled-run.ts';
import { itemId } from '../../../shared/evidence/collect.ts';
import { sha256Hex } from '../../../shared/evidence/hashing.ts';
import { CustodyLedger } from '../../../shared/evidence/ledger.ts';
import { LocalObjectStore } from '../../../shared/evidence/local-object-store.ts';
import type { EvidenceItem } from '../../../shared/evidence/model.ts';
import { recordCustody } from '../../../shared/preservation/custody.ts';
import { DuckDbQueryEngine } from '../../../shared/query/duckdb-engine.ts';
import { CLOUDTRAIL_COLUMNS } from '../../../shared/query/tables/cloudtrail.ts';
import { loadCaseTables } from '../../../shared/sources/case-tables.ts';
import { deriveObject } from '../../../shared/sources/derive-object.ts';
import { LOG_SOURCES } from '../../../shared/sources/registry.ts';

const CASE = 'INC-PARITY-1';
const actor = { principal: 'tester', tool: 'amber-test' };
const WINDOW = { since: new Date('2026-03-14T00:00:00Z'), until: new Date('2026-11-21T00:00:00Z') };
const FLOW_KEY = `cases/${CASE}/aws/vpcflow/AWSLogs/111122223333/vpcflowlogs/eu-west-1/2026/03/14/111122223333_vpcflowlogs_eu-west-1_fl-0a1b2c3d_20260314T0000Z_a1b2c3d4.log`;

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/** A locker holding the demo intrusion's CloudTrail and a port-scan flow log, recorded as collected. */
async function preservedCase(dir: string): Promise<{ store: LocalObjectStore; keys: string[] }> {
  const store = await LocalObjectStore.open(dir, { create: true });
  const files = [
    ...generateIncident().map((f) => ({ key: `cases/${CASE}/aws/cloudtrail/${f.path}`, bytes: f.bytes })),
    { key: FLOW_KEY, bytes: await readFile(new URL('../../../shared/detections/vpc-port-scan/fixtures/match.log', import.meta.url)) },
  ];
  const items: EvidenceItem[] = [];
  for (const f of files) {
    const put = await store.putImmutable(f.key, f.bytes);
    items.push({ id: itemId(f.key), case: CASE, origin: `file:///synthetic/${f.key.split('/').pop()}`, key: f.key, size: put.size, sha256: put.sha256, acquiredAt: '2026-12-01T00:00:00.000Z', acquiredBy: actor.principal, retainUntil: null, mediaType: 'application/octet-stream' });
  }
  await recordCustody({ store, actor }, { case: CASE, requestId: 'collect-1', step: 'collect', action: 'acquired', batches: [{ items }] });
  return { store, keys: files.map((f) => f.key) };
}

/**
 * The Glue tables as DuckDB views in schema "amber": each over its derived Parquet files (copied out of the locker),
 * with the partition columns Athena's projection adds (case_name, day from the key); an empty table where no file is.
 */
async function athenaLikeTables(engine: DuckDbQueryEngine, store: LocalObjectStore, derivedKeys: readonly string[], dir: string): Promise<void> {
  await engine.exec('CREATE SCHEMA amber');
  for (const [logical, physical] of Object.entries(derivedTables())) {
    const folder = logical === 'cloudtrail' ? 'cloudtrail' : logical;
    const keys = derivedKeys.filter((k) => k.includes(`/_amber/derived/parquet/${folder}/`) && k.endsWith('.parquet'));
    if (keys.length === 0) {
      const columns = physical === CLOUDTRAIL_DERIVED ? CLOUDTRAIL_COLUMNS : [...LOG_SOURCES.find((s) => s.table === logical)!.columns, { name: 'evidence_key', type: 'VARCHAR' }, { name: 'evidence_record', type: 'INTEGER' }];
      await engine.exec(`CREATE TABLE amber."${physical}" (${columns.map((c) => `"${c.name}" ${c.type}`).join(', ')}, case_name VARCHAR, day VARCHAR)`);
      continue;
    }
    const paths: string[] = [];
    for (const key of keys) {
      const path = join(dir, key);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, await readAll(await store.get(key)));
      paths.push(path);
    }
    await engine.exec(
      `CREATE VIEW amber."${physical}" AS SELECT * EXCLUDE (filename), system.main.regexp_extract(filename, '/cases/([^/]+)/', 1) AS case_name, system.main.regexp_extract(filename, '/(\\d{4}/\\d{2}/\\d{2})/[^/]+$', 1) AS day FROM read_parquet([${paths.map((p) => `'${p}'`).join(', ')}], filename = true)`,
    );
  }
}

const cited = (f: Finding): string => `${f.detection} ${f.evidence_key}#${f.evidence_record} ${f.event_time} ${f.actor} ${f.action} ${f.target} ${f.detail}`;

describe('Use case: deriveObject (parity with the local analysis)', () => {
  let dir: string;
  let store: LocalObjectStore;
  /** The same case in another locker, never derived: what the local analysis reads from the originals. */
  let plain: LocalObjectStore;
  let keys: string[];
  let catalogue: Detection[];
  let derivedKeys: string[];
  const engines: DuckDbQueryEngine[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'amber-parity-'));
    ({ store, keys } = await preservedCase(join(dir, 'locker')));
    ({ store: plain } = await preservedCase(join(dir, 'plain-locker')));
    catalogue = await loadCatalogue();
    derivedKeys = [];
    for (const key of keys) {
      const r = await deriveObject({ store, actor }, { case: CASE, key });
      expect(r.status, key).toBe('derived');
      derivedKeys.push(...r.files.map((f) => f.key));
    }
  }, 120_000);

  afterAll(async () => {
    for (const e of engines) await e.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('finds the same findings, record for record, from the derived Parquet as from the preserved originals', async () => {
    // GIVEN the local analysis, as amber detect runs it
    const local = await DuckDbQueryEngine.create({ threads: 1 });
    engines.push(local);
    const ledger = await CustodyLedger.open(plain, CASE);
    const tables = await loadCaseTables({ store: plain, ledger, engine: local, actor });
    const fromOriginals = await runCatalogue(local, catalogue, { sources: tables.sources, sha256ByKey: tables.sha256ByKey, window: WINDOW });
    // AND the cloud's: the Glue tables over the derived Parquet, one case, the window's days
    const cloud = await DuckDbQueryEngine.create({ threads: 1 });
    engines.push(cloud);
    await athenaLikeTables(cloud, store, derivedKeys, join(dir, 'athena'));
    const cases = derivedCaseRuns(store, 'amber');
    expect(await cases.list(WINDOW)).toEqual([CASE]);
    const fromParquet = await runCatalogue(cloud, catalogue, { sources: cases.sources(CASE, WINDOW), sha256ByKey: tables.sha256ByKey, window: WINDOW, tableTimes: cases.tableTimes! });
    // THEN
    expect(fromParquet.errors).toEqual([]);
    expect(fromOriginals.errors).toEqual([]);
    const detections = new Set(fromOriginals.findings.map((f) => f.detection));
    expect(detections.has('vpc-port-scan')).toBe(true);
    expect([...detections].some((d) => d !== 'vpc-port-scan')).toBe(true);
    expect(fromOriginals.findings.length).toBeGreaterThan(5);
    expect(fromParquet.findings.map(cited)).toEqual(fromOriginals.findings.map(cited));
    console.log(`[parity] ${fromOriginals.findings.length} findings of ${detections.size} detections, identical`);
  }, 120_000);

  it('runs every detection on its schedule over the case, and each finding cites a record that resolves in the preserved original', async () => {
    const cloud = await DuckDbQueryEngine.create({ threads: 1 });
    engines.push(cloud);
    await athenaLikeTables(cloud, store, derivedKeys, join(dir, 'athena2'));
    const result = await runScheduledDetections(
      { engine: cloud, store, catalogue, sources: {}, cases: derivedCaseRuns(store, 'amber'), actor },
      { detections: catalogue.map((d) => d.id), window: `P${Math.round((WINDOW.until.getTime() - WINDOW.since.getTime()) / 86_400_000)}D`, scheduledTime: WINDOW.until.toISOString() },
    );
    expect(result.errors).toEqual([]);
    expect(result.cases).toEqual([CASE]);
    const written = JSON.parse((await readAll(await store.get(result.findingsKey))).toString('utf8')) as { findings: Finding[] };
    const flow = written.findings.find((f) => f.detection === 'vpc-port-scan')!;
    const trail = written.findings.find((f) => f.evidence_key.includes('/CloudTrail/'))!;
    for (const f of [flow, trail]) {
      // The locator: the original's key, its SHA-256 (as recorded), and the record's index in it.
      expect(f.evidence_record).toEqual(expect.any(Number));
      const bytes = await readAll(await store.get(f.evidence_key));
      expect(sha256Hex(bytes)).toBe(f.evidence_sha256);
    }
    const flowLine = (await readAll(await store.get(flow.evidence_key))).toString('utf8').split('\n')[flow.evidence_record! + 1]!;
    expect(flowLine).toContain(flow.source_ip ?? '');
    expect(flowLine.split(' ')[3]).toBe(flow.source_ip);
    const records = (JSON.parse(gunzipSync(await readAll(await store.get(trail.evidence_key))).toString('utf8')) as { Records: { eventName: string; eventTime: string }[] }).Records;
    expect(records[trail.evidence_record!]!.eventName).toBe(trail.action);
    expect(records[trail.evidence_record!]!.eventTime).toBe(trail.event_time);
    // The cited case records that the run read it.
    const ledger = await CustodyLedger.open(store, CASE);
    expect(ledger.entries.at(-1)).toMatchObject({ action: 'accessed', detail: { findingsKey: result.findingsKey } });
  }, 120_000);

  it('reads the cloud\'s Parquet locally when the case has it, instead of parsing the originals again, with the same findings', async () => {
    // GIVEN the local analysis of the originals (the plain locker, never derived)
    const fromJson = await DuckDbQueryEngine.create({ threads: 1 });
    engines.push(fromJson);
    const plainTables = await loadCaseTables({ store: plain, ledger: await CustodyLedger.open(plain, CASE), engine: fromJson, actor });
    const expected = await runCatalogue(fromJson, catalogue, { sources: plainTables.sources, sha256ByKey: plainTables.sha256ByKey });
    // WHEN the derived case is analysed locally
    const engine = await DuckDbQueryEngine.create({ threads: 1 });
    engines.push(engine);
    const before = (await CustodyLedger.open(store, CASE)).entries.length;
    const ledger = await CustodyLedger.open(store, CASE);
    const tables = await loadCaseTables({ store, ledger, engine, actor });
    const found = await runCatalogue(engine, catalogue, { sources: tables.sources, sha256ByKey: tables.sha256ByKey });
    // THEN the Parquet was read (every file verified), nothing was parsed into a new derived copy
    expect(tables.coverage.objects.derived).toBe(derivedKeys.length);
    expect((await CustodyLedger.open(store, CASE)).entries.slice(before).filter((e) => e.action === 'derived')).toEqual([]);
    expect(tables.events).toEqual(plainTables.events);
    expect(tables.coverage.objects.analysed).toBe(plainTables.coverage.objects.analysed);
    expect(found.findings.map(cited)).toEqual(expected.findings.map(cited));
    expect(found.findings.map((f) => f.evidence_sha256)).toEqual(expected.findings.map((f) => f.evidence_sha256));
  }, 120_000);

  it('writes byte-identical Parquet when the same object is derived again elsewhere, so a retried write-once put is a no-op', async () => {
    const again = await deriveObject({ store: plain, actor }, { case: CASE, key: FLOW_KEY });
    const first = (await CustodyLedger.open(store, CASE)).entries.find((e) => e.action === 'derived' && e.detail?.from === FLOW_KEY)!;
    expect(again.files.map((f) => [f.key, f.sha256])).toEqual(first.items!.filter((i) => i.key.endsWith('.parquet')).map((i) => [i.key, i.sha256]));
  }, 120_000);
});
