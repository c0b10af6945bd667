-- BigQuery Standard SQL twin of query.sql (same logic, same columns; see its comments). The representative record
-- of a group is its first by (time, evidence key, record index): MIN_BY over that total key.
-- Lists are STRING_AGG(DISTINCT x ORDER BY x) with the Athena SQL's separators (a value holding a comma reads as two).
WITH refused AS (
  SELECT
    client_ip,
    substr(time, 1, 15) AS bucket,
    time,
    status,
    path,
    user_name,
    device_id,
    action,
    evidence_key,
    evidence_record,
    time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS STRING), 10, '0') AS pick
  FROM iot_api_logs
  WHERE status IN (401, 403) AND client_ip IS NOT NULL
)
SELECT
  min(time) AS event_time,
  coalesce(min_by(user_name, pick), client_ip) AS actor,
  client_ip AS source_ip,
  min_by(action, pick) AS action,
  min_by(path, pick) AS target,
  CAST(count(*) AS STRING) || ' responses 401/403 in 10 min (' || CAST(COUNTIF(status = 401) AS STRING) || ' x 401, '
    || CAST(COUNTIF(status = 403) AS STRING) || ' x 403) from ' || client_ip || ' for ' || CAST(count(DISTINCT user_name) AS STRING) || CASE WHEN count(DISTINCT user_name) = 1 THEN ' user' ELSE ' users' END || ' on ' || CAST(count(DISTINCT path) AS STRING) || CASE WHEN count(DISTINCT path) = 1 THEN ' endpoint' ELSE ' endpoints' END || ' and ' || CAST(count(DISTINCT device_id) AS STRING) || CASE WHEN count(DISTINCT device_id) = 1 THEN ' device' ELSE ' devices' END || '; users: ' || CASE WHEN count(user_name) = 0 THEN 'none' ELSE REPLACE(STRING_AGG(DISTINCT user_name ORDER BY user_name), ',', ', ') END AS detail,
  min_by(evidence_key, pick) AS evidence_key,
  min_by(evidence_record, pick) AS evidence_record,
  min(time) AS first_time,
  max(time) AS last_time,
  count(*) AS records
FROM refused
GROUP BY client_ip, bucket
HAVING count(*) >= 10
ORDER BY event_time, source_ip
