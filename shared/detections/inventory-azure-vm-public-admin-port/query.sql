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
),
subnets AS (
  SELECT observed_at, id AS subnet_id, json_extract_scalar(attributes, '$.nsgId') AS nsg_id
  FROM inventory WHERE cloud = 'azure' AND type = 'azure:subnet'
),
addresses AS (
  SELECT observed_at, id AS pip_id, json_extract_scalar(attributes, '$.ipAddress') AS ip
  FROM inventory WHERE cloud = 'azure' AND type = 'azure:public-ip'
),
-- IP configurations of a VM's network interfaces that carry a public address, with the groups that filter them.
confs AS (
  SELECT c.observed_at, c.account, c.region, c.evidence_key, c.evidence_record,
    json_extract_scalar(c.attributes, '$.vmId') AS vm_id,
    json_extract_scalar(c.attributes, '$.nsgId') AS nic_nsg,
    s.nsg_id AS subnet_nsg,
    coalesce(a.ip, 'not read') AS ip
  FROM inventory c
  LEFT JOIN subnets s ON s.observed_at = c.observed_at AND s.subnet_id = json_extract_scalar(c.attributes, '$.subnetId')
  LEFT JOIN addresses a ON a.observed_at = c.observed_at AND a.pip_id = json_extract_scalar(c.attributes, '$.publicIpId')
  WHERE c.cloud = 'azure' AND c.type = 'azure:nic-ip-configuration'
    AND json_extract_scalar(c.attributes, '$.vmId') IS NOT NULL
    AND json_extract_scalar(c.attributes, '$.publicIpId') IS NOT NULL
),
-- Inbound traffic passes the subnet's group and then the interface's: a port is open when every group present admits it.
exposed AS (
  SELECT c.observed_at, c.account, c.region, c.evidence_key, c.evidence_record, c.vm_id, c.ip, c.nic_nsg, c.subnet_nsg, o.port, o.service
  FROM confs c
  JOIN open_ports o ON o.observed_at = c.observed_at AND o.id = coalesce(c.nic_nsg, c.subnet_nsg)
  LEFT JOIN open_ports o2 ON o2.observed_at = c.observed_at AND o2.id = c.subnet_nsg AND o2.port = o.port
  WHERE c.nic_nsg IS NULL OR c.subnet_nsg IS NULL OR o2.port IS NOT NULL
)
SELECT
  observed_at AS event_time,
  account AS actor,
  CAST(NULL AS varchar) AS source_ip,
  'PublicVmOpenPort' AS action,
  vm_id AS target,
  'virtual machine ' || vm_id || ' in ' || region || ' has public address ' || ip || ' and its network security group '
    || coalesce(nic_nsg, subnet_nsg) || ' lets the internet in on ' || array_join(array_agg(DISTINCT service || ' ' || CAST(port AS varchar)), ', ') AS detail,
  evidence_key,
  evidence_record
FROM exposed
GROUP BY observed_at, account, region, vm_id, ip, nic_nsg, subnet_nsg, evidence_key, evidence_record
ORDER BY event_time, evidence_key, evidence_record
