-- Sign-ins rated medium or high risk, during the sign-in or aggregated for the user, whose risk state is not
-- remediated, dismissed or confirmed safe. `hidden` (no P2 licence) and `none`/`low` are not flagged. Compared
-- case-insensitively: exports disagree on case. Service principal sign-ins carry risk too (workload identity
-- protection) and are included.
SELECT
  time AS event_time,
  coalesce(nullif(user_principal_name, ''), nullif(service_principal_name, ''), nullif(app_display_name, ''), nullif(user_id, ''), service_principal_id, 'unknown identity') AS actor,
  ip_address AS source_ip,
  operation_name || ' (' || coalesce(sign_in_type, 'unknown type') || ')' AS action,
  coalesce(nullif(app_display_name, ''), app_id, resource_display_name) AS target,
  'risk during sign-in ' || coalesce(risk_level_during_sign_in, '?') || ', aggregated ' || coalesce(risk_level_aggregated, '?')
    || ', state ' || coalesce(risk_state, '?')
    || CASE WHEN coalesce(error_code, '0') = '0' THEN '; the sign-in succeeded' ELSE '; the sign-in failed (error ' || error_code || ')' END
    || coalesce('; risk events ' || nullif(risk_event_types, '[]'), '')
    || coalesce('; from ' || location_country, '') AS detail,
  evidence_key,
  evidence_record
FROM entra_signin
WHERE (lower(coalesce(risk_level_during_sign_in, '')) IN ('medium', 'high') OR lower(coalesce(risk_level_aggregated, '')) IN ('medium', 'high'))
  AND lower(coalesce(risk_state, 'none')) NOT IN ('remediated', 'dismissed', 'confirmedsafe')
ORDER BY event_time
