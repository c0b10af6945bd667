/**
 * Loads a LogSource's table in DuckDB from the derived NDJSON copies its parser wrote: one JSON object per
 * row, `{evidence_key, evidence_record, ...columns}`. Columns are declared, so a column no file contains is
 * NULL rather than an error, and types are the table's own.
 */
import type { DuckDbQueryEngine } from '../query/duckdb-engine.ts';
import type { LogSource } from './log-source.ts';

const q = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const lit = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** One derived row as the NDJSON line the loader reads. */
export function sourceRowLine(evidenceKey: string, evidenceRecord: number, row: Readonly<Record<string, unknown>>): string {
  return JSON.stringify({ evidence_key: evidenceKey, evidence_record: evidenceRecord, ...row });
}

/** (Re)creates the source's table over the given derived files; returns the row count. */
export async function loadSourceTable(engine: DuckDbQueryEngine, source: LogSource, paths: readonly string[]): Promise<number> {
  const columns = [...source.columns, { name: 'evidence_key', type: 'VARCHAR' }, { name: 'evidence_record', type: 'INTEGER' }];
  await engine.exec(`DROP TABLE IF EXISTS ${q(source.table)}`);
  await engine.exec(`CREATE TABLE ${q(source.table)} (${columns.map((c) => `${q(c.name)} ${c.type}`).join(', ')})`);
  if (paths.length > 0) {
    const spec = columns.map((c) => `${lit(c.name)}: ${lit(c.type)}`).join(', ');
    await engine.exec(
      `INSERT INTO ${q(source.table)} SELECT ${columns.map((c) => q(c.name)).join(', ')} FROM read_json([${paths.map(lit).join(', ')}], format = 'newline_delimited', columns = {${spec}}, maximum_object_size = 268435456)`,
    );
  }
  const [count] = await engine.query<{ n: number }>(`SELECT count(*) AS n FROM ${q(source.table)}`);
  return count?.n ?? 0;
}
