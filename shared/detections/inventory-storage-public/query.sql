WITH blocks AS (
  SELECT account, id,
    max(json_extract_scalar(attributes, '$.restrictPublicBuckets')) AS restrict_public,
    max(json_extract_scalar(attributes, '$.ignorePublicAcls')) AS ignore_acls
  FROM inventory
  WHERE type = 's3:public-access-block'
  GROUP BY account, id
),
account_blocks AS (
  SELECT account,
    max(json_extract_scalar(attributes, '$.restrictPublicBuckets')) AS restrict_public,
    max(json_extract_scalar(attributes, '$.ignorePublicAcls')) AS ignore_acls
  FROM inventory
  WHERE type = 's3:account-public-access-block'
  GROUP BY account
),
exposed AS (
  SELECT i.account, i.id, i.observed_at, i.evidence_key, i.evidence_record,
    'its bucket policy is public (GetBucketPolicyStatus IsPublic) and no public access block (bucket or account) restricts it' AS why
  FROM inventory i
  LEFT JOIN blocks b ON b.account = i.account AND b.id = i.id
  LEFT JOIN account_blocks a ON a.account = i.account
  WHERE i.type = 's3:bucket-policy-status' AND json_extract_scalar(i.attributes, '$.isPublic') = 'true'
    AND coalesce(b.restrict_public, 'false') <> 'true'
    AND coalesce(a.restrict_public, 'false') <> 'true'
  UNION ALL
  SELECT i.account, i.id, i.observed_at, i.evidence_key, i.evidence_record,
    'its ACL grants ' || json_extract_scalar(i.attributes, '$.permission') || ' to '
      || regexp_replace(json_extract_scalar(i.attributes, '$.uri'), '^.*/', '') || ' and no public access block (bucket or account) ignores public ACLs' AS why
  FROM inventory i
  LEFT JOIN blocks b ON b.account = i.account AND b.id = i.id
  LEFT JOIN account_blocks a ON a.account = i.account
  WHERE i.type = 's3:bucket-grant'
    AND regexp_like(coalesce(json_extract_scalar(i.attributes, '$.uri'), ''), '/global/(AllUsers|AuthenticatedUsers)$')
    AND coalesce(b.ignore_acls, 'false') <> 'true'
    AND coalesce(a.ignore_acls, 'false') <> 'true'
)
SELECT
  observed_at AS event_time,
  account AS actor,
  CAST(NULL AS varchar) AS source_ip,
  'PublicBucket' AS action,
  id AS target,
  'bucket ' || id || ': ' || why AS detail,
  evidence_key,
  evidence_record
FROM exposed
ORDER BY event_time, evidence_key, evidence_record
