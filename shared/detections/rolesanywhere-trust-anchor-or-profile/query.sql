-- IAM Roles Anywhere configuration that lets outside certificates obtain role credentials: trust anchors
-- (CreateTrustAnchor, UpdateTrustAnchor, EnableTrustAnchor) and profiles (CreateProfile, UpdateProfile,
-- EnableProfile). The detail gives the anchor's source type or the profile's roles. Calls that succeeded only.
SELECT
  eventtime AS event_time,
  coalesce(nullif(useridentity.arn, ''), useridentity.username, useridentity.principalid) AS actor,
  sourceipaddress AS source_ip,
  eventname AS action,
  coalesce(json_extract_scalar(requestparameters, '$.name'), json_extract_scalar(requestparameters, '$.trustAnchorId'), json_extract_scalar(requestparameters, '$.profileId'), '?') AS target,
  CASE WHEN regexp_like(eventname, 'TrustAnchor$')
    THEN 'trust anchor ' || CASE WHEN eventname LIKE 'Create%' THEN 'created' WHEN eventname LIKE 'Enable%' THEN 'enabled' ELSE 'changed' END || coalesce(' (source ' || json_extract_scalar(requestparameters, '$.source.sourceType') || ')', '')
    ELSE 'profile ' || CASE WHEN eventname LIKE 'Create%' THEN 'created' WHEN eventname LIKE 'Enable%' THEN 'enabled' ELSE 'changed' END || coalesce(' for roles ' || nullif(array_join(regexp_extract_all(coalesce(json_format(try(json_extract(requestparameters, '$.roleArns'))), ''), 'arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+'), ', '), ''), '')
  END AS detail,
  evidence_key,
  evidence_record
FROM cloudtrail
WHERE eventsource = 'rolesanywhere.amazonaws.com'
  AND eventname IN ('CreateTrustAnchor', 'UpdateTrustAnchor', 'EnableTrustAnchor', 'CreateProfile', 'UpdateProfile', 'EnableProfile')
  AND errorcode IS NULL
ORDER BY event_time
