-- Systems Manager remote execution: SendCommand (Run Command) and StartSession (Session Manager). The instances
-- are every instance or managed-node id named in the request (instanceIds for SendCommand, target for
-- StartSession); a SendCommand aimed by tag has none and says so. Calls made by Systems Manager itself carry
-- userIdentity.invokedBy and are left out. One finding per principal, hour and call, with the group's earliest
-- record cited; failed calls count (an attempt at every instance is itself the news).
WITH calls AS (
  SELECT
    substr(eventtime, 1, 13) AS bucket,
    coalesce(nullif(useridentity.arn, ''), useridentity.username, useridentity.principalid) AS actor,
    sourceipaddress,
    eventname,
    errorcode,
    array_join(regexp_extract_all(coalesce(requestparameters, ''), '"(m?i-[0-9a-f]{8,17})"', 1), ',') AS instances,
    coalesce(json_extract_scalar(requestparameters, '$.documentName'), CASE WHEN eventname = 'StartSession' THEN 'interactive shell' END) AS document,
    evidence_key,
    evidence_record,
    eventtime || '|' || coalesce(evidence_key, '') || '|' || lpad(coalesce(CAST(evidence_record AS varchar), ''), 10, '0') || '|' || coalesce(eventid, '') AS pick,
    eventtime
  FROM cloudtrail
  WHERE eventsource = 'ssm.amazonaws.com'
    AND eventname IN ('SendCommand', 'StartSession')
    AND useridentity.invokedby IS NULL
),
grouped AS (
  SELECT
    bucket,
    actor,
    eventname,
    filter(array_distinct(split(array_join(array_agg(nullif(instances, '') ORDER BY instances), ','), ',')), x -> x <> '') AS targets,
    array_join(array_distinct(array_agg(document ORDER BY document)), ', ') AS documents,
    count_if(errorcode IS NOT NULL) AS failed,
    min_by(sourceipaddress, pick) AS source_ip,
    min_by(evidence_key, pick) AS evidence_key,
    min_by(evidence_record, pick) AS evidence_record,
    min(eventtime) AS first_time,
    max(eventtime) AS last_time,
    count(*) AS records
  FROM calls
  GROUP BY bucket, actor, eventname
)
SELECT
  first_time AS event_time,
  actor,
  source_ip,
  eventname AS action,
  CASE WHEN cardinality(targets) = 0 THEN 'instances chosen by tag' ELSE array_join(targets, ', ') END AS target,
  eventname || ' on ' || CAST(cardinality(targets) AS varchar) || CASE WHEN cardinality(targets) = 1 THEN ' instance' ELSE ' instances' END
    || ' (' || coalesce(documents, '?') || '), ' || CAST(records AS varchar) || CASE WHEN records = 1 THEN ' call' ELSE ' calls' END
    || ', ' || CAST(failed AS varchar) || ' failed' AS detail,
  evidence_key,
  evidence_record,
  first_time,
  last_time,
  records
FROM grouped
ORDER BY event_time, actor
