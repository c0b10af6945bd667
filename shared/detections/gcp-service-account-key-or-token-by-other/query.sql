-- Keys and tokens for a service account obtained by someone else. The service account is read from the request
-- (`name`: projects/-/serviceAccounts/<email>), else the service_account resource's email_id label, else the resource
-- name; the principal is principalEmail, else principalSubject (workload identity federation). Google-managed service
-- agents have a numeric local part (optionally `service-`) in a gserviceaccount.com domain: those are left out.
-- Only calls that succeeded count.
WITH calls AS (
  SELECT
    *,
    regexp_extract(method_name, '([A-Za-z]+)$', 1) AS verb,
    lower(coalesce(
      regexp_extract(coalesce(json_extract_scalar(request, '$.name'), ''), 'serviceAccounts/([^/]+@[^/]+)', 1),
      json_extract_scalar(resource_labels, '$.email_id'),
      regexp_extract(coalesce(resource_name, ''), 'serviceAccounts/([^/]+@[^/]+)', 1)
    )) AS account,
    lower(coalesce(nullif(principal_email, ''), principal_subject, '')) AS principal
  FROM gcp_audit
  WHERE regexp_like(method_name, '(^|\.)(CreateServiceAccountKey|UploadServiceAccountKey|GenerateAccessToken|GenerateIdToken|SignBlob|SignJwt)$')
    AND coalesce(status_code, 0) = 0
)
SELECT
  time AS event_time,
  coalesce(nullif(principal_email, ''), principal_subject) AS actor,
  caller_ip AS source_ip,
  method_name AS action,
  coalesce(account, resource_name) AS target,
  CASE WHEN verb IN ('CreateServiceAccountKey', 'UploadServiceAccountKey') THEN 'key created for ' ELSE verb || ' as ' END
    || coalesce(account, resource_name, 'an unnamed service account') || ' by ' || coalesce(nullif(principal_email, ''), principal_subject)
    || coalesce('; key ' || json_extract_scalar(response, '$.name'), '')
    || coalesce('; delegation chain ' || json_format(try(json_extract(metadata, '$.identityDelegationChain'))), '') AS detail,
  evidence_key,
  evidence_record
FROM calls
WHERE principal <> ''
  AND principal <> coalesce(account, '')
  AND NOT regexp_like(principal, '^(service-)?[0-9]+@([a-z0-9-]+\.)*gserviceaccount\.com$')
ORDER BY event_time
