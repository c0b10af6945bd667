/**
 * Shared helpers of the detection tests: load CloudTrail `{"Records":[...]}` files through the product's own
 * table loader under realistic evidence keys, and run detection SQL the way the runner does (windowedSql over
 * `main.cloudtrail`).
 */
import { readFile } from 'node:fs/promises';
import { windowedSql, type Detection, type FINDING_COLUMNS, type TimeWindow } from '../../../shared/detections/catalogue.ts';
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
  return engine.query<FindingRow>(windowedSql(detection.sql, detection.table, 'main.cloudtrail', window));
}

/** Whole UTC days covering every record's eventTime: a window no finding of these records can fall outside. */
export function coveringWindow(records: readonly CloudTrailRecord[]): TimeWindow {
  const times = records.map((r) => String(r.eventTime)).sort();
  const since = new Date(`${(times[0] ?? '2026-01-01').slice(0, 10)}T00:00:00Z`);
  const until = new Date(`${(times[times.length - 1] ?? '2026-01-01').slice(0, 10)}T00:00:00Z`);
  until.setUTCDate(until.getUTCDate() + 1);
  return { since, until };
}
