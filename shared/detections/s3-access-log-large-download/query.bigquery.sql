-- BigQuery Standard SQL twin of query.sql (same logic, same columns; see its comments). The representative record
-- of a group is its first by (time, evidence key, record index): MIN_BY over that total key.
WITH reads AS (
  SELECT
    substr(time, 1, 13) AS hour,
    coalesce(requester, 'anonymous from ' || coalesce(remoteip, 'unknown address')) AS who,
    remoteip,
    bucket_name,
    `key`,
    operation,
    bytessent,
    time,
    evidence_key,
    evidence_record,
    time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS STRING), 10, '0') AS pick
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
  CASE WHEN count(DISTINCT bucket_name) = 1 THEN 's3://' || min(bucket_name) ELSE CAST(count(DISTINCT bucket_name) AS STRING) || ' buckets' END AS target,
  FORMAT('%.2f', ROUND(sum(bytessent) / 1073741824.0, 2)) || ' GiB sent in ' || CAST(count(*) AS STRING) || CASE WHEN count(*) = 1 THEN ' GET request' ELSE ' GET requests' END || ' for ' || CAST(count(DISTINCT `key`) AS STRING) || CASE WHEN count(DISTINCT `key`) = 1 THEN ' object' ELSE ' objects' END || ' in hour ' || hour || ':00Z from '
    || CAST(count(DISTINCT remoteip) AS STRING) || CASE WHEN count(DISTINCT remoteip) = 1 THEN ' address' ELSE ' addresses' END || '; first key ' || coalesce(min_by(`key`, pick), '-') AS detail,
  min_by(evidence_key, pick) AS evidence_key,
  min_by(evidence_record, pick) AS evidence_record,
  min(time) AS first_time,
  max(time) AS last_time,
  count(*) AS records
FROM reads
GROUP BY hour, who
HAVING sum(bytessent) > 1073741824
ORDER BY event_time, actor
