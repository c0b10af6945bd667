-- Resource policies set with a statement open to every principal and no condition. The policy text sits in a
-- different request field per service: ECR SetRepositoryPolicy policyText, KMS PutKeyPolicy / CreateKey policy,
-- SQS SetQueueAttributes / CreateQueue attributes.Policy, SNS SetTopicAttributes attributeValue (attributeName
-- Policy) / CreateTopic attributes.Policy, Secrets Manager PutResourcePolicy resourcePolicy, Glacier
-- SetVaultAccessPolicy policy.policy, EFS PutFileSystemPolicy policy, OpenSearch (CreateDomain, UpdateDomainConfig
-- and their Elasticsearch names) accessPolicies. Statements are cut from the policy's Statement list (nesting
-- up to conditions' two levels); one is open when it is an Allow, its principal is "*" or {"AWS": "*"} (alone or
-- in a list), and it has no Condition. Calls that succeeded only.
WITH changes AS (
  SELECT
    *,
    coalesce(
      json_extract_scalar(requestparameters, '$.policyText'),
      json_extract_scalar(requestparameters, '$.policy'),
      json_extract_scalar(requestparameters, '$.policy.policy'),
      json_extract_scalar(requestparameters, '$.attributes.Policy'),
      CASE WHEN json_extract_scalar(requestparameters, '$.attributeName') = 'Policy' THEN json_extract_scalar(requestparameters, '$.attributeValue') END,
      json_extract_scalar(requestparameters, '$.resourcePolicy'),
      json_extract_scalar(requestparameters, '$.accessPolicies')
    ) AS policy_text
  FROM cloudtrail
  WHERE errorcode IS NULL
    AND (
      (eventsource = 'ecr.amazonaws.com' AND eventname = 'SetRepositoryPolicy')
      OR (eventsource = 'kms.amazonaws.com' AND eventname IN ('PutKeyPolicy', 'CreateKey'))
      OR (eventsource = 'sqs.amazonaws.com' AND eventname IN ('SetQueueAttributes', 'CreateQueue'))
      OR (eventsource = 'sns.amazonaws.com' AND eventname IN ('SetTopicAttributes', 'CreateTopic'))
      OR (eventsource = 'secretsmanager.amazonaws.com' AND eventname = 'PutResourcePolicy')
      OR (eventsource = 'glacier.amazonaws.com' AND eventname = 'SetVaultAccessPolicy')
      OR (eventsource = 'elasticfilesystem.amazonaws.com' AND eventname = 'PutFileSystemPolicy')
      OR (eventsource = 'es.amazonaws.com' AND eventname IN ('CreateDomain', 'UpdateDomainConfig', 'CreateElasticsearchDomain', 'UpdateElasticsearchDomainConfig'))
    )
),
statements AS (
  SELECT
    *,
    filter(
      regexp_extract_all(coalesce(json_format(try(json_extract(try(json_parse(policy_text)), '$.Statement'))), ''), '\{(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*\}'),
      s -> regexp_like(s, '"Effect"\s*:\s*"Allow"')
        AND regexp_like(s, '"Principal"\s*:\s*("\*"|\{\s*"AWS"\s*:\s*("\*"|\[[^\]]*"\*"[^\]]*\]))')
        AND NOT regexp_like(s, '"Condition"\s*:')
    ) AS open_statements
  FROM changes
  WHERE policy_text IS NOT NULL
)
SELECT
  eventtime AS event_time,
  coalesce(nullif(useridentity.arn, ''), useridentity.username, useridentity.principalid) AS actor,
  sourceipaddress AS source_ip,
  eventname AS action,
  coalesce(json_extract_scalar(requestparameters, '$.repositoryName'), json_extract_scalar(requestparameters, '$.keyId'), json_extract_scalar(requestparameters, '$.queueUrl'),
    json_extract_scalar(requestparameters, '$.queueName'), json_extract_scalar(requestparameters, '$.topicArn'), json_extract_scalar(requestparameters, '$.secretId'),
    json_extract_scalar(requestparameters, '$.vaultName'), json_extract_scalar(requestparameters, '$.fileSystemId'), json_extract_scalar(requestparameters, '$.domainName'),
    json_extract_scalar(requestparameters, '$.name'), '?') AS target,
  replace(eventsource, '.amazonaws.com', '') || ' resource policy lets any principal, in any account or none, perform '
    || coalesce(regexp_extract(open_statements[1], '"Action"\s*:\s*("[^"]*"|\[[^\]]*\])', 1), 'the listed actions')
    || ' (no condition)' AS detail,
  evidence_key,
  evidence_record
FROM statements
WHERE cardinality(open_statements) > 0
ORDER BY event_time
