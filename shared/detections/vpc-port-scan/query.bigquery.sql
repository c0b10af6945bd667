-- BigQuery Standard SQL twin of query.sql: flows refused from one source within one UTC hour, 20 or more distinct
-- destination ports or addresses. The representative record of a group is its first by (time, evidence key, record
-- index): MIN_BY over that total key.
WITH rejected AS (
  SELECT
    SUBSTR(time, 1, 13) AS hour,
    srcaddr,
    dstaddr,
    dstport,
    protocol,
    time,
    evidence_key,
    evidence_record,
    time || '|' || evidence_key || '|' || LPAD(CAST(evidence_record AS STRING), 10, '0') AS pick
  FROM vpc_flow_logs
  WHERE action = 'REJECT'
    AND COALESCE(log_status, 'OK') = 'OK'
    AND srcaddr IS NOT NULL
    AND dstaddr IS NOT NULL
)
SELECT
  MIN(time) AS event_time,
  srcaddr AS actor,
  srcaddr AS source_ip,
  'REJECT' AS action,
  CASE WHEN COUNT(DISTINCT dstaddr) = 1 THEN MIN(dstaddr) ELSE CAST(COUNT(DISTINCT dstaddr) AS STRING) || ' hosts' END AS target,
  CASE WHEN REGEXP_CONTAINS(LOWER(srcaddr), r'^10\.|^192\.168\.|^172\.(1[6-9]|2[0-9]|3[01])\.|^100\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\.|^f[cd][0-9a-f]{2}:') THEN 'internal' ELSE 'internet' END
    || ' source: ' || CAST(COUNT(DISTINCT dstport) AS STRING) || CASE WHEN COUNT(DISTINCT dstport) = 1 THEN ' distinct port' ELSE ' distinct ports' END || ' on ' || CAST(COUNT(DISTINCT dstaddr) AS STRING) || CASE WHEN COUNT(DISTINCT dstaddr) = 1 THEN ' host' ELSE ' hosts' END || ' refused in hour ' || hour || ':00Z (' || CAST(COUNT(*) AS STRING) || ' flow records, ports '
    || COALESCE(CAST(MIN(dstport) AS STRING), '-') || ' to ' || COALESCE(CAST(MAX(dstport) AS STRING), '-') || ')' AS detail,
  MIN_BY(evidence_key, pick) AS evidence_key,
  MIN_BY(evidence_record, pick) AS evidence_record,
  MIN(time) AS first_time,
  MAX(time) AS last_time,
  COUNT(*) AS records
FROM rejected
GROUP BY hour, srcaddr
HAVING COUNT(DISTINCT dstport) >= 20 OR COUNT(DISTINCT dstaddr) >= 20
ORDER BY event_time, actor
