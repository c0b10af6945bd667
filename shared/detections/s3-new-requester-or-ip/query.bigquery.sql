-- BigQuery Standard SQL twin of query.sql (same logic, same columns; see its comments). The representative record
-- of a group is its first by (time, evidence key, record index): MIN_BY over that total key.
-- Lists are STRING_AGG(DISTINCT x ORDER BY x) with the Athena SQL's separators (a value holding a comma reads as two).
WITH ok AS (
  SELECT
    time,
    TIMESTAMP(time) AS ts,
    requester,
    remoteip,
    bucket_name,
    operation,
    useragent,
    evidence_key,
    evidence_record,
    time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS STRING), 10, '0') AS pick
  FROM s3_access_logs
  WHERE requester IS NOT NULL
    AND remoteip IS NOT NULL
    AND httpstatus >= 200
    AND httpstatus < 400
    AND NOT REGEXP_CONTAINS(requester, r'^svc:|^AmazonS3$|\.amazonaws\.com$')
),
bounds AS (
  SELECT TIMESTAMP_SUB(max(ts), INTERVAL 1 DAY) AS recent_start, min(ts) AS oldest FROM ok
),
history AS (
  SELECT DISTINCT ok.requester, ok.remoteip
  FROM ok
  CROSS JOIN bounds
  WHERE ok.ts < bounds.recent_start
),
known AS (
  SELECT requester, count(DISTINCT remoteip) AS addresses, min(remoteip) AS an_address
  FROM history
  GROUP BY requester
),
recent AS (
  SELECT ok.*
  FROM ok
  CROSS JOIN bounds
  WHERE ok.ts >= bounds.recent_start
    AND bounds.oldest <= TIMESTAMP_SUB(bounds.recent_start, INTERVAL 7 DAY)
)
SELECT
  min(r.time) AS event_time,
  r.requester AS actor,
  r.remoteip AS source_ip,
  min_by(r.operation, r.pick) AS action,
  CASE WHEN count(DISTINCT r.bucket_name) = 1 THEN 's3://' || min(r.bucket_name) ELSE CAST(count(DISTINCT r.bucket_name) AS STRING) || ' buckets' END AS target,
  CASE WHEN k.requester IS NULL THEN 'new requester, first seen'
    ELSE 'known requester (' || CAST(k.addresses AS STRING) || CASE WHEN k.addresses = 1 THEN ' earlier address' ELSE ' earlier addresses' END || ', e.g. ' || k.an_address || ') from a new address' END
    || ': ' || CAST(count(*) AS STRING) || CASE WHEN count(*) = 1 THEN ' successful request' ELSE ' successful requests' END || ' from ' || r.remoteip || ', ' || min(r.time) || ' to ' || max(r.time)
    || '; operations ' || REPLACE(STRING_AGG(DISTINCT r.operation ORDER BY r.operation), ',', ', ')
    || '; user agent ' || coalesce(min_by(r.useragent, r.pick), '-') AS detail,
  min_by(r.evidence_key, r.pick) AS evidence_key,
  min_by(r.evidence_record, r.pick) AS evidence_record,
  min(r.time) AS first_time,
  max(r.time) AS last_time,
  count(*) AS records
FROM recent r
LEFT JOIN known k ON k.requester = r.requester
LEFT JOIN history h ON h.requester = r.requester AND h.remoteip = r.remoteip
WHERE h.requester IS NULL
GROUP BY r.requester, r.remoteip, k.requester, k.addresses, k.an_address
ORDER BY event_time, actor, source_ip
