WITH keys AS (
  SELECT account, id, name, observed_at, evidence_key, evidence_record,
    json_extract_scalar(attributes, '$.keyId') AS key_id,
    CAST(json_extract_scalar(attributes, '$.ageDays') AS INTEGER) AS age_days,
    json_extract_scalar(attributes, '$.neverExpires') AS never_expires,
    json_extract_scalar(attributes, '$.validBefore') AS valid_before
  FROM inventory
  WHERE type = 'iam:service-account-key'
    AND json_extract_scalar(attributes, '$.keyType') = 'USER_MANAGED'
    AND json_extract_scalar(attributes, '$.disabled') = 'false'
)
SELECT
  observed_at AS event_time,
  account AS actor,
  CAST(NULL AS varchar) AS source_ip,
  'StaleServiceAccountKey' AS action,
  key_id AS target,
  'user-managed key ' || key_id || ' of ' || coalesce(name, 'an unnamed service account') || ' is '
    || coalesce(CAST(age_days AS varchar), 'of unknown age:') || CASE WHEN age_days IS NULL THEN '' ELSE ' days old' END
    || CASE WHEN never_expires = 'true' THEN ' and never expires' ELSE ' and expires ' || coalesce(valid_before, 'at an unknown time') END AS detail,
  evidence_key,
  evidence_record
FROM keys
WHERE age_days > {{max_age_days}} OR never_expires = 'true'
ORDER BY event_time, evidence_key, evidence_record
