-- Bedrock runtime calls that run a model: InvokeModel, InvokeModelWithResponseStream, Converse, ConverseStream.
-- One finding per principal and hour with the distinct models (modelId) and the failed share: LLMjacking
-- usually tries several models and regions, many of which are denied.
WITH calls AS (
  SELECT
    substr(eventtime, 1, 13) AS bucket,
    coalesce(nullif(useridentity.arn, ''), useridentity.username, useridentity.principalid) AS actor,
    sourceipaddress,
    eventname,
    errorcode,
    coalesce(json_extract_scalar(requestparameters, '$.modelId'), '?') AS model,
    evidence_key,
    evidence_record,
    eventtime || '|' || coalesce(evidence_key, '') || '|' || lpad(coalesce(CAST(evidence_record AS varchar), ''), 10, '0') || '|' || coalesce(eventid, '') AS pick,
    eventtime
  FROM cloudtrail
  WHERE eventsource = 'bedrock.amazonaws.com'
    AND eventname IN ('InvokeModel', 'InvokeModelWithResponseStream', 'Converse', 'ConverseStream')
)
SELECT
  min(eventtime) AS event_time,
  actor,
  min_by(sourceipaddress, pick) AS source_ip,
  min_by(eventname, pick) AS action,
  array_join(array_distinct(array_agg(model ORDER BY model)), ', ') AS target,
  CAST(count(*) AS varchar) || CASE WHEN count(*) = 1 THEN ' model invocation' ELSE ' model invocations' END
    || ' of ' || CAST(count(DISTINCT model) AS varchar) || CASE WHEN count(DISTINCT model) = 1 THEN ' model' ELSE ' models' END
    || ', ' || CAST(count_if(errorcode IS NOT NULL) AS varchar) || ' failed' AS detail,
  min_by(evidence_key, pick) AS evidence_key,
  min_by(evidence_record, pick) AS evidence_record,
  min(eventtime) AS first_time,
  max(eventtime) AS last_time,
  count(*) AS records
FROM calls
GROUP BY bucket, actor
ORDER BY event_time, actor
