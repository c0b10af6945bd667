WITH grants AS (
  SELECT account, region, type, id, observed_at, evidence_key, evidence_record,
    coalesce(json_extract_scalar(attributes, '$.group'), json_extract_scalar(attributes, '$.userId'), json_extract_scalar(attributes, '$.restore'),
      json_extract_scalar(attributes, '$.organizationArn'), json_extract_scalar(attributes, '$.organizationalUnitArn')) AS grantee
  FROM inventory
  WHERE type IN ('ec2:snapshot-permission', 'ec2:image-permission', 'rds:db-snapshot-permission')
)
SELECT
  observed_at AS event_time,
  account AS actor,
  CAST(NULL AS varchar) AS source_ip,
  CASE WHEN grantee = 'all' THEN 'SharedPublicly' ELSE 'SharedWithOtherAccount' END AS action,
  id AS target,
  CASE type WHEN 'ec2:snapshot-permission' THEN 'EBS snapshot ' WHEN 'ec2:image-permission' THEN 'AMI ' ELSE 'RDS snapshot ' END
    || id || ' in ' || region || CASE WHEN grantee = 'all' THEN ' is public (shared with all)' ELSE ' is shared with ' || grantee END AS detail,
  evidence_key,
  evidence_record
FROM grants
WHERE grantee = 'all' OR (regexp_like(grantee, '^[0-9]{12}$') AND grantee <> account) OR grantee LIKE 'arn:%'
ORDER BY event_time, evidence_key, evidence_record
