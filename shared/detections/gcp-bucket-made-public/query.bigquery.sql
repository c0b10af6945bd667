-- BigQuery Standard SQL twin of query.sql: bucket IAM grants to allUsers / allAuthenticatedUsers that succeeded, from
-- serviceData.policyDelta (ADD) or, without a delta, from the members of the policy in the request.
WITH calls AS (
  SELECT
    *,
    JSON_QUERY(service_data, '$.policyDelta') IS NOT NULL AS has_delta,
    ARRAY(
      SELECT d FROM UNNEST(REGEXP_EXTRACT_ALL(COALESCE(JSON_QUERY(service_data, '$.policyDelta.bindingDeltas'), ''), r'\{(?:[^{}]|\{[^{}]*\})*\}')) AS d
      WHERE REGEXP_CONTAINS(d, r'"action"\s*:\s*"ADD"') AND REGEXP_CONTAINS(d, r'"member"\s*:\s*"(allUsers|allAuthenticatedUsers)"')
    ) AS public_deltas,
    ARRAY(
      SELECT b FROM UNNEST(REGEXP_EXTRACT_ALL(COALESCE(JSON_QUERY(request, '$.policy.bindings'), ''), r'\{(?:[^{}]|\{[^{}]*\})*\}')) AS b
      WHERE REGEXP_CONTAINS(b, r'"(allUsers|allAuthenticatedUsers)"')
    ) AS public_bindings
  FROM gcp_audit
  WHERE method_name = 'storage.setIamPermissions'
    AND COALESCE(status_code, 0) = 0
)
SELECT
  time AS event_time,
  COALESCE(NULLIF(principal_email, ''), principal_subject, 'unknown principal') AS actor,
  caller_ip AS source_ip,
  method_name AS action,
  resource_name AS target,
  CASE WHEN has_delta THEN 'public access added: ' || REGEXP_REPLACE(ARRAY_TO_STRING(public_deltas, '; '), r'\s+', ' ')
       ELSE 'public members in the policy set (no delta logged): ' || REGEXP_REPLACE(ARRAY_TO_STRING(public_bindings, '; '), r'\s+', ' ') END AS detail,
  evidence_key,
  evidence_record
FROM calls
WHERE (has_delta AND ARRAY_LENGTH(public_deltas) > 0) OR (NOT has_delta AND ARRAY_LENGTH(public_bindings) > 0)
ORDER BY event_time, evidence_key, evidence_record
