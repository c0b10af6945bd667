-- Forwarding or redirection to another domain. forward_recipients holds the addresses the change forwards to
-- (derived by the parser from Parameters ForwardTo/RedirectTo/ForwardAsAttachmentTo/ForwardingSmtpAddress/
-- ForwardingAddress and from UpdateInboxRules' RuleActions); an empty ForwardingSmtpAddress (forwarding removed)
-- gives no recipient. External = a recipient domain that is not the actor's UPN domain, a subdomain of it or a
-- parent of it, and not the same organisation's <name>.onmicrosoft.com (offline approximation of the tenant's
-- accepted domains; stated in the detail). Failed cmdlets are left out.
WITH changes AS (
  SELECT
    *,
    lower(coalesce(regexp_extract(user_id, '@([^@]+)$', 1), '')) AS own_domain,
    array_distinct(regexp_extract_all(lower(coalesce(forward_recipients, '')), '@([a-z0-9-]+(?:\.[a-z0-9-]+)+)', 1)) AS domains
  FROM m365_audit
  WHERE lower(operation) IN ('new-inboxrule', 'set-inboxrule', 'updateinboxrules', 'set-mailbox')
    AND nullif(forward_recipients, '') IS NOT NULL
    AND lower(coalesce(result_status, 'true')) NOT IN ('false', 'failed', 'failure')
),
judged AS (
  SELECT
    *,
    filter(domains, d ->
      d <> own_domain
      AND NOT (own_domain <> '' AND (substr(d, greatest(length(d) - length(own_domain), 1)) = '.' || own_domain
                                      OR substr(own_domain, greatest(length(own_domain) - length(d), 1)) = '.' || d))
      AND NOT ((regexp_like(d, '\.onmicrosoft\.com$') OR regexp_like(own_domain, '\.onmicrosoft\.com$'))
               AND split_part(d, '.', 1) = split_part(own_domain, '.', 1))
    ) AS external_domains
  FROM changes
)
SELECT
  time AS event_time,
  coalesce(nullif(user_id, ''), user_key, 'unknown user') AS actor,
  client_ip AS source_ip,
  operation AS action,
  coalesce(nullif(object_id, ''), mailbox_owner_upn, '?') AS target,
  'mail forwarded or redirected to ' || forward_recipients || '; external domain(s) ' || array_join(external_domains, ', ')
    || ' (compared with the actor''s domain ' || CASE WHEN own_domain = '' THEN '(none)' ELSE own_domain END
    || ': the tenant''s accepted domains are not in the log)' AS detail,
  evidence_key,
  evidence_record
FROM judged
WHERE cardinality(external_domains) > 0
ORDER BY event_time
