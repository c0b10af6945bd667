-- Download URLs generated for managed disks and snapshots (beginGetAccess), successful events only.
SELECT
  time AS event_time,
  coalesce(nullif(caller, ''), principal_id, 'unknown caller') AS actor,
  caller_ip AS source_ip,
  operation_name AS action,
  resource_id AS target,
  CASE WHEN regexp_like(lower(operation_name), '/snapshots/') THEN 'snapshot' ELSE 'disk' END
    || ' exported: a SAS URL lets anyone holding it download the whole image'
    || coalesce(' (access ' || regexp_extract(coalesce(json_extract_scalar(properties, '$.requestbody'), ''), '"access"\s*:\s*"([^"]+)"', 1) || ')', '') AS detail,
  evidence_key,
  evidence_record
FROM azure_activity
WHERE lower(coalesce(result_type, '')) IN ('success', 'succeeded')
  AND lower(operation_name) IN ('microsoft.compute/disks/begingetaccess/action', 'microsoft.compute/snapshots/begingetaccess/action')
ORDER BY event_time
