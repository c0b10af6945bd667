-- An S3 bucket opened beyond its account:
-- * PutBucketPolicy with an Allow statement for Principal "*" / {"AWS": "*"} that no organisation, account,
--   VPC or VPC-endpoint condition (aws:PrincipalOrgID, aws:SourceVpce ...) narrows (public), or for an AWS
--   principal in another account than the event's recipient account (a backdoor for exfiltration; there is
--   no organisation account list offline, so sister accounts count as foreign);
-- * PutBucketAcl granting the AllUsers or AuthenticatedUsers groups, or a public canned ACL;
-- * the bucket's or account's S3 Block Public Access removed (DeleteBucketPublicAccessBlock,
--   DeletePublicAccessBlock) or written with any of its four settings false.
-- Statements are split with a regular expression (see iam-admin-permissions-granted). Only calls that
-- succeeded count.
WITH s3_calls AS (
  SELECT
    *,
    json_extract_scalar(requestparameters, '$.bucketName') AS bucket,
    regexp_extract_all(
      coalesce(
        json_format(json_extract(requestparameters, '$.bucketPolicy.Statement')),
        -- some producers log the policy as a JSON string rather than an object
        json_format(try(json_extract(json_extract_scalar(requestparameters, '$.bucketPolicy'), '$.Statement'))),
        ''
      ),
      '\{(?:[^{}]|\{(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*\})*\}'
    ) AS statements
  FROM cloudtrail
  WHERE eventsource = 's3.amazonaws.com'
    AND eventname IN ('PutBucketPolicy', 'PutBucketAcl', 'DeleteBucketPublicAccessBlock', 'DeletePublicAccessBlock',
                      'PutBucketPublicAccessBlock', 'PutPublicAccessBlock')
    AND errorcode IS NULL
),
allows AS (
  SELECT *, filter(statements, s -> regexp_like(s, '"Effect"\s*:\s*"Allow"')) AS allow_statements
  FROM s3_calls
),
judged AS (
  SELECT
    *,
    cardinality(filter(allow_statements, s ->
      regexp_like(s, '"Principal"\s*:\s*("\*"|\{\s*"AWS"\s*:\s*("\*"|\[[^\]]*"\*"))')
      -- condition keys are case-insensitive in IAM
      AND NOT regexp_like(lower(s), '"aws:(principalorgid|principalorgpaths|principalaccount|sourcevpce|sourcevpc|sourceaccount|sourcearn|sourceorgid)"'))) > 0 AS public_policy,
    filter(
      array_distinct(regexp_extract_all(
        array_join(regexp_extract_all(array_join(allow_statements, ' '), '"Principal"\s*:\s*(\{[^{}]*\}|"[^"]*")', 1), ' '),
        '(?:^|[^0-9])([0-9]{12})(?:[^0-9]|$)',
        1
      )),
      a -> a <> coalesce(recipientaccountid, useridentity.accountid, '')
    ) AS foreign_accounts,
    regexp_like(coalesce(requestparameters, ''), 'acs\.amazonaws\.com/groups/global/(AllUsers|AuthenticatedUsers)') AS public_grant,
    regexp_extract(coalesce(requestparameters, ''), '"x-amz-acl"\s*:\s*\[?\s*"(public-read|public-read-write|authenticated-read)"', 1) AS public_canned_acl,
    regexp_like(coalesce(json_format(json_extract(requestparameters, '$.PublicAccessBlockConfiguration')), ''),
      '"(BlockPublicAcls|IgnorePublicAcls|BlockPublicPolicy|RestrictPublicBuckets)"\s*:\s*false') AS block_weakened
  FROM allows
),
exposures AS (
  SELECT
    *,
    CASE
      WHEN eventname = 'PutBucketPolicy' AND public_policy THEN 'bucket policy allows anyone (Principal *)'
      WHEN eventname = 'PutBucketPolicy' AND cardinality(foreign_accounts) > 0 THEN 'bucket policy grants account(s) ' || array_join(foreign_accounts, ', ')
      WHEN eventname = 'PutBucketAcl' AND public_grant THEN 'bucket ACL grants the AllUsers/AuthenticatedUsers group'
      WHEN eventname = 'PutBucketAcl' AND public_canned_acl IS NOT NULL THEN 'bucket ACL set to ' || public_canned_acl
      WHEN eventname = 'DeleteBucketPublicAccessBlock' THEN 'bucket Block Public Access removed'
      WHEN eventname = 'DeletePublicAccessBlock' THEN 'account-wide S3 Block Public Access removed'
      WHEN eventname IN ('PutBucketPublicAccessBlock', 'PutPublicAccessBlock') AND block_weakened THEN 'Block Public Access written with a setting off'
    END AS exposure
  FROM judged
)
SELECT
  eventtime AS event_time,
  coalesce(nullif(useridentity.arn, ''), useridentity.username, useridentity.principalid) AS actor,
  sourceipaddress AS source_ip,
  eventname AS action,
  CASE WHEN bucket IS NULL THEN 'account ' || coalesce(recipientaccountid, '?') ELSE 's3://' || bucket END AS target,
  exposure AS detail,
  evidence_key,
  evidence_record
FROM exposures
WHERE exposure IS NOT NULL
ORDER BY event_time
