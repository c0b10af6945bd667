-- BigQuery Standard SQL twin of query.sql (same rules, same columns): SetIamPolicy calls that succeeded and added a
-- powerful role or a public member, and project ownership invitations. Bindings are cut out of the JSON text with a
-- regular expression allowing one level of nesting (a binding's `condition`).
WITH calls AS (
  SELECT
    *,
    JSON_QUERY(service_data, '$.policyDelta') IS NOT NULL AS has_delta,
    ARRAY(
      SELECT d FROM UNNEST(REGEXP_EXTRACT_ALL(COALESCE(JSON_QUERY(service_data, '$.policyDelta.bindingDeltas'), ''), r'\{(?:[^{}]|\{[^{}]*\})*\}')) AS d
      WHERE REGEXP_CONTAINS(d, r'"action"\s*:\s*"ADD"')
    ) AS added,
    REGEXP_EXTRACT_ALL(COALESCE(JSON_QUERY(request, '$.policy.bindings'), ''), r'\{(?:[^{}]|\{[^{}]*\})*\}') AS bindings
  FROM gcp_audit
  WHERE REGEXP_CONTAINS(LOWER(method_name), r'setiampolicy$')
    AND COALESCE(status_code, 0) = 0
),
judged AS (
  SELECT
    *,
    ARRAY(
      SELECT b FROM UNNEST(CASE WHEN has_delta THEN added ELSE bindings END) AS b
      WHERE REGEXP_CONTAINS(b, r'"role"\s*:\s*"roles/(owner|editor|iam\.securityAdmin|iam\.roleAdmin|iam\.organizationRoleAdmin|iam\.serviceAccountAdmin|iam\.serviceAccountKeyAdmin|iam\.serviceAccountTokenCreator|iam\.serviceAccountUser|iam\.workloadIdentityUser|iam\.workloadIdentityPoolAdmin|resourcemanager\.organizationAdmin|resourcemanager\.folderAdmin|resourcemanager\.folderIamAdmin|resourcemanager\.projectIamAdmin)"')
        OR REGEXP_CONTAINS(b, r'"(allUsers|allAuthenticatedUsers)"')
    ) AS risky
  FROM calls
)
SELECT
  time AS event_time,
  COALESCE(NULLIF(principal_email, ''), principal_subject, 'unknown principal') AS actor,
  caller_ip AS source_ip,
  method_name AS action,
  resource_name AS target,
  CASE WHEN has_delta THEN 'added: ' ELSE 'in the policy set (the log has no delta; these bindings may have existed before): ' END
    || SUBSTR(REGEXP_REPLACE(ARRAY_TO_STRING(risky, '; '), r'\s+', ' '), 1, 600) AS detail,
  evidence_key,
  evidence_record
FROM judged
WHERE ARRAY_LENGTH(risky) > 0
UNION ALL
SELECT
  time AS event_time,
  COALESCE(NULLIF(principal_email, ''), principal_subject, 'unknown principal') AS actor,
  caller_ip AS source_ip,
  method_name AS action,
  resource_name AS target,
  'project ownership (roles/owner) offered to ' || COALESCE(JSON_VALUE(request, '$.member'), 'an unnamed member') AS detail,
  evidence_key,
  evidence_record
FROM gcp_audit
WHERE REGEXP_CONTAINS(method_name, r'(^|\.)InsertProjectOwnershipInvite$')
  AND COALESCE(status_code, 0) = 0
ORDER BY event_time, evidence_key, evidence_record
