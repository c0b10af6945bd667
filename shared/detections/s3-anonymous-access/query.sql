-- Anonymous access that worked: requester `-` (NULL here), a remote address (S3's own lifecycle operations
-- have none), HTTP status 200-399. CORS preflights (REST.OPTIONS.PREFLIGHT) are anonymous by design and carry
-- no data, so they are left out. One finding per bucket, remote address and UTC hour, at the first request.
WITH anonymous AS (
  SELECT
    substr(time, 1, 13) AS hour,
    bucket_name,
    remoteip,
    operation,
    key,
    bytessent,
    useragent,
    time,
    evidence_key,
    evidence_record,
    time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS varchar), 10, '0') AS pick
  FROM s3_access_logs
  WHERE requester IS NULL
    AND remoteip IS NOT NULL
    AND httpstatus >= 200
    AND httpstatus < 400
    AND operation <> 'REST.OPTIONS.PREFLIGHT'
)
SELECT
  min(time) AS event_time,
  'anonymous' AS actor,
  remoteip AS source_ip,
  min_by(operation, pick) AS action,
  's3://' || bucket_name AS target,
  CAST(count(*) AS varchar) || CASE WHEN count(*) = 1 THEN ' successful unauthenticated request' ELSE ' successful unauthenticated requests' END || ' in hour ' || hour || ':00Z: '
    || array_join(array_distinct(array_agg(operation ORDER BY operation)), ', ') || '; ' || CAST(count(DISTINCT key) AS varchar) || CASE WHEN count(DISTINCT key) = 1 THEN ' key' ELSE ' keys' END || ', ' || CAST(coalesce(sum(bytessent), 0) AS varchar) || ' bytes sent; first key ' || coalesce(min_by(key, pick), '-')
    || '; user agent ' || coalesce(min_by(useragent, pick), '-') AS detail,
  min_by(evidence_key, pick) AS evidence_key,
  min_by(evidence_record, pick) AS evidence_record,
  min(time) AS first_time,
  max(time) AS last_time,
  count(*) AS records
FROM anonymous
GROUP BY hour, bucket_name, remoteip
ORDER BY event_time, source_ip
