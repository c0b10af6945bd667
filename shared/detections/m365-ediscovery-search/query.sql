-- Content search and eDiscovery activity that reads or removes content, one finding per record. Case management and
-- hold operations that do not touch content (CaseAdded, HoldCreated...) are left out, as are failed operations.
SELECT
  time AS event_time,
  coalesce(nullif(user_id, ''), user_key, 'unknown user') AS actor,
  client_ip AS source_ip,
  operation AS action,
  coalesce(nullif(object_id, ''), '?') AS target,
  operation || ' on ' || coalesce(nullif(object_id, ''), 'an unnamed search')
    || coalesce('; query: ' || nullif(json_extract_scalar(audit_data, '$.Query'), ''), '')
    || coalesce('; case: ' || nullif(json_extract_scalar(audit_data, '$.CaseId'), ''), '')
    || coalesce('; workload ' || workload, '') AS detail,
  evidence_key,
  evidence_record
FROM m365_audit
WHERE operation IN ('SearchCreated', 'SearchStarted', 'SearchPreviewed', 'SearchExported', 'SearchExportDownloaded',
                    'ViewedSearchExported', 'ViewedSearchPreviewed', 'SearchResultsPurged',
                    'New-ComplianceSearch', 'Start-ComplianceSearch', 'New-ComplianceSearchAction')
  AND lower(coalesce(result_status, 'succeeded')) NOT IN ('failed', 'failure', 'false')
ORDER BY event_time
