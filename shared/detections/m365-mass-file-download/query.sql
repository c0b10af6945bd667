-- Fifty or more distinct files (ObjectId: the file's URL) downloaded by one user in one clock hour. The hour is cut
-- from the fixed-width `time` text. Failed operations are left out.
WITH downloads AS (
  SELECT
    time,
    substr(time, 1, 13) AS hour,
    coalesce(nullif(user_id, ''), user_key, 'unknown user') AS actor,
    client_ip,
    operation,
    coalesce(nullif(object_id, ''), source_file_name) AS file,
    site_url,
    user_agent,
    evidence_key,
    evidence_record,
    time || '|' || coalesce(evidence_key, '') || '|' || lpad(CAST(evidence_record AS varchar), 10, '0') AS pick
  FROM m365_audit
  WHERE operation IN ('FileDownloaded', 'FileSyncDownloadedFull')
    AND lower(coalesce(result_status, 'succeeded')) NOT IN ('failed', 'failure', 'false')
)
SELECT
  min(time) AS event_time,
  actor,
  min_by(client_ip, pick) AS source_ip,
  min_by(operation, pick) AS action,
  coalesce(array_join(array_distinct(array_agg(site_url ORDER BY site_url)), ', '), '?') AS target,
  CAST(count(DISTINCT file) AS varchar) || ' distinct files downloaded within ' || hour || ':00Z-' || hour || ':59Z ('
    || CAST(count(*) AS varchar) || CASE WHEN count(*) = 1 THEN ' event' ELSE ' events' END || ') from ' || coalesce(array_join(array_distinct(array_agg(client_ip ORDER BY client_ip)), ', '), 'unknown addresses')
    || '; user agent ' || coalesce(min_by(user_agent, pick), '?') AS detail,
  min_by(evidence_key, pick) AS evidence_key,
  min_by(evidence_record, pick) AS evidence_record,
  min(time) AS first_time,
  max(time) AS last_time,
  count(*) AS records
FROM downloads
GROUP BY hour, actor
HAVING count(DISTINCT file) >= 50
ORDER BY event_time, actor
