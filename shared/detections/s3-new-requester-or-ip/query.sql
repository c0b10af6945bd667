-- First seen: authenticated requesters, and requester + remote address pairs, that appear in the most recent
-- day of the logs read and nowhere earlier in them.
-- Semantics: "recent" is the 24 hours ending at the newest request in the table (a scheduled run's window, or
-- the whole case offline); "history" is everything before that. Nothing is reported unless the history starts
-- at least 7 days before the recent day, so a table holding only a few days does not call every requester
-- new. The schedule's 30-day window gives 29 days of history.
-- Counted: successful requests (HTTP 200-399) that name a requester and came from a remote address. AWS
-- services acting for themselves (requester `svc:...`, `AmazonS3`, `*.amazonaws.com`) and anonymous requests
-- (see s3-anonymous-access) are left out. One finding per new requester + address pair, at its first request.
WITH ok AS (
  SELECT
    time,
    from_iso8601_timestamp(time) AS ts,
    requester,
    remoteip,
    bucket_name,
    operation,
    useragent,
    evidence_key,
    evidence_record,
    time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS varchar), 10, '0') AS pick
  FROM s3_access_logs
  WHERE requester IS NOT NULL
    AND remoteip IS NOT NULL
    AND httpstatus >= 200
    AND httpstatus < 400
    AND NOT regexp_like(requester, '^svc:|^AmazonS3$|\.amazonaws\.com$')
),
bounds AS (
  SELECT max(ts) - INTERVAL '1' DAY AS recent_start, min(ts) AS oldest FROM ok
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
    AND bounds.oldest <= bounds.recent_start - INTERVAL '7' DAY
)
SELECT
  min(r.time) AS event_time,
  r.requester AS actor,
  r.remoteip AS source_ip,
  min_by(r.operation, r.pick) AS action,
  CASE WHEN count(DISTINCT r.bucket_name) = 1 THEN 's3://' || min(r.bucket_name) ELSE CAST(count(DISTINCT r.bucket_name) AS varchar) || ' buckets' END AS target,
  CASE WHEN k.requester IS NULL THEN 'new requester, first seen'
    ELSE 'known requester (' || CAST(k.addresses AS varchar) || CASE WHEN k.addresses = 1 THEN ' earlier address' ELSE ' earlier addresses' END || ', e.g. ' || k.an_address || ') from a new address' END
    || ': ' || CAST(count(*) AS varchar) || CASE WHEN count(*) = 1 THEN ' successful request' ELSE ' successful requests' END || ' from ' || r.remoteip || ', ' || min(r.time) || ' to ' || max(r.time)
    || '; operations ' || array_join(array_distinct(array_agg(r.operation ORDER BY r.operation)), ', ')
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
