/**
 * Derived rows of one preserved object, for tables that read the locker in the cloud (BigQuery external tables,
 * and Athena over the same layout): the object is recognised by content (recogniseSource, or the source forced at
 * collection), parsed by that source's own parser, and its rows written as newline-delimited JSON, one object per
 * hive partition:
 *
 *   derived/<table>/case=<case>/account=<account>/day=<yyyy-mm-dd>/<item id>.ndjson
 *
 * - Every line is `{evidence_key, evidence_record, ...columns}` (sourceRowLine), as the local loader reads, holding
 *   the table's declared columns only, a VARCHAR column's non-text value as its JSON text (what DuckDB's typed
 *   read makes of it): BigQuery refuses unknown fields and a number or object in a STRING column.
 * - `account` is the project, subscription, tenant or account the row belongs to (the first non-empty of the
 *   table's ACCOUNT_COLUMNS), `unknown` when it has none; `day` is the UTC day of the row's time column, `undated`
 *   when it has none. Characters outside `[A-Za-z0-9._-]` become `_` in the path only; the row keeps its value.
 * - Deterministic: the same bytes give the same objects, byte for byte, under the same keys (rows in record order,
 *   partitions sorted), so deriving an object twice writes nothing new.
 * - Nothing is dropped silently: records the parser refuses, or whose values the table's types cannot hold, are
 *   returned as problems with their index.
 *
 * Cloud-neutral: the caller reads and checks the object, stores the parts and records them.
 */
import { isGzip, inflateGzip, decodeUtf8 } from './cloudtrail/bytes.ts';
import type { LogSource } from './log-source.ts';
import { headText, recogniseSource, RECOGNITION_BYTES } from './recognise.ts';
import { detectSource, LOG_SOURCES, sourceById } from './registry.ts';
import { sourceRowLine, sourceRowProblem } from './source-table.ts';

/** Where derived rows live, at the root of the locker (outside every case's own prefix). */
export const DERIVED_ROWS_PREFIX = 'derived/';

/** Inflated size one object may reach before deriving stops (the function's memory is small). */
export const DERIVE_MAX_INFLATED_BYTES = 256 * 1024 * 1024;

/** Columns naming the project / subscription / tenant / account of a row, first non-empty wins. */
export const ACCOUNT_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  gcp_audit: ['project_id', 'log_parent'],
  azure_activity: ['subscription_id', 'tenant_id'],
  entra_signin: ['tenant_id'],
  entra_audit: ['tenant_id'],
  m365_audit: ['organization_id'],
  vpc_flow_logs: ['account_id'],
  s3_access_logs: ['bucketowner'],
  iot_core_logs: ['accountid'],
  // Its own `account` column: the partition of the same name carries it into BigQuery (bigquery-schemas.ts).
  inventory: ['account'],
};

/** One derived object: the rows of one partition. */
export interface DerivedRowsPart {
  readonly key: string;
  readonly account: string;
  readonly day: string;
  readonly rows: number;
  readonly body: Buffer;
}

/** A record of the object that is not among the derived rows, and why. */
export interface DeriveProblem {
  readonly record?: number;
  readonly line?: number;
  readonly reason: string;
}

export type DeriveOutcome =
  | { readonly kind: 'rows'; readonly source: string; readonly table: string; readonly variant: string; readonly rows: number; readonly parts: readonly DerivedRowsPart[]; readonly problems: readonly DeriveProblem[] }
  | { readonly kind: 'not-derived'; readonly source?: string; readonly reason: string };

export interface DeriveRowsOptions {
  /** @default LOG_SOURCES */
  readonly sources?: readonly LogSource[];
  /** @default DERIVE_MAX_INFLATED_BYTES */
  readonly maxInflatedBytes?: number;
}

/** The object a preserved item is, for deriving. */
export interface DeriveInput {
  readonly case: string;
  readonly id: string;
  readonly key: string;
  /** The source forced at collection (`--source`), if any. */
  readonly source?: string;
}

const PATH_SAFE = (value: string): string => value.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 200) || 'unknown';

/** The key of one derived partition object. */
export function derivedRowsKey(table: string, caseName: string, account: string, day: string, itemId: string): string {
  return `${DERIVED_ROWS_PREFIX}${table}/case=${caseName}/account=${account}/day=${day}/${itemId}.ndjson`;
}

