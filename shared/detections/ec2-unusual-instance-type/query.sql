-- RunInstances for instance types used for mining and model abuse: GPU / accelerator families (p, g, inf,
-- trn, dl, f, vt), memory giants (x, u-), and any size of 12xlarge and above or metal. Failed launches
-- (UnauthorizedOperation, quota refusals) count: probing is the first step. The type is a string, or an object
-- {"value": ...} in launches made by EC2 Fleet.
WITH launches AS (
  SELECT
    *,
    coalesce(json_extract_scalar(requestparameters, '$.instanceType'), json_extract_scalar(requestparameters, '$.instanceType.value'), regexp_extract(coalesce(requestparameters, ''), '"instanceType"\s*:\s*"([^"]+)"', 1)) AS instance_type
  FROM cloudtrail
  WHERE eventsource = 'ec2.amazonaws.com'
    AND eventname = 'RunInstances'
)
SELECT
  eventtime AS event_time,
  coalesce(nullif(useridentity.arn, ''), useridentity.username, useridentity.principalid) AS actor,
  sourceipaddress AS source_ip,
  eventname AS action,
  instance_type AS target,
  'launch of ' || instance_type || ' x' || coalesce(json_extract_scalar(requestparameters, '$.instancesSet.items[0].maxCount'), json_extract_scalar(requestparameters, '$.maxCount'), '?')
    || CASE WHEN errorcode IS NOT NULL THEN ' refused (' || errorcode || ')' ELSE ' succeeded' END AS detail,
  evidence_key,
  evidence_record
FROM launches
WHERE regexp_like(coalesce(instance_type, ''), '^(p[0-9]+[a-z]*|g[0-9]+[a-z]*|inf[0-9]+[a-z]*|trn[0-9]+[a-z]*|dl[0-9]+[a-z]*|f[0-9]+[a-z]*|vt[0-9]+[a-z]*|x[0-9]+[a-z]*|u-[0-9]+tb[0-9]+)\.')
  OR regexp_like(coalesce(instance_type, ''), '\.(metal|metal-[0-9a-z]+|(1[2-9]|[2-9][0-9]|[1-9][0-9]{2})xlarge)$')
ORDER BY event_time
