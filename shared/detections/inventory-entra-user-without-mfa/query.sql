WITH users AS (
  SELECT observed_at, account, id, max(json_extract_scalar(attributes, '$.accountEnabled')) AS enabled
  FROM inventory
  WHERE cloud = 'azure' AND type = 'entra:user'
  GROUP BY observed_at, account, id
)
SELECT
  r.observed_at AS event_time,
  r.account AS actor,
  CAST(NULL AS varchar) AS source_ip,
  'UserWithoutMfa' AS action,
  coalesce(r.name, r.id) AS target,
  'Entra ID user ' || coalesce(r.name, r.id) || coalesce(' (' || json_extract_scalar(r.attributes, '$.userType') || ')', '')
    || ' has no MFA method registered (userRegistrationDetails isMfaRegistered false)' AS detail,
  r.evidence_key,
  r.evidence_record
FROM inventory r
LEFT JOIN users u ON u.observed_at = r.observed_at AND u.account = r.account AND u.id = r.id
WHERE r.cloud = 'azure' AND r.type = 'entra:user-registration'
  AND json_extract_scalar(r.attributes, '$.isMfaRegistered') = 'false'
  AND coalesce(u.enabled, 'true') <> 'false'
ORDER BY event_time, r.evidence_key, r.evidence_record
