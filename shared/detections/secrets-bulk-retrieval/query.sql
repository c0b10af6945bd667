-- Many secrets read by one principal: Secrets Manager GetSecretValue / BatchGetSecretValue, SSM Parameter
-- Store GetParameter / GetParameters / GetParametersByPath with withDecryption true (SecureString values in
-- clear), and EC2 GetPasswordData (Windows administrator passwords). Each call is split into the secrets it
-- names (secretId, secretIdList, name, names, path, instanceId); distinct names are counted per principal
-- and hour. Failed calls count as attempts: trying every secret matters even when some are denied.
-- Threshold: min_secrets (default 10) or more distinct secrets in one hour. A BatchGetSecretValue by filters (no list) is
-- reported by itself: one call returns up to 20 secrets matched by tag or name.
-- Hour buckets are cut from the eventtime text (`YYYY-MM-DDTHH`): CloudTrail writes it as fixed-width UTC,
-- and one malformed time then cannot fail the whole query as a timestamp parse would.
WITH secret_calls AS (
  SELECT
    substr(eventtime, 1, 13) || ':00:00Z' AS bucket,
    coalesce(nullif(useridentity.arn, ''), useridentity.username, useridentity.principalid, 'unknown principal') AS actor,
    sourceipaddress,
    eventname,
    errorcode,
    recipientaccountid,
    evidence_key,
    evidence_record,
    eventid,
    eventtime,
    eventtime || '|' || coalesce(evidence_key, '') || '|' || lpad(coalesce(CAST(evidence_record AS varchar), ''), 10, '0') || '|' || coalesce(eventid, '') AS pick,
    eventname = 'BatchGetSecretValue' AND json_extract(requestparameters, '$.secretIdList') IS NULL AS by_filter,
    CASE
      WHEN eventname = 'GetParameters'
        THEN regexp_extract_all(coalesce(json_format(json_extract(requestparameters, '$.names')), ''), '"((?:[^"\\]|\\.)*)"', 1)
      WHEN eventname = 'BatchGetSecretValue' AND json_extract(requestparameters, '$.secretIdList') IS NOT NULL
        THEN regexp_extract_all(coalesce(json_format(json_extract(requestparameters, '$.secretIdList')), ''), '"((?:[^"\\]|\\.)*)"', 1)
      ELSE ARRAY[coalesce(
        json_extract_scalar(requestparameters, '$.secretId'),
        json_extract_scalar(requestparameters, '$.name'),
        json_extract_scalar(requestparameters, '$.path'),
        json_extract_scalar(requestparameters, '$.instanceId'),
        'batch filter ' || coalesce(json_format(json_extract(requestparameters, '$.filters')), '')
      )]
    END AS names
  FROM cloudtrail
  WHERE (eventsource = 'secretsmanager.amazonaws.com' AND eventname IN ('GetSecretValue', 'BatchGetSecretValue'))
     OR (eventsource = 'ssm.amazonaws.com' AND eventname IN ('GetParameter', 'GetParameters', 'GetParametersByPath')
         AND lower(coalesce(json_extract_scalar(requestparameters, '$.withDecryption'), 'false')) = 'true')
     OR (eventsource = 'ec2.amazonaws.com' AND eventname = 'GetPasswordData')
),
secrets AS (
  SELECT c.*, u.secret_name
  FROM secret_calls c
  CROSS JOIN UNNEST(c.names) AS u(secret_name)
)
SELECT
  min(eventtime) AS event_time,
  actor,
  min_by(sourceipaddress, pick) AS source_ip,
  min_by(eventname, pick) AS action,
  CASE WHEN count(DISTINCT eventname) = 1 THEN min(eventname) ELSE CAST(count(DISTINCT eventname) AS varchar) || ' secret APIs' END
    || ' in account ' || coalesce(max(recipientaccountid), '?') AS target,
  CASE WHEN bool_or(by_filter) THEN 'BatchGetSecretValue by filter (up to 20 secrets per call); ' ELSE '' END
    || CAST(count(DISTINCT secret_name) AS varchar) || CASE WHEN count(DISTINCT secret_name) = 1 THEN ' distinct secret' ELSE ' distinct secrets' END || ' requested in 1 hour over '
    || CAST(count(DISTINCT pick) AS varchar) || CASE WHEN count(DISTINCT pick) = 1 THEN ' call' ELSE ' calls' END || ' (' || CAST(count(DISTINCT CASE WHEN errorcode IS NOT NULL THEN pick END) AS varchar)
    || ' failed); first event ' || coalesce(min_by(eventid, pick), '?') AS detail,
  min_by(evidence_key, pick) AS evidence_key,
  min_by(evidence_record, pick) AS evidence_record,
  min(eventtime) AS first_time,
  max(eventtime) AS last_time,
  count(DISTINCT pick) AS records
FROM secrets
GROUP BY bucket, actor
HAVING count(DISTINCT secret_name) >= {{min_secrets}} OR bool_or(by_filter)
ORDER BY event_time, actor
