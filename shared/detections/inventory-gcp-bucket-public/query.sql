WITH buckets AS (
  SELECT account, id, observed_at, json_extract_scalar(attributes, '$.publicAccessPrevention') AS pap
  FROM inventory
  WHERE type = 'storage:bucket'
)
SELECT
  m.observed_at AS event_time,
  m.account AS actor,
  CAST(NULL AS varchar) AS source_ip,
  'PublicBucket' AS action,
  m.name AS target,
  'bucket ' || m.name || ' grants ' || json_extract_scalar(m.attributes, '$.role') || ' to '
    || json_extract_scalar(m.attributes, '$.member') || ' and its public access prevention is '
    || coalesce(b.pap, 'unknown (the bucket''s metadata was not read)') AS detail,
  m.evidence_key,
  m.evidence_record
FROM inventory m
LEFT JOIN buckets b ON b.account = m.account AND b.id = m.id AND b.observed_at = m.observed_at
WHERE m.type = 'gcp:iam-member'
  AND json_extract_scalar(m.attributes, '$.assetType') = 'storage.googleapis.com/Bucket'
  AND json_extract_scalar(m.attributes, '$.public') = 'true'
  AND coalesce(b.pap, 'inherited') <> 'enforced'
ORDER BY event_time, m.evidence_key, m.evidence_record
