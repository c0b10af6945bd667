-- EKS access API grants of cluster administration: AssociateAccessPolicy with a cluster-admin access policy
-- (AmazonEKSClusterAdminPolicy, AmazonEKSAdminPolicy), and CreateAccessEntry / UpdateAccessEntry putting the
-- principal into system:masters. Calls that succeeded only.
SELECT
  eventtime AS event_time,
  coalesce(nullif(useridentity.arn, ''), useridentity.username, useridentity.principalid) AS actor,
  sourceipaddress AS source_ip,
  eventname AS action,
  coalesce(json_extract_scalar(requestparameters, '$.name'), json_extract_scalar(requestparameters, '$.clusterName'), '?') AS target,
  coalesce(json_extract_scalar(requestparameters, '$.principalArn'), '?') || ' given '
    || CASE WHEN eventname = 'AssociateAccessPolicy'
      THEN regexp_extract(requestparameters, 'cluster-access-policy/([A-Za-z]+)', 1) || coalesce(' (scope ' || json_extract_scalar(requestparameters, '$.accessScope.type') || ')', '')
      ELSE 'the system:masters group' END AS detail,
  evidence_key,
  evidence_record
FROM cloudtrail
WHERE eventsource = 'eks.amazonaws.com'
  AND errorcode IS NULL
  AND (
    (eventname = 'AssociateAccessPolicy' AND regexp_like(coalesce(requestparameters, ''), 'cluster-access-policy/(AmazonEKSClusterAdminPolicy|AmazonEKSAdminPolicy)"'))
    OR (eventname IN ('CreateAccessEntry', 'UpdateAccessEntry') AND regexp_like(coalesce(requestparameters, ''), '"system:masters"'))
  )
ORDER BY event_time
