-- CloudTrail blinded: logging stopped (StopLogging), a trail or event data store deleted, a trail narrowed
-- (UpdateTrail turning off multi-region, global-service or log-file validation, or moving the trail to
-- another bucket), or event selectors that no longer record management events: no basic selector with
-- IncludeManagementEvents true and ReadWriteType All (absent ReadWriteType means All), and no advanced
-- selector on eventCategory Management. CloudTrail Lake: StopEventDataStoreIngestion, DeleteEventDataStore.
-- Failed attempts are reported too (the detail says so): trying to stop the audit trail is itself evidence
-- of intent, whatever the outcome.
WITH trail_calls AS (
  SELECT
    *,
    regexp_extract_all(
      coalesce(json_format(json_extract(requestparameters, '$.eventSelectors')), ''),
      '\{(?:[^{}]|\{(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*\})*\}'
    ) AS selectors
  FROM cloudtrail
  WHERE eventsource = 'cloudtrail.amazonaws.com'
    AND eventname IN ('StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors', 'StopEventDataStoreIngestion', 'DeleteEventDataStore')
),
weakened AS (
  SELECT
    *,
    CASE
      WHEN eventname = 'StopLogging' THEN 'logging stopped'
      WHEN eventname = 'DeleteTrail' THEN 'trail deleted'
      WHEN eventname = 'StopEventDataStoreIngestion' THEN 'event data store ingestion stopped'
      WHEN eventname = 'DeleteEventDataStore' THEN 'event data store deleted'
      WHEN eventname = 'UpdateTrail' AND lower(json_extract_scalar(requestparameters, '$.isMultiRegionTrail')) = 'false' THEN 'trail limited to one region'
      WHEN eventname = 'UpdateTrail' AND lower(json_extract_scalar(requestparameters, '$.includeGlobalServiceEvents')) = 'false' THEN 'global service events (IAM, STS) dropped'
      WHEN eventname = 'UpdateTrail' AND lower(json_extract_scalar(requestparameters, '$.enableLogFileValidation')) = 'false' THEN 'log file validation turned off'
      WHEN eventname = 'UpdateTrail' AND json_extract_scalar(requestparameters, '$.s3BucketName') IS NOT NULL
        THEN 'trail delivery moved to bucket ' || json_extract_scalar(requestparameters, '$.s3BucketName')
      WHEN eventname = 'PutEventSelectors' AND json_extract(requestparameters, '$.advancedEventSelectors') IS NOT NULL
        AND NOT regexp_like(json_format(json_extract(requestparameters, '$.advancedEventSelectors')), '"Management"')
        THEN 'advanced event selectors no longer record management events'
      WHEN eventname = 'PutEventSelectors' AND json_extract(requestparameters, '$.eventSelectors') IS NOT NULL
        AND cardinality(filter(selectors, s ->
          regexp_like(s, '"includeManagementEvents"\s*:\s*true')
          AND NOT regexp_like(s, '"readWriteType"\s*:\s*"(ReadOnly|WriteOnly)"'))) = 0
        THEN 'event selectors no longer record all management events'
    END AS change
  FROM trail_calls
)
SELECT
  eventtime AS event_time,
  coalesce(nullif(useridentity.arn, ''), useridentity.username, useridentity.principalid) AS actor,
  sourceipaddress AS source_ip,
  eventname AS action,
  coalesce(
    json_extract_scalar(requestparameters, '$.name'),
    json_extract_scalar(requestparameters, '$.trailName'),
    json_extract_scalar(requestparameters, '$.eventDataStore'),
    '?'
  ) AS target,
  change || CASE WHEN errorcode IS NULL THEN '' ELSE ' (attempt failed: ' || errorcode || ')' END AS detail,
  evidence_key,
  evidence_record
FROM weakened
WHERE change IS NOT NULL
ORDER BY event_time
