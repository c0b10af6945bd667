-- BigQuery Standard SQL twin of query.sql: credentials added to applications and service principals (the dedicated
-- activities, or an application / service principal update that changes a key property); removals left out.
SELECT
  time AS event_time,
  COALESCE(NULLIF(initiated_by_user_upn, ''), NULLIF(initiated_by_app_display_name, ''), NULLIF(initiated_by_service_principal_name, ''), initiated_by_app_id, initiated_by_user_id, 'unknown initiator') AS actor,
  ip_address AS source_ip,
  activity_display_name AS action,
  COALESCE(NULLIF(target_display_name, ''), target_id) AS target,
  'credential change on ' || COALESCE(target_type, 'object') || ' ' || COALESCE(NULLIF(target_display_name, ''), target_id, '?')
    || COALESCE(' (' || target_id || ')', '')
    || COALESCE('; key: ' || REGEXP_EXTRACT(target_resources, r'KeyType=([A-Za-z0-9]+)'), '')
    || COALESCE('; user agent ' || user_agent, '') AS detail,
  evidence_key,
  evidence_record
FROM entra_audit
WHERE LOWER(COALESCE(result, '')) = 'success'
  AND (
    LOWER(TRIM(activity_display_name)) = 'add service principal credentials'
    OR REGEXP_CONTAINS(LOWER(TRIM(activity_display_name)), r'^update application\s*\S\s*certificates and secrets management$')
    OR (LOWER(TRIM(activity_display_name)) IN ('update application', 'update service principal')
        AND REGEXP_CONTAINS(COALESCE(target_resources, ''), r'"displayName"\s*:\s*"(KeyDescription|KeyCredentials|PasswordCredentials)"'))
  )
ORDER BY event_time, evidence_key, evidence_record
