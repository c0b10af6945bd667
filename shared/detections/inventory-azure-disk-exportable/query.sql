SELECT
  observed_at AS event_time,
  account AS actor,
  CAST(NULL AS varchar) AS source_ip,
  CASE WHEN json_extract_scalar(attributes, '$.diskState') IN ('ActiveSAS', 'ActiveSASFrozen') THEN 'DiskExportActive' ELSE 'DiskExportOpen' END AS action,
  id AS target,
  CASE type WHEN 'azure:disk' THEN 'managed disk ' ELSE 'snapshot ' END || coalesce(name, id) || ' in ' || region
    || CASE WHEN json_extract_scalar(attributes, '$.diskState') IN ('ActiveSAS', 'ActiveSASFrozen')
         THEN ' has an export (SAS) URL granted now (' || json_extract_scalar(attributes, '$.diskState') || ')'
         ELSE '' END
    || ' (networkAccessPolicy ' || coalesce(json_extract_scalar(attributes, '$.networkAccessPolicy'), 'not set') || ', publicNetworkAccess '
    || coalesce(json_extract_scalar(attributes, '$.publicNetworkAccess'), 'not set') || ')' AS detail,
  evidence_key,
  evidence_record
FROM inventory
WHERE cloud = 'azure' AND type IN ('azure:disk', 'azure:snapshot')
  AND (
    (coalesce(json_extract_scalar(attributes, '$.networkAccessPolicy'), 'AllowAll') = 'AllowAll'
      AND coalesce(json_extract_scalar(attributes, '$.publicNetworkAccess'), 'Enabled') <> 'Disabled')
    OR json_extract_scalar(attributes, '$.diskState') IN ('ActiveSAS', 'ActiveSASFrozen')
  )
ORDER BY event_time, evidence_key, evidence_record
