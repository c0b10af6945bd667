-- Role assignments whose scope is a subscription (`/subscriptions/<id>`), a management group or the root (`/`),
-- plus elevateAccess (User Access Administrator at root scope). The scope comes from the request body
-- (properties.requestbody, a JSON string whose keys are `Properties.Scope` or `properties.scope`), else from the
-- assignment's own id (`<scope>/providers/Microsoft.Authorization/roleAssignments/<guid>`). Only events that
-- succeeded count: each write is also logged as a Start event first. Built-in role ids are named; others are shown
-- as their id.
WITH writes AS (
  SELECT
    *,
    coalesce(json_extract_scalar(properties, '$.requestbody'), json_format(try(json_extract(properties, '$.requestbody'))), '') AS body
  FROM azure_activity
  WHERE lower(operation_name) IN ('microsoft.authorization/roleassignments/write', 'microsoft.authorization/elevateaccess/action')
    AND lower(coalesce(result_type, '')) IN ('success', 'succeeded')
),
scoped AS (
  SELECT
    *,
    coalesce(
      nullif(regexp_extract(body, '"[Ss]cope"\s*:\s*"([^"]*)"', 1), ''),
      regexp_extract(coalesce(resource_id, ''), '(?i)^(.*)/providers/Microsoft\.Authorization/roleAssignments/[^/]+$', 1),
      regexp_extract(coalesce(authorization_scope, ''), '(?i)^(.*)/providers/Microsoft\.Authorization/roleAssignments/[^/]+$', 1)
    ) AS scope,
    lower(regexp_extract(regexp_extract(body, '"[Rr]ole[Dd]efinition[Ii]d"\s*:\s*"([^"]*)"', 1), '([0-9a-fA-F-]{36})$', 1)) AS role_id,
    regexp_extract(body, '"[Pp]rincipal[Ii]d"\s*:\s*"([^"]*)"', 1) AS grantee,
    regexp_extract(body, '"[Pp]rincipal[Tt]ype"\s*:\s*"([^"]*)"', 1) AS grantee_type
  FROM writes
),
judged AS (
  SELECT
    *,
    CASE
      WHEN lower(operation_name) = 'microsoft.authorization/elevateaccess/action' THEN 'tenant root (elevateAccess)'
      WHEN regexp_like(coalesce(scope, 'x'), '(?i)^/subscriptions/[^/]+/?$') THEN 'subscription'
      WHEN regexp_like(coalesce(scope, 'x'), '(?i)^/providers/Microsoft\.Management/managementGroups/[^/]+/?$') THEN 'management group'
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
  coalesce(nullif(caller, ''), principal_id, 'unknown caller') AS actor,
  caller_ip AS source_ip,
  operation_name AS action,
  CASE WHEN scope IN ('', '/') OR scope IS NULL THEN '/' ELSE scope END AS target,
  CASE
    WHEN lower(operation_name) = 'microsoft.authorization/elevateaccess/action'
      THEN 'caller elevated to User Access Administrator at root scope: control over every subscription of the tenant'
    ELSE 'role ' || coalesce(role_name, 'unknown (no request body)') || ' granted to '
      || coalesce(nullif(grantee_type, ''), 'principal') || ' ' || coalesce(nullif(grantee, ''), '?')
      || ' at ' || scope_kind || ' scope'
  END AS detail,
  evidence_key,
  evidence_record
FROM judged
WHERE scope_kind IS NOT NULL
ORDER BY event_time
