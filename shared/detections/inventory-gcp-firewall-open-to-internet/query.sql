WITH ports AS (
  SELECT port, service FROM (VALUES (22, 'SSH'), (23, 'Telnet'), (445, 'SMB'), (1433, 'MSSQL'), (1521, 'Oracle'), (3306, 'MySQL'),
    (3389, 'RDP'), (5432, 'PostgreSQL'), (5900, 'VNC'), (6379, 'Redis'), (9200, 'Elasticsearch'), (11211, 'Memcached'),
    (27017, 'MongoDB')) AS p (port, service)
),
rules AS (
  SELECT
    account, region, id, name, observed_at, evidence_key, evidence_record,
    json_extract_scalar(attributes, '$.network') AS network,
    json_extract_scalar(attributes, '$.cidr') AS cidr,
    json_extract_scalar(attributes, '$.protocol') AS protocol,
    CAST(json_extract_scalar(attributes, '$.fromPort') AS INTEGER) AS from_port,
    CAST(json_extract_scalar(attributes, '$.toPort') AS INTEGER) AS to_port,
    json_extract_scalar(attributes, '$.targetKind') AS target_kind,
    json_extract_scalar(attributes, '$.target') AS target
  FROM inventory
  WHERE type = 'compute:firewall-rule'
    AND json_extract_scalar(attributes, '$.direction') = 'INGRESS'
    AND json_extract_scalar(attributes, '$.action') = 'allow'
    AND json_extract_scalar(attributes, '$.disabled') = 'false'
    AND json_extract_scalar(attributes, '$.cidr') IN ('0.0.0.0/0', '::/0')
),
open_rules AS (
  SELECT r.account, r.region, r.id, r.name, r.observed_at, r.evidence_key, r.evidence_record, r.network, r.cidr, r.protocol,
    r.target_kind, r.target,
    array_join(array_agg(p.service || ' ' || CAST(p.port AS varchar) ORDER BY p.port), ', ') AS services
  FROM rules r
  JOIN ports p ON (r.protocol = 'all' OR r.protocol IN ('tcp', '6')) AND p.port BETWEEN r.from_port AND r.to_port
  GROUP BY r.account, r.region, r.id, r.name, r.observed_at, r.evidence_key, r.evidence_record, r.network, r.cidr, r.protocol, r.target_kind, r.target
)
SELECT
  observed_at AS event_time,
  account AS actor,
  CAST(NULL AS varchar) AS source_ip,
  'FirewallOpenToInternet' AS action,
  name AS target,
  'firewall rule ' || name || ' on ' || network || ' allows ' || cidr || ' on ' || services || ' ('
    || CASE WHEN protocol = 'all' THEN 'every protocol and port' ELSE protocol END || ') to '
    || CASE WHEN target_kind = 'all' THEN 'every instance of the network' ELSE target_kind || ' ' || target END AS detail,
  evidence_key,
  evidence_record
FROM open_rules
ORDER BY event_time, evidence_key, evidence_record
