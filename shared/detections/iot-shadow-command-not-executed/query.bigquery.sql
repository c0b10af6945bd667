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
  SELECT thing_name, shadow, path, desired AS value, desired_epoch AS t, max(desired_time) AS said_at,
         max_by(evidence_key, pick) AS evidence_key, max_by(evidence_record, pick) AS evidence_record
  FROM fields
  WHERE desired IS NOT NULL AND desired <> 'null' AND desired_epoch IS NOT NULL
  GROUP BY thing_name, shadow, path, desired, desired_epoch
),
in_force AS (
  SELECT thing_name, shadow, path, max(t) AS t FROM requests GROUP BY thing_name, shadow, path
),
reports AS (
  SELECT thing_name, shadow, path, reported AS value, reported_epoch AS t, max(reported_time) AS said_at
  FROM fields
  WHERE reported IS NOT NULL AND reported_epoch IS NOT NULL
  GROUP BY thing_name, shadow, path, reported, reported_epoch
),
last_report AS (
  -- The latest report; two values reported at the same second tie-break on the value, the same on every run.
  SELECT thing_name, shadow, path, max_by(value, lpad(CAST(t AS STRING), 20, '0') || '|' || value) AS value, max(said_at) AS said_at FROM reports GROUP BY thing_name, shadow, path
),
horizon AS (
  SELECT thing_name, coalesce(shadow_name, '') AS shadow,
         max(greatest(coalesce(doc_epoch, 0), coalesce(desired_epoch, 0), coalesce(reported_epoch, 0))) AS seen_until,
         max(time) AS seen_at
  FROM iot_shadows
  GROUP BY thing_name, coalesce(shadow_name, '')
),
unmatched AS (
  SELECT q.thing_name, q.shadow, q.path, q.value, q.t, q.said_at, q.evidence_key, q.evidence_record, count(r.t) AS matches
  FROM requests q
  JOIN in_force f ON f.thing_name = q.thing_name AND f.shadow = q.shadow AND f.path = q.path AND f.t = q.t
  LEFT JOIN reports r ON r.thing_name = q.thing_name AND r.shadow = q.shadow AND r.path = q.path AND r.value = q.value AND r.t >= q.t
  GROUP BY q.thing_name, q.shadow, q.path, q.value, q.t, q.said_at, q.evidence_key, q.evidence_record
)
SELECT
  u.said_at AS event_time,
  u.thing_name AS actor,
  CAST(NULL AS STRING) AS source_ip,
  'ShadowDesired' AS action,
  u.thing_name || CASE WHEN u.shadow = '' THEN '' ELSE '/' || u.shadow END || ' ' || u.path AS target,
  'desired ' || u.path || ' = ' || u.value || ' at ' || u.said_at || ' never reported by the device; last reported '
    || coalesce(lr.value || ' at ' || lr.said_at, 'nothing for this field') || '; shadow seen until ' || h.seen_at
    || ' (' || CAST((h.seen_until - u.t) / 60 AS STRING) || ' min after the command)' AS detail,
  u.evidence_key,
  u.evidence_record
FROM unmatched u
JOIN horizon h ON h.thing_name = u.thing_name AND h.shadow = u.shadow
LEFT JOIN last_report lr ON lr.thing_name = u.thing_name AND lr.shadow = u.shadow AND lr.path = u.path
WHERE u.matches = 0 AND h.seen_until - u.t > 300
ORDER BY event_time, target
