-- BigQuery Standard SQL twin of query.sql (same logic, same columns; see its comments). The representative record
-- of a group is its first by (time, evidence key, record index): MIN_BY over that total key.
WITH clients AS (
  SELECT
    client_id,
    lower(coalesce(REGEXP_EXTRACT(client_id, r'^[A-Za-z]+'), '')) AS family,
    min(time) AS first_seen,
    max(time) AS last_seen,
    count(*) AS connects,
    max(username) AS username,
    min_by(username, time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS STRING), 10, '0')) AS first_username,
    LOGICAL_OR(coalesce(is_bridge, false)) AS bridge,
    min_by(client_ip, time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS STRING), 10, '0')) AS client_ip,
    min_by(evidence_key, time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS STRING), 10, '0')) AS evidence_key,
    min_by(evidence_record, time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS STRING), 10, '0')) AS evidence_record
  FROM mqtt_broker_logs
  WHERE event = 'connect' AND client_id IS NOT NULL
  GROUP BY client_id
),
families AS (
  SELECT family, count(*) AS members FROM clients GROUP BY family
)
SELECT
  c.first_seen AS event_time,
  coalesce(c.first_username, c.client_id) AS actor,
  c.client_ip AS source_ip,
  'connect' AS action,
  c.client_id AS target,
  'client id ' || c.client_id || ' first connected at ' || c.first_seen || ' (' || CAST(c.connects AS STRING) || CASE WHEN c.connects = 1 THEN ' connect' ELSE ' connects' END || ', user '
    || coalesce(c.username, 'none') || '); '
    || CASE WHEN c.family IN ('auto', 'mosq', 'mosqpub', 'mosqsub', 'paho', 'mqttjs', 'mqttx', 'mqtt')
         THEN "a client tool's default id (" || c.family || ')'
         ELSE "naming family '" || c.family || "' has " || CAST(f.members AS STRING) || CASE WHEN f.members = 1 THEN ' client id' ELSE ' client ids' END || ', fewer than 3' END AS detail,
  c.evidence_key,
  c.evidence_record,
  c.first_seen AS first_time,
  c.last_seen AS last_time,
  c.connects AS records
FROM clients c
JOIN families f ON f.family = c.family
WHERE (f.members < 3 OR c.family IN ('auto', 'mosq', 'mosqpub', 'mosqsub', 'paho', 'mqttjs', 'mqttx', 'mqtt'))
  AND NOT c.bridge
  AND NOT REGEXP_CONTAINS(lower(coalesce(c.username, '')), r'admin|broker|bridge')
  AND NOT (c.username IS NULL AND REGEXP_CONTAINS(lower(c.client_id), r'admin|broker|bridge'))
ORDER BY event_time, target
