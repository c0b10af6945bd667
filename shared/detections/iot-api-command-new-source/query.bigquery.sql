-- BigQuery Standard SQL twin of query.sql (same logic, same columns; see its comments). The representative record
-- of a group is its first by (time, evidence key, record index): MIN_BY over that total key.
WITH requests AS (
  SELECT
    device_id,
    time,
    client_ip,
    user_agent,
    command,
    user_name,
    status,
    action,
    evidence_key,
    evidence_record,
    row_number() OVER (PARTITION BY device_id ORDER BY time_ms, evidence_key, evidence_record) - 1 AS earlier,
    row_number() OVER (PARTITION BY device_id, client_ip ORDER BY time_ms, evidence_key, evidence_record) AS ip_seen,
    row_number() OVER (PARTITION BY device_id, user_agent ORDER BY time_ms, evidence_key, evidence_record) AS ua_seen
  FROM iot_api_logs
  WHERE device_id IS NOT NULL
),
usual AS (
  -- The most frequent address and agent; a tie goes to the lowest value, so the detail is the same on every run.
  SELECT device_id,
         min_by(client_ip, lpad(CAST(1000000000 - n AS STRING), 10, '0') || '|' || coalesce(client_ip, '')) AS usual_ip,
         min_by(user_agent, lpad(CAST(1000000000 - m AS STRING), 10, '0') || '|' || coalesce(user_agent, '')) AS usual_agent
  FROM (
    SELECT device_id, client_ip, user_agent,
           count(*) OVER (PARTITION BY device_id, client_ip) AS n,
           count(*) OVER (PARTITION BY device_id, user_agent) AS m
    FROM requests
  ) AS counted
  GROUP BY device_id
)
SELECT
  r.time AS event_time,
  coalesce(r.user_name, r.client_ip, 'unknown user') AS actor,
  r.client_ip AS source_ip,
  r.action,
  r.device_id AS target,
  'command ' || r.command || ' to ' || r.device_id || ' (status ' || coalesce(CAST(r.status AS STRING), 'not logged') || ') '
    || CASE WHEN r.client_ip IS NOT NULL AND r.ip_seen = 1 THEN 'from address ' || r.client_ip || ', new for the device' ELSE 'from a known address' END
    || CASE WHEN r.user_agent IS NOT NULL AND r.ua_seen = 1 THEN ', with user agent ' || r.user_agent || ', new for the device' ELSE ', with a known user agent' END
    || '; ' || CAST(r.earlier AS STRING) || CASE WHEN r.earlier = 1 THEN ' earlier request' ELSE ' earlier requests' END || ' for the device, mostly from ' || coalesce(u.usual_ip, 'no address')
    || ' with ' || coalesce(u.usual_agent, 'no user agent') AS detail,
  r.evidence_key,
  r.evidence_record
FROM requests r
JOIN usual u ON u.device_id = r.device_id
WHERE r.command IS NOT NULL
  AND r.earlier >= 3
  AND ((r.client_ip IS NOT NULL AND r.ip_seen = 1) OR (r.user_agent IS NOT NULL AND r.ua_seen = 1))
ORDER BY event_time, target
