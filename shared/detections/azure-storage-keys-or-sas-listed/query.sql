-- Storage account keys read (listKeys) and SAS tokens signed by the service (listAccountSas, listServiceSas),
-- successful events only.
SELECT
  time AS event_time,
  coalesce(nullif(caller, ''), principal_id, 'unknown caller') AS actor,
  caller_ip AS source_ip,
  operation_name AS action,
  resource_id AS target,
  CASE WHEN regexp_like(lower(operation_name), '/listkeys/action$') THEN 'storage account keys listed: full access to every service of the account'
    ELSE 'SAS token signed for the account: a URL granting access until it expires' END AS detail,
  evidence_key,
  evidence_record
FROM azure_activity
WHERE lower(coalesce(result_type, '')) IN ('success', 'succeeded')
  AND lower(operation_name) IN ('microsoft.storage/storageaccounts/listkeys/action', 'microsoft.storage/storageaccounts/listaccountsas/action', 'microsoft.storage/storageaccounts/listservicesas/action')
ORDER BY event_time
