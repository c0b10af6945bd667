-- One-time SSH keys pushed through EC2 Instance Connect (SendSSHPublicKey) or to the EC2 serial console
-- (SendSerialConsoleSSHPublicKey). One finding per principal, hour and call, naming each instance and OS user
-- (the serial console has none: it logs in at the console). Failed pushes count.
WITH pushes AS (
  SELECT
    substr(eventtime, 1, 13) AS bucket,
    coalesce(nullif(useridentity.arn, ''), useridentity.username, useridentity.principalid) AS actor,
    sourceipaddress,
    eventname,
    errorcode,
    coalesce(json_extract_scalar(requestparameters, '$.instanceId'), '?')
      || coalesce(' as ' || json_extract_scalar(requestparameters, '$.instanceOSUser'), '') AS target,
    evidence_key,
    evidence_record,
    eventtime || '|' || coalesce(evidence_key, '') || '|' || lpad(coalesce(CAST(evidence_record AS varchar), ''), 10, '0') || '|' || coalesce(eventid, '') AS pick,
    eventtime
  FROM cloudtrail
  WHERE eventsource = 'ec2-instance-connect.amazonaws.com'
    AND eventname IN ('SendSSHPublicKey', 'SendSerialConsoleSSHPublicKey')
)
SELECT
  min(eventtime) AS event_time,
  actor,
  min_by(sourceipaddress, pick) AS source_ip,
  eventname AS action,
  array_join(array_distinct(array_agg(target ORDER BY target)), ', ') AS target,
  CASE WHEN eventname = 'SendSerialConsoleSSHPublicKey' THEN 'serial console key' ELSE 'Instance Connect key' END
    || ' pushed to ' || CAST(count(DISTINCT target) AS varchar) || CASE WHEN count(DISTINCT target) = 1 THEN ' instance' ELSE ' instances' END
    || ', ' || CAST(count(*) AS varchar) || CASE WHEN count(*) = 1 THEN ' call' ELSE ' calls' END
    || ', ' || CAST(count_if(errorcode IS NOT NULL) AS varchar) || ' failed' AS detail,
  min_by(evidence_key, pick) AS evidence_key,
  min_by(evidence_record, pick) AS evidence_record,
  min(eventtime) AS first_time,
  max(eventtime) AS last_time,
  count(*) AS records
FROM pushes
GROUP BY bucket, actor, eventname
ORDER BY event_time, actor, action
