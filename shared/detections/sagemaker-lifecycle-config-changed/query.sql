-- SageMaker start-up scripts: notebook instance lifecycle configurations created or updated, Studio lifecycle
-- configurations created, and notebook instances updated to use a lifecycle configuration. Only calls that
-- succeeded count.
SELECT
  eventtime AS event_time,
  coalesce(nullif(useridentity.arn, ''), useridentity.username, useridentity.principalid) AS actor,
  sourceipaddress AS source_ip,
  eventname AS action,
  coalesce(json_extract_scalar(requestparameters, '$.notebookInstanceName'), json_extract_scalar(requestparameters, '$.notebookInstanceLifecycleConfigName'),
    json_extract_scalar(requestparameters, '$.studioLifecycleConfigName'), '?') AS target,
  CASE WHEN eventname = 'UpdateNotebookInstance'
    THEN 'notebook instance set to run lifecycle configuration ' || coalesce(regexp_extract(requestparameters, '(?i)"lifecycleConfigName"\s*:\s*"([^"]*)"', 1), '?')
    ELSE 'lifecycle script ' || CASE WHEN eventname LIKE 'Create%' THEN 'created' ELSE 'changed' END || ': runs as root with the notebook''s role at start' END AS detail,
  evidence_key,
  evidence_record
FROM cloudtrail
WHERE eventsource = 'sagemaker.amazonaws.com'
  AND errorcode IS NULL
  AND (
    eventname IN ('CreateNotebookInstanceLifecycleConfig', 'UpdateNotebookInstanceLifecycleConfig', 'CreateStudioLifecycleConfig')
    OR (eventname = 'UpdateNotebookInstance' AND regexp_like(coalesce(requestparameters, ''), '(?i)"lifecycleConfigName"\s*:\s*"'))
  )
ORDER BY event_time
