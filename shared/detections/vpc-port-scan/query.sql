-- Port scanning: flows refused (action REJECT, by a security group or a network ACL) from one source, counted
-- by distinct destination port (vertical scan of a host) and distinct destination address (horizontal sweep),
-- within one UTC hour (bucketed on the flow's start, cut from the time text). DISTINCT makes the count immune
-- to the same probe being logged on several interfaces.
-- Threshold: 20 or more distinct ports, or 20 or more distinct addresses, refused for one source in an hour.
-- The source is called internal when it is a private address (RFC 1918, RFC 6598, IPv6 unique-local).
WITH rejected AS (
  SELECT
    substr(time, 1, 13) AS hour,
    srcaddr,
    dstaddr,
    dstport,
    protocol,
    time,
    evidence_key,
    evidence_record,
    time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS varchar), 10, '0') AS pick
  FROM vpc_flow_logs
  WHERE action = 'REJECT'
    AND coalesce(log_status, 'OK') = 'OK'
    AND srcaddr IS NOT NULL
    AND dstaddr IS NOT NULL
)
SELECT
  min(time) AS event_time,
  srcaddr AS actor,
  srcaddr AS source_ip,
  'REJECT' AS action,
  CASE WHEN count(DISTINCT dstaddr) = 1 THEN min(dstaddr) ELSE CAST(count(DISTINCT dstaddr) AS varchar) || ' hosts' END AS target,
  CASE WHEN regexp_like(lower(srcaddr), '^10\.|^192\.168\.|^172\.(1[6-9]|2[0-9]|3[01])\.|^100\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\.|^f[cd][0-9a-f]{2}:') THEN 'internal' ELSE 'internet' END
    || ' source: ' || CAST(count(DISTINCT dstport) AS varchar) || CASE WHEN count(DISTINCT dstport) = 1 THEN ' distinct port' ELSE ' distinct ports' END || ' on ' || CAST(count(DISTINCT dstaddr) AS varchar) || CASE WHEN count(DISTINCT dstaddr) = 1 THEN ' host' ELSE ' hosts' END || ' refused in hour ' || hour || ':00Z (' || CAST(count(*) AS varchar) || ' flow records, ports '
    || coalesce(CAST(min(dstport) AS varchar), '-') || ' to ' || coalesce(CAST(max(dstport) AS varchar), '-') || ')' AS detail,
  min_by(evidence_key, pick) AS evidence_key,
  min_by(evidence_record, pick) AS evidence_record,
  min(time) AS first_time,
  max(time) AS last_time,
  count(*) AS records
FROM rejected
GROUP BY hour, srcaddr
HAVING count(DISTINCT dstport) >= 20 OR count(DISTINCT dstaddr) >= 20
ORDER BY event_time, actor
