-- BigQuery Standard SQL twin of query.sql (same logic, same columns; see its comments). The representative record
-- of a group is its first by (time, evidence key, record index): MIN_BY over that total key.
WITH subs AS (
  SELECT
    coalesce(client_id, '<unknown client>') AS client,
    username,
    client_ip,
    topic,
    event,
    time,
    evidence_key,
    evidence_record,
    time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS STRING), 10, '0') AS pick
  FROM mqtt_broker_logs
  WHERE event IN ('subscribe', 'subscribe-request')
    AND topic IS NOT NULL
    AND REGEXP_CONTAINS(topic, r'^(\$share/[^/]+/)?([^/]+/)?#$')
    AND NOT coalesce(is_bridge, false)
    AND NOT REGEXP_CONTAINS(lower(coalesce(username, '')), r'admin|broker|bridge')
    AND NOT (username IS NULL AND REGEXP_CONTAINS(lower(coalesce(client_id, '')), r'admin|broker|bridge'))
)
SELECT
  min(time) AS event_time,
  coalesce(min_by(username, pick), client) AS actor,
  min_by(client_ip, pick) AS source_ip,
  min_by(event, pick) AS action,
  topic AS target,
  'client ' || client || ' (user ' || coalesce(max(username), 'none') || ') subscribed to ' || topic
    || ' (' || CAST(COUNTIF(event = 'subscribe-request') AS STRING) || CASE WHEN COUNTIF(event = 'subscribe-request') = 1 THEN ' request' ELSE ' requests' END || ', ' || CAST(COUNTIF(event = 'subscribe') AS STRING) || CASE WHEN COUNTIF(event = 'subscribe') = 1 THEN ' grant' ELSE ' grants' END || ' logged) between ' || min(time) || ' and ' || max(time) AS detail,
  min_by(evidence_key, pick) AS evidence_key,
  min_by(evidence_record, pick) AS evidence_record,
  min(time) AS first_time,
  max(time) AS last_time,
  count(*) AS records
FROM subs
GROUP BY client, topic
ORDER BY event_time, actor
