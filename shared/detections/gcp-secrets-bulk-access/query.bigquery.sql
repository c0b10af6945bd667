-- BigQuery Standard SQL twin of query.sql (same rule, same columns): AccessSecretVersion counted per principal and
-- hour over distinct secrets; ten or more make a finding, failed reads counted as attempts. Secret ids hold no comma,
-- so STRING_AGG's default separator is widened to ', ' as in the Athena detail.
WITH reads AS (
  SELECT
    SUBSTR(time, 1, 13) AS bucket,
    COALESCE(NULLIF(principal_email, ''), principal_subject, 'unknown principal') AS actor,
    caller_ip,
    method_name,
    status_code,
    REGEXP_EXTRACT(COALESCE(resource_name, ''), r'/secrets/([^/]+)') AS secret,
    project_id,
    evidence_key,
    evidence_record,
    CONCAT(time, '|', COALESCE(evidence_key, ''), '|', LPAD(COALESCE(CAST(evidence_record AS STRING), ''), 10, '0'), '|', COALESCE(insert_id, '')) AS pick,
    time
  FROM gcp_audit
  WHERE REGEXP_CONTAINS(COALESCE(method_name, ''), r'SecretManagerService\.AccessSecretVersion$')
)
SELECT
  MIN(time) AS event_time,
  actor,
  MIN_BY(caller_ip, pick) AS source_ip,
  MIN_BY(method_name, pick) AS action,
  CONCAT('project ', COALESCE(MAX(project_id), '?')) AS target,
  CONCAT(CAST(COUNT(DISTINCT secret) AS STRING), ' secrets read in 1 hour (', REPLACE(STRING_AGG(DISTINCT secret ORDER BY secret), ',', ', '), '), ',
    CAST(COUNTIF(COALESCE(status_code, 0) <> 0) AS STRING), ' failed') AS detail,
  MIN_BY(evidence_key, pick) AS evidence_key,
  MIN_BY(evidence_record, pick) AS evidence_record,
  MIN(time) AS first_time,
  MAX(time) AS last_time,
  COUNT(*) AS records
FROM reads
GROUP BY bucket, actor
HAVING COUNT(DISTINCT secret) >= 10
ORDER BY event_time, actor
