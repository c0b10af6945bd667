/**
 * The evidence tables a scheduled run reads per case (scheduled-run.ts `cases`): every table over the Parquet that
 * derive-object writes, named in the database as the Glue tables are (`cloudtrail_derived` for CloudTrail, the
 * source's own table for the others), each narrowed to one case (the injected `case_name`) and the window's days
 * (the projected `day`, `yyyy/MM/dd`). The same SQL runs on Athena and, in tests, on DuckDB over the same files.
 */
import type { ObjectStore } from '../ports/object-store.ts';
import { validateCaseName } from '../evidence/names.ts';
import { casesDerivedBetween } from '../sources/derived-index.ts';
import { LOG_SOURCES } from '../sources/registry.ts';
import type { CaseRuns } from './scheduled-run.ts';

/** The physical table over CloudTrail's derived Parquet. */
export const CLOUDTRAIL_DERIVED = 'cloudtrail_derived';

/** Logical table (what detection.yml names) to the table over its derived Parquet. */
export function derivedTables(): Readonly<Record<string, string>> {
  return Object.fromEntries([['cloudtrail', CLOUDTRAIL_DERIVED], ...LOG_SOURCES.map((s) => [s.table, s.table])]);
}

const day = (d: Date): string => d.toISOString().slice(0, 10).replace(/-/g, '/');

/** Per-case runs over the derived Parquet tables of `database`, the cases listed from the derived index in `store`. */
export function derivedCaseRuns(store: ObjectStore, database: string): CaseRuns {
  if (!/^[a-z0-9_]{1,255}$/.test(database)) throw new Error(`not a Glue database name: ${JSON.stringify(database)}`);
  return {
    list: (window) => casesDerivedBetween(store, window.since, window.until),
    sources: (caseName, window) => {
      // A validated case name has no quote: safe as a literal.
      const c = validateCaseName(caseName);
      return Object.fromEntries(
        Object.entries(derivedTables()).map(([logical, physical]) => [
          logical,
          `(SELECT * FROM "${database}"."${physical}" WHERE case_name = '${c}' AND "day" BETWEEN '${day(window.since)}' AND '${day(window.until)}')`,
        ]),
      );
    },
    // The day partition is narrowed above; CloudTrail's `timestamp` comes from the key layout and may be NULL.
    tableTimes: { cloudtrail: { column: 'eventtime' } },
  };
}
