/**
 * The `iot-core` log source: AWS IoT Core CloudWatch log entries (AWSIotLogsV2) in every shape they are
 * exported in (see parse.ts), loaded into the `iot_core_logs` table.
 */
import type { LogSource } from '../log-source.ts';
import { IOT_CORE_COLUMNS, parseIotCore, sniffIotCore } from './parse.ts';

export { IOT_CORE_COLUMNS, parseIotCore, sniffIotCore } from './parse.ts';
export { athenaIotCoreDdl, athenaIotCoreFirehoseDdl, type AthenaIotCoreFirehoseDdlOptions } from './athena.ts';

/**
 * The timeline reading of an entry: the device (client id, else the certificate's principal) did eventType on
 * the topic (or thing, rule, job); failures carry the logged reason. `N/A` is what rules-engine entries log
 * for a missing client.
 */
export const IOT_CORE_TIMELINE_SQL = `
SELECT
  time,
  'aws' AS cloud,
  'iot-core' AS source,
  accountid AS account,
  CAST(NULL AS VARCHAR) AS region,
  coalesce(nullif(clientid, 'N/A'), principalid, thingname) AS actor,
  eventtype AS action,
  'iot.amazonaws.com' AS service,
  coalesce(topicname, thingname, rulename, jobid) AS target,
  sourceip AS source_ip,
  CAST(NULL AS VARCHAR) AS user_agent,
  CASE WHEN lower(status) = 'failure' THEN 'failure' ELSE 'success' END AS outcome,
  CASE WHEN lower(status) = 'failure' THEN coalesce(reason, disconnectreason, status) END AS error_code,
  CAST(evidence_key AS VARCHAR) AS evidence_key,
  CAST(evidence_record AS INTEGER) AS evidence_record
FROM iot_core_logs`;

export const iotCoreSource: LogSource = {
  id: 'iot-core',
  title: 'AWS IoT Core logs (CloudWatch AWSIotLogsV2)',
  cloud: 'iot',
  table: 'iot_core_logs',
  timeColumn: 'time',
  columns: IOT_CORE_COLUMNS,
  sniff: (head) => sniffIotCore(head),
  parse: (text) => parseIotCore(text),
  timelineSql: IOT_CORE_TIMELINE_SQL,
};
