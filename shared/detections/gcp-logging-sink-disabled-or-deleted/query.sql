-- Logging configuration changes that reduce what is kept. The verb is the method name's last segment (ConfigServiceV2
-- and LoggingServiceV2 methods: DeleteSink, DeleteBucket, DeleteLog, UpdateSink, CreateExclusion, UpdateExclusion,
-- UpdateSettings). An UpdateSink counts when the sink is disabled, when its update mask touches filter, exclusions,
-- disabled or destination, or when it has no update mask (a full replacement can change any of them). Only calls
-- that succeeded count.
WITH calls AS (
  SELECT
    *,
    regexp_extract(method_name, '([A-Za-z]+)$', 1) AS verb,
    coalesce(json_extract_scalar(request, '$.updateMask'), json_extract_scalar(request, '$.update_mask'), '') AS update_mask
  FROM gcp_audit
  WHERE regexp_like(method_name, '(^|\.)(ConfigServiceV2|LoggingServiceV2)\.|^(DeleteSink|DeleteBucket|DeleteLog|UpdateSink|CreateExclusion|UpdateExclusion|UpdateSettings)$')
    AND coalesce(status_code, 0) = 0
),
judged AS (
  SELECT
    *,
    CASE
      WHEN verb = 'DeleteSink' THEN 'sink deleted'
      WHEN verb = 'DeleteBucket' THEN 'log bucket deleted'
      WHEN verb = 'DeleteLog' THEN 'log entries deleted'
      WHEN verb = 'UpdateSink' AND json_extract_scalar(request, '$.sink.disabled') = 'true' THEN 'sink disabled'
      WHEN verb = 'UpdateSink' AND update_mask = '' THEN 'sink replaced without an update mask (filter, exclusions or destination may have changed)'
      WHEN verb = 'UpdateSink' AND regexp_like(update_mask, 'filter|exclusions|disabled|destination') THEN 'sink updated: ' || update_mask
      WHEN verb IN ('CreateExclusion', 'UpdateExclusion') AND coalesce(json_extract_scalar(request, '$.exclusion.disabled'), 'false') <> 'true'
        THEN 'exclusion ' || CASE WHEN verb = 'CreateExclusion' THEN 'created' ELSE 'updated' END || coalesce(' with filter ' || json_extract_scalar(request, '$.exclusion.filter'), '')
      WHEN verb = 'UpdateSettings' AND json_extract_scalar(request, '$.settings.disableDefaultSink') = 'true' THEN 'default sink disabled in the logging settings'
    END AS change
  FROM calls
)
SELECT
  time AS event_time,
  coalesce(nullif(principal_email, ''), principal_subject, 'unknown principal') AS actor,
  caller_ip AS source_ip,
  method_name AS action,
  coalesce(resource_name, json_extract_scalar(request, '$.sinkName'), json_extract_scalar(request, '$.name')) AS target,
  change || coalesce('; sink filter now ' || json_extract_scalar(request, '$.sink.filter'), '')
    || coalesce('; exclusions ' || json_format(try(json_extract(request, '$.sink.exclusions'))), '') AS detail,
  evidence_key,
  evidence_record
FROM judged
WHERE change IS NOT NULL
ORDER BY event_time
