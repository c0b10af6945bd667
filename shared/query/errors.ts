/**
 * Errors of the query layer (shared/query): a statement the engine refused or failed to run, and a table that
 * could not be built from evidence files.
 */
import { AmberError, type AmberErrorOptions } from '../errors.ts';

/** A query failed; names the statement and the engine, and keeps the engine's error as `cause`. */
export class QueryError extends AmberError {
  override readonly code = 'QUERY_FAILED';
  constructor(
    message: string,
    readonly sql: string,
    options: AmberErrorOptions = {},
  ) {
    super(message, options);
  }
}

/** Evidence files could not be loaded into a queryable table; names the files and the reason. */
export class TableLoadError extends AmberError {
  override readonly code = 'TABLE_LOAD_FAILED';
  constructor(
    message: string,
    /** The files at fault: the unreadable ones when they could be isolated, otherwise every file of the load. */
    readonly files: readonly string[],
    options: AmberErrorOptions = {},
  ) {
    super(message, options);
  }
}
