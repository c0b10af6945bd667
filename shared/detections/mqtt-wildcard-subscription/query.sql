-- Broad wildcard subscriptions. Broad: a multi-level wildcard `#` at the first or second level of the topic
-- filter (`#`, `+/#`, `home/#`, `$SYS/#`, also inside a shared subscription `$share/<group>/...`); a wildcard
-- deeper down (`site/a/sensor-12/cmd/#`) is a device reading its own subtree and is left out.
-- Both the granted subscription (Mosquitto's subscribe log type, `<client> <qos> <topic>`) and the request
-- (debug `\t<topic> (QoS n)` after `Received SUBSCRIBE`, logged before the ACL check) count; the detail says
-- whether it was granted.
-- Administrative clients are left out: a user name containing admin, broker or bridge (case-insensitive), a
-- bridge connection, or, only when the connection has no user name, a client id containing those words
-- (a client id is the client's own choice, so that last case can be spoofed: prefer user names).
-- One finding per (client id, topic filter), at its first subscription.
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
    time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS varchar), 10, '0') AS pick
  FROM mqtt_broker_logs
  WHERE event IN ('subscribe', 'subscribe-request')
    AND topic IS NOT NULL
    AND regexp_like(topic, '^(\$share/[^/]+/)?([^/]+/)?#$')
    AND NOT coalesce(is_bridge, false)
    AND NOT regexp_like(lower(coalesce(username, '')), 'admin|broker|bridge')
    AND NOT (username IS NULL AND regexp_like(lower(coalesce(client_id, '')), 'admin|broker|bridge'))
)
SELECT
  min(time) AS event_time,
  coalesce(min_by(username, pick), client) AS actor,
  min_by(client_ip, pick) AS source_ip,
  min_by(event, pick) AS action,
  topic AS target,
  'client ' || client || ' (user ' || coalesce(max(username), 'none') || ') subscribed to ' || topic
    || ' (' || CAST(count_if(event = 'subscribe-request') AS varchar) || CASE WHEN count_if(event = 'subscribe-request') = 1 THEN ' request' ELSE ' requests' END || ', ' || CAST(count_if(event = 'subscribe') AS varchar) || CASE WHEN count_if(event = 'subscribe') = 1 THEN ' grant' ELSE ' grants' END || ' logged) between ' || min(time) || ' and ' || max(time) AS detail,
  min_by(evidence_key, pick) AS evidence_key,
  min_by(evidence_record, pick) AS evidence_record,
  min(time) AS first_time,
  max(time) AS last_time,
  count(*) AS records
FROM subs
GROUP BY client, topic
ORDER BY event_time, actor
