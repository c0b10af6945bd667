-- IAM changes that raise someone's permissions without attaching an admin policy (the known
-- privilege-escalation paths):
-- * CreatePolicyVersion with setAsDefault, or SetDefaultPolicyVersion: a managed policy's effective document
--   replaced (rolling back to an old permissive version is as bad as writing a new one);
-- * AddUserToGroup where callers add themselves (the classic iam:AddUserToGroup escalation), or where the
--   group's name says it is privileged (admin, power, root, owner, full, security, ops, breakglass).
-- Routine group management (an administrator adding a colleague to an ordinary group) is left out.
-- Only calls that succeeded count.
WITH iam_calls AS (
  SELECT
    *,
    coalesce(nullif(useridentity.username, ''), regexp_extract(useridentity.arn, '[^/]+$')) AS caller_name,
    json_extract_scalar(requestparameters, '$.userName') AS member,
    json_extract_scalar(requestparameters, '$.groupName') AS group_name,
    json_extract_scalar(requestparameters, '$.policyArn') AS policy_arn
  FROM cloudtrail
  WHERE eventsource = 'iam.amazonaws.com'
    AND eventname IN ('CreatePolicyVersion', 'SetDefaultPolicyVersion', 'AddUserToGroup')
    AND errorcode IS NULL
)
SELECT
  eventtime AS event_time,
  coalesce(nullif(useridentity.arn, ''), useridentity.username, useridentity.principalid) AS actor,
  sourceipaddress AS source_ip,
  eventname AS action,
  CASE WHEN eventname = 'AddUserToGroup' THEN 'group/' || coalesce(group_name, '?') ELSE policy_arn END AS target,
  CASE
    WHEN eventname = 'AddUserToGroup' AND member = caller_name THEN caller_name || ' added themselves to group ' || coalesce(group_name, '?')
    WHEN eventname = 'AddUserToGroup' THEN coalesce(member, '?') || ' added to privileged-looking group ' || coalesce(group_name, '?')
    WHEN eventname = 'CreatePolicyVersion' THEN 'new default version of ' || coalesce(regexp_extract(policy_arn, '[^/]+$'), '?') || ' written'
    ELSE 'default version of ' || coalesce(regexp_extract(policy_arn, '[^/]+$'), '?') || ' switched to ' || coalesce(json_extract_scalar(requestparameters, '$.versionId'), '?')
  END AS detail,
  evidence_key,
  evidence_record
FROM iam_calls
WHERE (eventname = 'CreatePolicyVersion' AND lower(coalesce(json_extract_scalar(requestparameters, '$.setAsDefault'), 'false')) = 'true')
   OR eventname = 'SetDefaultPolicyVersion'
   OR (eventname = 'AddUserToGroup' AND (member = caller_name OR regexp_like(lower(coalesce(group_name, '')), 'admin|power|root|owner|full|security|ops|breakglass|break-glass')))
ORDER BY event_time
