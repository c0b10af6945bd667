WITH ports AS (
  SELECT port, service FROM (VALUES (22, 'SSH'), (23, 'Telnet'), (445, 'SMB'), (1433, 'MSSQL'), (1521, 'Oracle'), (3306, 'MySQL'),
    (3389, 'RDP'), (5432, 'PostgreSQL'), (5900, 'VNC'), (5985, 'WinRM'), (5986, 'WinRM'), (6379, 'Redis'), (9200, 'Elasticsearch'),
    (11211, 'Memcached'), (27017, 'MongoDB')) AS p (port, service)
),
-- Inbound rules whose source is the whole internet, TCP or any protocol, one row per source and port range.
rules AS (
  SELECT
    account, region, id, name, observed_at, evidence_key, evidence_record,
    json_extract_scalar(attributes, '$.rule') AS rule,
    json_extract_scalar(attributes, '$.access') AS access,
    json_extract_scalar(attributes, '$.source') AS source,
    CAST(json_extract_scalar(attributes, '$.priority') AS INTEGER) AS priority,
    CAST(json_extract_scalar(attributes, '$.fromPort') AS INTEGER) AS from_port,
    CAST(json_extract_scalar(attributes, '$.toPort') AS INTEGER) AS to_port
  FROM inventory
  WHERE cloud = 'azure' AND type = 'azure:nsg-rule'
    AND lower(coalesce(json_extract_scalar(attributes, '$.direction'), '')) = 'inbound'
    AND lower(coalesce(json_extract_scalar(attributes, '$.source'), '')) IN ('*', 'internet', '0.0.0.0/0', '::/0', 'any')
    AND lower(coalesce(json_extract_scalar(attributes, '$.protocol'), '')) IN ('*', 'tcp')
),
-- For each group and port, the rule that decides internet traffic: the lowest priority number covering the port.
decided AS (
  SELECT r.observed_at, r.id, p.port, p.service, min(r.priority) AS priority
  FROM rules r
  JOIN ports p ON p.port BETWEEN r.from_port AND r.to_port
  GROUP BY r.observed_at, r.id, p.port, p.service
),
open_ports AS (
  SELECT r.observed_at, r.account, r.region, r.id, r.name, r.rule, r.evidence_key, min(r.evidence_record) AS evidence_record, d.port, d.service
  FROM decided d
  JOIN rules r ON r.observed_at = d.observed_at AND r.id = d.id AND r.priority = d.priority AND d.port BETWEEN r.from_port AND r.to_port
  WHERE r.access = 'Allow'
  GROUP BY r.observed_at, r.account, r.region, r.id, r.name, r.rule, r.evidence_key, d.port, d.service
)
SELECT
  observed_at AS event_time,
  account AS actor,
  CAST(NULL AS varchar) AS source_ip,
  'NsgOpenToInternet' AS action,
  id AS target,
  'network security group ' || coalesce(name, id) || ' in ' || region || ': inbound rule ' || coalesce(rule, '?') || ' allows the internet on '
    || array_join(array_agg(service || ' ' || CAST(port AS varchar) ORDER BY port), ', ') AS detail,
  evidence_key,
  min(evidence_record) AS evidence_record
FROM open_ports
GROUP BY observed_at, account, region, id, name, rule, evidence_key
ORDER BY event_time, evidence_key, evidence_record
