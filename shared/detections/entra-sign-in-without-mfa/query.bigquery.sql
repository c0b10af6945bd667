-- BigQuery Standard SQL twin of query.sql: successful interactive user sign-ins whose authentication requirement was
-- a single factor, issued by Entra ID itself (exclusions and why: detection.yml).
SELECT
  time AS event_time,
  COALESCE(NULLIF(user_principal_name, ''), NULLIF(user_id, ''), 'unknown user') AS actor,
  ip_address AS source_ip,
  operation_name || ' (' || sign_in_type || ')' AS action,
  COALESCE(NULLIF(app_display_name, ''), app_id, resource_display_name) AS target,
  'single-factor sign-in to ' || COALESCE(NULLIF(app_display_name, ''), app_id, '?')
    || ' with ' || COALESCE(NULLIF(client_app_used, ''), 'an unknown client')
    || COALESCE(' over ' || NULLIF(authentication_protocol, ''), '')
    || '; conditional access ' || COALESCE(conditional_access_status, '?')
    || COALESCE('; from ' || location_country, '') AS detail,
  evidence_key,
  evidence_record
FROM entra_signin
WHERE sign_in_type = 'interactiveUser'
  AND error_code = '0'
  AND LOWER(authentication_requirement) = 'singlefactorauthentication'
  AND LOWER(COALESCE(NULLIF(token_issuer_type, ''), 'AzureAD')) = 'azuread'
ORDER BY event_time, evidence_key, evidence_record
