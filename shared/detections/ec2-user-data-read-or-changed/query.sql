-- Instance user data read (DescribeInstanceAttribute with attribute userData) or replaced
-- (ModifyInstanceAttribute whose request carries a userData key; CloudTrail shows its value redacted). One
-- finding per call, failed calls included.
SELECT
  eventtime AS event_time,
  coalesce(nullif(useridentity.arn, ''), useridentity.username, useridentity.principalid) AS actor,
  sourceipaddress AS source_ip,
  eventname AS action,
  coalesce(json_extract_scalar(requestparameters, '$.instanceId'), '?') AS target,
  CASE WHEN eventname = 'ModifyInstanceAttribute' THEN 'user data replaced: the new script runs as root at the next boot'
    ELSE 'user data read (bootstrap scripts often hold secrets)' END
    || CASE WHEN errorcode IS NOT NULL THEN ' (failed: ' || errorcode || ')' ELSE '' END AS detail,
  evidence_key,
  evidence_record
FROM cloudtrail
WHERE eventsource = 'ec2.amazonaws.com'
  AND (
    (eventname = 'DescribeInstanceAttribute' AND json_extract_scalar(requestparameters, '$.attribute') = 'userData')
    OR (eventname = 'ModifyInstanceAttribute' AND regexp_like(coalesce(requestparameters, ''), '"userData"\s*:'))
  )
ORDER BY event_time
