-- The account's root user acting by itself (CIS AWS Foundations "root account usage" filter): AWS services
-- that act as root on the account's behalf carry userIdentity.invokedBy or the AwsServiceEvent type and are
-- left out, except the console sign-in service (invokedBy signin.amazonaws.com), which is the root user
-- working through the console (password recovery, sign-in steps), not a service acting for it. Failed root calls and sign-ins count too: an attempt at the root user is itself the news.
-- One finding per source address and hour, so a root console session reads as one story with its call count.
-- Hour buckets are cut from the eventtime text (`YYYY-MM-DDTHH`): CloudTrail writes it as fixed-width UTC,
-- and one malformed time then cannot fail the whole query as a timestamp parse would.
WITH root_events AS (
  SELECT
    substr(eventtime, 1, 13) || ':00:00Z' AS bucket,
    coalesce(nullif(useridentity.arn, ''), 'arn:aws:iam::' || coalesce(useridentity.accountid, recipientaccountid) || ':root') AS actor,
    sourceipaddress,
    eventname,
    errorcode,
    recipientaccountid,
    evidence_key,
    evidence_record,
    eventtime || '|' || coalesce(evidence_key, '') || '|' || lpad(coalesce(CAST(evidence_record AS varchar), ''), 10, '0') || '|' || coalesce(eventid, '') AS pick,
    eventid,
    eventtime
  FROM cloudtrail
  WHERE useridentity.type = 'Root'
    AND (useridentity.invokedby IS NULL OR useridentity.invokedby = 'signin.amazonaws.com')
    AND coalesce(eventtype, '') <> 'AwsServiceEvent'
)
SELECT
  min(eventtime) AS event_time,
  actor,
  sourceipaddress AS source_ip,
  min_by(eventname, pick) AS action,
  'account ' || coalesce(max(recipientaccountid), '?') AS target,
  'root user made ' || CAST(count(*) AS varchar) || CASE WHEN count(*) = 1 THEN ' call' ELSE ' calls' END || ' in 1 hour (' || array_join(array_distinct(array_agg(eventname ORDER BY eventname)), ', ')
    || '), ' || CAST(count_if(errorcode IS NOT NULL) AS varchar) || ' failed; first event ' || coalesce(min_by(eventid, pick), '?') AS detail,
  min_by(evidence_key, pick) AS evidence_key,
  min_by(evidence_record, pick) AS evidence_record,
  min(eventtime) AS first_time,
  max(eventtime) AS last_time,
  count(*) AS records
FROM root_events
GROUP BY bucket, actor, sourceipaddress
ORDER BY event_time, actor
