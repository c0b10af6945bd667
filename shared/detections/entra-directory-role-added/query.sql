-- Successful additions to a directory role: "Add member to role", "Add eligible member to role", "Add scoped member to
-- role", and PIM's "Add member to role in PIM completed (permanent|timebound)" / "Add eligible member to role in PIM
-- completed (...)". PIM "requested" events are not grants and are left out. The role is role_name (derived from the
-- Role target or the Role.DisplayName property); the member is target_member.
SELECT
  time AS event_time,
  coalesce(nullif(initiated_by_user_upn, ''), nullif(initiated_by_app_display_name, ''), nullif(initiated_by_service_principal_name, ''), initiated_by_app_id, initiated_by_user_id, 'unknown initiator') AS actor,
  ip_address AS source_ip,
  activity_display_name AS action,
  coalesce(nullif(target_member, ''), target_user_principal_name, target_display_name) AS target,
  CASE WHEN lower(coalesce(role_name, '')) IN ('global administrator', 'company administrator', 'privileged role administrator',
      'privileged authentication administrator', 'application administrator', 'cloud application administrator',
      'hybrid identity administrator', 'security administrator', 'conditional access administrator', 'user administrator',
      'authentication administrator', 'exchange administrator', 'sharepoint administrator', 'intune administrator')
    THEN 'privileged role ' ELSE 'role ' END
    || coalesce(role_name, '(not named in the record)') || ' given to ' || coalesce(nullif(target_member, ''), '?')
    || CASE WHEN regexp_like(lower(activity_display_name), 'eligible') THEN ' (eligible: activable through PIM)' ELSE '' END
    || coalesce('; logged by ' || logged_by_service, '') AS detail,
  evidence_key,
  evidence_record
FROM entra_audit
WHERE lower(coalesce(result, '')) = 'success'
  AND (
    lower(trim(activity_display_name)) IN ('add member to role', 'add eligible member to role', 'add scoped member to role')
    OR regexp_like(lower(activity_display_name), '^add (eligible )?member to role in pim completed')
  )
ORDER BY event_time
