-- BigQuery Standard SQL twin of query.sql (same logic, same columns; see its comments). The representative record
-- of a group is its first by (time, evidence key, record index): MIN_BY over that total key.
WITH fields AS (
  SELECT
    thing_name,
    coalesce(shadow_name, '') AS shadow,
    path,
    desired,
    desired_epoch,
    desired_time,
    reported,
    reported_epoch,
    reported_time,
    evidence_key,
    evidence_record,
    lpad(CAST(coalesce(doc_epoch, 0) AS STRING), 12, '0') || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS STRING), 10, '0') AS pick
  FROM iot_shadows
  WHERE path IS NOT NULL
),
requests AS (
  SELECT DISTINCT thing_name, shadow, path, desired AS value, desired_epoch AS t, desired_time AS said_at
  FROM fields
  WHERE desired IS NOT NULL AND desired <> 'null' AND desired_epoch IS NOT NULL
),
reports AS (
  SELECT thing_name, shadow, path, reported AS value, reported_epoch AS t, max(reported_time) AS said_at,
         min_by(evidence_key, pick) AS evidence_key, min_by(evidence_record, pick) AS evidence_record
  FROM fields
  WHERE reported IS NOT NULL AND reported_epoch IS NOT NULL
  GROUP BY thing_name, shadow, path, reported, reported_epoch
),
executions AS (
  SELECT q.thing_name, q.shadow, q.path, q.value, q.t, q.said_at, min(r.t) AS done
  FROM requests q
  JOIN reports r ON r.thing_name = q.thing_name AND r.shadow = q.shadow AND r.path = q.path AND r.value = q.value AND r.t >= q.t
  GROUP BY q.thing_name, q.shadow, q.path, q.value, q.t, q.said_at
)
SELECT
  r.said_at AS event_time,
  e.thing_name AS actor,
  CAST(NULL AS STRING) AS source_ip,
  'ShadowReported' AS action,
  e.thing_name || CASE WHEN e.shadow = '' THEN '' ELSE '/' || e.shadow END || ' ' || e.path AS target,
  'desired ' || e.path || ' = ' || e.value || ' at ' || e.said_at || ', first reported at ' || r.said_at || ': '
    || CAST(e.done - e.t AS STRING) || ' s later (more than 300 s)' AS detail,
  r.evidence_key,
  r.evidence_record
FROM executions e
JOIN reports r ON r.thing_name = e.thing_name AND r.shadow = e.shadow AND r.path = e.path AND r.value = e.value AND r.t = e.done
WHERE e.done - e.t > 300
ORDER BY event_time, target
