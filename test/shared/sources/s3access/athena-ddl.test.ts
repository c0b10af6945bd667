/**
 * The Athena DDL for S3 server access logs: a RegexSerDe table whose input regex is the parser's own pattern
 * (so both engines split a line the same way), with or without date-based partition projection, and a view
 * with exactly the embedded table's columns.
 */
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../../shared/errors.ts';
import { S3_ACCESS_COLUMNS, S3_ACCESS_RECORD_PATTERN, S3_ACCESS_TIMELINE_SQL, s3AccessLogsAthenaDdl } from '../../../../shared/sources/s3access/index.ts';
import { unportableFunctions } from '../../../../shared/query/athena-compat.ts';
import { assertTrinoSql } from '../../../helpers/trino-sql.ts';

/** Reads a Hive single-quoted literal back (backslash escapes), as Athena does with SERDEPROPERTIES. */
function hiveUnquote(literal: string): string {
  let out = '';
  for (let i = 1; i < literal.length - 1; i++) {
    const c = literal[i]!;
    if (c === '\\') out += literal[++i];
    else out += c;
  }
  return out;
}

describe('Function: s3AccessLogsAthenaDdl', () => {
  it('creates a RegexSerDe table whose regex, once Hive unescapes it, is exactly the parser\'s pattern', () => {
    // Act
    const { table } = s3AccessLogsAthenaDdl({ location: 's3://log-bucket/s3-logs/' });

    // Assess
    const literal = /'input\.regex'=('(?:[^'\\]|\\.)*')/.exec(table)?.[1];
    expect(literal).toBeDefined();
    expect(hiveUnquote(literal!)).toBe(S3_ACCESS_RECORD_PATTERN);
    expect(table).toContain("ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.RegexSerDe'");
    expect(table).toContain('  `bucketowner` string,\n  `bucket_name` string,\n  `requestdatetime` string,');
    expect(table).toContain('  `httpstatus` int,');
    expect(table).toContain('  `bytessent` bigint,');
    expect(table).toContain('  `extra_fields` string\n)');
    expect(table).not.toContain('PARTITIONED BY');
    expect(table).toContain("LOCATION 's3://log-bucket/s3-logs/'");
    // One capture group per table column: the SerDe maps groups to columns by position.
    const groups = (S3_ACCESS_RECORD_PATTERN.match(/\((?!\?)/g) ?? []).length;
    expect(groups).toBe(S3_ACCESS_COLUMNS.length - 1);
  });

  it('projects account, region, bucket and day for date-based partitioning', () => {
    // Act
    const { table, view } = s3AccessLogsAthenaDdl({
      location: 's3://log-bucket/s3-logs/',
      partitioned: { accounts: ['111122223333'], regions: ['us-east-1'], buckets: ['customer-exports', 'public-site'], startDate: '2026/01/01' },
    });

    // Assess
    expect(table).toContain('PARTITIONED BY (source_account string, source_region string, source_bucket string, `timestamp` string)');
    expect(table).toContain("'projection.source_bucket.values'='customer-exports,public-site'");
    expect(table).toContain("'projection.timestamp.format'='yyyy/MM/dd'");
    expect(table).toContain("'storage.location.template'='s3://log-bucket/s3-logs/${source_account}/${source_region}/${source_bucket}/${timestamp}'");
    expect(view).toContain('  source_bucket,\n  "timestamp"\nFROM s3_access_logs_files');
  });

  it('gives the view the embedded table\'s columns in order, "-" as NULL and time as ISO-8601 UTC; it is valid Trino SQL', () => {
    // Act
    const { view } = s3AccessLogsAthenaDdl({ location: 's3://log-bucket/' });

    // Assess
    const select = view.replace(/^CREATE OR REPLACE VIEW \S+ AS\n/, '');
    assertTrinoSql(select);
    const columns = [...select.matchAll(/^ {2}(?:.* AS )?"?([a-z_]+)"?,?$/gm)].map((m) => m[1]);
    expect(columns).toEqual([...S3_ACCESS_COLUMNS.map((c) => c.name), 'evidence_key', 'evidence_record']);
    expect(select).toContain(`  nullif("requester", '-') AS "requester"`);
    expect(select).toContain('  "httpstatus",');
    expect(select).toContain(`date_format(parse_datetime("requestdatetime", 'dd/MMM/yyyy:HH:mm:ss Z') AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%i:%sZ') AS "time"`);
  });

  it('lists every bad option at once', () => {
    // Act
    let message = '';
    try {
      s3AccessLogsAthenaDdl({ location: 's3://log-bucket/no-slash', partitioned: { accounts: ['1'], regions: ['x'], buckets: ['UPPER'], startDate: '2026' }, viewName: 'drop table' });
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidInputError);
      message = (error as Error).message;
    }

    // Assess
    for (const part of ['location must be an s3:// URI ending with /', 'account ids are 12 digits, got 1', 'not a region name: x', 'not a bucket name: UPPER', 'startDate must be yyyy/MM/dd', 'not a valid table name: drop table']) {
      expect(message).toContain(part);
    }
  });

  it('has a timeline SELECT that is valid Trino SQL inside the portable subset', () => {
    // Act / Assess
    assertTrinoSql(S3_ACCESS_TIMELINE_SQL);
    expect(unportableFunctions(S3_ACCESS_TIMELINE_SQL)).toEqual([]);
  });
});
