-- Administrator-level permissions granted to a user, role or group:
-- * an AWS managed admin policy attached (AdministratorAccess, IAMFullAccess, PowerUserAccess);
-- * an inline policy put whose Allow statement grants every action ("*", "*:*"), all of IAM ("iam:*"), or
--   everything but a list (NotAction): each of these lets the holder grant itself anything else.
-- Policy documents are JSON inside the requestparameters JSON: the Statement array is split into statement
-- objects with a regular expression (nesting up to four levels, enough for Principal and Condition blocks),
-- because Athena cannot cast JSON to ARRAY(JSON) portably. Only calls that succeeded count.
WITH iam_calls AS (
  SELECT
    *,
    coalesce(
      'user/' || json_extract_scalar(requestparameters, '$.userName'),
      'role/' || json_extract_scalar(requestparameters, '$.roleName'),
      'group/' || json_extract_scalar(requestparameters, '$.groupName')
    ) AS grantee,
    json_extract_scalar(requestparameters, '$.policyArn') AS policy_arn,
    regexp_extract_all(
      coalesce(json_format(try(json_extract(json_extract_scalar(requestparameters, '$.policyDocument'), '$.Statement'))), ''),
      '\{(?:[^{}]|\{(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*\})*\}'
    ) AS statements
  FROM cloudtrail
  WHERE eventsource = 'iam.amazonaws.com'
    AND eventname IN ('AttachUserPolicy', 'AttachRolePolicy', 'AttachGroupPolicy', 'PutUserPolicy', 'PutRolePolicy', 'PutGroupPolicy')
    AND errorcode IS NULL
),
grants AS (
  SELECT
    *,
    filter(statements, s ->
      regexp_like(s, '"Effect"\s*:\s*"Allow"')
      AND (regexp_like(s, '"Action"\s*:\s*(\[[^\]]*)?"(\*|\*:\*|[Ii][Aa][Mm]:\*)"') OR regexp_like(s, '"NotAction"\s*:'))
    ) AS admin_statements
  FROM iam_calls
)
SELECT
  eventtime AS event_time,
  coalesce(nullif(useridentity.arn, ''), useridentity.username, useridentity.principalid) AS actor,
  sourceipaddress AS source_ip,
  eventname AS action,
  grantee AS target,
  CASE
    WHEN policy_arn IS NOT NULL THEN regexp_extract(policy_arn, '[^/]+$') || ' attached to ' || coalesce(grantee, '?')
    ELSE 'inline policy ' || coalesce(json_extract_scalar(requestparameters, '$.policyName'), '?') || ' on ' || coalesce(grantee, '?')
      || ' allows all actions (' || CAST(cardinality(admin_statements) AS varchar) || CASE WHEN cardinality(admin_statements) = 1 THEN ' statement' ELSE ' statements' END || ' with Action *, *:*, iam:* or NotAction)'
  END AS detail,
  evidence_key,
  evidence_record
FROM grants
WHERE regexp_like(coalesce(policy_arn, ''), '^arn:aws[a-z-]*:iam::aws:policy/(AdministratorAccess|IAMFullAccess|PowerUserAccess)$')
   OR cardinality(admin_statements) > 0
ORDER BY event_time
