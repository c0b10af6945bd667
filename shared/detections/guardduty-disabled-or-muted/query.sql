-- GuardDuty switched off or told to look away:
-- * the detector deleted, or UpdateDetector with enable false or a protection plan / data source disabled;
-- * a trusted IP list created or replaced (CreateIPSet, UpdateIPSet): GuardDuty raises nothing for traffic
--   from those addresses;
-- * a suppression rule (CreateFilter, UpdateFilter with action ARCHIVE) that auto-archives findings;
-- * the account cut from its administrator (DisassociateFromMasterAccount, DisassociateFromAdministratorAccount)
--   or members dropped or unmonitored by the administrator (DeleteMembers, DisassociateMembers,
--   StopMonitoringMembers), so findings stop reaching the security team;
-- * findings export removed (DeletePublishingDestination).
-- Failed attempts are reported too.
WITH gd AS (
  SELECT
    *,
    CASE
      WHEN eventname = 'DeleteDetector' THEN 'detector deleted'
      WHEN eventname = 'UpdateDetector' AND lower(coalesce(json_extract_scalar(requestparameters, '$.enable'), '')) = 'false' THEN 'detector disabled'
      WHEN eventname = 'UpdateDetector' AND regexp_like(coalesce(requestparameters, ''), '"(enable|Enable)"\s*:\s*false|"(status|Status)"\s*:\s*"DISABLED"') THEN 'a protection plan or data source disabled'
      WHEN eventname IN ('CreateIPSet', 'UpdateIPSet') THEN 'trusted IP list ' || coalesce(json_extract_scalar(requestparameters, '$.name'), json_extract_scalar(requestparameters, '$.ipSetId'), '?') || ' set from ' || coalesce(json_extract_scalar(requestparameters, '$.location'), '?')
      WHEN eventname IN ('CreateFilter', 'UpdateFilter') AND upper(coalesce(json_extract_scalar(requestparameters, '$.action'), '')) = 'ARCHIVE' THEN 'suppression rule ' || coalesce(json_extract_scalar(requestparameters, '$.name'), json_extract_scalar(requestparameters, '$.filterName'), '?') || ' auto-archives findings'
      WHEN eventname IN ('DisassociateFromMasterAccount', 'DisassociateFromAdministratorAccount') THEN 'account detached from its GuardDuty administrator'
      WHEN eventname IN ('DeleteMembers', 'DisassociateMembers', 'StopMonitoringMembers') THEN 'member account(s) ' || coalesce(nullif(array_join(regexp_extract_all(coalesce(json_format(json_extract(requestparameters, '$.accountIds')), ''), '[0-9]{12}'), ', '), ''), '?') || ' no longer monitored'
      WHEN eventname = 'DeletePublishingDestination' THEN 'findings export destination deleted'
    END AS change
  FROM cloudtrail
  WHERE eventsource = 'guardduty.amazonaws.com'
)
SELECT
  eventtime AS event_time,
  coalesce(nullif(useridentity.arn, ''), useridentity.username, useridentity.principalid) AS actor,
  sourceipaddress AS source_ip,
  eventname AS action,
  'detector ' || coalesce(json_extract_scalar(requestparameters, '$.detectorId'), '?') AS target,
  change || CASE WHEN errorcode IS NULL THEN '' ELSE ' (attempt failed: ' || errorcode || ')' END AS detail,
  evidence_key,
  evidence_record
FROM gd
WHERE change IS NOT NULL
ORDER BY event_time
