WITH answers AS (
  SELECT account, observed_at, evidence_key, evidence_record, region,
    CASE WHEN type = 'api:page' THEN 'no trail in ' || region
      ELSE 'trail ' || id || ' is not logging' END AS why,
    CASE WHEN type = 'cloudtrail:trail-status' AND json_extract_scalar(attributes, '$.isLogging') = 'true' THEN 1 ELSE 0 END AS logging,
    observed_at || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS varchar), 10, '0') AS pick
  FROM inventory
  WHERE (type = 'cloudtrail:trail-status')
    OR (type = 'api:page' AND operation = 'DescribeTrails' AND json_extract_scalar(attributes, '$.error') IS NULL AND json_extract_scalar(attributes, '$.rows') = '0')
)
SELECT
  min_by(observed_at, pick) AS event_time,
  account AS actor,
  CAST(NULL AS varchar) AS source_ip,
  'NoTrailLogging' AS action,
  account AS target,
  'no CloudTrail trail is logging in account ' || account || ' (' || CAST(count(*) AS varchar) || ' answers read); first: ' || min_by(why, pick) AS detail,
  min_by(evidence_key, pick) AS evidence_key,
  min_by(evidence_record, pick) AS evidence_record
FROM answers
GROUP BY account
HAVING max(logging) = 0
ORDER BY event_time, evidence_key, evidence_record
