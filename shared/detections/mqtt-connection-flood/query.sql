-- Connection floods: new connections from one address in one minute (the minute cut from the `time` text).
-- A TCP connection is Mosquitto's `New connection from A:P on port L.`; logs whose connection messages only
-- show the client session (`New client connected from ...`) or refusals count those instead, so the count is
-- the largest of the three. Threshold: 20 or more in a minute, a connection every three seconds, far above
-- reconnecting devices (a keepalive-driven reconnect is once a minute at most).
WITH per_minute AS (
  SELECT
    client_ip,
    substr(time, 1, 16) AS minute,
    count_if(event = 'connection') AS connections,
    count_if(event = 'connect') AS sessions,
    count_if(event = 'connection-refused') AS refused,
    count_if(event = 'disconnect' AND reason = 'not authorised') AS unauthorised,
    count(DISTINCT client_id) AS client_ids,
    min(time) AS first_time,
    max(time) AS last_time,
    count(*) AS records,
    min_by(event, time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS varchar), 10, '0')) AS first_event,
    min_by(username, time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS varchar), 10, '0')) AS username,
    min_by(evidence_key, time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS varchar), 10, '0')) AS evidence_key,
    min_by(evidence_record, time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS varchar), 10, '0')) AS evidence_record
  FROM mqtt_broker_logs
  WHERE client_ip IS NOT NULL AND event IN ('connection', 'connect', 'connection-refused', 'disconnect')
  GROUP BY client_ip, substr(time, 1, 16)
)
SELECT
  first_time AS event_time,
  coalesce(username, client_ip) AS actor,
  client_ip AS source_ip,
  first_event AS action,
  minute || ' (one minute)' AS target,
  CAST(greatest(connections, sessions, refused) AS varchar) || ' connections in one minute from ' || client_ip || ': '
    || CAST(connections AS varchar) || CASE WHEN connections = 1 THEN ' TCP connection' ELSE ' TCP connections' END || ', ' || CAST(sessions AS varchar) || CASE WHEN sessions = 1 THEN ' client session' ELSE ' client sessions' END || ' for '
    || CAST(client_ids AS varchar) || CASE WHEN client_ids = 1 THEN ' client id' ELSE ' client ids' END || ', ' || CAST(refused AS varchar) || ' refused, '
    || CAST(unauthorised AS varchar) || ' disconnected as not authorised' AS detail,
  evidence_key,
  evidence_record,
  first_time,
  last_time,
  records
FROM per_minute
WHERE greatest(connections, sessions, refused) >= 20
ORDER BY event_time, source_ip
