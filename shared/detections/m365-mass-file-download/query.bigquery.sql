-- BigQuery Standard SQL twin of query.sql: fifty or more distinct files downloaded by one user in one clock hour
-- (cut from the fixed-width `time` text); failed operations left out. The representative record of a group is its
-- first by (time, evidence key, record index): MIN_BY over that total key. Lists are STRING_AGG(DISTINCT x ORDER BY
-- x) with ', ' between values (a value that itself holds a comma shows ', ' inside it too).
WITH downloads AS (
  SELECT
    time,
    SUBSTR(time, 1, 13) AS hour,
    COALESCE(NULLIF(user_id, ''), user_key, 'unknown user') AS actor,
    client_ip,
    operation,
    COALESCE(NULLIF(object_id, ''), source_file_name) AS file,
    site_url,
    user_agent,
    evidence_key,
    evidence_record,
    time || '|' || COALESCE(evidence_key, '') || '|' || LPAD(CAST(evidence_record AS STRING), 10, '0') AS pick
  FROM m365_audit
  WHERE operation IN ('FileDownloaded', 'FileSyncDownloadedFull')
    AND LOWER(COALESCE(result_status, 'succeeded')) NOT IN ('failed', 'failure', 'false')
)
SELECT
  MIN(time) AS event_time,
  actor,
  MIN_BY(client_ip, pick) AS source_ip,
  MIN_BY(operation, pick) AS action,
  COALESCE(REPLACE(STRING_AGG(DISTINCT site_url ORDER BY site_url), ',', ', '), '?') AS target,
  CAST(COUNT(DISTINCT file) AS STRING) || ' distinct files downloaded within ' || hour || ':00Z-' || hour || ':59Z ('
    || CAST(COUNT(*) AS STRING) || CASE WHEN COUNT(*) = 1 THEN ' event' ELSE ' events' END || ') from ' || COALESCE(REPLACE(STRING_AGG(DISTINCT client_ip ORDER BY client_ip), ',', ', '), 'unknown addresses')
    || '; user agent ' || COALESCE(MIN_BY(user_agent, pick), '?') AS detail,
  MIN_BY(evidence_key, pick) AS evidence_key,
  MIN_BY(evidence_record, pick) AS evidence_record,
  MIN(time) AS first_time,
  MAX(time) AS last_time,
  COUNT(*) AS records
FROM downloads
GROUP BY hour, actor
HAVING COUNT(DISTINCT file) >= 50
ORDER BY event_time, actor
