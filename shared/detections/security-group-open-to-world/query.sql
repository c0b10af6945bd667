-- An inbound security-group rule opened to the whole internet: 0.0.0.0/0 or ::/0. The CIDR sits in one of
-- several places depending on the API shape: ipPermissions.items[].ipRanges.items[].cidrIp,
-- ipPermissions.items[].ipv6Ranges.items[].cidrIpv6, the flat cidrIp of the older single-rule form, and
-- cidrIpv4 / CidrIpv4 / CidrIpv6 in the SecurityGroupRule(Request) of ModifySecurityGroupRules and newer
-- AuthorizeSecurityGroupIngress requests. A search on the request JSON for those keys with exactly these two
-- values covers them all. Egress rules (AuthorizeSecurityGroupEgress) are left out: open egress is AWS's
-- default. Only calls that succeeded count.
WITH ingress AS (
  SELECT
    *,
    regexp_extract(requestparameters, '"(?:cidrIp|cidrIpv4|CidrIp|CidrIpv4|cidrIpv6|CidrIpv6)"\s*:\s*"(0\.0\.0\.0/0|::/0)"', 1) AS world_cidr,
    regexp_extract(requestparameters, '"(?:ipProtocol|IpProtocol)"\s*:\s*"([^"]*)"', 1) AS protocol,
    regexp_extract(requestparameters, '"(?:fromPort|FromPort)"\s*:\s*(-?[0-9]+)', 1) AS from_port,
    regexp_extract(requestparameters, '"(?:toPort|ToPort)"\s*:\s*(-?[0-9]+)', 1) AS to_port
  FROM cloudtrail
  WHERE eventsource = 'ec2.amazonaws.com'
    AND eventname IN ('AuthorizeSecurityGroupIngress', 'ModifySecurityGroupRules')
    AND errorcode IS NULL
)
SELECT
  eventtime AS event_time,
  coalesce(nullif(useridentity.arn, ''), useridentity.username, useridentity.principalid) AS actor,
  sourceipaddress AS source_ip,
  eventname AS action,
  coalesce(json_extract_scalar(requestparameters, '$.groupId'), regexp_extract(requestparameters, '"(?:groupId|GroupId)"\s*:\s*"(sg-[0-9a-f]+)"', 1), '?') AS target,
  CASE WHEN protocol IS NULL OR protocol IN ('-1', 'all') THEN 'all traffic' ELSE protocol END
    || CASE WHEN from_port IS NULL OR from_port = '-1' THEN '' WHEN from_port = to_port THEN ' port ' || from_port ELSE ' ports ' || from_port || '-' || coalesce(to_port, '?') END
    || ' opened to ' || world_cidr AS detail,
  evidence_key,
  evidence_record
FROM ingress
WHERE world_cidr IS NOT NULL
ORDER BY event_time
