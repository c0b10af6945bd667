-- BigQuery Standard SQL twin of query.sql: successful additions to a directory role (direct, eligible, scoped, and
-- PIM completions; PIM requests are not grants).
SELECT
  time AS event_time,
  COALESCE(NULLIF(initiated_by_user_upn, ''), NULLIF(initiated_by_app_display_name, ''), NULLIF(initiated_by_service_principal_name, ''), initiated_by_app_id, initiated_by_user_id, 'unknown initiator') AS actor,
  ip_address AS source_ip,
  activity_display_name AS action,
  COALESCE(NULLIF(target_member, ''), target_user_principal_name, target_display_name) AS target,
  CASE WHEN LOWER(COALESCE(role_name, '')) IN ('global administrator', 'company administrator', 'privileged role administrator',
      'privileged authentication administrator', 'application administrator', 'cloud application administrator',
      'hybrid identity administrator', 'security administrator', 'conditional access administrator', 'user administrator',
      'authentication administrator', 'exchange administrator', 'sharepoint administrator', 'intune administrator')
    THEN 'privileged role ' ELSE 'role ' END
    || COALESCE(role_name, '(not named in the record)') || ' given to ' || COALESCE(NULLIF(target_member, ''), '?')
    || CASE WHEN REGEXP_CONTAINS(LOWER(activity_display_name), r'eligible') THEN ' (eligible: activable through PIM)' ELSE '' END
    || COALESCE('; logged by ' || logged_by_service, '') AS detail,
  evidence_key,
  evidence_record
FROM entra_audit
WHERE LOWER(COALESCE(result, '')) = 'success'
  AND (
    LOWER(TRIM(activity_display_name)) IN ('add member to role', 'add eligible member to role', 'add scoped member to role')
    OR REGEXP_CONTAINS(LOWER(activity_display_name), r'^add (eligible )?member to role in pim completed')
  )
ORDER BY event_time, evidence_key, evidence_record
