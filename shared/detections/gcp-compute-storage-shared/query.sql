-- setIamPolicy on a Compute Engine disk, image or snapshot (v1 or beta). Members added are read from the policy
-- delta (bindingDeltas with action ADD) when the entry has one, else from the bindings in the request (which
-- may include bindings that existed before, as the detail says). Successful calls only.
WITH calls AS (
  SELECT
    *,
    try(json_extract(service_data, '$.policyDelta')) IS NOT NULL AS has_delta,
    filter(
      regexp_extract_all(coalesce(json_format(try(json_extract(service_data, '$.policyDelta.bindingDeltas'))), ''), '\{(?:[^{}]|\{[^{}]*\})*\}'),
      d -> regexp_like(d, '"action"\s*:\s*"ADD"')
    ) AS added,
    regexp_extract_all(coalesce(json_format(try(json_extract(request, '$.policy.bindings'))), ''), '\{(?:[^{}]|\{[^{}]*\})*\}') AS bindings
  FROM gcp_audit
  WHERE regexp_like(lower(coalesce(method_name, '')), '^(v1|beta)\.compute\.(disks|images|snapshots)\.setiampolicy$')
    AND coalesce(status_code, 0) = 0
)
SELECT
  time AS event_time,
  coalesce(nullif(principal_email, ''), principal_subject, 'unknown principal') AS actor,
  caller_ip AS source_ip,
  method_name AS action,
  resource_name AS target,
  regexp_extract(lower(method_name), '\.compute\.(disks|images|snapshots)\.', 1) || ' shared: '
    || CASE WHEN has_delta THEN 'added ' ELSE 'in the policy set (no delta in the log): ' END
    || substr(regexp_replace(array_join(CASE WHEN has_delta THEN added ELSE bindings END, '; '), '\s+', ' '), 1, 600) AS detail,
  evidence_key,
  evidence_record
FROM calls
WHERE cardinality(CASE WHEN has_delta THEN added ELSE bindings END) > 0
ORDER BY event_time
