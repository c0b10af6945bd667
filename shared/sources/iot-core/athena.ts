/**
 * Athena DDL for `iot_core_logs`, two ways:
 * - athenaIotCoreDdl: over Amber's derived copies (every variant, exact evidence_record); see
 *   iot-common/athena-ddl.ts.
 * - athenaIotCoreFirehoseDdl: over IoT Core logs delivered to S3 by a CloudWatch Logs subscription and Amazon
 *   Data Firehose with decompression and message extraction on (one entry a line, under Firehose's default
 *   `yyyy/MM/dd/HH/` prefix), with partition projection on that hour, and a view giving the same columns as
 *   the embedded table. Without message extraction Firehose writes gzip'd subscription payloads back to back,
 *   which no Athena SerDe reads: collect those with Amber and query the derived copies instead.
 */
import { InvalidInputError } from '../../errors.ts';
import { athenaDerivedTableDdl, locationProblems, type AthenaDerivedDdlOptions } from '../iot-common/athena-ddl.ts';
import { IOT_CORE_COLUMNS } from './parse.ts';

/** CREATE EXTERNAL TABLE for `iot_core_logs` over the derived NDJSON copies of a case. */
export function athenaIotCoreDdl(options: AthenaDerivedDdlOptions): string {
  return athenaDerivedTableDdl({ id: 'iot-core', table: 'iot_core_logs', columns: IOT_CORE_COLUMNS }, options);
}

export interface AthenaIotCoreFirehoseDdlOptions {
  /** S3 URI of the Firehose prefix that holds the `yyyy/MM/dd/HH/` folders, ending with `/`. */
  readonly location: string;
  /** First hour of the projection, `yyyy/MM/dd/HH`; the range ends at NOW. */
  readonly startHour: string;
  /** Name of the external table under the view. @default 'iot_core_files' */
  readonly tableName?: string;
  /** Name of the view detections query. @default 'iot_core_logs' */
  readonly viewName?: string;
}

/** The entry keys the raw table declares (the openx SerDe matches them to lower-case columns without regard to case). */
const RAW_COLUMNS: ReadonlyArray<readonly [string, string]> = [
  ['timestamp', 'STRING'], ['loglevel', 'STRING'], ['traceid', 'STRING'], ['accountid', 'STRING'], ['status', 'STRING'],
  ['eventtype', 'STRING'], ['protocol', 'STRING'], ['topicname', 'STRING'], ['clientid', 'STRING'], ['principalid', 'STRING'],
  ['sourceip', 'STRING'], ['sourceport', 'INT'], ['reason', 'STRING'], ['disconnectreason', 'STRING'], ['details', 'STRING'],
  ['thingname', 'STRING'], ['deviceshadowname', 'STRING'], ['rulename', 'STRING'], ['ruleaction', 'STRING'], ['jobid', 'STRING'],
  ['clienttoken', 'STRING'],
];

/**
 * Table and view over Firehose-delivered entries. The view's `time` is cut from the entry's timestamp text
 * (`yyyy-MM-dd HH:mm:ss.SSS`, UTC, or ISO-8601), evidence_key is the object's key, and evidence_record is NULL
 * (the SerDe exposes no line number: Amber's derived copies have it); `entry` is NULL because the SerDe does
 * not keep the whole line.
 */
export function athenaIotCoreFirehoseDdl(options: AthenaIotCoreFirehoseDdlOptions): { readonly table: string; readonly view: string } {
  const table = options.tableName ?? 'iot_core_files';
  const view = options.viewName ?? 'iot_core_logs';
  const problems = locationProblems(options.location, table);
  if (!/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/.test(view)) problems.push(`not a valid view name: ${view}`);
  if (!/^\d{4}\/\d{2}\/\d{2}\/\d{2}$/.test(options.startHour)) problems.push(`startHour must be yyyy/MM/dd/HH, got ${options.startHour}`);
  if (problems.length > 0) {
    throw new InvalidInputError(`cannot build the Athena DDL for Firehose-delivered IoT Core logs:\n  ${problems.join('\n  ')}`, {
      hint: 'pass the Firehose S3 prefix (s3://bucket/prefix/) and the first hour as yyyy/MM/dd/HH',
    });
  }
  const tableDdl = `CREATE EXTERNAL TABLE ${table} (
${RAW_COLUMNS.map(([name, type]) => `  \`${name}\` ${type}`).join(',\n')}
)
PARTITIONED BY (\`dt\` STRING)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES ('ignore.malformed.json'='true', 'case.insensitive'='true')
STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION '${options.location}'
TBLPROPERTIES (
  'projection.enabled'='true',
  'projection.dt.type'='date',
  'projection.dt.format'='yyyy/MM/dd/HH',
  'projection.dt.range'='${options.startHour},NOW',
  'projection.dt.interval'='1',
  'projection.dt.interval.unit'='HOURS',
  'storage.location.template'='${options.location}\${dt}/'
)`;
  const viewDdl = `CREATE OR REPLACE VIEW ${view} AS
SELECT
  substr("timestamp", 1, 10) || 'T' || substr("timestamp", 12, 8) || 'Z' AS time,
  CAST(try(to_unixtime(from_iso8601_timestamp(substr("timestamp", 1, 10) || 'T' || substr("timestamp", 12, 12) || 'Z')) * 1000) AS BIGINT) AS time_ms,
  "timestamp" AS logtime, loglevel, traceid, accountid, status, eventtype, protocol, topicname, clientid, principalid,
  sourceip, sourceport, reason, disconnectreason, details,
  coalesce(thingname, deviceshadowname, regexp_extract(topicname, '^\\$aws/things/([^/]+)/', 1)) AS thingname,
  rulename, ruleaction, jobid, clienttoken,
  CAST(NULL AS VARCHAR) AS logstream, CAST(NULL AS VARCHAR) AS cweventid, CAST(NULL AS VARCHAR) AS entry,
  regexp_replace("$path", '^s3://[^/]+/', '') AS evidence_key,
  CAST(NULL AS INTEGER) AS evidence_record,
  dt
FROM ${table}`;
  return { table: tableDdl, view: viewDdl };
}
