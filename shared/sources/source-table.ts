/**
 * Loads a LogSource's table in DuckDB from the derived NDJSON copies its parser wrote: one JSON object per
 * row, `{evidence_key, evidence_record, ...columns}`. Columns are declared, so a column no file contains is
 * NULL rather than an error, and types are the table's own.
 */
import type { DuckDbQueryEngine } from '../query/duckdb-engine.ts';
import type { LogSource } from './log-source.ts';
import { DEFAULT_INPUT_LIMITS } from './input-scan.ts';

const q = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const lit = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** One derived row as the NDJSON line the loader reads. */
export function sourceRowLine(evidenceKey: string, evidenceRecord: number, row: Readonly<Record<string, unknown>>): string {
  return JSON.stringify({ evidence_key: evidenceKey, evidence_record: evidenceRecord, ...row });
}

/**
 * (Re)creates the source's table over the given derived files; returns the row count. `maxLineBytes` bounds one
 * line (DuckDB sizes its read buffers from it, inside the engine's memory limit). @default twice the default
 * record limit and 64 KiB for the evidence columns, as loadCaseTables passes for its own limits: a fixed 256 MiB
 * would alone take a 1 GB memory limit on two threads
 */
export async function loadSourceTable(engine: DuckDbQueryEngine, source: LogSource, paths: readonly string[], maxLineBytes = 2 * DEFAULT_INPUT_LIMITS.maxRecordBytes + 64 * 1024): Promise<number> {
  const columns = [...source.columns, { name: 'evidence_key', type: 'VARCHAR' }, { name: 'evidence_record', type: 'INTEGER' }];
  await engine.exec(`DROP TABLE IF EXISTS ${q(source.table)}`);
  await engine.exec(`CREATE TABLE ${q(source.table)} (${columns.map((c) => `${q(c.name)} ${c.type}`).join(', ')})`);
  if (paths.length > 0) {
    const spec = columns.map((c) => `${lit(c.name)}: ${lit(c.type)}`).join(', ');
    await engine.exec(
      `INSERT INTO ${q(source.table)} SELECT ${columns.map((c) => q(c.name)).join(', ')} FROM read_json([${paths.map(lit).join(', ')}], format = 'newline_delimited', columns = {${spec}}, maximum_object_size = ${maxLineBytes})`,
    );
  }
  const [count] = await engine.query<{ n: number }>(`SELECT count(*) AS n FROM ${q(source.table)}`);
  return count?.n ?? 0;
}

/**
 * Why a parsed row does not fit its table's declared column types, or undefined when it does: DuckDB's typed
 * read_json would refuse the whole derived file for it. VARCHAR takes any JSON value (as text); the numeric and
 * boolean columns need that JSON type.
 */
export function sourceRowProblem(columns: readonly { readonly name: string; readonly type: string }[], row: Readonly<Record<string, unknown>>): string | undefined {
  for (const c of columns) {
    const v = row[c.name];
    if (v === null || v === undefined) continue;
    const type = c.type.toUpperCase();
    const shown = Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : typeof v === 'string' ? `the string ${JSON.stringify(v.slice(0, 40))}` : `${typeof v} ${String(v)}`;
    if (type === 'BIGINT' || type === 'INTEGER') {
      const max = type === 'INTEGER' ? 2 ** 31 - 1 : Number.MAX_SAFE_INTEGER;
      if (typeof v !== 'number' || !Number.isInteger(v) || Math.abs(v) > max) return `column ${c.name} is ${shown}, where the table declares ${type}`;
    } else if (type === 'DOUBLE') {
      if (typeof v !== 'number' || !Number.isFinite(v)) return `column ${c.name} is ${shown}, where the table declares DOUBLE`;
    } else if (type === 'BOOLEAN') {
      if (typeof v !== 'boolean') return `column ${c.name} is ${shown}, where the table declares BOOLEAN`;
    }
  }
  return undefined;
}
