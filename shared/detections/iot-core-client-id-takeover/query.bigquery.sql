-- BigQuery Standard SQL twin of query.sql (same logic, same columns; see its comments). The representative record
-- of a group is its first by (time, evidence key, record index): MIN_BY over that total key.
-- Lists are STRING_AGG(DISTINCT x ORDER BY x) with the Athena SQL's separators (a value holding a comma reads as two).
WITH takeovers AS (
  SELECT
    clientid,
    substr(time, 1, 13) AS hour,
    time,
    sourceip,
    evidence_key,
    evidence_record,
    time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS STRING), 10, '0') AS pick
  FROM iot_core_logs
  WHERE eventtype = 'Disconnect'
    AND upper(disconnectreason) IN ('DUPLICATE_CLIENTID', 'DUPLICATE_CLIENT_ID')
    AND clientid IS NOT NULL
),
connects AS (
  SELECT
    clientid,
    substr(time, 1, 13) AS hour,
    count(DISTINCT sourceip) AS addresses,
    REPLACE(STRING_AGG(DISTINCT sourceip ORDER BY sourceip), ',', ', ') AS ips
  FROM iot_core_logs
  WHERE eventtype = 'Connect' AND clientid IS NOT NULL AND sourceip IS NOT NULL
  GROUP BY clientid, substr(time, 1, 13)
)
SELECT
  min(t.time) AS event_time,
  t.clientid AS actor,
  min_by(t.sourceip, t.pick) AS source_ip,
  'Disconnect' AS action,
  t.clientid AS target,
  CAST(count(*) AS STRING) || ' DUPLICATE_CLIENTID disconnects between ' || min(t.time) || ' and ' || max(t.time)
    || '; connections in that hour from ' || CAST(coalesce(max(c.addresses), 0) AS STRING) || CASE WHEN coalesce(max(c.addresses), 0) = 1 THEN ' address' ELSE ' addresses' END || ': '
    || coalesce(max(c.ips), 'none logged') AS detail,
  min_by(t.evidence_key, t.pick) AS evidence_key,
  min_by(t.evidence_record, t.pick) AS evidence_record,
  min(t.time) AS first_time,
  max(t.time) AS last_time,
  count(*) AS records
FROM takeovers t
LEFT JOIN connects c ON c.clientid = t.clientid AND c.hour = t.hour
GROUP BY t.clientid, t.hour
HAVING count(*) >= 3
ORDER BY event_time, actor
