/**
 * Athena DDL for S3 server access logs, after the AWS-documented table (RegexSerDe, `bucketowner`,
 * `bucket_name`, `requestdatetime` ... columns): an external table over the log files and a view named
 * `s3_access_logs` that gives detection SQL the embedded engine's table exactly (`-` as NULL, `time` as
 * ISO-8601 UTC, Amber's `evidence_key` from `"$path"`, `evidence_record` NULL as Athena has no line number).
 *
 * Differences from the AWS example, on purpose: the input regex is S3_ACCESS_RECORD_PATTERN, the very pattern
 * Amber's parser uses, so both engines split hostile lines the same way; it captures quoted fields without
 * their quotes and numbers only when they are digits, so `httpstatus`, `totaltime` and `turnaroundtime` can be
 * integers (the AWS example keeps them as strings); it adds `sourceregion` and `extra_fields` (text after the
 * last known field, so later additions to the format are not dropped).
 *
 * Layouts: with date-based partitioning (`[prefix][SourceAccountId]/[SourceRegion]/[SourceBucket]/[yyyy]/[mm]/
 * [dd]/...`) the table projects account, region, bucket and day; with the simple prefix layout
 * (`[prefix][yyyy]-[mm]-[dd]-...`) there is nothing to project and Athena reads the whole prefix.
 */
import { InvalidInputError } from '../../errors.ts';
import { S3_ACCESS_COLUMNS, S3_ACCESS_FIELDS, S3_ACCESS_RECORD_PATTERN } from './format.ts';

export interface S3AccessLogsAthenaDdlOptions {
  /** The logs' destination: `s3://bucket/prefix/` (the target prefix, ending with `/`). */
  readonly location: string;
  /**
   * Date-based partitioning (PartitionedPrefix): the source accounts, regions and buckets whose folders sit under
   * `location`, and the first day to project (`yyyy/MM/dd`). @default simple prefix: no partitions
   */
  readonly partitioned?: {
    readonly accounts: readonly string[];
    readonly regions: readonly string[];
    readonly buckets: readonly string[];
    readonly startDate: string;
  };
  /** @default 's3_access_logs_files' */
  readonly tableName?: string;
  /** @default 's3_access_logs' */
  readonly viewName?: string;
}

const HIVE_TYPE: Record<string, string> = { VARCHAR: 'string', INTEGER: 'int', BIGINT: 'bigint' };
const NAME = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/;
// Hive string literals treat backslash as an escape: the pattern's backslashes are doubled, quotes escaped.
const hiveString = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** The CREATE EXTERNAL TABLE and the CREATE VIEW, in run order. Throws InvalidInputError listing every bad option. */
export function s3AccessLogsAthenaDdl(options: S3AccessLogsAthenaDdlOptions): { readonly table: string; readonly view: string } {
  const problems: string[] = [];
  if (!/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/([^'\\]*\/)?$/.test(options.location)) problems.push(`location must be an s3:// URI ending with /, got ${options.location}`);
  const p = options.partitioned;
  if (p) {
    if (p.accounts.length === 0 || p.regions.length === 0 || p.buckets.length === 0) problems.push('partitioned needs at least one account, region and bucket');
    for (const a of p.accounts) if (!/^\d{12}$/.test(a)) problems.push(`account ids are 12 digits, got ${a}`);
    for (const r of p.regions) if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(r)) problems.push(`not a region name: ${r}`);
    for (const b of p.buckets) if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(b)) problems.push(`not a bucket name: ${b}`);
    if (!/^\d{4}\/\d{2}\/\d{2}$/.test(p.startDate)) problems.push(`startDate must be yyyy/MM/dd, got ${p.startDate}`);
  }
  const table = options.tableName ?? 's3_access_logs_files';
  const view = options.viewName ?? 's3_access_logs';
  for (const name of [table, view]) if (!NAME.test(name)) problems.push(`not a valid table name: ${name}`);
  if (problems.length > 0) {
    throw new InvalidInputError(`cannot build the Athena S3 access logs DDL:\n  ${problems.join('\n  ')}`, {
      hint: 'pass location as s3://bucket/prefix/; for date-based partitioning, 12-digit account ids, region names, bucket names and startDate as yyyy/MM/dd',
    });
  }
  const columns = [...S3_ACCESS_FIELDS.map((x) => ({ name: x.column, type: x.type })), { name: 'extra_fields', type: 'VARCHAR' }]
    .map((c) => `  \`${c.name}\` ${HIVE_TYPE[c.type]}`)
    .join(',\n');
  const projection = p
    ? `
PARTITIONED BY (source_account string, source_region string, source_bucket string, \`timestamp\` string)`
    : '';
  const properties = p
    ? `
TBLPROPERTIES (
  'projection.enabled'='true',
  'projection.source_account.type'='enum',
  'projection.source_account.values'=${sqlString(p.accounts.join(','))},
  'projection.source_region.type'='enum',
  'projection.source_region.values'=${sqlString(p.regions.join(','))},
  'projection.source_bucket.type'='enum',
  'projection.source_bucket.values'=${sqlString(p.buckets.join(','))},
  'projection.timestamp.type'='date',
  'projection.timestamp.format'='yyyy/MM/dd',
  'projection.timestamp.range'=${sqlString(`${p.startDate},NOW`)},
  'projection.timestamp.interval'='1',
  'projection.timestamp.interval.unit'='DAYS',
  'storage.location.template'=${sqlString(`${options.location}\${source_account}/\${source_region}/\${source_bucket}/\${timestamp}`)}
)`
    : '';
  const tableDdl = `CREATE EXTERNAL TABLE IF NOT EXISTS ${table} (
${columns}
)${projection}
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.RegexSerDe'
WITH SERDEPROPERTIES (
  'input.regex'=${hiveString(S3_ACCESS_RECORD_PATTERN)}
)
STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION ${sqlString(options.location)}${properties}`;

  const select = S3_ACCESS_COLUMNS.map((c) => {
    const q = `"${c.name}"`;
    // S3 writes UTC (+0000); parse_datetime honours any other offset the line carries.
    if (c.name === 'time') return `  date_format(parse_datetime("requestdatetime", 'dd/MMM/yyyy:HH:mm:ss Z') AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%i:%sZ') AS "time"`;
    if (c.name === 'extra_fields') return `  nullif(${q}, '') AS ${q}`;
    return c.type === 'VARCHAR' ? `  nullif(${q}, '-') AS ${q}` : `  ${q}`;
  });
  select.push(`  regexp_replace("$path", '^s3://[^/]+/', '') AS evidence_key`, '  CAST(NULL AS integer) AS evidence_record');
  if (p) select.push('  source_account', '  source_region', '  source_bucket', '  "timestamp"');
  return { table: tableDdl, view: `CREATE OR REPLACE VIEW ${view} AS\nSELECT\n${select.join(',\n')}\nFROM ${table}` };
}
