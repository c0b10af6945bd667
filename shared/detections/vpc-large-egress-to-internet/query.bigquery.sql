-- BigQuery Standard SQL twin of query.sql (same logic, same columns; see its comments). The representative record
-- of a group is its first by (time, evidence key, record index): MIN_BY over that total key.
WITH outbound AS (
  SELECT
    substr(time, 1, 13) AS hour,
    srcaddr,
    dstaddr,
    dstport,
    bytes,
    interface_id,
    time,
    evidence_key,
    evidence_record,
    time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS STRING), 10, '0') AS pick,
    -- the largest record, ties broken by position, so the detail is the same on every engine
    lpad(CAST(bytes AS STRING), 20, '0') || '|' || time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS STRING), 10, '0') AS heaviest
  FROM vpc_flow_logs
  WHERE action = 'ACCEPT'
    AND coalesce(log_status, 'OK') = 'OK'
    AND bytes IS NOT NULL
    AND srcaddr IS NOT NULL
    AND NOT (coalesce(srcport, 65535) < 1024 AND coalesce(dstport, 0) >= 1024)
    AND NOT REGEXP_CONTAINS(lower(coalesce(dstaddr, '')), r'^$|^(10|127|0)\.|^169\.254\.|^192\.168\.|^172\.(1[6-9]|2[0-9]|3[01])\.|^100\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\.|^(22[4-9]|2[3-5][0-9])\.|^f[cd][0-9a-f]{2}:|^fe[89ab][0-9a-f]:|^ff[0-9a-f]{2}:|^::1?$')
    AND (flow_direction = 'egress'
      OR (flow_direction IS NULL AND REGEXP_CONTAINS(lower(srcaddr), r'^10\.|^192\.168\.|^172\.(1[6-9]|2[0-9]|3[01])\.|^100\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\.|^f[cd][0-9a-f]{2}:')))
)
SELECT
  min(time) AS event_time,
  srcaddr AS actor,
  srcaddr AS source_ip,
  'ACCEPT' AS action,
  CASE WHEN count(DISTINCT dstaddr) = 1 THEN min(dstaddr) ELSE CAST(count(DISTINCT dstaddr) AS STRING) || ' destinations' END AS target,
  FORMAT('%.2f', ROUND(sum(bytes) / 1073741824.0, 2)) || ' GiB to the internet in hour ' || hour || ':00Z across '
    || CAST(count(*) AS STRING) || CASE WHEN count(*) = 1 THEN ' flow record' ELSE ' flow records' END || ' to ' || CAST(count(DISTINCT dstaddr) AS STRING) || CASE WHEN count(DISTINCT dstaddr) = 1 THEN ' address' ELSE ' addresses' END || '; largest destination '
    || max_by(dstaddr, heaviest) || ':' || coalesce(CAST(max_by(dstport, heaviest) AS STRING), '-') || '; interface ' || coalesce(min_by(interface_id, pick), '?') AS detail,
  min_by(evidence_key, pick) AS evidence_key,
  min_by(evidence_record, pick) AS evidence_record,
  min(time) AS first_time,
  max(time) AS last_time,
  count(*) AS records
FROM outbound
GROUP BY hour, srcaddr
HAVING sum(bytes) > 1073741824
ORDER BY event_time, actor
