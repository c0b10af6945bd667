/**
 * Shared helpers of the detection tests: load CloudTrail `{"Records":[...]}` files through the product's own
 * table loader under realistic evidence keys, and run detection SQL the way the runner does (windowedSql over
 * `main.cloudtrail`).
 */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { windowedSql, type Detection, type FINDING_COLUMNS, type TimeWindow } from '../../../shared/detections/catalogue.ts';
import { tableTime } from '../../../shared/detections/run.ts';
import type { LogSource } from '../../../shared/sources/log-source.ts';
import { LOG_SOURCES } from '../../../shared/sources/registry.ts';
import { loadSourceTable, sourceRowLine } from '../../../shared/sources/source-table.ts';
import type { DuckDbQueryEngine } from '../../../shared/query/duckdb-engine.ts';
import { loadCloudTrailTable } from '../../../shared/query/tables/cloudtrail.ts';

export type CloudTrailRecord = Record<string, unknown> & { eventName?: string; eventTime?: string };

/** One finding row exactly as a detection query returns it. */
export type FindingRow = Record<(typeof FINDING_COLUMNS)[number], unknown>;

/** A Records file on disk and the evidence key it is loaded under. */
export interface RecordsFile {
  readonly path: string;
  readonly key: string;
  readonly records: readonly CloudTrailRecord[];
}

/** Reads a `{"Records":[...]}` file. */
export async function readRecords(path: string): Promise<CloudTrailRecord[]> {
  const parsed = JSON.parse(await readFile(path, 'utf8')) as { Records?: CloudTrailRecord[] };
  if (!Array.isArray(parsed.Records)) throw new Error(`${path} is not a CloudTrail Records file`);
  return parsed.Records;
}

/**
 * The key CloudTrail would deliver a file under (`AWSLogs/<acct>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/...`), dated
 * by the file's first record, so the `account`/`region`/`timestamp` partition columns are filled as in production.
 */
export function deliveryKey(records: readonly CloudTrailRecord[], name: string, account = '111122223333', region = 'us-east-1'): string {
  const time = String(records[0]?.eventTime ?? '2026-01-01T00:00:00Z');
  const [y, m, d] = time.slice(0, 10).split('-');
  const stamp = `${y}${m}${d}T${time.slice(11, 13)}${time.slice(14, 16)}Z`;
  return `AWSLogs/${account}/CloudTrail/${region}/${y}/${m}/${d}/${account}_CloudTrail_${region}_${stamp}_${name}.json`;
}

/** Replaces the `cloudtrail` table with exactly these files. */
export async function loadFiles(engine: DuckDbQueryEngine, files: readonly RecordsFile[]): Promise<void> {
  await loadCloudTrailTable(engine, files.map((f) => ({ path: f.path, key: f.key, shape: 'records' as const })));
}

/** Runs a detection as the runner does (its SQL shadowed onto `main.cloudtrail`), optionally limited to a window. */
export async function runDetection(engine: DuckDbQueryEngine, detection: Detection, window?: TimeWindow): Promise<FindingRow[]> {
  return engine.query<FindingRow>(windowedSql(detection.sql, detection.table, `main.${detection.table}`, window, tableTime(detection.table)));
}

/** Whole UTC days covering every record's eventTime: a window no finding of these records can fall outside. */
export function coveringWindow(records: ReadonlyArray<{ readonly eventTime?: unknown }>): TimeWindow {
  const times = records.map((r) => String(r.eventTime)).sort();
  const since = new Date(`${(times[0] ?? '2026-01-01').slice(0, 10)}T00:00:00Z`);
  const until = new Date(`${(times[times.length - 1] ?? '2026-01-01').slice(0, 10)}T00:00:00Z`);
  until.setUTCDate(until.getUTCDate() + 1);
  return { since, until };
}

/**
 * A detection's fixture, whatever its table: CloudTrail fixtures are Records files loaded as delivered;
 * other tables' fixtures are files in their source's native format, parsed by that source's parser into
 * derived rows exactly as a case would be.
 */
export interface Fixture {
  /** Evidence key the fixture is loaded under. */
  readonly key: string;
  /** Record indexes the fixture holds (a finding must point at one). */
  readonly indexes: ReadonlySet<number>;
  /** The action (CloudTrail eventName) of a record, when the table has one the finding must echo. */
  actionAt(index: number): string | undefined;
  /** Whole UTC days covering every record. */
  readonly window: TimeWindow;
  /** What the loader reads: a Records file (cloudtrail) or a derived NDJSON file (other tables). */
  readonly path: string;
}

/** Loads the fixture(s) as the only content of the detection's table. */
export async function loadFixtures(engine: DuckDbQueryEngine, table: string, fixtures: readonly Fixture[]): Promise<void> {
  if (table === 'cloudtrail') {
    await loadCloudTrailTable(engine, fixtures.map((f) => ({ path: f.path, key: f.key, shape: 'records' as const })));
    return;
  }
  await loadSourceTable(engine, sourceOfTable(table), fixtures.map((f) => f.path));
}

/** The registered source whose table this is. */
export function sourceOfTable(table: string): LogSource {
  const source = LOG_SOURCES.find((s) => s.table === table);
  if (!source) throw new Error(`no registered log source has the table ${table}`);
  return source;
}

/** Reads `fixtures/<which>.*` of a detection. */
export async function readFixture(detection: Detection, which: 'match' | 'no-match', scratch: string): Promise<Fixture> {
  const dir = join(detection.dir, 'fixtures');
  const name = (await readdir(dir)).find((f) => f.startsWith(`${which}.`));
  if (!name) throw new Error(`${dir} has no ${which}.* fixture`);
  const path = join(dir, name);
  if (detection.table === 'cloudtrail') {
    const records = await readRecords(path);
    return {
      key: deliveryKey(records, `${detection.id}-${which}`),
      indexes: new Set(records.map((_, i) => i)),
      actionAt: (i) => records[i]?.eventName,
      window: coveringWindow(records),
      path,
    };
  }
  const source = sourceOfTable(detection.table);
  // A source that reads Amber's key layout (azure-state: the snapshot's time and kind) gets its fixtures' keys from fixtures/keys.json.
  const keys = (JSON.parse(await readFile(join(dir, 'keys.json'), 'utf8').catch(() => '{}')) as Record<string, string>);
  const key = keys[which] ?? `fixtures/${detection.id}/${name}`;
  const parsed = source.parse(await readFile(path, 'utf8'), key);
  if (parsed.problems.length > 0) throw new Error(`${path}: ${JSON.stringify(parsed.problems)}`);
  const derived = join(scratch, `${detection.id}-${which}.ndjson`);
  await writeFile(derived, parsed.rows.map((r) => `${sourceRowLine(key, r.index, r.row)}\n`).join(''));
  const times = parsed.rows.map((r) => ({ eventTime: String(r.row[source.timeColumn]) }));
  return { key, indexes: new Set(parsed.rows.map((r) => r.index)), actionAt: () => undefined, window: coveringWindow(times), path: derived };
}
