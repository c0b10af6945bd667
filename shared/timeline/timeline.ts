/**
 * The normalised timeline: one row per event whatever its source, in UTC, each row pointing back to the
 * preserved object and the record inside it. Exports to CSV (safe against formula injection), JSON Lines
 * and Timesketch's import format (`message`, `datetime`, `timestamp_desc`).
 */
import type { QueryEngine } from '../ports/query-engine.ts';
import { csvCell } from '../text/escape.ts';
import { LOG_SOURCES } from '../sources/registry.ts';
import { timelineCondition, type TimelineFilter } from './filters.ts';

export interface TimelineRow {
  /** ISO-8601 UTC. */
  readonly time: string;
  readonly cloud: string;
  readonly source: string;
  readonly account: string | null;
  readonly region: string | null;
  readonly actor: string | null;
  /**
   * The person or workload behind the actor, correlated across clouds: the e-mail address the actor names
   * (an AWS SSO or federated session, an Entra UPN, a GCP principal, an M365 user), lower-cased; otherwise
   * the actor itself (an IAM user ARN, a service principal id).
   */
  readonly identity: string | null;
  readonly action: string | null;
  readonly service: string | null;
  readonly target: string | null;
  readonly source_ip: string | null;
  readonly user_agent: string | null;
  readonly outcome: 'success' | 'failure';
  readonly error_code: string | null;
  readonly evidence_key: string;
  readonly evidence_record: number;
}

export const TIMELINE_COLUMNS: readonly (keyof TimelineRow)[] = [
  'time', 'cloud', 'source', 'account', 'region', 'actor', 'identity', 'action', 'service', 'target', 'source_ip', 'user_agent', 'outcome', 'error_code', 'evidence_key', 'evidence_record',
];

/** Request parameters that name what an API call acted on, most specific first. */
const TARGET_PATHS = [
  'userName', 'roleName', 'groupName', 'policyArn', 'bucketName', 'functionName', 'secretId', 'name', 'trailName', 'snapshotId', 'imageId',
  'groupId', 'detectorId', 'dBSnapshotIdentifier', 'instanceId', 'keyId', 'roleArn', 'accessKeyId',
];

/**
 * The CloudTrail part of the timeline, in Athena SQL (it runs on both engines). The actor is the most
 * readable principal the record has; the target, the first naming request parameter.
 */
export const CLOUDTRAIL_TIMELINE_SQL = `
SELECT
  eventtime AS time,
  'aws' AS cloud,
  'cloudtrail' AS source,
  coalesce(recipientaccountid, useridentity.accountid) AS account,
  awsregion AS region,
  coalesce(useridentity.arn, useridentity.username, useridentity.invokedby, useridentity.principalid, useridentity.type) AS actor,
  eventname AS action,
  eventsource AS service,
  coalesce(${TARGET_PATHS.map((p) => `json_extract_scalar(requestparameters, '$.${p}')`).join(', ')}, element_at(resources, 1).arn) AS target,
  sourceipaddress AS source_ip,
  useragent AS user_agent,
  CASE WHEN errorcode IS NOT NULL OR json_extract_scalar(responseelements, '$.ConsoleLogin') = 'Failure' THEN 'failure' ELSE 'success' END AS outcome,
  coalesce(errorcode, CASE WHEN json_extract_scalar(responseelements, '$.ConsoleLogin') = 'Failure' THEN errormessage END) AS error_code,
  evidence_key,
  evidence_record
FROM cloudtrail`;

/**
 * The whole timeline as one Athena SELECT: every loaded source's normalisation, each reading its own table
 * through a CTE named like the table (so the same per-source SQL runs on either engine).
 */
export function timelineSql(sources: Readonly<Record<string, string>>): string | undefined {
  const parts: string[] = [];
  if (sources.cloudtrail) parts.push(`SELECT * FROM (WITH cloudtrail AS (SELECT * FROM ${sources.cloudtrail}) ${CLOUDTRAIL_TIMELINE_SQL})`);
  for (const source of LOG_SOURCES) {
    const table = sources[source.table];
    if (table) parts.push(`SELECT * FROM (WITH ${source.table} AS (SELECT * FROM ${table}) ${source.timelineSql})`);
  }
  if (parts.length === 0) return undefined;
  // Identity correlation is one portable expression, applied once over every source.
  return `SELECT time, cloud, source, account, region, actor, ${IDENTITY_SQL} AS identity, action, service, target, source_ip, user_agent, outcome, error_code, evidence_key, evidence_record
FROM (${parts.join('\nUNION ALL\n')})`;
}

