-- Console password guessing or spraying: failed ConsoleLogin events from one source address.
-- Threshold: min_failures (default 5) or more failures from one address inside a 10-minute bucket (CrowdSec's aws-bf scenario
-- uses the same 5). Several user names from one address is spraying; the detail says how many users were
-- tried. The bucket is cut from the eventtime text (`YYYY-MM-DDTHH:M`): CloudTrail writes it as fixed-width
-- UTC, and one malformed time then cannot fail the whole query as a timestamp parse would. A burst that
-- straddles a bucket edge can split below the threshold; the scheduled run's window covers whole buckets.
WITH failures AS (
  SELECT
    substr(eventtime, 1, 15) || '0:00Z' AS bucket,
    sourceipaddress,
    coalesce(nullif(useridentity.username, ''), nullif(useridentity.arn, ''), useridentity.principalid, 'unknown user') AS login_name,
    eventname,
    recipientaccountid,
    evidence_key,
    evidence_record,
    eventid,
    eventtime,
    eventtime || '|' || coalesce(evidence_key, '') || '|' || lpad(coalesce(CAST(evidence_record AS varchar), ''), 10, '0') || '|' || coalesce(eventid, '') AS pick
  FROM cloudtrail
  WHERE eventname = 'ConsoleLogin'
    AND eventsource = 'signin.amazonaws.com'
    AND (json_extract_scalar(responseelements, '$.ConsoleLogin') = 'Failure' OR errormessage = 'Failed authentication')
)
SELECT
  min(eventtime) AS event_time,
  CASE
    WHEN count(DISTINCT login_name) = 1 THEN min_by(login_name, pick)
    ELSE min_by(login_name, pick) || ' and ' || CAST(count(DISTINCT login_name) - 1 AS varchar) || CASE WHEN count(DISTINCT login_name) - 1 = 1 THEN ' other user' ELSE ' other users' END
  END AS actor,
  sourceipaddress AS source_ip,
  min_by(eventname, pick) AS action,
  'console of account ' || coalesce(max(recipientaccountid), '?') AS target,
  CAST(count(*) AS varchar) || ' failed console logins in 10 min for ' || CAST(count(DISTINCT login_name) AS varchar) || CASE WHEN count(DISTINCT login_name) = 1 THEN ' user' ELSE ' users' END || '; first event ' || coalesce(min_by(eventid, pick), '?') AS detail,
  min_by(evidence_key, pick) AS evidence_key,
  min_by(evidence_record, pick) AS evidence_record,
  min(eventtime) AS first_time,
  max(eventtime) AS last_time,
  count(*) AS records
FROM failures
GROUP BY bucket, sourceipaddress
HAVING count(*) >= {{min_failures}}
ORDER BY event_time, source_ip
