-- An account taken out of its AWS Organization: LeaveOrganization (from the member account) or
-- RemoveAccountFromOrganization (from the management account). Outside the organisation the account escapes
-- its service control policies, the organisation trail and delegated security services. Failed attempts are
-- reported too: an attacker usually tries this as soon as it holds the account.
SELECT
  eventtime AS event_time,
  coalesce(nullif(useridentity.arn, ''), useridentity.username, useridentity.principalid) AS actor,
  sourceipaddress AS source_ip,
  eventname AS action,
  'account ' || coalesce(json_extract_scalar(requestparameters, '$.accountId'), recipientaccountid, '?') AS target,
  CASE eventname
    WHEN 'LeaveOrganization' THEN 'account ' || coalesce(recipientaccountid, '?') || ' left its organization'
    ELSE 'account ' || coalesce(json_extract_scalar(requestparameters, '$.accountId'), '?') || ' removed from the organization'
  END || CASE WHEN errorcode IS NULL THEN '' ELSE ' (attempt failed: ' || errorcode || ')' END AS detail,
  evidence_key,
  evidence_record
FROM cloudtrail
WHERE eventsource = 'organizations.amazonaws.com'
  AND eventname IN ('LeaveOrganization', 'RemoveAccountFromOrganization')
ORDER BY event_time
