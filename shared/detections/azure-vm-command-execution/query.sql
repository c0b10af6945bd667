-- Code execution through the VM agent: the runCommand action and managed runCommands, on VMs and scale-set
-- instances, and VM / scale-set extensions written (Custom Script among them). Operation names are matched
-- case-insensitively, as the Activity Log writes them either way. Only the Success event of each operation
-- counts: every write or action is also logged as Start (and Accept) first.
SELECT
  time AS event_time,
  coalesce(nullif(caller, ''), principal_id, 'unknown caller') AS actor,
  caller_ip AS source_ip,
  operation_name AS action,
  regexp_extract(resource_id, '(?i)^(.*/(virtualmachines|virtualmachinescalesets)/[^/]+(/virtualmachines/[^/]+)?)', 1) AS target,
  CASE
    WHEN regexp_like(lower(operation_name), '/extensions/write$')
      THEN 'VM extension ' || coalesce(regexp_extract(resource_id, '(?i)/extensions/([^/]+)$', 1), '?') || ' installed or changed'
        || coalesce(' (type ' || regexp_extract(coalesce(json_extract_scalar(properties, '$.requestbody'), ''), '"type"\s*:\s*"([^"]+)"', 1) || ')', '')
    ELSE 'command run through Run Command' || coalesce(' (' || regexp_extract(resource_id, '(?i)/runcommands/([^/]+)$', 1) || ')', '')
  END || ': a script runs as SYSTEM/root on the machine' AS detail,
  evidence_key,
  evidence_record
FROM azure_activity
WHERE lower(coalesce(result_type, '')) IN ('success', 'succeeded')
  AND regexp_like(lower(operation_name), '^microsoft\.compute/(virtualmachines|virtualmachinescalesets(/virtualmachines)?)/(runcommand/action|runcommands/write|extensions/write)$')
ORDER BY event_time
