-- Successful "Invite external user" events whose invited address (additional detail invitedUserEmailAddress, else
-- the target's user principal name) has another domain than the inviter's UPN. Same-domain invitations are left
-- out, as Panther's rule does.
WITH invites AS (
  SELECT
    *,
    lower(coalesce(
      regexp_extract(coalesce(additional_details, ''), '"key"\s*:\s*"invitedUserEmailAddress"\s*,\s*"value"\s*:\s*"([^"]*)"', 1),
      target_user_principal_name
    )) AS invited,
    lower(regexp_extract(coalesce(initiated_by_user_upn, ''), '@(.+)$', 1)) AS inviter_domain
  FROM entra_audit
  WHERE lower(coalesce(result, '')) = 'success'
    AND lower(trim(activity_display_name)) = 'invite external user'
)
SELECT
  time AS event_time,
  coalesce(nullif(initiated_by_user_upn, ''), nullif(initiated_by_app_display_name, ''), nullif(initiated_by_service_principal_name, ''), initiated_by_app_id, initiated_by_user_id, 'unknown initiator') AS actor,
  ip_address AS source_ip,
  activity_display_name AS action,
  coalesce(invited, '?') AS target,
  'guest ' || coalesce(invited, '?') || ' invited from outside ' || coalesce(inviter_domain, 'the inviter''s domain') AS detail,
  evidence_key,
  evidence_record
FROM invites
WHERE invited IS NULL OR inviter_domain IS NULL OR coalesce(regexp_extract(invited, '@(.+)$', 1), '') <> inviter_domain
ORDER BY event_time
