-- Ten or more distinct resources deleted by one caller in one clock hour (the hour is cut from the `time` text,
-- which is fixed-width UTC). An Azure delete is logged as a Start/Accept event and then a Success/Failure event for
-- the same resource, so resources are counted, not events; operations that failed are left out. Buckets are
-- clock hours: a burst straddling an hour boundary is seen only if either half reaches the threshold.
WITH deletes AS (
  SELECT
    time,
    substr(time, 1, 13) AS hour,
    coalesce(nullif(caller, ''), principal_id, 'unknown caller') AS actor,
    caller_ip,
    operation_name,
    lower(resource_id) AS resource,
    subscription_id,
    regexp_extract(lower(operation_name), '^(.*)/delete$', 1) AS resource_kind,
    evidence_key,
    evidence_record,
    time || '|' || coalesce(evidence_key, '') || '|' || lpad(CAST(evidence_record AS varchar), 10, '0') AS pick
  FROM azure_activity
  WHERE regexp_like(lower(operation_name), '/delete$')
    AND lower(coalesce(result_type, '')) NOT IN ('failure', 'failed')
    AND nullif(resource_id, '') IS NOT NULL
)
SELECT
  min(time) AS event_time,
  actor,
  min_by(caller_ip, pick) AS source_ip,
  min_by(operation_name, pick) AS action,
  CAST(count(DISTINCT resource) AS varchar) || ' resources in ' || CASE WHEN count(DISTINCT subscription_id) = 1 THEN 'subscription ' ELSE 'subscriptions ' END
    || coalesce(array_join(array_distinct(array_agg(subscription_id ORDER BY subscription_id)), ', '), '?') AS target,
  CAST(count(DISTINCT resource) AS varchar) || ' distinct resources deleted within ' || hour || ':00Z-' || hour || ':59Z ('
    || CAST(count(*) AS varchar) || CASE WHEN count(*) = 1 THEN ' delete event' ELSE ' delete events' END || '); kinds: '
    || array_join(array_distinct(array_agg(resource_kind ORDER BY resource_kind)), ', ') AS detail,
  min_by(evidence_key, pick) AS evidence_key,
  min_by(evidence_record, pick) AS evidence_record,
  min(time) AS first_time,
  max(time) AS last_time,
  count(*) AS records
FROM deletes
GROUP BY hour, actor
HAVING count(DISTINCT resource) >= 10
ORDER BY event_time, actor
