/**
 * The QueryEngine port: where detection SQL runs. Two adapters speak the same dialect, Athena's (Trino):
 * DuckDB embedded for offline cases (shared/query/duckdb-engine.ts) and Athena itself
 * (functions/aws/adapters/athena-query-engine.ts).
 *
 * Contract every adapter keeps, so a finding reads the same whichever engine produced it:
 * - Rows are plain JS objects keyed by column name, in the column order of the result.
 * - Values are plain JS: NULL -> null; booleans; integers -> number when within Number.MAX_SAFE_INTEGER, else
 *   their decimal string; floating and decimal numbers -> number; timestamps (with or without time zone) ->
 *   ISO-8601 UTC strings `YYYY-MM-DDTHH:mm:ss.sssZ` (six fractional digits when the value has microseconds);
 *   dates -> `YYYY-MM-DD`; strings and JSON -> string; arrays -> arrays; structs (Trino ROW) -> objects;
 *   maps -> objects keyed by the key's string form; varbinary -> Uint8Array.
 * - Parameters are positional (`?`), because Athena's ExecutionParameters are positional.
 * - A failed statement throws QueryError (shared/query/errors.ts) naming the statement; nothing is retried silently.
 */

/** A value bound to a `?` placeholder. */
export type QueryParam = string | number | boolean | null;

/** A value in a result row, converted to plain JS as the contract above states. */
export type QueryValue =
  | string
  | number
  | boolean
  | null
  | Uint8Array
  | readonly QueryValue[]
  | { readonly [key: string]: QueryValue };

/** One result row: column name to value. */
export type QueryRow = Record<string, QueryValue>;

/** Runs Athena-dialect SQL and returns plain rows; implemented by DuckDB offline and by Athena in AWS. */
export interface QueryEngine {
  /** Runs one Athena-dialect statement and returns every row as plain JS values. */
  query<T = QueryRow>(sql: string, params?: readonly QueryParam[]): Promise<T[]>;
  /** Releases the engine's resources; later queries fail. Idempotent. */
  close(): Promise<void>;
}
