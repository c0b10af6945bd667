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
),
firsts AS (
  -- Each address's first use in the hour: the finding points at the third address to appear.
  SELECT credential, hour, client_ip, min(pick) AS first_pick FROM uses GROUP BY credential, hour, client_ip
),
ranked AS (
  SELECT credential, hour, client_ip, first_pick, row_number() OVER (PARTITION BY credential, hour ORDER BY first_pick) AS nth FROM firsts
)
SELECT
  max(CASE WHEN u.pick = r3.first_pick THEN u.time END) AS event_time,
  coalesce(max(u.user_name), u.credential) AS actor,
  max(CASE WHEN u.pick = r3.first_pick THEN u.client_ip END) AS source_ip,
  max(CASE WHEN u.pick = r3.first_pick THEN u.action END) AS action,
  u.credential AS target,
  max(u.kind) || ' ' || u.credential || ' used from ' || CAST(count(DISTINCT u.client_ip) AS varchar) || ' addresses in the hour '
    || u.hour || ':00Z (' || CAST(count(*) AS varchar) || ' requests from ' || min(u.time) || '): '
    || array_join(array_distinct(array_agg(u.client_ip ORDER BY u.client_ip)), ', ') || '; user agents: '
    || CASE WHEN count(u.user_agent) = 0 THEN 'none' ELSE array_join(array_distinct(array_agg(u.user_agent ORDER BY u.user_agent)), ' | ') END AS detail,
  max(CASE WHEN u.pick = r3.first_pick THEN u.evidence_key END) AS evidence_key,
  max(CASE WHEN u.pick = r3.first_pick THEN u.evidence_record END) AS evidence_record
FROM uses u
JOIN ranked r3 ON r3.credential = u.credential AND r3.hour = u.hour AND r3.nth = 3
GROUP BY u.credential, u.hour
HAVING count(DISTINCT u.client_ip) >= 3
ORDER BY event_time, target
