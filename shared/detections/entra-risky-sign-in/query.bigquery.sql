-- BigQuery Standard SQL twin of query.sql: sign-ins rated medium or high risk (during the sign-in or aggregated)
-- whose risk state is not remediated, dismissed or confirmed safe; compared case-insensitively.
SELECT
  time AS event_time,
  COALESCE(NULLIF(user_principal_name, ''), NULLIF(service_principal_name, ''), NULLIF(app_display_name, ''), NULLIF(user_id, ''), service_principal_id, 'unknown identity') AS actor,
  ip_address AS source_ip,
  operation_name || ' (' || COALESCE(sign_in_type, 'unknown type') || ')' AS action,
  COALESCE(NULLIF(app_display_name, ''), app_id, resource_display_name) AS target,
  'risk during sign-in ' || COALESCE(risk_level_during_sign_in, '?') || ', aggregated ' || COALESCE(risk_level_aggregated, '?')
    || ', state ' || COALESCE(risk_state, '?')
    || CASE WHEN COALESCE(error_code, '0') = '0' THEN '; the sign-in succeeded' ELSE '; the sign-in failed (error ' || error_code || ')' END
    || COALESCE('; risk events ' || NULLIF(risk_event_types, '[]'), '')
    || COALESCE('; from ' || location_country, '') AS detail,
  evidence_key,
  evidence_record
FROM entra_signin
WHERE (LOWER(COALESCE(risk_level_during_sign_in, '')) IN ('medium', 'high') OR LOWER(COALESCE(risk_level_aggregated, '')) IN ('medium', 'high'))
  AND LOWER(COALESCE(risk_state, 'none')) NOT IN ('remediated', 'dismissed', 'confirmedsafe')
ORDER BY event_time, evidence_key, evidence_record
