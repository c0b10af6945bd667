-- A disk or database copy handed to someone else: an EBS snapshot (ModifySnapshotAttribute
-- createVolumePermission add), an AMI (ModifyImageAttribute launchPermission add) or an RDS snapshot
-- (ModifyDBSnapshotAttribute, ModifyDBClusterSnapshotAttribute with attributeName restore and valuesToAdd)
-- made public (group / value 'all') or shared with an account id other than the event's recipient account.
-- There is no organisation account list offline, so a sister account of the same organisation counts as
-- foreign (the runbook checks it); shares to an organisation or OU ARN are not reported, since whose
-- organisation it is cannot be told from the event. Removals and failed calls are not reported.
WITH shares AS (
  SELECT
    *,
    CASE eventname
      WHEN 'ModifySnapshotAttribute' THEN coalesce(json_format(json_extract(requestparameters, '$.createVolumePermission.add')), '')
      WHEN 'ModifyImageAttribute' THEN coalesce(json_format(json_extract(requestparameters, '$.launchPermission.add')), '')
      ELSE CASE WHEN lower(coalesce(json_extract_scalar(requestparameters, '$.attributeName'), '')) = 'restore'
        THEN coalesce(json_format(json_extract(requestparameters, '$.valuesToAdd')), '') ELSE '' END
    END AS added
  FROM cloudtrail
  WHERE eventname IN ('ModifySnapshotAttribute', 'ModifyImageAttribute', 'ModifyDBSnapshotAttribute', 'ModifyDBClusterSnapshotAttribute')
    AND eventsource IN ('ec2.amazonaws.com', 'rds.amazonaws.com')
    AND errorcode IS NULL
),
recipients AS (
  SELECT
    *,
    regexp_like(added, '"group"\s*:\s*"all"|"all"') AS is_public,
    filter(
      array_distinct(regexp_extract_all(added, '(?:"userId"\s*:\s*"|")([0-9]{12})"', 1)),
      a -> a <> coalesce(recipientaccountid, useridentity.accountid, '')
    ) AS foreign_accounts
  FROM shares
)
SELECT
  eventtime AS event_time,
  coalesce(nullif(useridentity.arn, ''), useridentity.username, useridentity.principalid) AS actor,
  sourceipaddress AS source_ip,
  eventname AS action,
  coalesce(
    json_extract_scalar(requestparameters, '$.snapshotId'),
    json_extract_scalar(requestparameters, '$.imageId'),
    json_extract_scalar(requestparameters, '$.dBSnapshotIdentifier'),
    json_extract_scalar(requestparameters, '$.dBClusterSnapshotIdentifier'),
    '?'
  ) AS target,
  CASE eventname WHEN 'ModifyImageAttribute' THEN 'AMI' WHEN 'ModifySnapshotAttribute' THEN 'EBS snapshot' ELSE 'RDS snapshot' END
    || CASE
      WHEN is_public AND cardinality(foreign_accounts) > 0 THEN ' made public and shared with ' || array_join(foreign_accounts, ', ')
      WHEN is_public THEN ' made public (all AWS accounts)'
      ELSE ' shared with account ' || array_join(foreign_accounts, ', ')
    END AS detail,
  evidence_key,
  evidence_record
FROM recipients
WHERE is_public OR cardinality(foreign_accounts) > 0
ORDER BY event_time
