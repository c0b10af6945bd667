WITH members AS (
  SELECT account, region, id, name, observed_at, evidence_key, evidence_record,
    json_extract_scalar(attributes, '$.assetType') AS asset_type,
    json_extract_scalar(attributes, '$.role') AS role,
    json_extract_scalar(attributes, '$.member') AS member,
    json_extract_scalar(attributes, '$.memberKind') AS member_kind,
    json_extract_scalar(attributes, '$.memberDomain') AS member_domain,
    json_extract_scalar(attributes, '$.public') AS is_public
  FROM inventory
  WHERE type = 'gcp:iam-member'
    AND json_extract_scalar(attributes, '$.assetType') IN ('compute.googleapis.com/Disk', 'compute.googleapis.com/Snapshot', 'compute.googleapis.com/Image')
)
SELECT
  observed_at AS event_time,
  account AS actor,
  CAST(NULL AS varchar) AS source_ip,
  CASE WHEN is_public = 'true' THEN 'SharedPublicly' ELSE 'SharedOutsideOrganization' END AS action,
  name AS target,
  lower(regexp_replace(asset_type, '^.*/', '')) || ' ' || name || ' grants ' || role || ' to ' || member
    || CASE WHEN is_public = 'true' THEN ' (anyone)' ELSE ' (outside ' || {{org_domains}} || ')' END AS detail,
  evidence_key,
  evidence_record
FROM members
WHERE is_public = 'true'
  OR ({{org_domains}} <> '' AND member_kind IN ('user', 'group', 'domain') AND member_domain IS NOT NULL
    AND strpos(',' || lower({{org_domains}}) || ',', ',' || member_domain || ',') = 0)
ORDER BY event_time, evidence_key, evidence_record
