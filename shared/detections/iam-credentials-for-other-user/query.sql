-- Long-term credentials made for somebody else: an access key created (CreateAccessKey) or a console password
-- set (CreateLoginProfile, UpdateLoginProfile) for an IAM user other than the caller. The caller's own name
-- is its userName, or for a role session its session name (the last part of the assumed-role ARN). Calls
-- without userName act on the caller itself and are left out. Only calls that succeeded count.
WITH credential_calls AS (
  SELECT
    *,
    json_extract_scalar(requestparameters, '$.userName') AS target_user,
    coalesce(nullif(useridentity.username, ''), regexp_extract(useridentity.arn, '[^/:]+$')) AS caller_name
  FROM cloudtrail
  WHERE eventsource = 'iam.amazonaws.com'
    AND eventname IN ('CreateAccessKey', 'CreateLoginProfile', 'UpdateLoginProfile')
    AND errorcode IS NULL
)
SELECT
  eventtime AS event_time,
  coalesce(nullif(useridentity.arn, ''), useridentity.username, useridentity.principalid) AS actor,
  sourceipaddress AS source_ip,
  eventname AS action,
  'user/' || target_user AS target,
  CASE eventname
    WHEN 'CreateAccessKey' THEN 'access key ' || coalesce(json_extract_scalar(responseelements, '$.accessKey.accessKeyId'), '') || ' created'
    WHEN 'CreateLoginProfile' THEN 'console password created'
    ELSE 'console password changed'
  END || ' for ' || target_user || ' by ' || coalesce(caller_name, 'an unnamed caller') AS detail,
  evidence_key,
  evidence_record
FROM credential_calls
WHERE target_user IS NOT NULL
  AND target_user <> coalesce(caller_name, '')
ORDER BY event_time
