/**
 * Ad-hoc questions to a case: one Athena-dialect SELECT (or WITH ... SELECT) over the case's tables, and nothing
 * else. Two locks, each enough on its own for what it covers:
 *
 * 1. the statement: it must open with SELECT or WITH and be exactly one statement that DuckDB itself types as
 *    SELECT (prepared, not run), so COPY, ATTACH, INSTALL, SET, PRAGMA, CREATE... never run;
 * 2. the engine: before the statement is even prepared, DuckDB is locked down (shared/query/duckdb-engine.ts
 *    lockDown): no file but the verified copies its views read, no extension install or load, settings locked,
 *    so a SELECT calling read_text('/etc/passwd') or read_csv on the raw locker is refused by DuckDB.
 */
import { UsageError } from '../errors.ts';
import type { DuckDbQueryEngine } from './duckdb-engine.ts';
import { QueryError } from './errors.ts';
import type { QueryValue } from '../ports/query-engine.ts';

/** What a query refusal says it accepts. */
const ACCEPTS = 'amber query runs one SELECT (or WITH ... SELECT) statement over the case tables; it changes, reads and writes nothing else';

/** The statement with comments and a final semicolon off its ends, for the keyword check. */
function leadingKeyword(sql: string): string {
  const body = sql.replace(/^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/, '');
  return /^[A-Za-z]+/.exec(body)?.[0]?.toUpperCase() ?? body.slice(0, 1);
}

/**
 * Checks `sql` on a locked-down engine; returns its column names, or throws a UsageError saying why it is
 * refused. The engine must already be locked down (lockDown) so preparing it cannot touch a file either.
 */
export async function checkReadOnly(engine: DuckDbQueryEngine, sql: string): Promise<string[]> {
  if (sql.trim() === '') throw new UsageError('the query is empty', { hint: `${ACCEPTS}, e.g. amber query --case C "SELECT eventname, count(*) FROM cloudtrail GROUP BY 1 ORDER BY 2 DESC"` });
  const keyword = leadingKeyword(sql);
  if (keyword !== 'SELECT' && keyword !== 'WITH') {
    throw new UsageError(`refused: the query starts with ${JSON.stringify(keyword)}, not SELECT or WITH`, { hint: ACCEPTS });
  }
  let checked;
  try {
    checked = await engine.selectColumns(sql);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/Permission Error|disabled by configuration|configuration has been locked/i.test(message)) {
      throw new UsageError(`refused: the query reaches outside the case's tables (${message.split('\n')[0]!.replace(/^query failed: /, '')})`, {
        hint: `${ACCEPTS}; files, extensions and settings are out of its reach`,
        cause: error,
      });
    }
    throw error instanceof QueryError ? new QueryError(error.message, sql, { hint: 'write Athena (Trino) SQL over the tables amber query --help lists', cause: error }) : error;
  }
  if ('refused' in checked) throw new UsageError(`refused: the query is ${checked.refused}, not one SELECT`, { hint: ACCEPTS });
  return checked.columns;
}

/** A cell as plain text: bytes as hex, structures as JSON, null as empty. */
export function cellText(value: QueryValue | undefined): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (typeof value === 'object') return JSON.stringify(value, (_, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
  return String(value);
}

/** A cell as a JSON value: bytes as hex text, everything else as the engine gives it. */
export function cellJson(value: QueryValue | undefined): unknown {
  if (value === undefined) return null;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  return value;
}
