/**
 * What the five JSON audit sources (Azure Activity, Entra ID sign-in and audit, Microsoft 365, Google Cloud) share
 * beyond record splitting: turning records into table rows with problems reported by position, and the Athena DDL
 * of a source's table.
 */
import { InvalidInputError } from '../../errors.ts';
import type { LogSource, SourceColumn, SourceParseResult, SourceProblem, SourceRow } from '../log-source.ts';
import { isObject, kindOf, type JsonObject } from './fields.ts';
import { readJsonRecords, type JsonEntry } from './json-records.ts';
import { classifyRecord, type CloudRecordKind } from './recognise.ts';
import { toUtcSeconds } from './time.ts';

/** A row, and the record shape it was read from (diagnostic-settings, rest-api, graph, log-analytics, ...). */
export type RowResult = { readonly row: Record<string, unknown>; readonly shape: string } | { readonly reason: string };

/** Reads one parsed record into a row of the source's table. */
export type RowReader = (record: JsonObject, context: { readonly wrapper?: JsonObject; readonly key: string }) => RowResult;

/** Options of parseJsonSource. */
export interface JsonSourceSpec {
  readonly id: CloudRecordKind;
  /** Keys whose array holds the records (`records`, `value`). */
  readonly containers: readonly string[];
  readonly read: RowReader;
}

/**
 * Parses a JSON evidence object with a source's row reader. A record that is not an object, belongs to another
 * source, or lacks what the table needs is a problem naming its position; the rest are rows.
 */
export function parseJsonSource(text: string, key: string, spec: JsonSourceSpec): SourceParseResult {
  const read = readJsonRecords(text, { containers: spec.containers });
  const rows: SourceRow[] = [];
  const problems: SourceProblem[] = [...read.problems];
  const shapes = new Set<string>();
  for (const entry of read.entries) {
    const result = readEntry(entry, spec, read.wrapper, key);
    if ('reason' in result) {
      problems.push(problemAt(entry, result.reason));
      continue;
    }
    shapes.add(result.shape);
    rows.push(entry.line === undefined ? { index: entry.index, row: result.row } : { index: entry.index, line: entry.line, row: result.row });
  }
  problems.sort((a, b) => (a.index ?? -1) - (b.index ?? -1));
  const variant = `${shapes.size === 0 ? 'no-records' : [...shapes].sort().join('+')}:${read.container}`;
  return { variant, rows, problems };
}

function readEntry(entry: JsonEntry, spec: JsonSourceSpec, wrapper: JsonObject | undefined, key: string): RowResult {
  if (!isObject(entry.value)) return { reason: `is not a JSON object (it is ${kindOf(entry.value)})` };
  const other = classifyRecord(entry.value, wrapper, key);
  if (other !== undefined && other !== spec.id) {
    return { reason: `looks like a ${other} record, not ${spec.id}; collect this object with --source ${other} if the whole object is of that kind` };
  }
  return spec.read(entry.value, wrapper === undefined ? { key } : { wrapper, key });
}

/** A problem at an entry's position; JSON Lines entries carry their line, others their locator in the text. */
function problemAt(entry: Pick<JsonEntry, 'index' | 'line' | 'locator'>, reason: string): SourceProblem {
  if (entry.line === undefined) return { index: entry.index, reason: `${entry.locator} ${reason}` };
  const where = entry.locator === `line ${entry.line}` ? '' : `${entry.locator.replace(`line ${entry.line} `, '')} `;
  return { index: entry.index, line: entry.line, reason: `${where}${reason}` };
}

/** The normalised `time` and the text it came from, or the reason there is none. */
export function eventTime(value: unknown): { time: string; original: string } | { reason: string } {
  const t = toUtcSeconds(value);
  if ('reason' in t) return t;
  return { time: t.time, original: typeof value === 'string' ? value : String(value) };
}

/** Where an Athena table over a source's derived rows lives. */
export interface SourceAthenaDdlOptions {
  /**
   * S3 URI of the folder holding the source's derived NDJSON copies (what Amber writes for every parsed object,
   * e.g. `s3://evidence/cases/C-1/_amber/derived/azure-activity/`).
   */
  readonly location: string;
  /** Database-qualified or plain table name. @default the source's table */
  readonly tableName?: string;
}

const HIVE_TYPES: Readonly<Record<string, string>> = { VARCHAR: 'STRING', BIGINT: 'BIGINT', INTEGER: 'INT', BOOLEAN: 'BOOLEAN', DOUBLE: 'DOUBLE' };

/**
 * Athena DDL for a source's table over Amber's derived NDJSON rows: one JSON object per row, keyed by the table's
 * lower-case column names plus evidence_key and evidence_record, the same rows DuckDB loads offline. Pointing Athena
 * at these rows (not at the raw exports) is what makes the detection SQL identical on both engines and keeps the
 * exact record index of every finding; the raw objects stay preserved beside them, each derived copy recorded in
 * the ledger as `derived` from its original. The derived files are gzip NDJSON, which Athena reads as text.
 */
export function sourceAthenaDdl(source: Pick<LogSource, 'table' | 'columns'>, options: SourceAthenaDdlOptions): string {
  const problems: string[] = [];
  if (!/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/(?:[^'\\\s]*\/)?$/.test(options.location)) problems.push(`location must be an s3:// folder URI ending in /, got ${options.location}`);
  const table = options.tableName ?? source.table;
  if (!/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/.test(table)) problems.push(`not a valid table name: ${table}`);
  if (problems.length > 0) {
    throw new InvalidInputError(`cannot build the Athena DDL of ${source.table}:\n  ${problems.join('\n  ')}`, {
      hint: 'pass location as s3://bucket/prefix/ (the folder of the derived NDJSON rows) and a lower-case table name',
    });
  }
  const columns: SourceColumn[] = [...source.columns, { name: 'evidence_key', type: 'VARCHAR' }, { name: 'evidence_record', type: 'INTEGER' }];
  const body = columns.map((c) => {
    const hive = HIVE_TYPES[c.type];
    if (hive === undefined) throw new InvalidInputError(`column ${c.name} of ${source.table} has type ${c.type}, which has no Athena counterpart here`);
    return `  \`${c.name}\` ${hive}`;
  }).join(',\n');
  return `CREATE EXTERNAL TABLE ${table} (
${body}
)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES ('ignore.malformed.json'='false')
STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION '${options.location}'`;
}

/** Column list helper: every name as VARCHAR unless given a type. */
export function columns(spec: ReadonlyArray<string | readonly [string, string]>): SourceColumn[] {
  return spec.map((c) => (typeof c === 'string' ? { name: c, type: 'VARCHAR' } : { name: c[0], type: c[1] }));
}
