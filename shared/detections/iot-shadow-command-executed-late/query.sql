-- Commands executed late. A command is a desired value of a shadow field at its metadata time; it is executed
-- at the first report of the same value (canonical JSON text) at or after that time, in any preserved snapshot
-- of the thing and shadow (an `/update/documents` message's previous and current states count as two). It is
-- late when that first matching report comes more than 300 seconds after the request
-- (SHADOW_LATE_AFTER_SECONDS in shared/sources/iot-shadow). Requests restated by several snapshots count
-- once; the finding cites the snapshot that shows the matching report.
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
    lpad(CAST(coalesce(doc_epoch, 0) AS varchar), 12, '0') || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS varchar), 10, '0') AS pick
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
  CAST(NULL AS varchar) AS source_ip,
  'ShadowReported' AS action,
  e.thing_name || CASE WHEN e.shadow = '' THEN '' ELSE '/' || e.shadow END || ' ' || e.path AS target,
  'desired ' || e.path || ' = ' || e.value || ' at ' || e.said_at || ', first reported at ' || r.said_at || ': '
    || CAST(e.done - e.t AS varchar) || ' s later (more than 300 s)' AS detail,
  r.evidence_key,
  r.evidence_record
FROM executions e
JOIN reports r ON r.thing_name = e.thing_name AND r.shadow = e.shadow AND r.path = e.path AND r.value = e.value AND r.t = e.done
WHERE e.done - e.t > 300
ORDER BY event_time, target
