-- Successful sts:GetFederationToken calls. The target is the federated user name; the detail gives the
-- requested lifetime (default 12 hours) and whether a session policy narrowed the credentials.
SELECT
  eventtime AS event_time,
  coalesce(nullif(useridentity.arn, ''), useridentity.username, useridentity.principalid) AS actor,
  sourceipaddress AS source_ip,
  eventname AS action,
  coalesce(json_extract_scalar(requestparameters, '$.name'), '?') AS target,
  'federated session ' || coalesce(json_extract_scalar(requestparameters, '$.name'), '?') || ' for '
    || coalesce(json_extract_scalar(requestparameters, '$.durationSeconds'), '43200 (default)') || ' seconds, '
    || CASE WHEN regexp_like(coalesce(requestparameters, ''), '"(policy|policyArns)"\s*:') THEN 'narrowed by a session policy' ELSE 'no session policy' END AS detail,
  evidence_key,
  evidence_record
FROM cloudtrail
WHERE eventsource = 'sts.amazonaws.com'
  AND eventname = 'GetFederationToken'
  AND errorcode IS NULL
ORDER BY event_time
