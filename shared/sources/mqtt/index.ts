/**
 * The `mqtt` log source: Mosquitto broker logs (epoch or ISO-8601 timestamps), one row per line in the
 * `mqtt_broker_logs` table; see parse.ts for the messages understood.
 */
import type { LogSource } from '../log-source.ts';
import { athenaDerivedTableDdl, type AthenaDerivedDdlOptions } from '../iot-common/athena-ddl.ts';
import { MQTT_COLUMNS, parseMqtt, sniffMqtt } from './parse.ts';

export { MQTT_COLUMNS, parseMqtt, sniffMqtt } from './parse.ts';

/** Events that tell what a client did; keep-alives, acknowledgements and fan-out stay in the table only. */
const TIMELINE_EVENTS = ['connection', 'connect', 'takeover', 'disconnect', 'connection-refused', 'subscribe', 'subscribe-request', 'unsubscribe', 'publish-in', 'publish-denied', 'will', 'tls-error'];

/** The timeline reading: the user (else the client id) did `event` on the topic from its address. */
export const MQTT_TIMELINE_SQL = `
SELECT
  time,
  'iot' AS cloud,
  'mqtt' AS source,
  CAST(NULL AS VARCHAR) AS account,
  CAST(NULL AS VARCHAR) AS region,
  coalesce(username, client_id) AS actor,
  event AS action,
  'mqtt-broker' AS service,
  coalesce(topic, client_id) AS target,
  client_ip AS source_ip,
  CAST(NULL AS VARCHAR) AS user_agent,
  CASE WHEN event IN ('publish-denied', 'connection-refused', 'tls-error') OR reason = 'not authorised' THEN 'failure' ELSE 'success' END AS outcome,
  CASE WHEN event IN ('publish-denied', 'connection-refused', 'tls-error') OR reason = 'not authorised' THEN coalesce(reason, event) END AS error_code,
  CAST(evidence_key AS VARCHAR) AS evidence_key,
  CAST(evidence_record AS INTEGER) AS evidence_record
FROM mqtt_broker_logs
WHERE event IN (${TIMELINE_EVENTS.map((e) => `'${e}'`).join(', ')})`;

export const mqttSource: LogSource = {
  id: 'mqtt',
  title: 'MQTT broker logs (Mosquitto)',
  cloud: 'iot',
  table: 'mqtt_broker_logs',
  timeColumn: 'time',
  columns: MQTT_COLUMNS,
  sniff: (head) => sniffMqtt(head),
  parse: (text) => parseMqtt(text),
  timelineSql: MQTT_TIMELINE_SQL,
};

/** CREATE EXTERNAL TABLE for `mqtt_broker_logs` over the derived NDJSON copies of a case. */
export function athenaMqttDdl(options: AthenaDerivedDdlOptions): string {
  return athenaDerivedTableDdl(mqttSource, options);
}
