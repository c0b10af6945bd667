-- Two connections fighting over one client id. AWS IoT Core allows one connection per client id and
-- disconnects the older one with disconnectReason DUPLICATE_CLIENTID (the documented spelling;
-- DUPLICATE_CLIENT_ID is accepted too) when another connects with the same id. One such disconnect is routine:
-- a device reconnecting from a new network before its old connection timed out. Three or more within one hour
-- (the hour cut from the `time` text) are a tug of war between two holders of the same identity.
-- The detail lists the addresses that connected with the id in that hour.
WITH takeovers AS (
  SELECT
    clientid,
    substr(time, 1, 13) AS hour,
    time,
    sourceip,
    evidence_key,
    evidence_record,
    time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS varchar), 10, '0') AS pick
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
    array_join(array_distinct(array_agg(sourceip ORDER BY sourceip)), ', ') AS ips
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
  CAST(count(*) AS varchar) || ' DUPLICATE_CLIENTID disconnects between ' || min(t.time) || ' and ' || max(t.time)
    || '; connections in that hour from ' || CAST(coalesce(max(c.addresses), 0) AS varchar) || CASE WHEN coalesce(max(c.addresses), 0) = 1 THEN ' address' ELSE ' addresses' END || ': '
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
