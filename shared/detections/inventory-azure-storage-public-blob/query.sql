SELECT
  observed_at AS event_time,
  account AS actor,
  CAST(NULL AS varchar) AS source_ip,
  'StorageBlobPublicAccess' AS action,
  id AS target,
  'storage account ' || coalesce(name, id) || ' in ' || region || ' allows public (anonymous) blob access'
    || CASE WHEN json_extract_scalar(attributes, '$.publicNetworkAccess') = 'Disabled' THEN ' (public network access is disabled)' ELSE '' END AS detail,
  evidence_key,
  evidence_record
FROM inventory
WHERE cloud = 'azure' AND type = 'azure:storage-account' AND json_extract_scalar(attributes, '$.allowBlobPublicAccess') = 'true'
ORDER BY event_time, evidence_key, evidence_record
