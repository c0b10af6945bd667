-- Network telemetry removed: VPC flow logs deleted (DeleteFlowLogs), Route 53 Resolver query logging deleted
-- or detached from a VPC (DeleteResolverQueryLogConfig, DisassociateResolverQueryLogConfig), or public
-- hosted-zone query logging deleted (DeleteQueryLoggingConfig). Without them the network side of an
-- intrusion (exfiltration, C2 lookups) leaves no trace. Failed attempts are reported too.
SELECT
  eventtime AS event_time,
  coalesce(nullif(useridentity.arn, ''), useridentity.username, useridentity.principalid) AS actor,
  sourceipaddress AS source_ip,
  eventname AS action,
  coalesce(
    nullif(array_join(array_distinct(regexp_extract_all(coalesce(requestparameters, ''), 'fl-[0-9a-f]+')), ', '), ''),
    json_extract_scalar(requestparameters, '$.resolverQueryLogConfigId'),
    json_extract_scalar(requestparameters, '$.id'),
    json_extract_scalar(requestparameters, '$.Id'),
    '?'
  ) AS target,
  CASE eventname
    WHEN 'DeleteFlowLogs' THEN 'VPC flow log(s) deleted'
    WHEN 'DeleteResolverQueryLogConfig' THEN 'Resolver DNS query logging deleted'
    WHEN 'DisassociateResolverQueryLogConfig' THEN 'Resolver DNS query logging detached from ' || coalesce(json_extract_scalar(requestparameters, '$.resourceId'), 'a VPC')
    ELSE 'hosted zone DNS query logging deleted'
  END || CASE WHEN errorcode IS NULL THEN '' ELSE ' (attempt failed: ' || errorcode || ')' END AS detail,
  evidence_key,
  evidence_record
FROM cloudtrail
WHERE (eventsource = 'ec2.amazonaws.com' AND eventname = 'DeleteFlowLogs')
   OR (eventsource = 'route53resolver.amazonaws.com' AND eventname IN ('DeleteResolverQueryLogConfig', 'DisassociateResolverQueryLogConfig'))
   OR (eventsource = 'route53.amazonaws.com' AND eventname = 'DeleteQueryLoggingConfig')
ORDER BY event_time
