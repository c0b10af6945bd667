-- Shareable links created on a Bastion host (createShareableLinks action), successful events only.
SELECT
  time AS event_time,
  coalesce(nullif(caller, ''), principal_id, 'unknown caller') AS actor,
  caller_ip AS source_ip,
  operation_name AS action,
  resource_id AS target,
  'Bastion shareable link created'
    || coalesce(' for ' || nullif(array_join(regexp_extract_all(coalesce(json_extract_scalar(properties, '$.requestbody'), ''), '(?i)/virtualMachines/([^/"]+)', 1), ', '), ''), '')
    || ': anyone with the link reaches the VM from a browser' AS detail,
  evidence_key,
  evidence_record
FROM azure_activity
WHERE lower(coalesce(result_type, '')) IN ('success', 'succeeded')
  AND lower(operation_name) = 'microsoft.network/bastionhosts/createshareablelinks/action'
ORDER BY event_time
