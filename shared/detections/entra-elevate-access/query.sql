-- "Elevate access" in the Entra audit log: activity "User has elevated their access to User Access Administrator
-- for their Azure Resources" (category AzureRBACRoleManagementElevateAccess), successful only.
SELECT
  time AS event_time,
  coalesce(nullif(initiated_by_user_upn, ''), nullif(initiated_by_app_display_name, ''), nullif(initiated_by_service_principal_name, ''), initiated_by_app_id, initiated_by_user_id, 'unknown initiator') AS actor,
  ip_address AS source_ip,
  activity_display_name AS action,
  'root scope (/) of tenant ' || coalesce(tenant_id, '?') AS target,
  'elevated to User Access Administrator at the root scope: can grant any role on every subscription'
    || coalesce('; logged by ' || logged_by_service, '') AS detail,
  evidence_key,
  evidence_record
FROM entra_audit
WHERE lower(coalesce(result, '')) = 'success'
  AND (
    regexp_like(lower(activity_display_name), 'elevated their access to user access administrator')
    OR lower(coalesce(category, '')) = 'azurerbacrolemanagementelevateaccess'
  )
ORDER BY event_time
