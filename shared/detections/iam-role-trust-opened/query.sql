-- A role's trust policy opened to everyone or to another AWS account (a backdoor role): UpdateAssumeRolePolicy,
-- or CreateRole with such a trust policy. A trust statement counts when it Allows and names Principal "*" /
-- {"AWS": "*"} (without an aws:PrincipalOrgID / aws:PrincipalAccount / aws:SourceAccount scope), or an AWS
-- principal in an account other than the event's recipient account. There is no organisation account list
-- offline, so a sister account of the same organisation also counts as foreign: the runbook checks it.
-- Only calls that succeeded count.
WITH trust_changes AS (
  SELECT
    *,
    regexp_extract_all(
      coalesce(json_format(try(json_extract(
        coalesce(json_extract_scalar(requestparameters, '$.policyDocument'), json_extract_scalar(requestparameters, '$.assumeRolePolicyDocument')),
        '$.Statement'))), ''),
      '\{(?:[^{}]|\{(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*\})*\}'
    ) AS statements
  FROM cloudtrail
  WHERE eventsource = 'iam.amazonaws.com'
    AND eventname IN ('UpdateAssumeRolePolicy', 'CreateRole')
    AND errorcode IS NULL
),
opened AS (
  SELECT
    *,
    filter(statements, s ->
      regexp_like(s, '"Effect"\s*:\s*"Allow"')
      AND regexp_like(s, '"Principal"\s*:\s*("\*"|\{\s*"AWS"\s*:\s*("\*"|\[[^\]]*"\*"))')
      -- condition keys are case-insensitive in IAM
      AND NOT regexp_like(lower(s), '"aws:(principalorgid|principalorgpaths|principalaccount|sourceaccount)"')
    ) AS public_statements,
    -- Account ids named in the Principal blocks of the Allow statements (ARNs or bare 12-digit ids).
    array_distinct(regexp_extract_all(
      array_join(regexp_extract_all(
        array_join(filter(statements, s -> regexp_like(s, '"Effect"\s*:\s*"Allow"')), ' '),
        '"Principal"\s*:\s*(\{[^{}]*\}|"[^"]*")',
        1
      ), ' '),
      '(?:^|[^0-9])([0-9]{12})(?:[^0-9]|$)',
      1
    )) AS named_accounts
  FROM trust_changes
),
foreign_trust AS (
  SELECT *, filter(named_accounts, a -> a <> coalesce(recipientaccountid, useridentity.accountid, '')) AS foreign_accounts
  FROM opened
)
SELECT
  eventtime AS event_time,
  coalesce(nullif(useridentity.arn, ''), useridentity.username, useridentity.principalid) AS actor,
  sourceipaddress AS source_ip,
  eventname AS action,
  'role/' || coalesce(json_extract_scalar(requestparameters, '$.roleName'), '?') AS target,
  'trust policy of role ' || coalesce(json_extract_scalar(requestparameters, '$.roleName'), '?') || ' lets '
    || CASE WHEN cardinality(public_statements) > 0 THEN 'any AWS principal (Principal *)' ELSE 'account(s) ' || array_join(foreign_accounts, ', ') END
    || ' assume it' AS detail,
  evidence_key,
  evidence_record
FROM foreign_trust
WHERE cardinality(public_statements) > 0 OR cardinality(foreign_accounts) > 0
ORDER BY event_time
