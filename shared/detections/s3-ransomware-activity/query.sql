-- S3 ransomware patterns per principal, bucket and hour, from S3 data events that succeeded:
--   deleted:   distinct keys removed with DeleteObject;
--   rewritten: keys the principal read (GetObject) and later wrote back (PutObject) within the hour;
--   batch:     DeleteObjects calls (the event names no objects) after a ListObjectVersions of the same bucket,
--              the way every version is gathered and destroyed.
-- The finding cites the group's earliest destructive record (a delete or a write).
WITH ops AS (
  SELECT
    substr(eventtime, 1, 13) AS hour_bucket,
    coalesce(nullif(useridentity.arn, ''), useridentity.username, useridentity.principalid) AS actor,
    sourceipaddress,
    eventname,
    coalesce(json_extract_scalar(requestparameters, '$.bucketName'), '?') AS bucket,
    json_extract_scalar(requestparameters, '$.key') AS object_key,
    evidence_key,
    evidence_record,
    eventtime || '|' || coalesce(evidence_key, '') || '|' || lpad(coalesce(CAST(evidence_record AS varchar), ''), 10, '0') || '|' || coalesce(eventid, '') AS pick,
    eventtime
  FROM cloudtrail
  WHERE eventsource = 's3.amazonaws.com'
    AND eventname IN ('DeleteObject', 'DeleteObjects', 'GetObject', 'PutObject', 'ListObjectVersions')
    AND errorcode IS NULL
),
rewrites AS (
  SELECT hour_bucket, actor, bucket, count(*) AS rewritten
  FROM (
    SELECT hour_bucket, actor, bucket, object_key
    FROM ops
    WHERE object_key IS NOT NULL AND eventname IN ('GetObject', 'PutObject')
    GROUP BY hour_bucket, actor, bucket, object_key
    HAVING min(CASE WHEN eventname = 'GetObject' THEN eventtime END) <= max(CASE WHEN eventname = 'PutObject' THEN eventtime END)
  ) AS keys_rewritten
  GROUP BY hour_bucket, actor, bucket
),
listings AS (
  SELECT hour_bucket, actor, bucket, min(eventtime) AS first_listing
  FROM ops
  WHERE eventname = 'ListObjectVersions'
  GROUP BY hour_bucket, actor, bucket
),
destructive AS (
  SELECT
    hour_bucket,
    actor,
    bucket,
    count(DISTINCT CASE WHEN eventname = 'DeleteObject' THEN object_key END) AS deleted,
    count_if(eventname = 'DeleteObjects') AS batches,
    max(CASE WHEN eventname = 'DeleteObjects' THEN eventtime END) AS last_batch,
    min_by(sourceipaddress, pick) AS source_ip,
    min_by(eventname, pick) AS action,
    min_by(evidence_key, pick) AS evidence_key,
    min_by(evidence_record, pick) AS evidence_record,
    min(eventtime) AS first_time,
    max(eventtime) AS last_time,
    count(*) AS records
  FROM ops
  WHERE eventname IN ('DeleteObject', 'DeleteObjects', 'PutObject')
  GROUP BY hour_bucket, actor, bucket
)
SELECT
  d.first_time AS event_time,
  d.actor,
  d.source_ip,
  d.action,
  d.bucket AS target,
  CAST(d.deleted AS varchar) || ' objects deleted one by one, '
    || CAST(coalesce(r.rewritten, 0) AS varchar) || ' read and rewritten in place, '
    || CAST(d.batches AS varchar) || ' batch deletions'
    || CASE WHEN l.first_listing IS NOT NULL AND d.batches > 0 THEN ' after listing every object version' ELSE '' END AS detail,
  d.evidence_key,
  d.evidence_record,
  d.first_time,
  d.last_time,
  d.records
FROM destructive AS d
LEFT JOIN rewrites AS r ON r.hour_bucket = d.hour_bucket AND r.actor = d.actor AND r.bucket = d.bucket
LEFT JOIN listings AS l ON l.hour_bucket = d.hour_bucket AND l.actor = d.actor AND l.bucket = d.bucket
WHERE d.deleted >= {{min_objects}}
  OR coalesce(r.rewritten, 0) >= {{min_objects}}
  OR (d.batches > 0 AND l.first_listing IS NOT NULL AND l.first_listing <= d.last_batch)
ORDER BY event_time, d.actor, target
