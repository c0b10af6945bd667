-- Credentials added to applications and service principals. The dedicated activities ("Add service principal
-- credentials", "Update application – Certificates and secrets management", the dash varies between en dash and
-- hyphen, and some exports keep a trailing space) are matched on their text; plain "Update application" / "Update
-- service principal" count only when a key property changes (KeyDescription, KeyCredentials, PasswordCredentials).
-- Removals ("Remove service principal credentials") are not additions and are left out.
SELECT
  time AS event_time,
  coalesce(nullif(initiated_by_user_upn, ''), nullif(initiated_by_app_display_name, ''), nullif(initiated_by_service_principal_name, ''), initiated_by_app_id, initiated_by_user_id, 'unknown initiator') AS actor,
  ip_address AS source_ip,
  activity_display_name AS action,
  coalesce(nullif(target_display_name, ''), target_id) AS target,
  'credential change on ' || coalesce(target_type, 'object') || ' ' || coalesce(nullif(target_display_name, ''), target_id, '?')
    || coalesce(' (' || target_id || ')', '')
    || coalesce('; key: ' || regexp_extract(target_resources, 'KeyType=([A-Za-z0-9]+)', 1), '')
    || coalesce('; user agent ' || user_agent, '') AS detail,
  evidence_key,
  evidence_record
FROM entra_audit
WHERE lower(coalesce(result, '')) = 'success'
  AND (
    lower(trim(activity_display_name)) = 'add service principal credentials'
    OR regexp_like(lower(trim(activity_display_name)), '^update application\s*\S\s*certificates and secrets management$')
    OR (lower(trim(activity_display_name)) IN ('update application', 'update service principal')
        AND regexp_like(coalesce(target_resources, ''), '"displayName"\s*:\s*"(KeyDescription|KeyCredentials|PasswordCredentials)"'))
  )
ORDER BY event_time
