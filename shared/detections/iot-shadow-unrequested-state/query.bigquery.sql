-- BigQuery Standard SQL twin of query.sql (same logic, same columns; see its comments). The representative record
-- of a group is its first by (time, evidence key, record index): MIN_BY over that total key.
-- Lists are STRING_AGG(DISTINCT x ORDER BY x) with the Athena SQL's separators (a value holding a comma reads as two).
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
in_force AS (
  SELECT r.thing_name, r.shadow, r.path, r.value, r.t, max(q.t) AS requested_t
  FROM reports r
  JOIN requests q ON q.thing_name = r.thing_name AND q.shadow = r.shadow AND q.path = r.path AND q.t <= r.t
  GROUP BY r.thing_name, r.shadow, r.path, r.value, r.t
),
judged AS (
  SELECT f.thing_name, f.shadow, f.path, f.value, f.t,
         COUNTIF(q.value = f.value) AS agreeing,
         REPLACE(STRING_AGG(DISTINCT q.value ORDER BY q.value), ',', ' or ') AS requested,
         max(q.said_at) AS requested_at
  FROM in_force f
  JOIN requests q ON q.thing_name = f.thing_name AND q.shadow = f.shadow AND q.path = f.path AND q.t = f.requested_t
  GROUP BY f.thing_name, f.shadow, f.path, f.value, f.t
)
SELECT
  r.said_at AS event_time,
  j.thing_name AS actor,
  CAST(NULL AS STRING) AS source_ip,
  'ShadowReported' AS action,
  j.thing_name || CASE WHEN j.shadow = '' THEN '' ELSE '/' || j.shadow END || ' ' || j.path AS target,
  'reported ' || j.path || ' = ' || j.value || ' at ' || r.said_at || ' while the request in force (since ' || j.requested_at
    || ') was ' || j.requested AS detail,
  r.evidence_key,
  r.evidence_record
FROM judged j
JOIN reports r ON r.thing_name = j.thing_name AND r.shadow = j.shadow AND r.path = j.path AND r.value = j.value AND r.t = j.t
WHERE j.agreeing = 0
ORDER BY event_time, target
