-- BigQuery Standard SQL twin of query.sql: role assignments at subscription, management group or root scope, and
-- elevateAccess. The scope comes from the request body (properties.requestbody, a JSON string or object), else from
-- the assignment's own id; only events that succeeded count; built-in role ids are named.
WITH writes AS (
  SELECT
    *,
    COALESCE(JSON_VALUE(properties, '$.requestbody'), JSON_QUERY(properties, '$.requestbody'), '') AS body
  FROM azure_activity
  WHERE LOWER(operation_name) IN ('microsoft.authorization/roleassignments/write', 'microsoft.authorization/elevateaccess/action')
    AND LOWER(COALESCE(result_type, '')) IN ('success', 'succeeded')
),
scoped AS (
  SELECT
    *,
    COALESCE(
      NULLIF(REGEXP_EXTRACT(body, r'"[Ss]cope"\s*:\s*"([^"]*)"'), ''),
      REGEXP_EXTRACT(COALESCE(resource_id, ''), r'(?i)^(.*)/providers/Microsoft\.Authorization/roleAssignments/[^/]+$'),
      REGEXP_EXTRACT(COALESCE(authorization_scope, ''), r'(?i)^(.*)/providers/Microsoft\.Authorization/roleAssignments/[^/]+$')
    ) AS scope,
    LOWER(REGEXP_EXTRACT(REGEXP_EXTRACT(body, r'"[Rr]ole[Dd]efinition[Ii]d"\s*:\s*"([^"]*)"'), r'([0-9a-fA-F-]{36})$')) AS role_id,
    REGEXP_EXTRACT(body, r'"[Pp]rincipal[Ii]d"\s*:\s*"([^"]*)"') AS grantee,
    REGEXP_EXTRACT(body, r'"[Pp]rincipal[Tt]ype"\s*:\s*"([^"]*)"') AS grantee_type
  FROM writes
),
judged AS (
  SELECT
    *,
    CASE
      WHEN LOWER(operation_name) = 'microsoft.authorization/elevateaccess/action' THEN 'tenant root (elevateAccess)'
      WHEN REGEXP_CONTAINS(COALESCE(scope, 'x'), r'(?i)^/subscriptions/[^/]+/?$') THEN 'subscription'
      WHEN REGEXP_CONTAINS(COALESCE(scope, 'x'), r'(?i)^/providers/Microsoft\.Management/managementGroups/[^/]+/?$') THEN 'management group'
      WHEN scope IN ('', '/') THEN 'tenant root'
    END AS scope_kind,
    CASE role_id
      WHEN '8e3af657-a8ff-443c-a75c-2fe8c4bcb635' THEN 'Owner'
      WHEN 'b24988ac-6180-42a0-ab88-20f7382dd24c' THEN 'Contributor'
      WHEN '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9' THEN 'User Access Administrator'
      WHEN 'f58310d9-a9f6-439a-9e8d-f62e7b41a168' THEN 'Role Based Access Control Administrator'
      WHEN 'acdd72a7-3385-48ef-bd42-f606fba81ae7' THEN 'Reader'
      ELSE role_id
    END AS role_name
  FROM scoped
)
SELECT
  time AS event_time,
  COALESCE(NULLIF(caller, ''), principal_id, 'unknown caller') AS actor,
  caller_ip AS source_ip,
  operation_name AS action,
  CASE WHEN scope IN ('', '/') OR scope IS NULL THEN '/' ELSE scope END AS target,
  CASE
    WHEN LOWER(operation_name) = 'microsoft.authorization/elevateaccess/action'
      THEN 'caller elevated to User Access Administrator at root scope: control over every subscription of the tenant'
    ELSE 'role ' || COALESCE(role_name, 'unknown (no request body)') || ' granted to '
      || COALESCE(NULLIF(grantee_type, ''), 'principal') || ' ' || COALESCE(NULLIF(grantee, ''), '?')
      || ' at ' || scope_kind || ' scope'
  END AS detail,
  evidence_key,
  evidence_record
FROM judged
WHERE scope_kind IS NOT NULL
ORDER BY event_time, evidence_key, evidence_record
