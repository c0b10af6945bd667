-- Lambda code written by a person rather than a deployment pipeline: CreateFunction* or UpdateFunctionCode*
-- called by an IAM user, the root user, a federated user, an IAM Identity Center (AWSReservedSSO_) session or a
-- console session. Pipelines deploy through roles; a human pushing code straight into a function is how
-- a backdoor or a poisoned update usually arrives (Stratus Red Team lambda-overwrite-code).
-- Severity is low on purpose: "new code by a human" is a weak signal alone (developers in sandbox accounts do
-- it all day); it matters next to the other findings of the same actor. Only calls that succeeded count.
SELECT
  eventtime AS event_time,
  coalesce(nullif(useridentity.arn, ''), useridentity.username, useridentity.principalid) AS actor,
  sourceipaddress AS source_ip,
  eventname AS action,
  coalesce(json_extract_scalar(requestparameters, '$.functionName'), '?') AS target,
  CASE WHEN regexp_like(eventname, '^CreateFunction') THEN 'function created' ELSE 'function code replaced' END
    || ' by ' || CASE
      WHEN useridentity.type = 'AssumedRole' AND coalesce(sessioncredentialfromconsole, '') = 'true' THEN 'a console session'
      WHEN useridentity.type = 'AssumedRole' THEN 'an IAM Identity Center session'
      WHEN useridentity.type = 'Root' THEN 'the root user'
      WHEN useridentity.type = 'IAMUser' THEN 'IAM user ' || coalesce(useridentity.username, '?')
      ELSE 'a federated user'
    END || coalesce(' (role ' || json_extract_scalar(requestparameters, '$.role') || ')', '') AS detail,
  evidence_key,
  evidence_record
FROM cloudtrail
WHERE eventsource = 'lambda.amazonaws.com'
  AND regexp_like(eventname, '^(CreateFunction|UpdateFunctionCode)[0-9]*(v[0-9]+)?$')
  AND errorcode IS NULL
  AND (
    useridentity.type IN ('IAMUser', 'Root', 'FederatedUser')
    OR (useridentity.type = 'AssumedRole' AND (
      regexp_like(coalesce(useridentity.arn, ''), ':assumed-role/AWSReservedSSO_')
      OR coalesce(sessioncredentialfromconsole, '') = 'true'))
  )
ORDER BY event_time
