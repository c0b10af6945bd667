-- Risk detections and risky users rated medium or high whose state is still open (atRisk, confirmedCompromised).
-- `hidden` (no P2 licence), `none` and `low` are not flagged; states are compared case-insensitively.
SELECT
  time AS event_time,
  coalesce(nullif(user_principal_name, ''), user_id, 'unknown user') AS actor,
  ip_address AS source_ip,
  CASE WHEN record_type = 'risk-detection' THEN 'risk detection ' || coalesce(risk_event_type, 'unknown') ELSE 'risky user' END AS action,
  coalesce(nullif(user_principal_name, ''), user_display_name, user_id) AS target,
  'risk ' || coalesce(risk_level, '?') || ', state ' || coalesce(risk_state, '?')
    || coalesce(', ' || nullif(risk_detail, 'none'), '')
    || coalesce('; ' || detection_timing_type || ' detection', '')
    || coalesce('; from ' || location_city || ', ' || location_country, '; from ' || location_country, '') AS detail,
  evidence_key,
  evidence_record
FROM entra_risk
WHERE lower(coalesce(risk_level, '')) IN ('medium', 'high')
  AND lower(coalesce(risk_state, '')) IN ('atrisk', 'confirmedcompromised')
ORDER BY event_time
