-- Access-control changes on a bucket or object, from S3 server access logs: the REST operations that write or
-- delete a bucket policy, a bucket or object ACL, the bucket's Block Public Access configuration, or its object
-- ownership controls, answered with success (HTTP 2xx). Operation names are matched with and without the
-- underscores S3 has written them with (PUBLIC_ACCESS_BLOCK / PUBLICACCESSBLOCK, OWNERSHIP_CONTROLS).
-- One finding per request.
SELECT
  time AS event_time,
  coalesce(requester, 'anonymous') AS actor,
  remoteip AS source_ip,
  operation AS action,
  CASE WHEN key IS NULL THEN 's3://' || bucket_name ELSE 's3://' || bucket_name || '/' || key END AS target,
  CASE
    WHEN regexp_like(operation, 'BUCKETPOLICY$') THEN CASE WHEN operation LIKE 'REST.DELETE.%' THEN 'bucket policy deleted' ELSE 'bucket policy replaced' END
    WHEN regexp_like(operation, 'ACL$') THEN CASE WHEN key IS NULL THEN 'bucket ACL changed' ELSE 'object ACL changed' END
    WHEN regexp_like(operation, 'PUBLIC_?ACCESS_?BLOCK$') THEN CASE WHEN operation LIKE 'REST.DELETE.%' THEN 'Block Public Access removed' ELSE 'Block Public Access changed' END
    ELSE 'object ownership controls changed'
  END || ' (HTTP ' || CAST(httpstatus AS varchar) || ') on s3://' || bucket_name || ' by ' || coalesce(requester, 'anonymous')
    || ' from ' || coalesce(remoteip, '-') || '; request ' || coalesce(requestid, '-') || '; user agent ' || coalesce(useragent, '-') AS detail,
  evidence_key,
  evidence_record
FROM s3_access_logs
WHERE regexp_like(operation, '^REST\.(PUT|DELETE)\.(BUCKETPOLICY|ACL|OBJECT_ACL|PUBLIC_?ACCESS_?BLOCK|OWNERSHIP_?CONTROLS|BUCKET_?OWNERSHIP_?CONTROLS)$')
  AND httpstatus >= 200
  AND httpstatus < 300
ORDER BY event_time, evidence_key, evidence_record
