-- Bulk reads from S3 (S3 data events must be enabled on the trail): bytes sent out by successful GetObject
-- calls, summed per principal and hour from additionalEventData.bytesTransferredOut.
-- Threshold: more than min_bytes (default 1 GiB, 1073741824 bytes) in one hour by one principal. Tune it per environment:
-- backup, analytics and CDN-origin roles move far more and belong on an allow list.
-- Hour buckets are cut from the eventtime text (`YYYY-MM-DDTHH`): CloudTrail writes it as fixed-width UTC,
-- and one malformed time then cannot fail the whole query as a timestamp parse would.
WITH reads AS (
  SELECT
    substr(eventtime, 1, 13) || ':00:00Z' AS bucket_hour,
    coalesce(nullif(useridentity.arn, ''), useridentity.username, useridentity.principalid) AS actor,
    sourceipaddress,
    eventname,
    json_extract_scalar(requestparameters, '$.bucketName') AS bucket,
    coalesce(try_cast(json_extract_scalar(additionaleventdata, '$.bytesTransferredOut') AS double), 0) AS bytes_out,
    evidence_key,
    evidence_record,
    eventid,
    eventtime,
    eventtime || '|' || coalesce(evidence_key, '') || '|' || lpad(coalesce(CAST(evidence_record AS varchar), ''), 10, '0') || '|' || coalesce(eventid, '') AS pick
  FROM cloudtrail
  WHERE eventsource = 's3.amazonaws.com'
    AND eventname = 'GetObject'
    AND errorcode IS NULL
)
SELECT
  min(eventtime) AS event_time,
  actor,
  min_by(sourceipaddress, pick) AS source_ip,
  min_by(eventname, pick) AS action,
  CASE WHEN count(DISTINCT bucket) = 1 THEN 's3://' || min(bucket) ELSE CAST(count(DISTINCT bucket) AS varchar) || ' buckets' END AS target,
  CAST(CAST(round(sum(bytes_out) / 1073741824.0, 2) AS decimal(18, 2)) AS varchar) || ' GiB read in ' || CAST(count(*) AS varchar)
    || ' GetObject calls within 1 hour from ' || CAST(count(DISTINCT sourceipaddress) AS varchar) || CASE WHEN count(DISTINCT sourceipaddress) = 1 THEN ' address' ELSE ' addresses' END || '; first event '
    || coalesce(min_by(eventid, pick), '?') AS detail,
  min_by(evidence_key, pick) AS evidence_key,
  min_by(evidence_record, pick) AS evidence_record,
  min(eventtime) AS first_time,
  max(eventtime) AS last_time,
  count(*) AS records
FROM reads
GROUP BY bucket_hour, actor
HAVING sum(bytes_out) > {{min_bytes}}
ORDER BY event_time, actor
