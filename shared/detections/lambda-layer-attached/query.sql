-- Functions created or reconfigured with at least one layer (the event names carry API version suffixes, as
-- UpdateFunctionConfiguration20150331v2). Layer ARNs are taken from the request; a layer whose ARN names
-- another account than the function's is marked foreign. Requests that set layers to an empty list remove
-- layers and are left out. Only calls that succeeded count.
WITH changes AS (
  SELECT
    *,
    regexp_extract_all(coalesce(requestparameters, ''), '(arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]+:[0-9]+)', 1) AS layers
  FROM cloudtrail
  WHERE eventsource = 'lambda.amazonaws.com'
    AND regexp_like(eventname, '^(UpdateFunctionConfiguration|CreateFunction)')
    AND errorcode IS NULL
)
SELECT
  eventtime AS event_time,
  coalesce(nullif(useridentity.arn, ''), useridentity.username, useridentity.principalid) AS actor,
  sourceipaddress AS source_ip,
  eventname AS action,
  coalesce(json_extract_scalar(requestparameters, '$.functionName'), '?') AS target,
  'layers ' || array_join(layers, ', ')
    || CASE WHEN cardinality(filter(layers, l -> split_part(l, ':', 5) <> recipientaccountid)) > 0
      THEN ' (published by another account: ' || array_join(filter(layers, l -> split_part(l, ':', 5) <> recipientaccountid), ', ') || ')' ELSE '' END AS detail,
  evidence_key,
  evidence_record
FROM changes
WHERE cardinality(layers) > 0
ORDER BY event_time
