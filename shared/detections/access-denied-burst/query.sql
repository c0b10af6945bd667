-- Reconnaissance by trial and error: one principal refused many times across several different actions,
-- as enumeration tools (Pacu, ScoutSuite, enumerate-iam) and stolen credentials probing their reach do.
-- Errors counted: AccessDenied, AccessDeniedException, UnauthorizedOperation, Client.UnauthorizedOperation.
-- Threshold: min_refusals (default 10) or more refusals and min_actions (default 5) or more distinct actions
-- by one principal in a 10-minute bucket.
-- Buckets are cut from the eventtime text (`YYYY-MM-DDTHH:M` is a 10-minute bucket): CloudTrail writes it as
-- fixed-width UTC, and one malformed time then cannot fail the whole query as a parse would.
-- One action failing over and over is a misconfigured application, not reconnaissance, and stays below the
-- distinct-action bar. Calls made by AWS services (source
-- `*.amazonaws.com` or 'AWS Internal', or invokedBy set), such as Config or Security Hub scans running with
-- limited permissions, are left out.
WITH denied AS (
  SELECT
    substr(eventtime, 1, 15) || '0:00Z' AS bucket,
    coalesce(nullif(useridentity.arn, ''), useridentity.username, useridentity.principalid, 'unknown principal') AS actor,
    sourceipaddress,
    eventsource,
    eventname,
    errorcode,
    evidence_key,
    evidence_record,
    eventid,
    eventtime,
    eventtime || '|' || coalesce(evidence_key, '') || '|' || lpad(coalesce(CAST(evidence_record AS varchar), ''), 10, '0') || '|' || coalesce(eventid, '') AS pick
  FROM cloudtrail
  WHERE errorcode IN ('AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'Client.UnauthorizedOperation')
    AND useridentity.invokedby IS NULL
    AND NOT regexp_like(coalesce(sourceipaddress, ''), '(^|\.)amazonaws\.com$|^AWS Internal$')
)
SELECT
  min(eventtime) AS event_time,
  actor,
  min_by(sourceipaddress, pick) AS source_ip,
  min_by(eventname, pick) AS action,
  CAST(count(DISTINCT eventsource) AS varchar) || CASE WHEN count(DISTINCT eventsource) = 1 THEN ' service' ELSE ' services' END || ': '
    || array_join(array_distinct(array_agg(regexp_extract(eventsource, '^[^.]+') ORDER BY regexp_extract(eventsource, '^[^.]+'))), ', ') AS target,
  CAST(count(*) AS varchar) || ' AccessDenied in 10 min across ' || CAST(count(DISTINCT eventname) AS varchar) || CASE WHEN count(DISTINCT eventname) = 1 THEN ' action' ELSE ' actions' END || ' on '
    || CAST(count(DISTINCT eventsource) AS varchar) || CASE WHEN count(DISTINCT eventsource) = 1 THEN ' service' ELSE ' services' END || ' from ' || CAST(count(DISTINCT sourceipaddress) AS varchar) || CASE WHEN count(DISTINCT sourceipaddress) = 1 THEN ' address' ELSE ' addresses' END || '; first event ' || coalesce(min_by(eventid, pick), '?') AS detail,
  min_by(evidence_key, pick) AS evidence_key,
  min_by(evidence_record, pick) AS evidence_record,
  min(eventtime) AS first_time,
  max(eventtime) AS last_time,
  count(*) AS records
FROM denied
GROUP BY bucket, actor
HAVING count(*) >= {{min_refusals}} AND count(DISTINCT eventname) >= {{min_actions}}
ORDER BY event_time, actor
