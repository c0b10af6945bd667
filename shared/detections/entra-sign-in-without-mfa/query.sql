-- Successful interactive user sign-ins whose authentication requirement was a single factor. Interactive means the
-- SignInLogs category (or, for Graph, signInEventTypes / isInteractive), which is also where Entra logs ROPC
-- password grants, a favourite of password sprayers. Exclusions and why: see detection.yml. A sign-in without an
-- authenticationRequirement (older exports) is not judged.
SELECT
  time AS event_time,
  coalesce(nullif(user_principal_name, ''), nullif(user_id, ''), 'unknown user') AS actor,
  ip_address AS source_ip,
  operation_name || ' (' || sign_in_type || ')' AS action,
  coalesce(nullif(app_display_name, ''), app_id, resource_display_name) AS target,
  'single-factor sign-in to ' || coalesce(nullif(app_display_name, ''), app_id, '?')
    || ' with ' || coalesce(nullif(client_app_used, ''), 'an unknown client')
    || coalesce(' over ' || nullif(authentication_protocol, ''), '')
    || '; conditional access ' || coalesce(conditional_access_status, '?')
    || coalesce('; from ' || location_country, '') AS detail,
  evidence_key,
  evidence_record
FROM entra_signin
WHERE sign_in_type = 'interactiveUser'
  AND error_code = '0'
  AND lower(authentication_requirement) = 'singlefactorauthentication'
  AND lower(coalesce(nullif(token_issuer_type, ''), 'AzureAD')) = 'azuread'
ORDER BY event_time
