-- Discovery by an instance-role session (assumed-role ARN ending in /i-<hex>): IAM, STS, EC2 describe, trail,
-- detector, organization and inventory reads, and S3 ListBuckets / GetBucket*. At least {{min_actions}} distinct actions
-- across {{min_services}} services in an hour; failed calls count (discovery is often refused).
WITH calls AS (
  SELECT
    substr(eventtime, 1, 13) AS bucket,
    useridentity.arn AS actor,
    sourceipaddress,
    eventsource,
    eventname,
    errorcode,
    evidence_key,
    evidence_record,
    eventtime || '|' || coalesce(evidence_key, '') || '|' || lpad(coalesce(CAST(evidence_record AS varchar), ''), 10, '0') || '|' || coalesce(eventid, '') AS pick,
    eventtime
  FROM cloudtrail
  WHERE useridentity.type = 'AssumedRole'
    AND regexp_like(coalesce(useridentity.arn, ''), '^arn:aws[a-z-]*:sts::[0-9]{12}:assumed-role/[^/]+/i-[0-9a-f]{8,17}$')
    AND (
      (eventsource IN ('iam.amazonaws.com', 'cloudtrail.amazonaws.com', 'guardduty.amazonaws.com', 'organizations.amazonaws.com',
        'securityhub.amazonaws.com', 'config.amazonaws.com', 'secretsmanager.amazonaws.com', 'lambda.amazonaws.com', 'rds.amazonaws.com')
        AND regexp_like(eventname, '^(List|Describe|Get)'))
      OR (eventsource = 'sts.amazonaws.com' AND eventname = 'GetCallerIdentity')
      OR (eventsource = 'ec2.amazonaws.com' AND regexp_like(eventname, '^Describe'))
      OR (eventsource = 's3.amazonaws.com' AND regexp_like(eventname, '^(ListBuckets|GetBucket)'))
    )
)
SELECT
  min(eventtime) AS event_time,
  actor,
  min_by(sourceipaddress, pick) AS source_ip,
  min_by(eventname, pick) AS action,
  regexp_extract(actor, '(i-[0-9a-f]+)$', 1) AS target,
  CAST(count(DISTINCT eventname) AS varchar) || ' discovery actions on ' || CAST(count(DISTINCT eventsource) AS varchar) || ' services ('
    || array_join(array_distinct(array_agg(eventname ORDER BY eventname)), ', ') || '), '
    || CAST(count_if(errorcode IS NOT NULL) AS varchar) || ' failed' AS detail,
  min_by(evidence_key, pick) AS evidence_key,
  min_by(evidence_record, pick) AS evidence_record,
  min(eventtime) AS first_time,
  max(eventtime) AS last_time,
  count(*) AS records
FROM calls
GROUP BY bucket, actor
HAVING count(DISTINCT eventname) >= {{min_actions}} AND count(DISTINCT eventsource) >= {{min_services}}
ORDER BY event_time, actor
