-- Client ids outside the fleet's naming. A client id's family is its leading run of letters, lower-cased
-- (`sensor` for sensor-12 and SENSOR_7, `cam` for cam0042, '' for an id starting with a digit). A family with
-- three or more distinct client ids in the logs read is fleet naming; an id whose family has fewer members,
-- or whose family is a client tool's default (mosquitto_pub/sub: auto-, mosq-, mosqpub, mosqsub; Paho: paho;
-- MQTT.js: mqttjs; MQTTX: mqttx; MQTT Explorer: mqtt-explorer; MQTT.fx: MQTT_FX -> mqtt), is unknown.
-- Administrative clients (user name containing admin, broker or bridge; or, without a user name, such a client
-- id; bridges) are left out. One finding per client id, at its first connect in the logs read.
WITH clients AS (
  SELECT
    client_id,
    lower(coalesce(regexp_extract(client_id, '^[A-Za-z]+'), '')) AS family,
    min(time) AS first_seen,
    max(time) AS last_seen,
    count(*) AS connects,
    max(username) AS username,
    min_by(username, time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS varchar), 10, '0')) AS first_username,
    bool_or(coalesce(is_bridge, false)) AS bridge,
    min_by(client_ip, time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS varchar), 10, '0')) AS client_ip,
    min_by(evidence_key, time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS varchar), 10, '0')) AS evidence_key,
    min_by(evidence_record, time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS varchar), 10, '0')) AS evidence_record
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
  'client id ' || c.client_id || ' first connected at ' || c.first_seen || ' (' || CAST(c.connects AS varchar) || CASE WHEN c.connects = 1 THEN ' connect' ELSE ' connects' END || ', user '
    || coalesce(c.username, 'none') || '); '
    || CASE WHEN c.family IN ('auto', 'mosq', 'mosqpub', 'mosqsub', 'paho', 'mqttjs', 'mqttx', 'mqtt')
         THEN 'a client tool''s default id (' || c.family || ')'
         ELSE 'naming family ''' || c.family || ''' has ' || CAST(f.members AS varchar) || CASE WHEN f.members = 1 THEN ' client id' ELSE ' client ids' END || ', fewer than 3' END AS detail,
  c.evidence_key,
  c.evidence_record,
  c.first_seen AS first_time,
  c.last_seen AS last_time,
  c.connects AS records
FROM clients c
JOIN families f ON f.family = c.family
WHERE (f.members < 3 OR c.family IN ('auto', 'mosq', 'mosqpub', 'mosqsub', 'paho', 'mqttjs', 'mqttx', 'mqtt'))
  AND NOT c.bridge
  AND NOT regexp_like(lower(coalesce(c.username, '')), 'admin|broker|bridge')
  AND NOT (c.username IS NULL AND regexp_like(lower(c.client_id), 'admin|broker|bridge'))
ORDER BY event_time, target
