-- Management locks deleted (Microsoft.Authorization/locks/delete) at any scope, successful events only. The
-- target is the scope the lock protected.
SELECT
  time AS event_time,
  coalesce(nullif(caller, ''), principal_id, 'unknown caller') AS actor,
  caller_ip AS source_ip,
  operation_name AS action,
  coalesce(regexp_extract(resource_id, '(?i)^(.*)/providers/Microsoft\.Authorization/locks/[^/]+$', 1), resource_id) AS target,
  'resource lock ' || coalesce(regexp_extract(resource_id, '(?i)/locks/([^/]+)$', 1), '?') || ' removed: the scope can now be deleted or changed' AS detail,
  evidence_key,
  evidence_record
FROM azure_activity
WHERE lower(coalesce(result_type, '')) IN ('success', 'succeeded')
  AND lower(operation_name) = 'microsoft.authorization/locks/delete'
ORDER BY event_time
