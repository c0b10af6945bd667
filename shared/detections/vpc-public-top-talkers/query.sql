-- Top talkers to the internet: per UTC day, the source -> public destination pairs that moved the most bytes,
-- from accepted VPC flow records (Transit Gateway records, which have no action, and NODATA/SKIPDATA records
-- are left out).
-- "Public" is any address outside RFC 1918 (10/8, 172.16/12, 192.168/16), RFC 6598 shared space (100.64/10),
-- link-local (169.254/16, fe80::/10), loopback, "this network" (0/8), multicast (224/4 and above, ff00::/8)
-- and IPv6 unique-local (fc00::/7). Only traffic leaving an interface counts: flow-direction 'egress' when the
-- format has it (version 5 and later), otherwise a private source address (the same bytes may then be counted
-- twice, on the instance's interface and on a NAT gateway's).
-- Threshold: a pair is listed when it moved 100 MiB (104857600 bytes) or more in the day; at most the 10
-- largest pairs of each day are returned, their rank in the detail.
WITH outbound AS (
  SELECT
    substr(time, 1, 10) AS day,
    srcaddr,
    dstaddr,
    dstport,
    bytes,
    pkt_dst_aws_service,
    time,
    evidence_key,
    evidence_record,
    time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS varchar), 10, '0') AS pick
  FROM vpc_flow_logs
  WHERE action = 'ACCEPT'
    AND coalesce(log_status, 'OK') = 'OK'
    AND bytes IS NOT NULL
    AND NOT regexp_like(lower(coalesce(dstaddr, '')), '^$|^(10|127|0)\.|^169\.254\.|^192\.168\.|^172\.(1[6-9]|2[0-9]|3[01])\.|^100\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\.|^(22[4-9]|2[3-5][0-9])\.|^f[cd][0-9a-f]{2}:|^fe[89ab][0-9a-f]:|^ff[0-9a-f]{2}:|^::1?$')
    AND (flow_direction = 'egress'
      OR (flow_direction IS NULL AND regexp_like(lower(coalesce(srcaddr, '')), '^10\.|^192\.168\.|^172\.(1[6-9]|2[0-9]|3[01])\.|^100\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\.|^f[cd][0-9a-f]{2}:')))
),
pairs AS (
  SELECT
    day,
    srcaddr,
    dstaddr,
    sum(bytes) AS total,
    count(*) AS flows,
    count(DISTINCT dstport) AS ports,
    min(time) AS first_time,
    max(time) AS last_time,
    max(pkt_dst_aws_service) AS aws_service,
    min_by(evidence_key, pick) AS evidence_key,
    min_by(evidence_record, pick) AS evidence_record
  FROM outbound
  GROUP BY day, srcaddr, dstaddr
  HAVING sum(bytes) >= 104857600
),
ranked AS (
  SELECT pairs.*, row_number() OVER (PARTITION BY day ORDER BY total DESC, srcaddr, dstaddr) AS r
  FROM pairs
)
SELECT
  first_time AS event_time,
  srcaddr AS actor,
  srcaddr AS source_ip,
  'ACCEPT' AS action,
  dstaddr AS target,
  '#' || CAST(r AS varchar) || ' on ' || day || ': ' || CAST(CAST(round(total / 1048576.0, 1) AS decimal(18, 1)) AS varchar) || ' MiB to '
    || dstaddr || ' in ' || CAST(flows AS varchar) || CASE WHEN flows = 1 THEN ' flow record' ELSE ' flow records' END || ' on ' || CAST(ports AS varchar) || CASE WHEN ports = 1 THEN ' port' ELSE ' ports' END || ', '
    || first_time || ' to ' || last_time || coalesce('; AWS service ' || aws_service, '') AS detail,
  evidence_key,
  evidence_record,
  first_time,
  last_time,
  flows AS records
FROM ranked
WHERE r <= 10
ORDER BY event_time, actor, target
