-- A lifecycle rule that deletes CloudTrail logs soon after delivery (Stratus Red Team
-- cloudtrail-lifecycle-rule). A heuristic on two guesses, because the trail's bucket is not in the event:
-- * the bucket is a trail bucket: named in a CreateTrail/UpdateTrail s3BucketName in the data, or named like
--   one (cloudtrail, trail, audit: the console's default is aws-cloudtrail-logs-<account>-<random>);
-- * the rule is short: an Enabled rule whose Expiration is under 90 days (threshold: 90 days is the
--   shortest retention common baselines accept for audit logs; the attack uses 1 day).
-- A configuration holding both an Enabled rule and a short Disabled rule can be misread, since the rule
-- objects are not paired with their Expiration here. Failed attempts are reported too.
WITH trail_buckets AS (
  SELECT DISTINCT json_extract_scalar(requestparameters, '$.s3BucketName') AS bucket
  FROM cloudtrail
  WHERE eventsource = 'cloudtrail.amazonaws.com'
    AND eventname IN ('CreateTrail', 'UpdateTrail')
    AND json_extract_scalar(requestparameters, '$.s3BucketName') IS NOT NULL
),
lifecycle_calls AS (
  SELECT
    *,
    json_extract_scalar(requestparameters, '$.bucketName') AS bucket,
    coalesce(json_format(json_extract(requestparameters, '$.LifecycleConfiguration')), '') AS lifecycle
  FROM cloudtrail
  WHERE eventsource = 's3.amazonaws.com'
    AND eventname = 'PutBucketLifecycle'
),
short_rules AS (
  SELECT
    l.*,
    t.bucket IS NOT NULL AS known_trail_bucket,
    filter(
      regexp_extract_all(l.lifecycle, '"Expiration"\s*:\s*\{[^{}]*"Days"\s*:\s*"?([0-9]+)', 1),
      d -> CAST(d AS integer) < 90
    ) AS short_days
  FROM lifecycle_calls l
  LEFT JOIN trail_buckets t ON t.bucket = l.bucket
)
SELECT
  eventtime AS event_time,
  coalesce(nullif(useridentity.arn, ''), useridentity.username, useridentity.principalid) AS actor,
  sourceipaddress AS source_ip,
  eventname AS action,
  's3://' || coalesce(bucket, '?') AS target,
  'lifecycle rule expires objects after ' || array_join(short_days, ', ') || ' day(s) on '
    || CASE WHEN known_trail_bucket THEN 'the trail bucket ' ELSE 'trail-like bucket ' END || coalesce(bucket, '?')
    || CASE WHEN errorcode IS NULL THEN '' ELSE ' (attempt failed: ' || errorcode || ')' END AS detail,
  evidence_key,
  evidence_record
FROM short_rules
WHERE cardinality(short_days) > 0
  AND regexp_like(lifecycle, '"Status"\s*:\s*"Enabled"')
  AND (known_trail_bucket OR regexp_like(lower(coalesce(bucket, '')), 'cloudtrail|trail|audit'))
ORDER BY event_time
