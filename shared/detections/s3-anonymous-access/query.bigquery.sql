-- BigQuery Standard SQL twin of query.sql: anonymous requests that worked (requester NULL, a remote address, HTTP
-- 200-399, CORS preflights left out), one finding per bucket, remote address and UTC hour. The representative
-- record of a group is its first by (time, evidence key, record index): MIN_BY over that total key. Lists are
-- STRING_AGG(DISTINCT x ORDER BY x) with ', ' between values.
WITH anonymous AS (
  SELECT
    SUBSTR(time, 1, 13) AS hour,
    bucket_name,
    remoteip,
    operation,
    `key`,
    bytessent,
    useragent,
    time,
    evidence_key,
    evidence_record,
    time || '|' || evidence_key || '|' || LPAD(CAST(evidence_record AS STRING), 10, '0') AS pick
  FROM s3_access_logs
  WHERE requester IS NULL
    AND remoteip IS NOT NULL
    AND httpstatus >= 200
    AND httpstatus < 400
    AND operation <> 'REST.OPTIONS.PREFLIGHT'
)
SELECT
  MIN(time) AS event_time,
  'anonymous' AS actor,
  remoteip AS source_ip,
  MIN_BY(operation, pick) AS action,
  's3://' || bucket_name AS target,
  CAST(COUNT(*) AS STRING) || CASE WHEN COUNT(*) = 1 THEN ' successful unauthenticated request' ELSE ' successful unauthenticated requests' END || ' in hour ' || hour || ':00Z: '
    || REPLACE(STRING_AGG(DISTINCT operation ORDER BY operation), ',', ', ') || '; ' || CAST(COUNT(DISTINCT `key`) AS STRING) || CASE WHEN COUNT(DISTINCT `key`) = 1 THEN ' key' ELSE ' keys' END || ', ' || CAST(COALESCE(SUM(bytessent), 0) AS STRING) || ' bytes sent; first key ' || COALESCE(MIN_BY(`key`, pick), '-')
    || '; user agent ' || COALESCE(MIN_BY(useragent, pick), '-') AS detail,
  MIN_BY(evidence_key, pick) AS evidence_key,
  MIN_BY(evidence_record, pick) AS evidence_record,
  MIN(time) AS first_time,
  MAX(time) AS last_time,
  COUNT(*) AS records
FROM anonymous
GROUP BY hour, bucket_name, remoteip
ORDER BY event_time, source_ip
