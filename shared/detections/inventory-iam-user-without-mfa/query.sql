SELECT
  observed_at AS event_time,
  account AS actor,
  CAST(NULL AS varchar) AS source_ip,
  'UserWithoutMfa' AS action,
  name AS target,
  'IAM user ' || name || ' has no MFA device (ListMFADevices answered with none)' AS detail,
  evidence_key,
  evidence_record
FROM inventory
WHERE type = 'api:page' AND operation = 'ListMFADevices' AND name IS NOT NULL
  AND json_extract_scalar(attributes, '$.error') IS NULL
  AND json_extract_scalar(attributes, '$.rows') = '0'
ORDER BY event_time, evidence_key, evidence_record
