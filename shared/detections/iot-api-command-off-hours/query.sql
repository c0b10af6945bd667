-- Commands outside a device's usual hours. The hour is the UTC hour of the day cut from the `time` text; the
-- device's local time zone is unknown, but it is the same for all of its commands, so usual hours compare.
-- "Usual" is learned from the rest of the logs read: an hour is unusual for a device when no command reached
-- that device in that hour on any other day. So that a thin history does not make every hour unusual, the
-- device must have commands on at least three days besides the command's own. Several commands in the same
-- unusual hour of the same day are one finding, at the first. Commands are rows with a device_id and a command
-- (see the iot-api source for how they are recognised), refused ones included: an attempt at 03:00 matters too.
WITH commands AS (
  SELECT
    device_id,
    command,
    substr(time, 1, 10) AS day,
    substr(time, 12, 2) AS hour,
    time,
    user_name,
    client_ip,
    user_agent,
    status,
    action,
    evidence_key,
    evidence_record,
    time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS varchar), 10, '0') AS pick
  FROM iot_api_logs
  WHERE command IS NOT NULL AND device_id IS NOT NULL AND length(time) >= 13
),
hours AS (
  SELECT device_id, hour, count(DISTINCT day) AS days FROM commands GROUP BY device_id, hour
),
devices AS (
  SELECT
    d.device_id,
    count(DISTINCT c.day) AS days,
    -- array_join of only NULLs is '' in Trino and NULL in DuckDB: the caller treats both as none.
    array_join(array_distinct(array_agg(CASE WHEN d.days >= 2 THEN d.hour END ORDER BY d.hour)), ', ') AS usual
  FROM hours d
  JOIN commands c ON c.device_id = d.device_id
  GROUP BY d.device_id
)
SELECT
  min(c.time) AS event_time,
  coalesce(min_by(c.user_name, c.pick), min_by(c.client_ip, c.pick), 'unknown user') AS actor,
  min_by(c.client_ip, c.pick) AS source_ip,
  min_by(c.action, c.pick) AS action,
  c.device_id AS target,
  CAST(count(*) AS varchar) || CASE WHEN count(*) = 1 THEN ' command' ELSE ' commands' END || ' (' || array_join(array_distinct(array_agg(c.command ORDER BY c.command)), ', ') || ') to '
    || c.device_id || ' at ' || c.hour || ':00-' || c.hour || ':59 UTC on ' || c.day || ', status '
    || coalesce(CAST(min_by(c.status, c.pick) AS varchar), 'not logged') || ', user agent ' || coalesce(min_by(c.user_agent, c.pick), 'not logged')
    || '; no command reached the device in that hour on any of its other ' || CAST(max(d.days) - 1 AS varchar) || CASE WHEN max(d.days) - 1 = 1 THEN ' day' ELSE ' days' END || ' with commands; hours seen on two or more days: '
    || CASE WHEN coalesce(max(d.usual), '') = '' THEN 'none' ELSE max(d.usual) END AS detail,
  min_by(c.evidence_key, c.pick) AS evidence_key,
  min_by(c.evidence_record, c.pick) AS evidence_record,
  min(c.time) AS first_time,
  max(c.time) AS last_time,
  count(*) AS records
FROM commands c
JOIN hours h ON h.device_id = c.device_id AND h.hour = c.hour
JOIN devices d ON d.device_id = c.device_id
WHERE h.days = 1 AND d.days >= 4
GROUP BY c.device_id, c.day, c.hour
ORDER BY event_time, target
