-- Secret Manager values read: AccessSecretVersion, counted per principal and hour over distinct secrets (the
-- secret id from projects/<p>/secrets/<id>/versions/<v>). Ten or more distinct secrets make a finding (the
-- BigQuery twin shares the threshold); failed reads count as attempts.
WITH reads AS (
  SELECT
    substr(time, 1, 13) AS bucket,
    coalesce(nullif(principal_email, ''), principal_subject, 'unknown principal') AS actor,
    caller_ip,
    method_name,
    status_code,
    regexp_extract(coalesce(resource_name, ''), '/secrets/([^/]+)', 1) AS secret,
    project_id,
    evidence_key,
    evidence_record,
    time || '|' || coalesce(evidence_key, '') || '|' || lpad(coalesce(CAST(evidence_record AS varchar), ''), 10, '0') || '|' || coalesce(insert_id, '') AS pick,
    time
  FROM gcp_audit
  WHERE regexp_like(coalesce(method_name, ''), 'SecretManagerService\.AccessSecretVersion$')
)
SELECT
  min(time) AS event_time,
  actor,
  min_by(caller_ip, pick) AS source_ip,
  min_by(method_name, pick) AS action,
  'project ' || coalesce(max(project_id), '?') AS target,
  CAST(count(DISTINCT secret) AS varchar) || ' secrets read in 1 hour ('
    || array_join(array_distinct(array_agg(secret ORDER BY secret)), ', ') || '), '
    || CAST(count_if(coalesce(status_code, 0) <> 0) AS varchar) || ' failed' AS detail,
  min_by(evidence_key, pick) AS evidence_key,
  min_by(evidence_record, pick) AS evidence_record,
  min(time) AS first_time,
  max(time) AS last_time,
  count(*) AS records
FROM reads
GROUP BY bucket, actor
HAVING count(DISTINCT secret) >= 10
ORDER BY event_time, actor
