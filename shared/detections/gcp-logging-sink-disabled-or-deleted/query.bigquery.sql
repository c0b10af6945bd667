-- BigQuery Standard SQL twin of query.sql: logging configuration changes that reduce what is kept (sinks deleted,
-- disabled or re-filtered, log buckets and logs deleted, exclusions created, the default sink disabled).
WITH calls AS (
  SELECT
    *,
    REGEXP_EXTRACT(method_name, r'([A-Za-z]+)$') AS verb,
    COALESCE(JSON_VALUE(request, '$.updateMask'), JSON_VALUE(request, '$.update_mask'), '') AS update_mask
  FROM gcp_audit
  WHERE REGEXP_CONTAINS(method_name, r'(^|\.)(ConfigServiceV2|LoggingServiceV2)\.|^(DeleteSink|DeleteBucket|DeleteLog|UpdateSink|CreateExclusion|UpdateExclusion|UpdateSettings)$')
    AND COALESCE(status_code, 0) = 0
),
judged AS (
  SELECT
    *,
    CASE
      WHEN verb = 'DeleteSink' THEN 'sink deleted'
      WHEN verb = 'DeleteBucket' THEN 'log bucket deleted'
      WHEN verb = 'DeleteLog' THEN 'log entries deleted'
      WHEN verb = 'UpdateSink' AND JSON_VALUE(request, '$.sink.disabled') = 'true' THEN 'sink disabled'
      WHEN verb = 'UpdateSink' AND update_mask = '' THEN 'sink replaced without an update mask (filter, exclusions or destination may have changed)'
      WHEN verb = 'UpdateSink' AND REGEXP_CONTAINS(update_mask, r'filter|exclusions|disabled|destination') THEN 'sink updated: ' || update_mask
      WHEN verb IN ('CreateExclusion', 'UpdateExclusion') AND COALESCE(JSON_VALUE(request, '$.exclusion.disabled'), 'false') <> 'true'
        THEN 'exclusion ' || CASE WHEN verb = 'CreateExclusion' THEN 'created' ELSE 'updated' END || COALESCE(' with filter ' || JSON_VALUE(request, '$.exclusion.filter'), '')
      WHEN verb = 'UpdateSettings' AND JSON_VALUE(request, '$.settings.disableDefaultSink') = 'true' THEN 'default sink disabled in the logging settings'
    END AS change
  FROM calls
)
SELECT
  time AS event_time,
  COALESCE(NULLIF(principal_email, ''), principal_subject, 'unknown principal') AS actor,
  caller_ip AS source_ip,
  method_name AS action,
  COALESCE(resource_name, JSON_VALUE(request, '$.sinkName'), JSON_VALUE(request, '$.name')) AS target,
  change || COALESCE('; sink filter now ' || JSON_VALUE(request, '$.sink.filter'), '')
    || COALESCE('; exclusions ' || JSON_QUERY(request, '$.sink.exclusions'), '') AS detail,
  evidence_key,
  evidence_record
FROM judged
WHERE change IS NOT NULL
ORDER BY event_time, evidence_key, evidence_record
