-- Inbox rules that are enabled (or whose state is not given) and forward, forward as attachment or redirect
-- mail elsewhere, or delete it. The mailbox is the actor: the rule acts in its name.
SELECT
  observed_at AS event_time,
  coalesce(mailbox, 'unknown mailbox') AS actor,
  CAST(NULL AS VARCHAR) AS source_ip,
  'inbox rule' AS action,
  coalesce(nullif(name, ''), id) AS target,
  CASE WHEN forwards_to IS NOT NULL THEN 'sends mail to ' || forwards_to ELSE 'deletes mail' END
    || CASE WHEN forwards_to IS NOT NULL AND deletes THEN ' and deletes it' ELSE '' END
    || '; rule ' || coalesce(id, '?') AS detail,
  evidence_key,
  evidence_record
FROM azure_state
WHERE kind = 'inbox-rule'
  AND coalesce(enabled, true)
  AND (forwards_to IS NOT NULL OR coalesce(deletes, false))
ORDER BY event_time
