/** A small timeline table for analytic tests: rows numbered in the order given, with the timeline's identity column. */
import type { DuckDbQueryEngine } from '../../shared/query/duckdb-engine.ts';
import { IDENTITY_SQL } from '../../shared/timeline/timeline.ts';

export interface TimelineRow {
  readonly time: string;
  readonly actor: string;
  readonly action: string;
  readonly ip: string;
  /** Evidence key (default cases/c/cloudtrail.log); the record index is the row's position. */
  readonly key?: string;
}

/** Creates (or replaces) `main.t` from `rows` and returns its name. Values are test constants, never log text. */
export async function timelineTable(engine: DuckDbQueryEngine, rows: readonly TimelineRow[]): Promise<string> {
  const values = rows.map((r, i) => `('${r.time}', 'cloudtrail', '${r.actor}', '${r.action}', '${r.ip}', 'success', '${r.key ?? 'cases/c/cloudtrail.log'}', ${i}, 'ua')`).join(', ');
  await engine.exec(
    `CREATE OR REPLACE TABLE t AS SELECT time, source, actor, ${IDENTITY_SQL} AS identity, action, source_ip, outcome, evidence_key, CAST(evidence_record AS INTEGER) AS evidence_record, user_agent FROM (VALUES ${values}) v(time, source, actor, action, source_ip, outcome, evidence_key, evidence_record, user_agent)`,
  );
  return 'main.t';
}
