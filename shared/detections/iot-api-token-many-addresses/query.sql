-- One token, many addresses. The credential is the `token` column (a logged token id or hash, or the
-- fingerprint `sha256:<16 hex>` of the Authorization header the parser computed), and when no token is logged,
-- the user: then the finding is about an account, not a token, and the detail says so. Threshold: three or
-- more distinct client addresses in one hour (cut from the `time` text), which a phone switching networks
-- rarely reaches.
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
    time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS varchar), 10, '0') AS pick
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
  max(kind) || ' ' || credential || ' used from ' || CAST(count(DISTINCT client_ip) AS varchar) || CASE WHEN count(DISTINCT client_ip) = 1 THEN ' address' ELSE ' addresses' END || ' in the hour '
    || hour || ':00Z (' || CAST(count(*) AS varchar) || CASE WHEN count(*) = 1 THEN ' request' ELSE ' requests' END || ' from ' || min(time) || '): '
    || array_join(array_distinct(array_agg(client_ip ORDER BY client_ip)), ', ') || '; user agents: '
    || CASE WHEN count(user_agent) = 0 THEN 'none' ELSE array_join(array_distinct(array_agg(user_agent ORDER BY user_agent)), ' | ') END AS detail,
  min_by(evidence_key, pick) AS evidence_key,
  min_by(evidence_record, pick) AS evidence_record,
  min(time) AS first_time,
  max(time) AS last_time,
  count(*) AS records
FROM uses
GROUP BY credential, hour
HAVING count(DISTINCT client_ip) >= 3
ORDER BY event_time, target
