WITH answers AS (
  SELECT account, region, observed_at, evidence_key, evidence_record,
    CASE WHEN type = 'api:page' THEN 'no detector' ELSE 'detector ' || id || ' is ' || coalesce(json_extract_scalar(attributes, '$.status'), 'of unknown status') END AS why,
    observed_at || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS varchar), 10, '0') AS pick
  FROM inventory
  WHERE (type = 'guardduty:detector' AND coalesce(json_extract_scalar(attributes, '$.status'), '') <> 'ENABLED')
    OR (type = 'api:page' AND operation = 'ListDetectors' AND json_extract_scalar(attributes, '$.error') IS NULL AND json_extract_scalar(attributes, '$.rows') = '0')
)
SELECT
  min_by(observed_at, pick) AS event_time,
  account AS actor,
  CAST(NULL AS varchar) AS source_ip,
  'GuardDutyOff' AS action,
  region AS target,
  'GuardDuty is off in ' || region || ' of account ' || account || ': ' || min_by(why, pick) AS detail,
  min_by(evidence_key, pick) AS evidence_key,
  min_by(evidence_record, pick) AS evidence_record
FROM answers
GROUP BY account, region
ORDER BY event_time, evidence_key, evidence_record
