-- BigQuery Standard SQL twin of query.sql (same logic, same columns; see its comments). The representative record
-- of a group is its first by (time, evidence key, record index): MIN_BY over that total key.
WITH per_minute AS (
  SELECT
    client_ip,
    substr(time, 1, 16) AS minute,
    COUNTIF(event = 'connection') AS connections,
    COUNTIF(event = 'connect') AS sessions,
    COUNTIF(event = 'connection-refused') AS refused,
    COUNTIF(event = 'disconnect' AND reason = 'not authorised') AS unauthorised,
    count(DISTINCT client_id) AS client_ids,
    min(time) AS first_time,
    max(time) AS last_time,
    count(*) AS records,
    min_by(event, time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS STRING), 10, '0')) AS first_event,
    min_by(username, time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS STRING), 10, '0')) AS username,
    min_by(evidence_key, time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS STRING), 10, '0')) AS evidence_key,
    min_by(evidence_record, time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS STRING), 10, '0')) AS evidence_record
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
  CAST(greatest(connections, sessions, refused) AS STRING) || ' connections in one minute from ' || client_ip || ': '
    || CAST(connections AS STRING) || CASE WHEN connections = 1 THEN ' TCP connection' ELSE ' TCP connections' END || ', ' || CAST(sessions AS STRING) || CASE WHEN sessions = 1 THEN ' client session' ELSE ' client sessions' END || ' for '
    || CAST(client_ids AS STRING) || CASE WHEN client_ids = 1 THEN ' client id' ELSE ' client ids' END || ', ' || CAST(refused AS STRING) || ' refused, '
    || CAST(unauthorised AS STRING) || ' disconnected as not authorised' AS detail,
  evidence_key,
  evidence_record,
  first_time,
  last_time,
  records
FROM per_minute
WHERE greatest(connections, sessions, refused) >= 20
ORDER BY event_time, source_ip
