-- EC2 instance-profile credentials (taken from the instance metadata service) used from somewhere else.
-- An instance session is an AssumedRole whose session name is the instance id (`.../i-0abc...`) or whose
-- sessionContext carries ec2RoleDelivery. A (session, source address) pair is reported when either
--   (a) the address is public: an IP literal outside RFC 1918, loopback, link-local, CGNAT and IPv6 ULA/link
--       local ranges. AWS's own published ranges cannot be checked offline, so an instance that calls AWS
--       from its own public or NAT address is reported too: the runbook compares the address with the
--       instance's; or
--   (b) the session was already seen from another address in the window: the first address a session uses is
--       taken as the instance's own, any later one as a second holder of the same credentials (this catches
--       theft from a private or anonymised address).
-- Left out: AWS services acting with the credentials (invokedBy, or a `*.amazonaws.com` / 'AWS Internal'
-- source instead of an address) and the SSM agent's own housekeeping calls (ec2messages, ssmmessages and the
-- ssm calls the agent makes on every instance), which come from the instance's public address by design.
WITH instance_calls AS (
  SELECT
    *,
    coalesce(nullif(useridentity.arn, ''), useridentity.principalid) AS session_arn,
    regexp_like(sourceipaddress, '^[0-9]{1,3}(\.[0-9]{1,3}){3}$') OR regexp_like(sourceipaddress, '^[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*$') AS is_address,
    eventtime || '|' || coalesce(evidence_key, '') || '|' || lpad(coalesce(CAST(evidence_record AS varchar), ''), 10, '0') || '|' || coalesce(eventid, '') AS pick
  FROM cloudtrail
  WHERE useridentity.type = 'AssumedRole'
    AND (regexp_like(coalesce(useridentity.arn, useridentity.principalid, ''), '[/:]i-[0-9a-f]{8,17}$') OR useridentity.sessioncontext.ec2roledelivery IS NOT NULL)
    AND useridentity.invokedby IS NULL
),
first_address AS (
  SELECT session_arn, min_by(sourceipaddress, pick) AS home_ip
  FROM instance_calls
  WHERE is_address
  GROUP BY session_arn
),
candidates AS (
  SELECT
    c.*,
    f.home_ip,
    NOT (
      regexp_like(c.sourceipaddress, '^(10\.|127\.|169\.254\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|100\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\.|0\.)')
      OR regexp_like(lower(c.sourceipaddress), '^(::1$|f[cd][0-9a-f]{2}:|fe[89ab][0-9a-f]:)')
    ) AS is_public
  FROM instance_calls c
  JOIN first_address f ON f.session_arn = c.session_arn
  WHERE c.is_address
    AND c.eventsource NOT IN ('ec2messages.amazonaws.com', 'ssmmessages.amazonaws.com')
    AND NOT (c.eventsource = 'ssm.amazonaws.com' AND c.eventname IN (
      'UpdateInstanceInformation', 'UpdateInstanceAssociationStatus', 'ListInstanceAssociations', 'PutInventory',
      'PutComplianceItems', 'GetDocument', 'DescribeAssociation', 'GetManifest', 'UpdateAssociationStatus',
      'GetDeployablePatchSnapshotForInstance', 'DescribeInstanceProperties', 'RegisterManagedInstance'))
    AND c.eventname <> 'RegisterManagedInstance'
)
SELECT
  min(eventtime) AS event_time,
  session_arn AS actor,
  sourceipaddress AS source_ip,
  min_by(eventname, pick) AS action,
  coalesce(max(useridentity.sessioncontext.sessionissuer.arn), regexp_extract(session_arn, 'assumed-role/([^/]+)', 1)) AS target,
  'instance credentials of ' || regexp_extract(session_arn, '[^/:]+$', 0) || ' used from '
    || CASE WHEN bool_or(is_public) THEN 'public address ' ELSE 'second address ' END || sourceipaddress
    || CASE WHEN sourceipaddress <> max(home_ip) THEN ' (first seen from ' || max(home_ip) || ')' ELSE '' END
    || ': ' || CAST(count(*) AS varchar) || CASE WHEN count(*) = 1 THEN ' call' ELSE ' calls' END || ' (' || array_join(array_distinct(array_agg(eventname ORDER BY eventname)), ', ')
    || '); first event ' || coalesce(min_by(eventid, pick), '?') AS detail,
  min_by(evidence_key, pick) AS evidence_key,
  min_by(evidence_record, pick) AS evidence_record,
  min(eventtime) AS first_time,
  max(eventtime) AS last_time,
  count(*) AS records
FROM candidates
WHERE is_public OR sourceipaddress <> home_ip
GROUP BY session_arn, sourceipaddress
ORDER BY event_time, actor
