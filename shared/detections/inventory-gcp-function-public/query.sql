WITH endpoints AS (
  SELECT account, id, observed_at, json_extract_scalar(attributes, '$.ingress') AS ingress, json_extract_scalar(attributes, '$.url') AS url
  FROM inventory
  WHERE type IN ('cloudfunctions:function', 'run:service')
)
SELECT
  m.observed_at AS event_time,
  m.account AS actor,
  CAST(NULL AS varchar) AS source_ip,
  'PublicInvoker' AS action,
  m.name AS target,
  CASE WHEN json_extract_scalar(m.attributes, '$.assetType') = 'run.googleapis.com/Service' THEN 'Cloud Run service ' ELSE 'Cloud Function ' END
    || m.name || ' in ' || m.region || ' grants ' || json_extract_scalar(m.attributes, '$.role') || ' to '
    || json_extract_scalar(m.attributes, '$.member') || ', ingress ' || coalesce(e.ingress, 'not read')
    || coalesce(', at ' || e.url, '') AS detail,
  m.evidence_key,
  m.evidence_record
FROM inventory m
LEFT JOIN endpoints e ON e.account = m.account AND e.id = m.id AND e.observed_at = m.observed_at
WHERE m.type = 'gcp:iam-member'
  AND json_extract_scalar(m.attributes, '$.assetType') IN ('cloudfunctions.googleapis.com/CloudFunction', 'run.googleapis.com/Service')
  AND json_extract_scalar(m.attributes, '$.public') = 'true'
  AND coalesce(e.ingress, '') NOT IN ('ALLOW_INTERNAL_ONLY', 'internal', 'INGRESS_TRAFFIC_INTERNAL_ONLY')
ORDER BY event_time, m.evidence_key, m.evidence_record
