/**
 * Amazon S3 server access logs as the `s3_access_logs` table: the Athena column names (`bucketowner`,
 * `bucket_name`, `requestdatetime`, `remoteip`, `requester`, ...), `sourceregion` and `extra_fields` for the
 * newest and any future trailing fields, and `time`, the request time as ISO-8601 UTC text.
 */
import type { LogSource } from '../log-source.ts';
import { S3_ACCESS_COLUMNS } from './format.ts';
import { parseS3AccessLogs, sniffS3Access } from './parse.ts';

export { parseS3AccessLogs, sniffS3Access } from './parse.ts';
export { S3_ACCESS_COLUMNS, S3_ACCESS_FIELDS, S3_ACCESS_RECORD, S3_ACCESS_RECORD_PATTERN, REQUIRED_FIELDS, s3TimeToIso, type S3AccessField } from './format.ts';
export { s3AccessLogsAthenaDdl, type S3AccessLogsAthenaDdlOptions } from './athena.ts';

/**
 * The timeline reading of a request: the requester acts (`anonymous` when S3 logged `-`), the operation is
 * the action, the target is `bucket/key`. Status 400 and above, or an S3 error code, is a failure. The account
 * comes from a date-partitioned delivery key, the region from the Host header when it names one.
 */
export const S3_ACCESS_TIMELINE_SQL = `
SELECT
  CAST(time AS VARCHAR) AS time,
  CAST('aws' AS VARCHAR) AS cloud,
  CAST('s3access' AS VARCHAR) AS source,
  CAST(regexp_extract(evidence_key, '(?:^|/)([0-9]{12})/[a-z]{2}(?:-[a-z]+)+-[0-9]/[^/]+/[0-9]{4}/[0-9]{2}/[0-9]{2}/[^/]+$', 1) AS VARCHAR) AS account,
  CAST(coalesce(regexp_extract(endpoint, '(?:^|[.])s3[.-](?:dualstack[.])?([a-z]{2}(?:-[a-z]+)+-[0-9])[.]amazonaws[.]', 1), sourceregion) AS VARCHAR) AS region,
  CAST(coalesce(requester, 'anonymous') AS VARCHAR) AS actor,
  CAST(operation AS VARCHAR) AS action,
  CAST('s3.amazonaws.com' AS VARCHAR) AS service,
  CAST(CASE WHEN key IS NULL THEN bucket_name ELSE bucket_name || '/' || key END AS VARCHAR) AS target,
  CAST(remoteip AS VARCHAR) AS source_ip,
  CAST(useragent AS VARCHAR) AS user_agent,
  CAST(CASE WHEN errorcode IS NOT NULL OR httpstatus >= 400 THEN 'failure' ELSE 'success' END AS VARCHAR) AS outcome,
  CAST(coalesce(errorcode, CASE WHEN httpstatus >= 400 THEN CAST(httpstatus AS VARCHAR) END) AS VARCHAR) AS error_code,
  CAST(evidence_key AS VARCHAR) AS evidence_key,
  CAST(evidence_record AS INTEGER) AS evidence_record
FROM s3_access_logs`;

/** The S3 server access log source. */
export const S3_ACCESS_SOURCE: LogSource = {
  id: 's3access',
  title: 'Amazon S3 server access logs',
  cloud: 'aws',
  table: 's3_access_logs',
  timeColumn: 'time',
  columns: S3_ACCESS_COLUMNS,
  sniff: (head) => sniffS3Access(head),
  parse: (text, key) => parseS3AccessLogs(text, key),
  timelineSql: S3_ACCESS_TIMELINE_SQL,
};
