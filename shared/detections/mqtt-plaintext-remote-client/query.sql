-- Plaintext MQTT from outside. The listener port comes from Mosquitto's `New connection from A:P on port L.`
-- line (and is carried to the client's `New client connected` line by the parser): 1883 is plaintext MQTT,
-- 8883 is MQTT over TLS. Local addresses are left out: loopback (127.0.0.0/8, ::1), RFC 1918 (10/8,
-- 172.16/12, 192.168/16), link-local (169.254/16, fe80::/10), IPv6 unique-local (fc00::/7), and the same as
-- IPv4-mapped IPv6. One finding per remote address, at its first connection, listing the clients it brought.
WITH remote AS (
  SELECT
    client_ip,
    time,
    event,
    client_id,
    username,
    evidence_key,
    evidence_record,
    time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS varchar), 10, '0') AS pick
  FROM mqtt_broker_logs
  WHERE listener_port = 1883
    AND event IN ('connection', 'connect')
    AND client_ip IS NOT NULL
    AND NOT regexp_like(lower(client_ip), '^(::ffff:)?(127\.|10\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|169\.254\.)|^::1$|^f[cd][0-9a-f]{0,2}:|^fe[89ab][0-9a-f]?:|^localhost$')
)
SELECT
  min(time) AS event_time,
  coalesce(min_by(username, pick), min_by(client_id, pick), client_ip) AS actor,
  client_ip AS source_ip,
  min_by(event, pick) AS action,
  'listener 1883 (plaintext)' AS target,
  CAST(count_if(event = 'connection') AS varchar) || CASE WHEN count_if(event = 'connection') = 1 THEN ' connection' ELSE ' connections' END || ' and ' || CAST(count_if(event = 'connect') AS varchar) || CASE WHEN count_if(event = 'connect') = 1 THEN ' client session' ELSE ' client sessions' END || ' on plaintext port 1883 from ' || client_ip || ' between ' || min(time) || ' and ' || max(time)
    || '; client ids: ' || CASE WHEN count(client_id) = 0 THEN 'none logged' ELSE array_join(array_distinct(array_agg(client_id ORDER BY client_id)), ', ') END
    || '; users: ' || CASE WHEN count(username) = 0 THEN 'none' ELSE array_join(array_distinct(array_agg(username ORDER BY username)), ', ') END AS detail,
  min_by(evidence_key, pick) AS evidence_key,
  min_by(evidence_record, pick) AS evidence_record,
  min(time) AS first_time,
  max(time) AS last_time,
  count(*) AS records
FROM remote
GROUP BY client_ip
ORDER BY event_time, source_ip
