/**
 * The `iot-shadow` log source: preserved AWS IoT device shadow documents (classic and named), one row per
 * (thing, shadow, field path) in the `iot_shadows` table; see parse.ts for the shapes and the naming
 * convention for files that do not name their thing.
 */
import type { LogSource } from '../log-source.ts';
import { athenaDerivedTableDdl, type AthenaDerivedDdlOptions } from '../iot-common/athena-ddl.ts';
import { IOT_SHADOW_COLUMNS, parseIotShadow, sniffIotShadow } from './parse.ts';

export { IOT_SHADOW_COLUMNS, parseIotShadow, shadowNamesFromKey, sniffIotShadow } from './parse.ts';

/**
 * Seconds after a desired value within which a device is expected to report it. A connected device acts on
 * a delta within seconds; five minutes leaves room for a short reconnection and a slow actuator, so a later
 * match is "executed late" and no match after that long is "never executed". The shadow detections use it.
 */
export const SHADOW_LATE_AFTER_SECONDS = 300;

/** `thing`, `thing/shadow`, with the field path: how a shadow field reads in findings and on the timeline. */
const FIELD = `thing_name || coalesce('/' || shadow_name, '') || ' ' || path`;

/**
 * The timeline reading: each desired value is a request at its metadata time (who made it is not in the
 * document: the actor is unknown), each reported value is the device reporting at its time. The same
 * (field, value, time) restated by several preserved snapshots appears once, citing the first evidence.
 */
export const IOT_SHADOW_TIMELINE_SQL = `
SELECT
  time,
  'aws' AS cloud,
  'iot-shadow' AS source,
  CAST(NULL AS VARCHAR) AS account,
  CAST(NULL AS VARCHAR) AS region,
  actor,
  action,
  'iot.amazonaws.com' AS service,
  target,
  CAST(NULL AS VARCHAR) AS source_ip,
  CAST(NULL AS VARCHAR) AS user_agent,
  'success' AS outcome,
  CAST(NULL AS VARCHAR) AS error_code,
  CAST(min(evidence_key) AS VARCHAR) AS evidence_key,
  -- The event cites its first record by (evidence key, record index): min_by over the key alone ties within one object.
  CAST(min_by(evidence_record, evidence_key || '|' || lpad(CAST(evidence_record AS VARCHAR), 10, '0')) AS INTEGER) AS evidence_record
FROM (
  SELECT desired_time AS time, CAST(NULL AS VARCHAR) AS actor, 'ShadowDesired' AS action, ${FIELD} || ' = ' || desired AS target, evidence_key, evidence_record
  FROM iot_shadows WHERE path IS NOT NULL AND desired IS NOT NULL AND desired_time IS NOT NULL
  UNION ALL
  SELECT reported_time AS time, thing_name AS actor, 'ShadowReported' AS action, ${FIELD} || ' = ' || reported AS target, evidence_key, evidence_record
  FROM iot_shadows WHERE path IS NOT NULL AND reported IS NOT NULL AND reported_time IS NOT NULL
) AS changes
GROUP BY time, actor, action, target`;

export const iotShadowSource: LogSource = {
  id: 'iot-shadow',
  title: 'AWS IoT device shadows (classic and named)',
  cloud: 'aws',
  table: 'iot_shadows',
  timeColumn: 'time',
  columns: IOT_SHADOW_COLUMNS,
  sniff: (head, key) => sniffIotShadow(head, key),
  parse: (text, key) => parseIotShadow(text, key),
  timelineSql: IOT_SHADOW_TIMELINE_SQL,
};

/** CREATE EXTERNAL TABLE for `iot_shadows` over the derived NDJSON copies of a case. */
export function athenaIotShadowDdl(options: AthenaDerivedDdlOptions): string {
  return athenaDerivedTableDdl(iotShadowSource, options);
}
