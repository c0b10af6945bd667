WITH users AS (
  SELECT id, max(name) AS upn,
    max(CASE WHEN json_extract_scalar(attributes, '$.userType') = 'Guest' OR name LIKE '%#EXT#%' THEN 1 ELSE 0 END) AS guest
  FROM inventory
  WHERE cloud = 'azure' AND type = 'entra:user'
  GROUP BY id
),
assignments AS (
  SELECT observed_at, account, id, evidence_key, evidence_record,
    json_extract_scalar(attributes, '$.scope') AS scope,
    json_extract_scalar(attributes, '$.role') AS role,
    json_extract_scalar(attributes, '$.principalId') AS principal_id,
    json_extract_scalar(attributes, '$.principalType') AS principal_type
  FROM inventory
  WHERE cloud = 'azure' AND type = 'azure:role-assignment' AND json_extract_scalar(attributes, '$.role') IS NOT NULL
)
SELECT
  a.observed_at AS event_time,
  a.account AS actor,
  CAST(NULL AS varchar) AS source_ip,
  CASE WHEN a.principal_type = 'ServicePrincipal' THEN 'PrivilegedRoleToServicePrincipal' ELSE 'PrivilegedRoleToGuest' END AS action,
  a.principal_id AS target,
  a.role || ' on subscription ' || a.account || ' is assigned to '
    || CASE WHEN a.principal_type = 'ServicePrincipal' THEN 'service principal ' || a.principal_id ELSE 'guest user ' || coalesce(u.upn, a.principal_id) END
    || ' (assignment ' || a.id || ')' AS detail,
  a.evidence_key,
  a.evidence_record
FROM assignments a
LEFT JOIN users u ON u.id = a.principal_id
WHERE a.scope = '/subscriptions/' || a.account
  AND (a.principal_type = 'ServicePrincipal' OR (a.principal_type = 'User' AND u.guest = 1))
ORDER BY event_time, a.evidence_key, a.evidence_record
