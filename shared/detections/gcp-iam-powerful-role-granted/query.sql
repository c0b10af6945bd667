-- SetIamPolicy (any service; method names end in SetIamPolicy, setIamPolicy or SetIAMPolicy) that succeeded, and
-- InsertProjectOwnershipInvite (owner by invitation). Bindings are cut out of the JSON with a regular expression that
-- allows one level of nesting (a binding's `condition` object). Storage bucket IAM (storage.setIamPermissions) is
-- gcp-bucket-made-public's.
WITH calls AS (
  SELECT
    *,
    try(json_extract(service_data, '$.policyDelta')) IS NOT NULL AS has_delta,
    filter(
      regexp_extract_all(coalesce(json_format(try(json_extract(service_data, '$.policyDelta.bindingDeltas'))), ''), '\{(?:[^{}]|\{[^{}]*\})*\}'),
      d -> regexp_like(d, '"action"\s*:\s*"ADD"')
    ) AS added,
    regexp_extract_all(coalesce(json_format(try(json_extract(request, '$.policy.bindings'))), ''), '\{(?:[^{}]|\{[^{}]*\})*\}') AS bindings
  FROM gcp_audit
  WHERE regexp_like(lower(method_name), 'setiampolicy$')
    AND coalesce(status_code, 0) = 0
),
judged AS (
  SELECT
    *,
    filter(CASE WHEN has_delta THEN added ELSE bindings END, b ->
      regexp_like(b, '"role"\s*:\s*"roles/(owner|editor|iam\.securityAdmin|iam\.roleAdmin|iam\.organizationRoleAdmin|iam\.serviceAccountAdmin|iam\.serviceAccountKeyAdmin|iam\.serviceAccountTokenCreator|iam\.serviceAccountUser|iam\.workloadIdentityUser|iam\.workloadIdentityPoolAdmin|resourcemanager\.organizationAdmin|resourcemanager\.folderAdmin|resourcemanager\.folderIamAdmin|resourcemanager\.projectIamAdmin)"')
      OR regexp_like(b, '"(allUsers|allAuthenticatedUsers)"')
    ) AS risky
  FROM calls
)
SELECT
  time AS event_time,
  coalesce(nullif(principal_email, ''), principal_subject, 'unknown principal') AS actor,
  caller_ip AS source_ip,
  method_name AS action,
  resource_name AS target,
  CASE WHEN has_delta THEN 'added: ' ELSE 'in the policy set (the log has no delta; these bindings may have existed before): ' END
    || substr(regexp_replace(array_join(risky, '; '), '\s+', ' '), 1, 600) AS detail,
  evidence_key,
  evidence_record
FROM judged
WHERE cardinality(risky) > 0
UNION ALL
SELECT
  time AS event_time,
  coalesce(nullif(principal_email, ''), principal_subject, 'unknown principal') AS actor,
  caller_ip AS source_ip,
  method_name AS action,
  resource_name AS target,
  'project ownership (roles/owner) offered to ' || coalesce(json_extract_scalar(request, '$.member'), 'an unnamed member') AS detail,
  evidence_key,
  evidence_record
FROM gcp_audit
WHERE regexp_like(method_name, '(^|\.)InsertProjectOwnershipInvite$')
  AND coalesce(status_code, 0) = 0
ORDER BY event_time
