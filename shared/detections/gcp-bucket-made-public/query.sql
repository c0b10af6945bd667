-- Bucket IAM grants to allUsers / allAuthenticatedUsers. Storage logs the change in serviceData.policyDelta
-- (bindingDeltas with action ADD); when a record has no delta, the members of the policy in the request are judged.
-- Only calls that succeeded count.
WITH calls AS (
  SELECT
    *,
    try(json_extract(service_data, '$.policyDelta')) IS NOT NULL AS has_delta,
    filter(
      regexp_extract_all(coalesce(json_format(try(json_extract(service_data, '$.policyDelta.bindingDeltas'))), ''), '\{(?:[^{}]|\{[^{}]*\})*\}'),
      d -> regexp_like(d, '"action"\s*:\s*"ADD"') AND regexp_like(d, '"member"\s*:\s*"(allUsers|allAuthenticatedUsers)"')
    ) AS public_deltas,
    filter(
      regexp_extract_all(coalesce(json_format(try(json_extract(request, '$.policy.bindings'))), ''), '\{(?:[^{}]|\{[^{}]*\})*\}'),
      b -> regexp_like(b, '"(allUsers|allAuthenticatedUsers)"')
    ) AS public_bindings
  FROM gcp_audit
  WHERE method_name = 'storage.setIamPermissions'
    AND coalesce(status_code, 0) = 0
)
SELECT
  time AS event_time,
  coalesce(nullif(principal_email, ''), principal_subject, 'unknown principal') AS actor,
  caller_ip AS source_ip,
  method_name AS action,
  resource_name AS target,
  CASE WHEN has_delta THEN 'public access added: ' || regexp_replace(array_join(public_deltas, '; '), '\s+', ' ')
       ELSE 'public members in the policy set (no delta logged): ' || regexp_replace(array_join(public_bindings, '; '), '\s+', ' ') END AS detail,
  evidence_key,
  evidence_record
FROM calls
WHERE (has_delta AND cardinality(public_deltas) > 0) OR (NOT has_delta AND cardinality(public_bindings) > 0)
ORDER BY event_time
