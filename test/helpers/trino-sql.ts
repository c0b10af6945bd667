/**
 * Offline syntax check for Athena SQL: dt-sql-parser's Trino grammar (Athena engine v3 is Trino). It catches
 * DuckDB-only syntax that would run locally and fail in Athena (`SELECT * EXCLUDE`, `::` casts, `QUALIFY`...).
 * It checks syntax only: function names and types are checked by unportableFunctions (shared/query/athena-compat.ts).
 * dt-sql-parser loads under vitest but not under plain `node` ESM, hence a test helper, not shared code.
 */
import { TrinoSQL } from 'dt-sql-parser';

const parser = new TrinoSQL();

/** Syntax errors Trino's grammar reports for `sql`, each with its line and column; empty when the SQL parses. */
export function trinoSyntaxErrors(sql: string): string[] {
  return parser.validate(sql).map((e) => `line ${e.startLine}:${e.startColumn} ${e.message}`);
}

/** Throws, listing every syntax error, unless `sql` parses as Trino SQL. */
export function assertTrinoSql(sql: string): void {
  const errors = trinoSyntaxErrors(sql);
  if (errors.length > 0) {
    throw new Error(`not valid Trino (Athena) SQL:\n  ${errors.join('\n  ')}\n--- SQL ---\n${sql}`);
  }
}
