-- BigQuery Standard SQL twin of query.sql (same rule, same columns): setIamPolicy on a Compute Engine disk, image or
-- snapshot that succeeded; members added from the policy delta, else the request's bindings.
WITH calls AS (
  SELECT
    *,
    JSON_QUERY(service_data, '$.policyDelta') IS NOT NULL AS has_delta,
    ARRAY(
      SELECT d FROM UNNEST(REGEXP_EXTRACT_ALL(COALESCE(JSON_QUERY(service_data, '$.policyDelta.bindingDeltas'), ''), r'\{(?:[^{}]|\{[^{}]*\})*\}')) AS d
      WHERE REGEXP_CONTAINS(d, r'"action"\s*:\s*"ADD"')
    ) AS added,
    REGEXP_EXTRACT_ALL(COALESCE(JSON_QUERY(request, '$.policy.bindings'), ''), r'\{(?:[^{}]|\{[^{}]*\})*\}') AS bindings
  FROM gcp_audit
  WHERE REGEXP_CONTAINS(LOWER(COALESCE(method_name, '')), r'^(v1|beta)\.compute\.(disks|images|snapshots)\.setiampolicy$')
    AND COALESCE(status_code, 0) = 0
)
SELECT
  time AS event_time,
  COALESCE(NULLIF(principal_email, ''), principal_subject, 'unknown principal') AS actor,
  caller_ip AS source_ip,
  method_name AS action,
  resource_name AS target,
  CONCAT(REGEXP_EXTRACT(LOWER(method_name), r'\.compute\.(disks|images|snapshots)\.'), ' shared: ',
    CASE WHEN has_delta THEN 'added ' ELSE 'in the policy set (no delta in the log): ' END,
    SUBSTR(REGEXP_REPLACE(ARRAY_TO_STRING(CASE WHEN has_delta THEN added ELSE bindings END, '; '), r'\s+', ' '), 1, 600)) AS detail,
  evidence_key,
  evidence_record
FROM calls
WHERE ARRAY_LENGTH(CASE WHEN has_delta THEN added ELSE bindings END) > 0
ORDER BY event_time
