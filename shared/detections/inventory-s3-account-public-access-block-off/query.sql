WITH answers AS (
  SELECT account, observed_at, evidence_key, evidence_record,
    CASE WHEN type = 'api:page' THEN 'there is no account-level public access block (NoSuchPublicAccessBlockConfiguration)'
      ELSE 'the account-level public access block leaves off '
        || array_join(filter(ARRAY[
             CASE WHEN coalesce(json_extract_scalar(attributes, '$.blockPublicAcls'), 'false') <> 'true' THEN 'BlockPublicAcls' END,
             CASE WHEN coalesce(json_extract_scalar(attributes, '$.ignorePublicAcls'), 'false') <> 'true' THEN 'IgnorePublicAcls' END,
             CASE WHEN coalesce(json_extract_scalar(attributes, '$.blockPublicPolicy'), 'false') <> 'true' THEN 'BlockPublicPolicy' END,
             CASE WHEN coalesce(json_extract_scalar(attributes, '$.restrictPublicBuckets'), 'false') <> 'true' THEN 'RestrictPublicBuckets' END
           ], x -> x IS NOT NULL), ', ')
    END AS why
  FROM inventory
  WHERE (type = 'api:page' AND service = 's3control' AND operation = 'GetPublicAccessBlock'
      AND json_extract_scalar(attributes, '$.error') = 'NoSuchPublicAccessBlockConfiguration')
    OR (type = 's3:account-public-access-block' AND NOT (
      coalesce(json_extract_scalar(attributes, '$.blockPublicAcls'), 'false') = 'true'
      AND coalesce(json_extract_scalar(attributes, '$.ignorePublicAcls'), 'false') = 'true'
      AND coalesce(json_extract_scalar(attributes, '$.blockPublicPolicy'), 'false') = 'true'
      AND coalesce(json_extract_scalar(attributes, '$.restrictPublicBuckets'), 'false') = 'true'))
)
SELECT
  observed_at AS event_time,
  account AS actor,
  CAST(NULL AS varchar) AS source_ip,
  'AccountPublicAccessBlockOff' AS action,
  account AS target,
  'account ' || account || ': ' || why AS detail,
  evidence_key,
  evidence_record
FROM answers
ORDER BY event_time, evidence_key, evidence_record
