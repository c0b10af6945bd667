-- SES reconnaissance: at least three distinct SES discovery calls (classic and v2 API names) by one principal in
-- an hour. A single quota check is routine; the sequence is what stolen keys are put through.
WITH calls AS (
  SELECT
    substr(eventtime, 1, 13) AS bucket,
    coalesce(nullif(useridentity.arn, ''), useridentity.username, useridentity.principalid) AS actor,
    sourceipaddress,
    eventname,
    awsregion,
    evidence_key,
    evidence_record,
    eventtime || '|' || coalesce(evidence_key, '') || '|' || lpad(coalesce(CAST(evidence_record AS varchar), ''), 10, '0') || '|' || coalesce(eventid, '') AS pick,
    eventtime
  FROM cloudtrail
  WHERE eventsource = 'ses.amazonaws.com'
    AND eventname IN ('GetAccountSendingEnabled', 'GetSendQuota', 'GetSendStatistics', 'GetAccount', 'ListIdentities',
      'ListEmailIdentities', 'GetIdentityVerificationAttributes', 'ListVerifiedEmailAddresses', 'GetIdentityDkimAttributes')
)
SELECT
  min(eventtime) AS event_time,
  actor,
  min_by(sourceipaddress, pick) AS source_ip,
  min_by(eventname, pick) AS action,
  'SES in ' || array_join(array_distinct(array_agg(awsregion ORDER BY awsregion)), ', ') AS target,
  CAST(count(DISTINCT eventname) AS varchar) || ' SES discovery calls: ' || array_join(array_distinct(array_agg(eventname ORDER BY eventname)), ', ') AS detail,
  min_by(evidence_key, pick) AS evidence_key,
  min_by(evidence_record, pick) AS evidence_record,
  min(eventtime) AS first_time,
  max(eventtime) AS last_time,
  count(*) AS records
FROM calls
GROUP BY bucket, actor
HAVING count(DISTINCT eventname) >= 3
ORDER BY event_time, actor
