-- BigQuery Standard SQL twin of query.sql (same logic, same columns; see its comments). The representative record
-- of a group is its first by (time, evidence key, record index): MIN_BY over that total key.
-- Lists are STRING_AGG(DISTINCT x ORDER BY x) with the Athena SQL's separators (a value holding a comma reads as two).
WITH uses AS (
  SELECT
    coalesce(token, user_name) AS credential,
    CASE WHEN token_source = 'authorization' THEN 'token (Authorization header fingerprint)' WHEN token IS NOT NULL THEN 'token' ELSE 'user (no token logged)' END AS kind,
    substr(time, 1, 13) AS hour,
    time,
    client_ip,
    user_agent,
    user_name,
    action,
    evidence_key,
    evidence_record,
    time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS STRING), 10, '0') AS pick
  FROM iot_api_logs
  WHERE client_ip IS NOT NULL AND coalesce(token, user_name) IS NOT NULL
)
-- The finding cites the hour's first use of the credential (earliest by time, evidence key, record index);
-- actor, address and action are that record's.
SELECT
  min(time) AS event_time,
  coalesce(min_by(user_name, pick), credential) AS actor,
  min_by(client_ip, pick) AS source_ip,
  min_by(action, pick) AS action,
  credential AS target,
  max(kind) || ' ' || credential || ' used from ' || CAST(count(DISTINCT client_ip) AS STRING) || CASE WHEN count(DISTINCT client_ip) = 1 THEN ' address' ELSE ' addresses' END || ' in the hour '
    || hour || ':00Z (' || CAST(count(*) AS STRING) || CASE WHEN count(*) = 1 THEN ' request' ELSE ' requests' END || ' from ' || min(time) || '): '
    || REPLACE(STRING_AGG(DISTINCT client_ip ORDER BY client_ip), ',', ', ') || '; user agents: '
    || CASE WHEN count(user_agent) = 0 THEN 'none' ELSE REPLACE(STRING_AGG(DISTINCT user_agent ORDER BY user_agent), ',', ' | ') END AS detail,
  min_by(evidence_key, pick) AS evidence_key,
  min_by(evidence_record, pick) AS evidence_record,
  min(time) AS first_time,
  max(time) AS last_time,
  count(*) AS records
FROM uses
GROUP BY credential, hour
HAVING count(DISTINCT client_ip) >= 3
ORDER BY event_time, target
