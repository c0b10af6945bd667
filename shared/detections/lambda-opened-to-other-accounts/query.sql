-- A Lambda function or layer opened to the world or to another account (a backdoor that outlives revoked
-- credentials):
-- * AddPermission* granting principal "*" (with no principalOrgID scope) or a principal in another account,
--   or a service principal scoped to another account's sourceAccount;
-- * AddLayerVersionPermission* granting "*" (with no organizationId) or another account;
-- * CreateFunctionUrlConfig* / UpdateFunctionUrlConfig* with AuthType NONE (an unauthenticated HTTPS URL).
-- Lambda event names carry API-version suffixes (AddPermission20150331v2), hence the regular expressions.
-- Only calls that succeeded count.
WITH lambda_calls AS (
  SELECT
    *,
    json_extract_scalar(requestparameters, '$.principal') AS principal,
    coalesce(recipientaccountid, useridentity.accountid, '') AS own_account,
    regexp_extract(coalesce(json_extract_scalar(requestparameters, '$.principal'), ''), '(?:^|[^0-9])([0-9]{12})(?:[^0-9]|$)', 1) AS principal_account,
    json_extract_scalar(requestparameters, '$.sourceAccount') AS source_account
  FROM cloudtrail
  WHERE eventsource = 'lambda.amazonaws.com'
    AND regexp_like(eventname, '^(AddPermission|AddLayerVersionPermission|CreateFunctionUrlConfig|UpdateFunctionUrlConfig)[0-9]*(v[0-9]+)?$')
    AND errorcode IS NULL
),
opened AS (
  SELECT
    *,
    CASE
      WHEN regexp_like(eventname, '^(Create|Update)FunctionUrlConfig') AND upper(coalesce(json_extract_scalar(requestparameters, '$.authType'), '')) = 'NONE'
        THEN 'URL created with AuthType NONE (anyone on the internet can invoke it)'
      WHEN regexp_like(eventname, '^(Create|Update)FunctionUrlConfig') THEN NULL
      WHEN principal = '*' AND json_extract_scalar(requestparameters, '$.principalOrgID') IS NULL AND json_extract_scalar(requestparameters, '$.organizationId') IS NULL
        THEN 'permission granted to any principal (*)'
      WHEN principal_account <> '' AND principal_account <> own_account THEN 'permission granted to account ' || principal_account
      WHEN source_account IS NOT NULL AND source_account <> own_account THEN 'permission granted to ' || coalesce(principal, '?') || ' on behalf of account ' || source_account
    END AS opening
  FROM lambda_calls
)
SELECT
  eventtime AS event_time,
  coalesce(nullif(useridentity.arn, ''), useridentity.username, useridentity.principalid) AS actor,
  sourceipaddress AS source_ip,
  eventname AS action,
  coalesce(
    json_extract_scalar(requestparameters, '$.functionName'),
    json_extract_scalar(requestparameters, '$.layerName') || coalesce(':' || json_extract_scalar(requestparameters, '$.versionNumber'), ''),
    '?'
  ) AS target,
  CASE WHEN regexp_like(eventname, '^AddLayerVersionPermission') THEN 'layer ' ELSE 'function ' END || opening
    || coalesce(' (action ' || json_extract_scalar(requestparameters, '$.action') || ')', '') AS detail,
  evidence_key,
  evidence_record
FROM opened
WHERE opening IS NOT NULL
ORDER BY event_time
