WITH flow_logs AS (
  SELECT DISTINCT account, region, json_extract_scalar(attributes, '$.resourceId') AS resource_id
  FROM inventory
  WHERE type = 'ec2:flow-log'
),
asked AS (
  SELECT DISTINCT account, region
  FROM inventory
  WHERE type = 'api:page' AND operation = 'DescribeFlowLogs' AND json_extract_scalar(attributes, '$.error') IS NULL
)
SELECT
  v.observed_at AS event_time,
  v.account AS actor,
  CAST(NULL AS varchar) AS source_ip,
  'VpcWithoutFlowLogs' AS action,
  v.id AS target,
  'VPC ' || v.id || coalesce(' (' || v.name || ')', '') || ' in ' || v.region || ' has no flow log' AS detail,
  v.evidence_key,
  v.evidence_record
FROM inventory v
JOIN asked a ON a.account = v.account AND a.region = v.region
LEFT JOIN flow_logs f ON f.account = v.account AND f.region = v.region AND f.resource_id = v.id
WHERE v.type = 'ec2:vpc' AND f.resource_id IS NULL
ORDER BY event_time, v.evidence_key, v.evidence_record