/** The row as its table declares it: declared columns only, NULLs left out, text columns as text. */
function typedRow(source: LogSource, row: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of source.columns) {
    const v = row[c.name];
    if (v === null || v === undefined) continue;
    out[c.name] = c.type.toUpperCase() === 'VARCHAR' && typeof v !== 'string' ? (typeof v === 'object' ? JSON.stringify(v) : String(v)) : v;
  }
  return out;
}

/** The partition of a row: its account and its UTC day. */
function partitionOf(source: LogSource, row: Readonly<Record<string, unknown>>): { account: string; day: string } {
  let account = 'unknown';
  for (const column of ACCOUNT_COLUMNS[source.table] ?? []) {
    const v = row[column];
    if (v !== null && v !== undefined && String(v) !== '') {
      account = PATH_SAFE(String(v));
      break;
    }
  }
  const time = row[source.timeColumn];
  const day = typeof time === 'string' && /^\d{4}-\d{2}-\d{2}/.test(time) ? time.slice(0, 10) : 'undated';
  return { account, day };
}

/** Recognises, parses and partitions one object's rows (see the module comment). */
export function deriveRows(bytes: Uint8Array, item: DeriveInput, options: DeriveRowsOptions = {}): DeriveOutcome {
  const sources = options.sources ?? LOG_SOURCES;
  const head = bytes.subarray(0, RECOGNITION_BYTES);
  const id = item.source ?? recogniseSource(head, item.key, sources);
  if (id === undefined) return { kind: 'not-derived', reason: detectSource(headText(head), item.key, sources).reason ?? 'not a format Amber parses' };
  if (id === 'cloudtrail') return { kind: 'not-derived', source: id, reason: 'CloudTrail rows are read from the delivery files themselves (the cloudtrail table), not derived here' };
  const source = sourceById(id, sources);
  const problems: DeriveProblem[] = [];
  let raw: Uint8Array = bytes;
  if (isGzip(bytes)) {
    const inflated = inflateGzip(bytes, options.maxInflatedBytes ?? DERIVE_MAX_INFLATED_BYTES);
    raw = inflated.data;
    if (inflated.damage !== undefined) problems.push({ reason: `${inflated.damage}; rows before the damage are kept` });
  }
  const { text, invalidAt } = decodeUtf8(raw);
  if (invalidAt >= 0) problems.push({ reason: `invalid UTF-8 at byte ${invalidAt}; replaced with U+FFFD for parsing (the preserved bytes are unchanged)` });
  let result;
  try {
    result = source.parse(text, item.key);
  } catch (error) {
    // A parser reports bad records rather than throwing; one that throws sets this object aside, nothing else.
    return { kind: 'not-derived', source: id, reason: `the ${id} parser failed on this object: ${error instanceof Error ? error.message : String(error)}` };
  }
  for (const p of result.problems) problems.push({ ...(p.index === undefined ? {} : { record: p.index }), ...(p.line === undefined ? {} : { line: p.line }), reason: p.reason });
  const groups = new Map<string, { account: string; day: string; lines: string[] }>();
  let rows = 0;
  for (const r of result.rows) {
    const problem = sourceRowProblem(source.columns, r.row);
    if (problem) {
      problems.push({ record: r.index, reason: `${problem}; the record is not among the derived rows` });
      continue;
    }
    const { account, day } = partitionOf(source, r.row);
    const group = `${account}\u0000${day}`;
    let g = groups.get(group);
    if (!g) groups.set(group, (g = { account, day, lines: [] }));
    g.lines.push(sourceRowLine(item.key, r.index, typedRow(source, r.row)));
    rows += 1;
  }
  const parts = [...groups.values()]
    .sort((a, b) => (a.account < b.account ? -1 : a.account > b.account ? 1 : a.day < b.day ? -1 : a.day > b.day ? 1 : 0))
    .map((g) => ({
      key: derivedRowsKey(source.table, item.case, g.account, g.day, item.id),
      account: g.account,
      day: g.day,
      rows: g.lines.length,
      body: Buffer.from(`${g.lines.join('\n')}\n`, 'utf8'),
    }));
  return { kind: 'rows', source: id, table: source.table, variant: result.variant, rows, parts, problems };
}
