-- BigQuery Standard SQL twin of query.sql: firewall rules allowing ingress from anywhere (insert, patch, update that
-- succeeded). The open ranges are listed once each, sorted (BigQuery keeps no element order through DISTINCT).
SELECT
  time AS event_time,
  COALESCE(NULLIF(principal_email, ''), principal_subject, 'unknown principal') AS actor,
  caller_ip AS source_ip,
  method_name AS action,
  resource_name AS target,
  'ingress allowed from ' || ARRAY_TO_STRING(ARRAY(SELECT DISTINCT r FROM UNNEST(REGEXP_EXTRACT_ALL(request, r'"(0\.0\.0\.0/0|::/0)"')) AS r ORDER BY r), ' and ')
    || ' for ' || COALESCE(REGEXP_REPLACE(COALESCE(JSON_QUERY(request, '$.alloweds'), JSON_QUERY(request, '$.allowed')), r'\s+', ''), '?')
    || COALESCE(' on network ' || JSON_VALUE(request, '$.network'), '')
    || COALESCE('; target tags ' || JSON_QUERY(request, '$.targetTags'), '') AS detail,
  evidence_key,
  evidence_record
FROM gcp_audit
WHERE REGEXP_CONTAINS(method_name, r'(^|\.)compute\.firewalls\.(insert|patch|update)$')
  AND COALESCE(status_code, 0) = 0
  AND REGEXP_CONTAINS(COALESCE(request, ''), r'"sourceRanges"\s*:\s*\[[^\]]*"(0\.0\.0\.0/0|::/0)"')
  AND REGEXP_CONTAINS(COALESCE(request, ''), r'"alloweds?"\s*:\s*\[\s*\{')
  AND NOT REGEXP_CONTAINS(COALESCE(request, ''), r'"direction"\s*:\s*"EGRESS"')
  AND NOT REGEXP_CONTAINS(COALESCE(request, ''), r'"disabled"\s*:\s*true')
ORDER BY event_time, evidence_key, evidence_record
