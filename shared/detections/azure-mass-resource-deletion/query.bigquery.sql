-- BigQuery Standard SQL twin of query.sql: ten or more distinct resources deleted by one caller in one clock hour
-- (cut from the fixed-width `time` text); resources are counted, not events; failed operations left out. The
-- representative record of a group is its first by (time, evidence key, record index): MIN_BY over that total key.
-- Lists are STRING_AGG(DISTINCT x ORDER BY x) with ', ' between values.
WITH deletes AS (
  SELECT
    time,
    SUBSTR(time, 1, 13) AS hour,
    COALESCE(NULLIF(caller, ''), principal_id, 'unknown caller') AS actor,
    caller_ip,
    operation_name,
    LOWER(resource_id) AS resource,
    subscription_id,
    REGEXP_EXTRACT(LOWER(operation_name), r'^(.*)/delete$') AS resource_kind,
    evidence_key,
    evidence_record,
    time || '|' || COALESCE(evidence_key, '') || '|' || LPAD(CAST(evidence_record AS STRING), 10, '0') AS pick
  FROM azure_activity
  WHERE REGEXP_CONTAINS(LOWER(operation_name), r'/delete$')
    AND LOWER(COALESCE(result_type, '')) NOT IN ('failure', 'failed')
    AND NULLIF(resource_id, '') IS NOT NULL
)
SELECT
  MIN(time) AS event_time,
  actor,
  MIN_BY(caller_ip, pick) AS source_ip,
  MIN_BY(operation_name, pick) AS action,
  CAST(COUNT(DISTINCT resource) AS STRING) || ' resources in ' || CASE WHEN COUNT(DISTINCT subscription_id) = 1 THEN 'subscription ' ELSE 'subscriptions ' END
    || COALESCE(REPLACE(STRING_AGG(DISTINCT subscription_id ORDER BY subscription_id), ',', ', '), '?') AS target,
  CAST(COUNT(DISTINCT resource) AS STRING) || ' distinct resources deleted within ' || hour || ':00Z-' || hour || ':59Z ('
    || CAST(COUNT(*) AS STRING) || CASE WHEN COUNT(*) = 1 THEN ' delete event' ELSE ' delete events' END || '); kinds: '
    || REPLACE(STRING_AGG(DISTINCT resource_kind ORDER BY resource_kind), ',', ', ') AS detail,
  MIN_BY(evidence_key, pick) AS evidence_key,
  MIN_BY(evidence_record, pick) AS evidence_record,
  MIN(time) AS first_time,
  MAX(time) AS last_time,
  COUNT(*) AS records
FROM deletes
GROUP BY hour, actor
HAVING COUNT(DISTINCT resource) >= 10
ORDER BY event_time, actor
