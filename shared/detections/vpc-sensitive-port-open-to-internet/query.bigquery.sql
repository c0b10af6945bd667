-- BigQuery Standard SQL twin of query.sql (same logic, same columns; see its comments). The representative record
-- of a group is its first by (time, evidence key, record index): MIN_BY over that total key.
WITH exposed AS (
  SELECT
    substr(time, 1, 10) AS day,
    srcaddr,
    dstaddr,
    dstport,
    packets,
    bytes,
    interface_id,
    instance_id,
    time,
    evidence_key,
    evidence_record,
    time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS STRING), 10, '0') AS pick
  FROM vpc_flow_logs
  WHERE action = 'ACCEPT'
    AND coalesce(log_status, 'OK') = 'OK'
    AND protocol = 6
    AND dstport IN (22, 23, 445, 1433, 1521, 2375, 2376, 3306, 3389, 5432, 5900, 6379, 9200, 9300, 11211, 27017)
    AND srcaddr IS NOT NULL
    AND NOT REGEXP_CONTAINS(lower(srcaddr), r'^$|^(10|127|0)\.|^169\.254\.|^192\.168\.|^172\.(1[6-9]|2[0-9]|3[01])\.|^100\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\.|^(22[4-9]|2[3-5][0-9])\.|^f[cd][0-9a-f]{2}:|^fe[89ab][0-9a-f]:|^ff[0-9a-f]{2}:|^::1?$')
    AND (flow_direction = 'ingress'
      OR (flow_direction IS NULL AND REGEXP_CONTAINS(lower(coalesce(dstaddr, '')), r'^10\.|^192\.168\.|^172\.(1[6-9]|2[0-9]|3[01])\.|^100\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\.|^f[cd][0-9a-f]{2}:')))
)
SELECT
  min(time) AS event_time,
  min_by(srcaddr, pick) AS actor,
  min_by(srcaddr, pick) AS source_ip,
  'ACCEPT' AS action,
  dstaddr || ':' || CAST(dstport AS STRING) AS target,
  CASE dstport WHEN 22 THEN 'SSH' WHEN 23 THEN 'Telnet' WHEN 445 THEN 'SMB' WHEN 1433 THEN 'MSSQL' WHEN 1521 THEN 'Oracle'
    WHEN 2375 THEN 'Docker API' WHEN 2376 THEN 'Docker API (TLS)' WHEN 3306 THEN 'MySQL' WHEN 3389 THEN 'RDP'
    WHEN 5432 THEN 'PostgreSQL' WHEN 5900 THEN 'VNC' WHEN 6379 THEN 'Redis' WHEN 9200 THEN 'Elasticsearch'
    WHEN 9300 THEN 'Elasticsearch transport' WHEN 11211 THEN 'Memcached' WHEN 27017 THEN 'MongoDB' ELSE 'port' END
    || ' accepted from ' || CAST(count(DISTINCT srcaddr) AS STRING) || CASE WHEN count(DISTINCT srcaddr) = 1 THEN ' internet address' ELSE ' internet addresses' END || ' on ' || day || ' ('
    || CAST(count(*) AS STRING) || ' flow records, ' || CAST(coalesce(sum(packets), 0) AS STRING) || ' packets, '
    || CAST(coalesce(sum(bytes), 0) AS STRING) || ' bytes); first from ' || min_by(srcaddr, pick) || ', last at ' || max(time)
    || '; interface ' || coalesce(min_by(interface_id, pick), '?') || coalesce(', instance ' || min_by(instance_id, pick), '') AS detail,
  min_by(evidence_key, pick) AS evidence_key,
  min_by(evidence_record, pick) AS evidence_record,
  min(time) AS first_time,
  max(time) AS last_time,
  count(*) AS records
FROM exposed
GROUP BY day, dstaddr, dstport
ORDER BY event_time, target
