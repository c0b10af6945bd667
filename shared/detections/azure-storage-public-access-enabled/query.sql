-- Anonymous blob access switched on: a storage account write whose request body sets allowBlobPublicAccess to
-- true, or a container write whose request body sets publicAccess to Blob or Container. Successful events only;
-- writes without a request body in the log cannot be judged and are left out.
WITH writes AS (
  SELECT
    *,
    coalesce(json_extract_scalar(properties, '$.requestbody'), json_format(try(json_extract(properties, '$.requestbody'))), '') AS body
  FROM azure_activity
  WHERE lower(coalesce(result_type, '')) IN ('success', 'succeeded')
    AND lower(operation_name) IN ('microsoft.storage/storageaccounts/write', 'microsoft.storage/storageaccounts/blobservices/containers/write')
)
SELECT
  time AS event_time,
  coalesce(nullif(caller, ''), principal_id, 'unknown caller') AS actor,
  caller_ip AS source_ip,
  operation_name AS action,
  resource_id AS target,
  CASE WHEN regexp_like(lower(operation_name), '/containers/write$')
    THEN 'container public access set to ' || regexp_extract(body, '"publicAccess"\s*:\s*"([^"]+)"', 1) || ': anyone can read its blobs'
    ELSE 'account allows anonymous blob access: containers may now be made public' END AS detail,
  evidence_key,
  evidence_record
FROM writes
WHERE regexp_like(body, '"allowBlobPublicAccess"\s*:\s*true')
  OR regexp_like(body, '"publicAccess"\s*:\s*"(Blob|Container)"')
ORDER BY event_time
