-- BigQuery Standard SQL twin of query.sql: keys and tokens for a service account obtained by another principal,
-- Google-managed service agents (numeric local part in a gserviceaccount.com domain) left out.
WITH calls AS (
  SELECT
    *,
    REGEXP_EXTRACT(method_name, r'([A-Za-z]+)$') AS verb,
    LOWER(COALESCE(
      REGEXP_EXTRACT(COALESCE(JSON_VALUE(request, '$.name'), ''), r'serviceAccounts/([^/]+@[^/]+)'),
      JSON_VALUE(resource_labels, '$.email_id'),
      REGEXP_EXTRACT(COALESCE(resource_name, ''), r'serviceAccounts/([^/]+@[^/]+)')
    )) AS account,
    LOWER(COALESCE(NULLIF(principal_email, ''), principal_subject, '')) AS principal
  FROM gcp_audit
  WHERE REGEXP_CONTAINS(method_name, r'(^|\.)(CreateServiceAccountKey|UploadServiceAccountKey|GenerateAccessToken|GenerateIdToken|SignBlob|SignJwt)$')
    AND COALESCE(status_code, 0) = 0
)
SELECT
  time AS event_time,
  COALESCE(NULLIF(principal_email, ''), principal_subject) AS actor,
  caller_ip AS source_ip,
  method_name AS action,
  COALESCE(account, resource_name) AS target,
  CASE WHEN verb IN ('CreateServiceAccountKey', 'UploadServiceAccountKey') THEN 'key created for ' ELSE verb || ' as ' END
    || COALESCE(account, resource_name, 'an unnamed service account') || ' by ' || COALESCE(NULLIF(principal_email, ''), principal_subject)
    || COALESCE('; key ' || JSON_VALUE(response, '$.name'), '')
    || COALESCE('; delegation chain ' || JSON_QUERY(metadata, '$.identityDelegationChain'), '') AS detail,
  evidence_key,
  evidence_record
FROM calls
WHERE principal <> ''
  AND principal <> COALESCE(account, '')
  AND NOT REGEXP_CONTAINS(principal, r'^(service-)?[0-9]+@([a-z0-9-]+\.)*gserviceaccount\.com$')
ORDER BY event_time, evidence_key, evidence_record