/** identityOf(actor) in TypeScript: the same rule as IDENTITY_SQL, for places that hold an actor, not a row. */
export function identityOf(actor: string | null): string | null {
  if (actor === null) return null;
  const email = /([A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})/.exec(actor)?.[1];
  return email ? email.toLowerCase() : actor;
}

/** The e-mail address inside an actor string, lower-cased; else the actor (Athena SQL, Trino regexp semantics). */
export const IDENTITY_SQL = `coalesce(lower(regexp_extract(actor, '([A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,})', 1)), actor)`;

/** The ordered timeline statement and its parameters (undefined when the case has no table). */
function orderedTimeline(sources: Readonly<Record<string, string>>, identity?: string, filter: TimelineFilter = {}): { sql: string; params: string[] } | undefined {
  const sql = timelineSql(sources);
  if (!sql) return undefined;
  const conditions = identity === undefined ? [] : ['identity = ?'];
  const params = identity === undefined ? [] : [identity.toLowerCase().includes('@') ? identity.toLowerCase() : identity];
  const narrowed = timelineCondition(filter);
  if (narrowed) {
    conditions.push(narrowed.sql);
    params.push(...narrowed.params);
  }
  return {
    sql: `SELECT * FROM (${sql})${conditions.length ? ` WHERE ${conditions.join(' AND ')}` : ''} ORDER BY time, evidence_key, evidence_record`,
    params,
  };
}

/**
 * Every event of the case in time order (ties broken by evidence position, so the order is stable),
 * optionally only one identity's, across every cloud.
 */
export async function queryTimeline(engine: QueryEngine, sources: Readonly<Record<string, string>>, identity?: string, filter?: TimelineFilter): Promise<TimelineRow[]> {
  const q = orderedTimeline(sources, identity, filter);
  return q ? engine.query<TimelineRow>(q.sql, q.params) : [];
}

/** An engine that can hand a result over in chunks (the embedded DuckDB engine). */
export interface StreamingQueryEngine extends QueryEngine {
  stream<T>(sql: string, params?: readonly (string | number | boolean | null)[]): AsyncIterable<T[]>;
}

/**
 * The same rows as queryTimeline, in the same order, a chunk at a time: an export of millions of events keeps
 * one chunk (about 2,000 rows) in memory, while DuckDB sorts (and spills) on its side.
 */
export async function* streamTimeline(engine: StreamingQueryEngine, sources: Readonly<Record<string, string>>, identity?: string, filter?: TimelineFilter): AsyncGenerator<TimelineRow[]> {
  const q = orderedTimeline(sources, identity, filter);
  if (q) yield* engine.stream<TimelineRow>(q.sql, q.params);
}

export type TimelineFormat = 'csv' | 'jsonl' | 'timesketch';

/** Renders rows in an export format, one line per event (`header`: false for every chunk of a CSV but the first). */
export function* renderTimeline(rows: Iterable<TimelineRow>, format: TimelineFormat, header = true): Generator<string> {
  if (format === 'csv') {
    if (header) yield `${TIMELINE_COLUMNS.join(',')}\n`;
    for (const r of rows) yield `${TIMELINE_COLUMNS.map((c) => csvCell(r[c])).join(',')}\n`;
    return;
  }
  for (const r of rows) {
    if (format === 'jsonl') {
      yield `${JSON.stringify(r)}\n`;
      continue;
    }
    // Timesketch JSONL: message, datetime and timestamp_desc are required; other fields become attributes.
    const what = [r.actor ?? 'unknown actor', r.action ?? '', r.target ? `on ${r.target}` : '', r.source_ip ? `from ${r.source_ip}` : '', r.outcome === 'failure' ? `(failed: ${r.error_code ?? 'error'})` : '']
      .filter(Boolean)
      .join(' ');
    yield `${JSON.stringify({ message: what, datetime: r.time, timestamp_desc: 'Event Time', ...r, data_type: `${r.cloud}:${r.source}` })}\n`;
  }
}
