-- Firewall rules allowing ingress from anywhere. The audit log writes the request in proto form: repeated fields are
-- pluralised (`alloweds`, `sourceRanges`), and `direction` is absent for INGRESS (the default). A rule that only
-- denies, egress rules and rules created disabled are left out. A patch that does not touch sourceRanges cannot be
-- judged from the log and is not reported. Only calls that succeeded count; the operation's closing entry carries no
-- request and so never doubles a finding.
SELECT
  time AS event_time,
  coalesce(nullif(principal_email, ''), principal_subject, 'unknown principal') AS actor,
  caller_ip AS source_ip,
  method_name AS action,
  resource_name AS target,
  'ingress allowed from ' || array_join(array_distinct(regexp_extract_all(request, '"(0\.0\.0\.0/0|::/0)"', 1)), ' and ')
    || ' for ' || coalesce(regexp_replace(json_format(coalesce(try(json_extract(request, '$.alloweds')), try(json_extract(request, '$.allowed')))), '\s+', ''), '?')
    || coalesce(' on network ' || json_extract_scalar(request, '$.network'), '')
    || coalesce('; target tags ' || json_format(try(json_extract(request, '$.targetTags'))), '') AS detail,
  evidence_key,
  evidence_record
FROM gcp_audit
WHERE regexp_like(method_name, '(^|\.)compute\.firewalls\.(insert|patch|update)$')
  AND coalesce(status_code, 0) = 0
  AND regexp_like(coalesce(request, ''), '"sourceRanges"\s*:\s*\[[^\]]*"(0\.0\.0\.0/0|::/0)"')
  AND regexp_like(coalesce(request, ''), '"alloweds?"\s*:\s*\[\s*\{')
  AND NOT regexp_like(coalesce(request, ''), '"direction"\s*:\s*"EGRESS"')
  AND NOT regexp_like(coalesce(request, ''), '"disabled"\s*:\s*true')
ORDER BY event_time
