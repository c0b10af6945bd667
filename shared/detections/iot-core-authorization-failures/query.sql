-- A client refused again and again: failed Connect / Publish-In / Subscribe entries whose reason or details
-- name an authentication or authorization failure (AUTHORIZATION_FAILURE, AUTHENTICATION_FAILURE,
-- "Not authorized", Forbidden), and Connection.AuthNError entries. The client is its client id, else its
-- certificate principal, else its address. Threshold: five or more in one 10-minute bucket cut from the `time`
-- text (`YYYY-MM-DDTHH:M`), which stays below a device retrying one forbidden topic at a slow back-off.
WITH refused AS (
  SELECT
    coalesce(nullif(clientid, 'N/A'), principalid, sourceip, 'unknown client') AS client,
    substr(time, 1, 15) AS bucket,
    time,
    eventtype,
    topicname,
    sourceip,
    coalesce(reason, details, status) AS why,
    evidence_key,
    evidence_record,
    time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS varchar), 10, '0') AS pick
  FROM iot_core_logs
  WHERE lower(status) = 'failure'
    AND (
      eventtype = 'Connection.AuthNError'
      OR (eventtype IN ('Connect', 'Publish-In', 'Subscribe')
          AND regexp_like(upper(coalesce(reason, '') || ' ' || coalesce(details, '')), 'AUTHORI[SZ]ATION|AUTHENTICATION|NOT AUTHORI[SZ]ED|FORBIDDEN|UNAUTHORI[SZ]ED'))
    )
)
SELECT
  min(time) AS event_time,
  client AS actor,
  min_by(sourceip, pick) AS source_ip,
  min_by(eventtype, pick) AS action,
  coalesce(min_by(topicname, pick), client) AS target,
  CAST(count(*) AS varchar) || ' refused operations in 10 min (' || array_join(array_distinct(array_agg(eventtype ORDER BY eventtype)), ', ')
    || ') on ' || CAST(count(DISTINCT topicname) AS varchar) || CASE WHEN count(DISTINCT topicname) = 1 THEN ' topic' ELSE ' topics' END || ': '
    || CASE WHEN count(topicname) = 0 THEN 'none' ELSE array_join(array_distinct(array_agg(topicname ORDER BY topicname)), ', ') END
    || '; reason ' || coalesce(min_by(why, pick), 'not logged') || '; from '
    || CASE WHEN count(sourceip) = 0 THEN 'an unlogged address' ELSE array_join(array_distinct(array_agg(sourceip ORDER BY sourceip)), ', ') END AS detail,
  min_by(evidence_key, pick) AS evidence_key,
  min_by(evidence_record, pick) AS evidence_record,
  min(time) AS first_time,
  max(time) AS last_time,
  count(*) AS records
FROM refused
GROUP BY client, bucket
HAVING count(*) >= 5
ORDER BY event_time, actor
