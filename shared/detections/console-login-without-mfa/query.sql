-- Successful console sign-in of an IAM user or the root user without MFA. MFAUsed is 'No'/'Yes' in
-- additionalEventData (compared case-insensitively; a missing value counts as no MFA, as CIS does).
-- Federated sign-ins (SAML, IAM Identity Center, role switching) are left out: they carry an AssumedRole,
-- FederatedUser, SAMLUser or IdentityCenterUser identity or a SamlProviderArn, and MFA is enforced by the
-- identity provider, which CloudTrail cannot see.
SELECT
  eventtime AS event_time,
  coalesce(nullif(useridentity.arn, ''), useridentity.username, useridentity.principalid) AS actor,
  sourceipaddress AS source_ip,
  eventname AS action,
  'console of account ' || coalesce(recipientaccountid, useridentity.accountid, '?') AS target,
  useridentity.type || ' signed in to the console without MFA (MFAUsed='
    || coalesce(json_extract_scalar(additionaleventdata, '$.MFAUsed'), 'absent') || ')' AS detail,
  evidence_key,
  evidence_record
FROM cloudtrail
WHERE eventname = 'ConsoleLogin'
  AND eventsource = 'signin.amazonaws.com'
  AND json_extract_scalar(responseelements, '$.ConsoleLogin') = 'Success'
  AND lower(coalesce(json_extract_scalar(additionaleventdata, '$.MFAUsed'), 'no')) <> 'yes'
  AND useridentity.type IN ('IAMUser', 'Root')
  AND json_extract_scalar(additionaleventdata, '$.SamlProviderArn') IS NULL
ORDER BY event_time
