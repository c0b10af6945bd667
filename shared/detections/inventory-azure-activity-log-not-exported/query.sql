WITH answers AS (
  SELECT account, observed_at, evidence_key, evidence_record,
    CASE WHEN type = 'api:page' THEN 'no diagnostic setting'
      ELSE 'setting ' || coalesce(name, id) || ' sends no enabled log category to a destination' END AS why,
    CASE WHEN type = 'azure:activity-log-diagnostic-setting' AND json_extract_scalar(attributes, '$.exported') = 'true' THEN 1 ELSE 0 END AS exported,
    observed_at || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS varchar), 10, '0') AS pick
  FROM inventory
  WHERE cloud = 'azure' AND (type = 'azure:activity-log-diagnostic-setting'
    OR (type = 'api:page' AND service = 'arm' AND operation = 'diagnostic-settings'
      AND json_extract_scalar(attributes, '$.error') IS NULL AND json_extract_scalar(attributes, '$.rows') = '0'))
)
SELECT
  min_by(observed_at, pick) AS event_time,
  account AS actor,
  CAST(NULL AS varchar) AS source_ip,
  'ActivityLogNotExported' AS action,
  account AS target,
  'the Activity Log of subscription ' || account || ' is not exported (' || CAST(count(*) AS varchar) || ' answers read); first: ' || min_by(why, pick) AS detail,
  min_by(evidence_key, pick) AS evidence_key,
  min_by(evidence_record, pick) AS evidence_record
FROM answers
GROUP BY account
HAVING max(exported) = 0
ORDER BY event_time, evidence_key, evidence_record
