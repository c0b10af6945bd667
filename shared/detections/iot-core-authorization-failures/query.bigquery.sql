-- BigQuery Standard SQL twin of query.sql (same logic, same columns; see its comments). The representative record
-- of a group is its first by (time, evidence key, record index): MIN_BY over that total key.
-- Lists are STRING_AGG(DISTINCT x ORDER BY x) with the Athena SQL's separators (a value holding a comma reads as two).
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
    time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS STRING), 10, '0') AS pick
  FROM iot_core_logs
  WHERE lower(status) = 'failure'
    AND (
      eventtype = 'Connection.AuthNError'
      OR (eventtype IN ('Connect', 'Publish-In', 'Subscribe')
          AND REGEXP_CONTAINS(upper(coalesce(reason, '') || ' ' || coalesce(details, '')), r'AUTHORI[SZ]ATION|AUTHENTICATION|NOT AUTHORI[SZ]ED|FORBIDDEN|UNAUTHORI[SZ]ED'))
    )
)
SELECT
  min(time) AS event_time,
  client AS actor,
  min_by(sourceip, pick) AS source_ip,
  min_by(eventtype, pick) AS action,
  coalesce(min_by(topicname, pick), client) AS target,
  CAST(count(*) AS STRING) || ' refused operations in 10 min (' || REPLACE(STRING_AGG(DISTINCT eventtype ORDER BY eventtype), ',', ', ')
    || ') on ' || CAST(count(DISTINCT topicname) AS STRING) || CASE WHEN count(DISTINCT topicname) = 1 THEN ' topic' ELSE ' topics' END || ': '
    || CASE WHEN count(topicname) = 0 THEN 'none' ELSE REPLACE(STRING_AGG(DISTINCT topicname ORDER BY topicname), ',', ', ') END
    || '; reason ' || coalesce(min_by(why, pick), 'not logged') || '; from '
    || CASE WHEN count(sourceip) = 0 THEN 'an unlogged address' ELSE REPLACE(STRING_AGG(DISTINCT sourceip ORDER BY sourceip), ',', ', ') END AS detail,
  min_by(evidence_key, pick) AS evidence_key,
  min_by(evidence_record, pick) AS evidence_record,
  min(time) AS first_time,
  max(time) AS last_time,
  count(*) AS records
FROM refused
GROUP BY client, bucket
HAVING count(*) >= 5
ORDER BY event_time, actor
