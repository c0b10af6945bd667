SELECT
  observed_at AS event_time,
  account AS actor,
  CAST(NULL AS varchar) AS source_ip,
  CASE WHEN json_extract_scalar(attributes, '$.expired') = 'true' THEN 'ExpiredCredentialPresent' ELSE 'LongLivedCredential' END AS action,
  coalesce(name, id) || ' ' || coalesce(json_extract_scalar(attributes, '$.keyId'), '') AS target,
  json_extract_scalar(attributes, '$.owner') || ' ' || coalesce(name, id) || ' (appId ' || coalesce(json_extract_scalar(attributes, '$.appId'), '?') || ') has a '
    || json_extract_scalar(attributes, '$.credential') || ' credential ' || coalesce(json_extract_scalar(attributes, '$.keyId'), '')
    || CASE WHEN json_extract_scalar(attributes, '$.expired') = 'true'
         THEN ' that expired on ' || coalesce(json_extract_scalar(attributes, '$.end'), '?') || ' and is still present'
         ELSE ' valid for ' || coalesce(json_extract_scalar(attributes, '$.lifetimeDays'), '?') || ' days, until ' || coalesce(json_extract_scalar(attributes, '$.end'), '?') END AS detail,
  evidence_key,
  evidence_record
FROM inventory
WHERE cloud = 'azure' AND type = 'entra:credential'
  AND (json_extract_scalar(attributes, '$.expired') = 'true' OR CAST(json_extract_scalar(attributes, '$.lifetimeDays') AS INTEGER) > 365)
ORDER BY event_time, evidence_key, evidence_record
