/**
 * The `iot-api` log source: JSON request logs of an IoT platform's HTTP API (see parse.ts for the accepted
 * field spellings), in the `iot_api_logs` table. Sign-in requests come out with action `login`, which the
 * impossible-travel analytic reads beside cloud sign-ins.
 */
import type { LogSource } from '../log-source.ts';
import { athenaDerivedTableDdl, type AthenaDerivedDdlOptions } from '../iot-common/athena-ddl.ts';
import { IOT_API_COLUMNS, parseIotApi, sniffIotApi } from './parse.ts';

export { FIELDS as IOT_API_FIELDS, IOT_API_COLUMNS, fingerprint, parseIotApi, sniffIotApi } from './parse.ts';

/** The timeline reading: the user (else the token) called the endpoint; a status of 400 or more is a failure. */
export const IOT_API_TIMELINE_SQL = `
SELECT
  time,
  'iot' AS cloud,
  'iot-api' AS source,
  CAST(NULL AS VARCHAR) AS account,
  CAST(NULL AS VARCHAR) AS region,
  coalesce(user_name, token) AS actor,
  action,
  'iot-api' AS service,
  coalesce(device_id, path) AS target,
  client_ip AS source_ip,
  user_agent,
  CASE WHEN status >= 400 THEN 'failure' ELSE 'success' END AS outcome,
  CASE WHEN status >= 400 THEN CAST(status AS VARCHAR) END AS error_code,
  CAST(evidence_key AS VARCHAR) AS evidence_key,
  CAST(evidence_record AS INTEGER) AS evidence_record
FROM iot_api_logs`;

export const iotApiSource: LogSource = {
  id: 'iot-api',
  title: 'IoT platform API request logs (JSON)',
  cloud: 'iot',
  table: 'iot_api_logs',
  timeColumn: 'time',
  columns: IOT_API_COLUMNS,
  sniff: (head) => sniffIotApi(head),
  parse: (text) => parseIotApi(text),
  timelineSql: IOT_API_TIMELINE_SQL,
};

/** CREATE EXTERNAL TABLE for `iot_api_logs` over the derived NDJSON copies of a case. */
export function athenaIotApiDdl(options: AthenaDerivedDdlOptions): string {
  return athenaDerivedTableDdl(iotApiSource, options);
}
