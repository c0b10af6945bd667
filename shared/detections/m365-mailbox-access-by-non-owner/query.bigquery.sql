-- BigQuery Standard SQL twin of query.sql: MailItemsAccessed / MailboxLogin by a non-owner (Admin, Delegated,
-- DelegatedAdmin logons, or another account than MailboxOwnerUPN outside Microsoft's own services), grouped per
-- actor, mailbox and clock hour. The representative record of a group is its first by (time, evidence key, record
-- index): MIN_BY over that total key. Lists are STRING_AGG(DISTINCT x ORDER BY x) with the Athena SQL's separators.
WITH access AS (
  SELECT
    time,
    SUBSTR(time, 1, 13) AS hour,
    COALESCE(NULLIF(user_id, ''), user_key, 'unknown user') AS actor,
    COALESCE(NULLIF(mailbox_owner_upn, ''), object_id, '?') AS mailbox,
    COALESCE(logon_type_name, 'unknown logon type') AS logon,
    client_ip,
    operation,
    evidence_key,
    evidence_record,
    time || '|' || COALESCE(evidence_key, '') || '|' || LPAD(CAST(evidence_record AS STRING), 10, '0') AS pick
  FROM m365_audit
  WHERE operation IN ('MailItemsAccessed', 'MailboxLogin')
    AND LOWER(COALESCE(result_status, 'succeeded')) NOT IN ('failed', 'failure', 'false')
    AND (
      logon_type_name IN ('Admin', 'Delegated', 'DelegatedAdmin')
      OR (COALESCE(logon_type_name, '') NOT IN ('Transport', 'SystemService', 'BestAccess')
          AND NULLIF(mailbox_owner_upn, '') IS NOT NULL
          AND LOWER(COALESCE(user_id, '')) <> LOWER(mailbox_owner_upn))
    )
)
SELECT
  MIN(time) AS event_time,
  actor,
  MIN_BY(client_ip, pick) AS source_ip,
  MIN_BY(operation, pick) AS action,
  mailbox AS target,
  CAST(COUNT(*) AS STRING) || CASE WHEN COUNT(*) = 1 THEN ' access record' ELSE ' access records' END || ' to the mailbox of ' || mailbox || ' by ' || actor || ' as '
    || REPLACE(STRING_AGG(DISTINCT logon ORDER BY logon), ',', '/')
    || ' within ' || hour || ':00Z-' || hour || ':59Z from '
    || COALESCE(REPLACE(STRING_AGG(DISTINCT client_ip ORDER BY client_ip), ',', ', '), 'unknown addresses') AS detail,
  MIN_BY(evidence_key, pick) AS evidence_key,
  MIN_BY(evidence_record, pick) AS evidence_record,
  MIN(time) AS first_time,
  MAX(time) AS last_time,
  COUNT(*) AS records
FROM access
GROUP BY hour, actor, mailbox
ORDER BY event_time, actor, mailbox
