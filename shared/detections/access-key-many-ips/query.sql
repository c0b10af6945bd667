-- One access key used from many places at once: a leaked key used by several parties, or by a tool spraying
-- from many hosts. Threshold: within one hour, 3 or more distinct source addresses, or 10 or more distinct user
-- agents (a lower user-agent bar fires on every busy engineer: CLI, SDKs and Terraform providers each have
-- their own). Only IP-literal sources count: AWS services calling with the key on the caller's behalf show a
-- service name (`*.amazonaws.com`, 'AWS Internal') instead of an address and are left out.
-- Hour buckets are cut from the eventtime text (`YYYY-MM-DDTHH`): CloudTrail writes it as fixed-width UTC,
-- and one malformed time then cannot fail the whole query as a timestamp parse would.
WITH key_use AS (
  SELECT
    substr(eventtime, 1, 13) || ':00:00Z' AS bucket,
    useridentity.accesskeyid AS access_key,
    coalesce(nullif(useridentity.arn, ''), useridentity.username, useridentity.principalid) AS actor,
    sourceipaddress,
    useragent,
    eventname,
    evidence_key,
    evidence_record,
    eventid,
    eventtime
  FROM cloudtrail
  WHERE coalesce(useridentity.accesskeyid, '') <> ''
    AND useridentity.invokedby IS NULL
    AND (regexp_like(sourceipaddress, '^[0-9]{1,3}(\.[0-9]{1,3}){3}$') OR regexp_like(sourceipaddress, '^[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*$'))
),
-- Counting first and describing only the keys over the threshold keeps the cost of the detail strings off
-- the (many) quiet key-hours.
hot AS (
  SELECT bucket, access_key
  FROM key_use
  GROUP BY bucket, access_key
  HAVING count(DISTINCT sourceipaddress) >= 3 OR count(DISTINCT useragent) >= 10
),
hot_use AS (
  SELECT
    k.*,
    k.eventtime || '|' || coalesce(k.evidence_key, '') || '|' || lpad(coalesce(CAST(k.evidence_record AS varchar), ''), 10, '0') || '|' || coalesce(k.eventid, '') AS pick
  FROM key_use k
  JOIN hot h ON k.bucket = h.bucket AND k.access_key = h.access_key
)
SELECT
  min(eventtime) AS event_time,
  min_by(actor, pick) AS actor,
  min_by(sourceipaddress, pick) AS source_ip,
  min_by(eventname, pick) AS action,
  'access key ' || access_key AS target,
  'key used from ' || CAST(count(DISTINCT sourceipaddress) AS varchar) || CASE WHEN count(DISTINCT sourceipaddress) = 1 THEN ' address' ELSE ' addresses' END || ' ('
    || array_join(array_distinct(array_agg(sourceipaddress ORDER BY sourceipaddress)), ', ') || ') with '
    || CAST(count(DISTINCT useragent) AS varchar) || CASE WHEN count(DISTINCT useragent) = 1 THEN ' user agent' ELSE ' user agents' END || ' in 1 hour, ' || CAST(count(*) AS varchar) || CASE WHEN count(*) = 1 THEN ' call' ELSE ' calls' END || '; first event '
    || coalesce(min_by(eventid, pick), '?') AS detail,
  min_by(evidence_key, pick) AS evidence_key,
  min_by(evidence_record, pick) AS evidence_record,
  min(eventtime) AS first_time,
  max(eventtime) AS last_time,
  count(*) AS records
FROM hot_use
GROUP BY bucket, access_key
ORDER BY event_time, target
