-- BigQuery Standard SQL twin of query.sql: access-control changes on a bucket or object from S3 server access logs
-- (bucket policy, bucket or object ACL, Block Public Access, ownership controls), answered 2xx; one finding per
-- request.
SELECT
  time AS event_time,
  COALESCE(requester, 'anonymous') AS actor,
  remoteip AS source_ip,
  operation AS action,
  CASE WHEN `key` IS NULL THEN 's3://' || bucket_name ELSE 's3://' || bucket_name || '/' || `key` END AS target,
  CASE
    WHEN REGEXP_CONTAINS(operation, r'BUCKETPOLICY$') THEN CASE WHEN operation LIKE 'REST.DELETE.%' THEN 'bucket policy deleted' ELSE 'bucket policy replaced' END
    WHEN REGEXP_CONTAINS(operation, r'ACL$') THEN CASE WHEN `key` IS NULL THEN 'bucket ACL changed' ELSE 'object ACL changed' END
    WHEN REGEXP_CONTAINS(operation, r'PUBLIC_?ACCESS_?BLOCK$') THEN CASE WHEN operation LIKE 'REST.DELETE.%' THEN 'Block Public Access removed' ELSE 'Block Public Access changed' END
    ELSE 'object ownership controls changed'
  END || ' (HTTP ' || CAST(httpstatus AS STRING) || ') on s3://' || bucket_name || ' by ' || COALESCE(requester, 'anonymous')
    || ' from ' || COALESCE(remoteip, '-') || '; request ' || COALESCE(requestid, '-') || '; user agent ' || COALESCE(useragent, '-') AS detail,
  evidence_key,
  evidence_record
FROM s3_access_logs
WHERE REGEXP_CONTAINS(operation, r'^REST\.(PUT|DELETE)\.(BUCKETPOLICY|ACL|OBJECT_ACL|PUBLIC_?ACCESS_?BLOCK|OWNERSHIP_?CONTROLS|BUCKET_?OWNERSHIP_?CONTROLS)$')
  AND httpstatus >= 200
  AND httpstatus < 300
ORDER BY event_time, evidence_key, evidence_record
