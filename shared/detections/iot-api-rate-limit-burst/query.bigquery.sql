-- BigQuery Standard SQL twin of query.sql (same logic, same columns; see its comments). The representative record
-- of a group is its first by (time, evidence key, record index): MIN_BY over that total key.
-- Lists are STRING_AGG(DISTINCT x ORDER BY x) with the Athena SQL's separators (a value holding a comma reads as two).
WITH requests AS (
  SELECT
    client_ip,
    substr(time, 1, 15) AS bucket,
    time,
    status,
    path,
    user_name,
    user_agent,
    action,
    evidence_key,
    evidence_record,
    time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS STRING), 10, '0') AS pick
  FROM iot_api_logs
  WHERE client_ip IS NOT NULL
)
SELECT
  min(CASE WHEN status = 429 THEN time END) AS event_time,
  coalesce(min_by(user_name, CASE WHEN status = 429 THEN pick END), client_ip) AS actor,
  client_ip AS source_ip,
  min_by(action, CASE WHEN status = 429 THEN pick END) AS action,
  min_by(path, CASE WHEN status = 429 THEN pick END) AS target,
  CAST(COUNTIF(status = 429) AS STRING) || ' responses 429 out of ' || CAST(count(*) AS STRING) || ' requests in 10 min from '
    || client_ip || ' to ' || CAST(count(DISTINCT path) AS STRING) || CASE WHEN count(DISTINCT path) = 1 THEN ' endpoint' ELSE ' endpoints' END || '; users: '
    || CASE WHEN count(user_name) = 0 THEN 'none' ELSE REPLACE(STRING_AGG(DISTINCT user_name ORDER BY user_name), ',', ', ') END
    || '; user agents: ' || CASE WHEN count(user_agent) = 0 THEN 'none' ELSE REPLACE(STRING_AGG(DISTINCT user_agent ORDER BY user_agent), ',', ' | ') END AS detail,
  min_by(evidence_key, CASE WHEN status = 429 THEN pick END) AS evidence_key,
  min_by(evidence_record, CASE WHEN status = 429 THEN pick END) AS evidence_record,
  min(CASE WHEN status = 429 THEN time END) AS first_time,
  max(CASE WHEN status = 429 THEN time END) AS last_time,
  COUNTIF(status = 429) AS records
FROM requests
GROUP BY client_ip, bucket
HAVING COUNTIF(status = 429) >= 10
ORDER BY event_time, source_ip
