-- Bulk reads from S3 seen in server access logs: bytes sent by successful object GETs (HTTP 200 or 206 for a
-- range), summed per requester and UTC hour (bucketed from the time text). An unauthenticated requester (`-`,
-- NULL here) is grouped per remote address, written `anonymous from <ip>`.
-- Threshold: more than 1 GiB (1073741824 bytes) in one hour by one requester. Tune it per environment:
-- backup, analytics and CDN-origin roles move far more and belong on an allow list.
WITH reads AS (
  SELECT
    substr(time, 1, 13) AS hour,
    coalesce(requester, 'anonymous from ' || coalesce(remoteip, 'unknown address')) AS who,
    remoteip,
    bucket_name,
    key,
    operation,
    bytessent,
    time,
    evidence_key,
    evidence_record,
    time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS varchar), 10, '0') AS pick
  FROM s3_access_logs
  WHERE operation IN ('REST.GET.OBJECT', 'WEBSITE.GET.OBJECT', 'REST.GET.OBJECT_TORRENT')
    AND httpstatus IN (200, 206)
    AND bytessent IS NOT NULL
)
SELECT
  min(time) AS event_time,
  who AS actor,
  min_by(remoteip, pick) AS source_ip,
  min_by(operation, pick) AS action,
  CASE WHEN count(DISTINCT bucket_name) = 1 THEN 's3://' || min(bucket_name) ELSE CAST(count(DISTINCT bucket_name) AS varchar) || ' buckets' END AS target,
  CAST(CAST(round(sum(bytessent) / 1073741824.0, 2) AS decimal(18, 2)) AS varchar) || ' GiB sent in ' || CAST(count(*) AS varchar) || CASE WHEN count(*) = 1 THEN ' GET request' ELSE ' GET requests' END || ' for ' || CAST(count(DISTINCT key) AS varchar) || CASE WHEN count(DISTINCT key) = 1 THEN ' object' ELSE ' objects' END || ' in hour ' || hour || ':00Z from '
    || CAST(count(DISTINCT remoteip) AS varchar) || CASE WHEN count(DISTINCT remoteip) = 1 THEN ' address' ELSE ' addresses' END || '; first key ' || coalesce(min_by(key, pick), '-') AS detail,
  min_by(evidence_key, pick) AS evidence_key,
  min_by(evidence_record, pick) AS evidence_record,
  min(time) AS first_time,
  max(time) AS last_time,
  count(*) AS records
FROM reads
GROUP BY hour, who
HAVING sum(bytessent) > 1073741824
ORDER BY event_time, actor
