-- Applications and service principals created by a user ("Add application", "Add service principal"), successful
-- only. Creations by Microsoft services (no user initiator) are left out.
SELECT
  time AS event_time,
  coalesce(nullif(initiated_by_user_upn, ''), nullif(initiated_by_app_display_name, ''), nullif(initiated_by_service_principal_name, ''), initiated_by_app_id, initiated_by_user_id, 'unknown initiator') AS actor,
  ip_address AS source_ip,
  activity_display_name AS action,
  coalesce(nullif(target_display_name, ''), target_id, '?') AS target,
  CASE WHEN lower(trim(activity_display_name)) = 'add application' THEN 'application registered' ELSE 'service principal created' END
    || ' by ' || initiated_by_user_upn AS detail,
  evidence_key,
  evidence_record
FROM entra_audit
WHERE lower(coalesce(result, '')) = 'success'
  AND lower(trim(activity_display_name)) IN ('add application', 'add service principal')
  AND nullif(initiated_by_user_upn, '') IS NOT NULL
ORDER BY event_time
