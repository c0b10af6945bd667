-- Administrative units created or given members: "Add administrative unit", "Add member to administrative unit",
-- "Add member to restricted management administrative unit". Successful only; scoped role grants are covered by
-- entra-directory-role-added.
SELECT
  time AS event_time,
  coalesce(nullif(initiated_by_user_upn, ''), nullif(initiated_by_app_display_name, ''), nullif(initiated_by_service_principal_name, ''), initiated_by_app_id, initiated_by_user_id, 'unknown initiator') AS actor,
  ip_address AS source_ip,
  activity_display_name AS action,
  coalesce(nullif(target_display_name, ''), target_user_principal_name, target_id, '?') AS target,
  CASE WHEN lower(activity_display_name) = 'add administrative unit' THEN 'administrative unit created'
    ELSE 'member added to an administrative unit' END
    || CASE WHEN regexp_like(lower(activity_display_name), 'restricted') OR regexp_like(lower(coalesce(target_resources, '')), 'membermanagementrestricted|restricted management|hiddenmembership')
      THEN ' (restricted management or hidden membership: ordinary administrators cannot manage its members)' ELSE '' END AS detail,
  evidence_key,
  evidence_record
FROM entra_audit
WHERE lower(coalesce(result, '')) = 'success'
  AND lower(trim(activity_display_name)) IN ('add administrative unit', 'add member to administrative unit', 'add member to restricted management administrative unit')
ORDER BY event_time
