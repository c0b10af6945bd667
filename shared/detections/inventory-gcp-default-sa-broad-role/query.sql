SELECT
  observed_at AS event_time,
  account AS actor,
  CAST(NULL AS varchar) AS source_ip,
  'DefaultServiceAccountBroadRole' AS action,
  json_extract_scalar(attributes, '$.member') AS target,
  'project ' || account || ' grants ' || json_extract_scalar(attributes, '$.role') || ' to its default service account '
    || json_extract_scalar(attributes, '$.member') AS detail,
  evidence_key,
  evidence_record
FROM inventory
WHERE type = 'gcp:iam-member'
  AND json_extract_scalar(attributes, '$.assetType') = 'cloudresourcemanager.googleapis.com/Project'
  AND json_extract_scalar(attributes, '$.role') IN ('roles/editor', 'roles/owner')
  AND json_extract_scalar(attributes, '$.defaultServiceAccount') = 'true'
ORDER BY event_time, evidence_key, evidence_record
