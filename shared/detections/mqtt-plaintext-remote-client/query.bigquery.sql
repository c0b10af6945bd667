-- BigQuery Standard SQL twin of query.sql (same logic, same columns; see its comments). The representative record
-- of a group is its first by (time, evidence key, record index): MIN_BY over that total key.
-- Lists are STRING_AGG(DISTINCT x ORDER BY x) with ', ' between values.
WITH remote AS (
  SELECT
    client_ip,
    time,
    event,
    client_id,
    username,
    evidence_key,
    evidence_record,
    time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS STRING), 10, '0') AS pick
  FROM mqtt_broker_logs
  WHERE listener_port = 1883
    AND event IN ('connection', 'connect')
    AND client_ip IS NOT NULL
    AND NOT REGEXP_CONTAINS(lower(client_ip), r'^(::ffff:)?(127\.|10\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|169\.254\.)|^::1$|^f[cd][0-9a-f]{0,2}:|^fe[89ab][0-9a-f]?:|^localhost$')
)
SELECT
  min(time) AS event_time,
  coalesce(min_by(username, pick), min_by(client_id, pick), client_ip) AS actor,
  client_ip AS source_ip,
  min_by(event, pick) AS action,
  'listener 1883 (plaintext)' AS target,
  CAST(COUNTIF(event = 'connection') AS STRING) || CASE WHEN COUNTIF(event = 'connection') = 1 THEN ' connection' ELSE ' connections' END || ' and ' || CAST(COUNTIF(event = 'connect') AS STRING) || CASE WHEN COUNTIF(event = 'connect') = 1 THEN ' client session' ELSE ' client sessions' END || ' on plaintext port 1883 from ' || client_ip || ' between ' || min(time) || ' and ' || max(time)
    || '; client ids: ' || CASE WHEN count(client_id) = 0 THEN 'none logged' ELSE REPLACE(STRING_AGG(DISTINCT client_id ORDER BY client_id), ',', ', ') END
    || '; users: ' || CASE WHEN count(username) = 0 THEN 'none' ELSE REPLACE(STRING_AGG(DISTINCT username ORDER BY username), ',', ', ') END AS detail,
  min_by(evidence_key, pick) AS evidence_key,
  min_by(evidence_record, pick) AS evidence_record,
  min(time) AS first_time,
  max(time) AS last_time,
  count(*) AS records
FROM remote
GROUP BY client_ip
ORDER BY event_time, source_ip
