SELECT
  observed_at AS event_time,
  account AS actor,
  CAST(NULL AS varchar) AS source_ip,
  'PublicFunctionUrl' AS action,
  id AS target,
  'function ' || coalesce(name, json_extract_scalar(attributes, '$.functionArn')) || ' in ' || region || ' has a URL with AuthType NONE: ' || id AS detail,
  evidence_key,
  evidence_record
FROM inventory
WHERE type = 'lambda:function-url' AND json_extract_scalar(attributes, '$.authType') = 'NONE'
ORDER BY event_time, evidence_key, evidence_record
