/**
 * The Athena DDL for flow logs: the documented external table with partition projection, and a view whose
 * columns are exactly the embedded table's, so detection SQL reads the same shape on both engines.
 */
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../../shared/errors.ts';
import { TGW_FIELDS, V2_DEFAULT, VPC_FLOW_COLUMNS, VPC_FLOW_TIMELINE_SQL, vpcFlowLogsAthenaDdl, vpcFlowLogsViewSql } from '../../../../shared/sources/vpcflow/index.ts';
import { unportableFunctions } from '../../../../shared/query/athena-compat.ts';
import { assertTrinoSql } from '../../../helpers/trino-sql.ts';

const OPTIONS = { location: 's3://evidence-bucket/cases/INC-1/AWSLogs/', accounts: ['111122223333'], regions: ['us-east-1', 'eu-west-1'], startDate: '2026/01/01' };

/** Column names of a view's outermost SELECT list, in order. */
const viewColumns = (view: string): string[] =>
  [...view.split('\nUNION ALL\n')[0]!.matchAll(/^ {2}(?:.* AS )?"?([a-z_]+)"?,?$/gm)].map((m) => m[1] as string);

describe('Function: vpcFlowLogsAthenaDdl', () => {
  it('creates the documented table for the default format, partition projection over account, region and day', () => {
    // Act
    const { table, view } = vpcFlowLogsAthenaDdl(OPTIONS);

    // Assess
    expect(table).toContain('CREATE EXTERNAL TABLE IF NOT EXISTS vpc_flow_logs_files (\n  `version` int,\n  `account_id` string,\n  `interface_id` string,');
    expect(table).toContain('  `start` bigint,\n  `end` bigint,\n  `action` string,\n  `log_status` string\n)');
    expect(table).toContain('PARTITIONED BY (accid string, aws_region string, day string)');
    expect(table).toContain("ROW FORMAT DELIMITED\nFIELDS TERMINATED BY ' '");
    expect(table).toContain("'skip.header.line.count'='1'");
    expect(table).toContain("'projection.accid.values'='111122223333'");
    expect(table).toContain("'projection.aws_region.values'='us-east-1,eu-west-1'");
    expect(table).toContain("'projection.day.range'='2026/01/01,NOW'");
    expect(table).toContain("'storage.location.template'='s3://evidence-bucket/cases/INC-1/AWSLogs/${accid}/vpcflowlogs/${aws_region}/${day}'");
    expect(view.startsWith('CREATE OR REPLACE VIEW vpc_flow_logs AS\nSELECT\n')).toBe(true);
  });

  it('gives the view every column of the embedded table in order, then Amber\'s evidence columns and the partitions; it is valid Trino SQL', () => {
    // Act
    const { view } = vpcFlowLogsAthenaDdl({ ...OPTIONS, fields: ['srcaddr', 'dstaddr', 'start', 'action', 'region'] });

    // Assess
    assertTrinoSql(view.replace(/^CREATE OR REPLACE VIEW \S+ AS\n/, ''));
    expect(viewColumns(view)).toEqual([...VPC_FLOW_COLUMNS.map((c) => c.name), 'evidence_key', 'evidence_record', 'accid', 'aws_region', 'day']);
    expect(view).toContain(`  nullif("srcaddr", '-') AS "srcaddr"`);
    expect(view).toContain('  CAST(NULL AS bigint) AS "bytes"');
    expect(view).toContain('  CAST(NULL AS integer) AS "srcport"');
    expect(view).toContain(`  date_format(from_unixtime("start"), '%Y-%m-%dT%H:%i:%sZ') AS "time"`);
    expect(view).toContain(`  regexp_replace("$path", '^s3://[^/]+/', '') AS evidence_key`);
  });

  it('keeps a custom format\'s order in the table, since Athena reads delimited columns by position', () => {
    // Act
    const { table } = vpcFlowLogsAthenaDdl({ ...OPTIONS, fields: ['start', 'srcaddr', 'dstaddr', 'end', 'region'] });

    // Assess
    expect(table).toMatch(/\(\n {2}`start` bigint,\n {2}`srcaddr` string,\n {2}`dstaddr` string,\n {2}`end` bigint,\n {2}`region` string\n\)/);
  });

  it('unions a VPC and a Transit Gateway table into one view (one table per format)', () => {
    // Act
    const sql = vpcFlowLogsViewSql([
      { tableName: 'vpc_flow_logs_v2', fields: V2_DEFAULT.fields.map((f) => f.name) },
      { tableName: 'tgw_flow_logs', fields: TGW_FIELDS.map((f) => f.name) },
    ]);

    // Assess
    assertTrinoSql(sql);
    const [vpc, tgw] = sql.split('\nUNION ALL\n');
    expect(vpc).toContain('  CAST(NULL AS varchar) AS "tgw_id"');
    expect(tgw).toContain(`  nullif("tgw_id", '-') AS "tgw_id"`);
    expect(tgw).toContain('  CAST(NULL AS varchar) AS "action"');
    expect(tgw).toContain('  "packets_lost_no_route"');
  });

  it('lists every bad option at once, with the fix', () => {
    // Act
    const attempt = () => vpcFlowLogsAthenaDdl({ location: 'https://x/AWSLogs/', accounts: ['123'], regions: ['mars-1'], startDate: '2026-01-01', fields: ['srcaddr', 'nope', 'srcaddr'], tableName: 'bad name' });

    // Assess
    expect(attempt).toThrow(InvalidInputError);
    let message = '';
    try {
      attempt();
    } catch (error) {
      message = (error as Error).message;
    }
    for (const part of ['location must be an s3:// URI', 'account ids are 12 digits, got 123', 'not a region name: mars-1', 'startDate must be yyyy/MM/dd', 'not a valid table name: bad name', 'unknown flow log field "nope"', 'fields name srcaddr more than once']) {
      expect(message).toContain(part);
    }
  });

  it('has a timeline SELECT that is valid Trino SQL inside the portable subset', () => {
    // Act / Assess
    assertTrinoSql(VPC_FLOW_TIMELINE_SQL);
    expect(unportableFunctions(VPC_FLOW_TIMELINE_SQL)).toEqual([]);
  });
});
