WITH last_used AS (
  SELECT account, id,
    max(json_extract_scalar(attributes, '$.lastUsed')) AS last_used,
    max(CAST(json_extract_scalar(attributes, '$.daysSinceUse') AS INTEGER)) AS days_since_use,
    count(*) AS answers
  FROM inventory
  WHERE type = 'iam:access-key-last-used'
  GROUP BY account, id
),
keys AS (
  SELECT k.account, k.id, k.name, k.observed_at, k.evidence_key, k.evidence_record,
    CAST(json_extract_scalar(k.attributes, '$.ageDays') AS INTEGER) AS age_days,
    u.last_used, u.days_since_use, coalesce(u.answers, 0) AS answers
  FROM inventory k
  LEFT JOIN last_used u ON u.account = k.account AND u.id = k.id
  WHERE k.type = 'iam:access-key' AND json_extract_scalar(k.attributes, '$.status') = 'Active'
)
SELECT
  observed_at AS event_time,
  account AS actor,
  CAST(NULL AS varchar) AS source_ip,
  'StaleAccessKey' AS action,
  id AS target,
  'access key ' || id || ' of ' || name || ' is ' || CAST(age_days AS varchar) || ' days old and '
    || CASE WHEN answers = 0 THEN 'its last use was not read'
         WHEN last_used IS NULL THEN 'has never been used'
         ELSE 'was last used ' || CAST(days_since_use AS varchar) || ' days before the inventory' END AS detail,
  evidence_key,
  evidence_record
FROM keys
WHERE age_days > 90 OR (answers > 0 AND (last_used IS NULL OR days_since_use > 90))
ORDER BY event_time, evidence_key, evidence_record
