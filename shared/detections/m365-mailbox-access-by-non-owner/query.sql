-- MailItemsAccessed / MailboxLogin by a non-owner: LogonType Admin, Delegated or DelegatedAdmin (number or name, see
-- logon_type_name), or any other logon type except Microsoft's own services when the acting account differs from
-- MailboxOwnerUPN. Grouped per actor, mailbox and clock hour (MailItemsAccessed is logged per batch of items, so a
-- single session can produce hundreds of records).
WITH access AS (
  SELECT
    time,
    substr(time, 1, 13) AS hour,
    coalesce(nullif(user_id, ''), user_key, 'unknown user') AS actor,
    coalesce(nullif(mailbox_owner_upn, ''), object_id, '?') AS mailbox,
    logon_type_name,
    client_ip,
    operation,
    evidence_key,
    evidence_record,
    time || '|' || coalesce(evidence_key, '') || '|' || lpad(CAST(evidence_record AS varchar), 10, '0') AS pick
  FROM m365_audit
  WHERE operation IN ('MailItemsAccessed', 'MailboxLogin')
    AND lower(coalesce(result_status, 'succeeded')) NOT IN ('failed', 'failure', 'false')
    AND (
      logon_type_name IN ('Admin', 'Delegated', 'DelegatedAdmin')
      OR (coalesce(logon_type_name, '') NOT IN ('Transport', 'SystemService', 'BestAccess')
          AND nullif(mailbox_owner_upn, '') IS NOT NULL
          AND lower(coalesce(user_id, '')) <> lower(mailbox_owner_upn))
    )
)
SELECT
  min(time) AS event_time,
  actor,
  min_by(client_ip, pick) AS source_ip,
  min_by(operation, pick) AS action,
  mailbox AS target,
  CAST(count(*) AS varchar) || CASE WHEN count(*) = 1 THEN ' access record' ELSE ' access records' END || ' to the mailbox of ' || mailbox || ' by ' || actor || ' as '
    || array_join(array_distinct(array_agg(coalesce(logon_type_name, 'unknown logon type') ORDER BY coalesce(logon_type_name, 'unknown logon type'))), '/')
    || ' within ' || hour || ':00Z-' || hour || ':59Z from '
    || coalesce(array_join(array_distinct(array_agg(client_ip ORDER BY client_ip)), ', '), 'unknown addresses') AS detail,
  min_by(evidence_key, pick) AS evidence_key,
  min_by(evidence_record, pick) AS evidence_record,
  min(time) AS first_time,
  max(time) AS last_time,
  count(*) AS records
FROM access
GROUP BY hour, actor, mailbox
ORDER BY event_time, actor, mailbox
