-- BigQuery Standard SQL twin of query.sql: content search and eDiscovery activity that reads or removes content,
-- one finding per record; case management, holds and failed operations left out.
SELECT
  time AS event_time,
  COALESCE(NULLIF(user_id, ''), user_key, 'unknown user') AS actor,
  client_ip AS source_ip,
  operation AS action,
  COALESCE(NULLIF(object_id, ''), '?') AS target,
  operation || ' on ' || COALESCE(NULLIF(object_id, ''), 'an unnamed search')
    || COALESCE('; query: ' || NULLIF(JSON_VALUE(audit_data, '$.Query'), ''), '')
    || COALESCE('; case: ' || NULLIF(JSON_VALUE(audit_data, '$.CaseId'), ''), '')
    || COALESCE('; workload ' || workload, '') AS detail,
  evidence_key,
  evidence_record
FROM m365_audit
WHERE operation IN ('SearchCreated', 'SearchStarted', 'SearchPreviewed', 'SearchExported', 'SearchExportDownloaded',
                    'ViewedSearchExported', 'ViewedSearchPreviewed', 'SearchResultsPurged',
                    'New-ComplianceSearch', 'Start-ComplianceSearch', 'New-ComplianceSearchAction')
  AND LOWER(COALESCE(result_status, 'succeeded')) NOT IN ('failed', 'failure', 'false')
ORDER BY event_time, evidence_key, evidence_record
