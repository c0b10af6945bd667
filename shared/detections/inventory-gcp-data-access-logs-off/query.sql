SELECT
  observed_at AS event_time,
  account AS actor,
  CAST(NULL AS varchar) AS source_ip,
  'DataAccessLogsOff' AS action,
  account AS target,
  'project ' || account || ' turns on no Data Access audit log (DATA_READ, DATA_WRITE) in its IAM policy'
    || CASE WHEN json_extract_scalar(attributes, '$.services[0]') IS NULL THEN ' (no auditConfigs)'
         ELSE ' (auditConfigs for ' || json_extract_scalar(attributes, '$.services[0]') || ' only set other log types)' END AS detail,
  evidence_key,
  evidence_record
FROM inventory
WHERE type = 'gcp:audit-config'
  AND json_extract_scalar(attributes, '$.assetType') = 'cloudresourcemanager.googleapis.com/Project'
  AND json_extract_scalar(attributes, '$.dataAccessOn') = 'false'
ORDER BY event_time, evidence_key, evidence_record
