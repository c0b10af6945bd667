/**
 * Flow logs through the product's path: collected into a locker under their delivery keys (gzipped as S3
 * delivers them), recognised by content, parsed into derived NDJSON that is itself evidence, loaded into
 * `vpc_flow_logs`, and read back on the timeline.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { detectSource, LOG_SOURCES, sourceById } from '../../../../shared/sources/registry.ts';
import { S3_ACCESS_SOURCE } from '../../../../shared/sources/s3access/index.ts';
import { VPC_FLOW_SOURCE } from '../../../../shared/sources/vpcflow/index.ts';
import { queryTimeline, TIMELINE_COLUMNS } from '../../../../shared/timeline/timeline.ts';
import { caseWith } from '../../../helpers/case.ts';

const FIXTURES = fileURLToPath(new URL('../../../fixtures/aws/vpcflow/', import.meta.url));
const DELIVERY = 'AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/03/14/';

const fixture = async (path: string): Promise<Buffer> => readFile(join(FIXTURES, path));
const deliveryName = (variant: string, id: string) => `${variant}/${DELIVERY}111122223333_vpcflowlogs_us-east-1_fl-0a1b2c3d4e5f60718_20260314T0105Z_${id}.log`;

describe('Use case: loadCaseTables with VPC flow logs', () => {
  it('registers the source (collect --source vpcflow finds it)', () => {
    // Assess
    expect(LOG_SOURCES).toContain(VPC_FLOW_SOURCE);
    expect(sourceById('vpcflow')).toBe(VPC_FLOW_SOURCE);
  });

  it('is the one registered source that claims each of its fixtures, whatever else is registered', () => {
    // Prepare
    const walk = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]));

    // Act / Assess
    for (const file of walk(FIXTURES)) {
      const found = detectSource(readFileSync(file, 'utf8').slice(0, 64 * 1024), file.slice(FIXTURES.length), LOG_SOURCES);
      expect(found.source?.id ?? found.reason, file).toBe('vpcflow');
    }
  });

  it('loads gzipped S3 deliveries of every format and CloudWatch Logs shapes into one table, rows pointing at their record', async () => {
    // Prepare
    const files: Record<string, Buffer> = {
      [`${DELIVERY}v2.log.gz`]: gzipSync(await fixture(deliveryName('v2', '3f9a1c2e'))),
      [`${DELIVERY}v8.log.gz`]: gzipSync(await fixture(deliveryName('v8', '5c6e7a80'))),
      [`${DELIVERY}custom.log.gz`]: gzipSync(await fixture(deliveryName('custom-order', '6d7f8091'))),
      'exportedlogs/task/eni-all/000000.gz': gzipSync(await fixture('cloudwatch-export/exportedlogs/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0/eni-0a1b2c3d4e5f60718-all/000000')),
      'cwl/get-log-events.json': await fixture('cloudwatch-events/get-log-events.json'),
      'firehose/2026/03/14/01/stream-1': await fixture('cloudwatch-subscription/firehose-2026-03-14-01-05-07-0a1b2c3d'),
      'tgw/headerless.log': await fixture('transit-gateway/headerless.log'),
    };

    // Act
    const { tables, engine } = await caseWith(files, { logSources: [VPC_FLOW_SOURCE, S3_ACCESS_SOURCE] });

    // Assess
    expect(tables.problems).toEqual([]);
    expect(tables.unrecognised).toEqual([]);
    expect(tables.events.vpc_flow_logs).toBe(7 + 2 + 2 + 3 + 3 + 3 + 2);
    expect(tables.sources.vpc_flow_logs).toBe('main.vpc_flow_logs');
    const perFile = await engine.query<{ evidence_key: string; n: number; records: string }>(
      `SELECT evidence_key, CAST(count(*) AS INTEGER) AS n, string_agg(CAST(evidence_record AS VARCHAR), ',' ORDER BY evidence_record) AS records FROM vpc_flow_logs GROUP BY evidence_key ORDER BY evidence_key`,
    );
    expect(perFile).toEqual([
      { evidence_key: `cases/c/src/${DELIVERY}custom.log.gz`, n: 2, records: '1,2' },
      { evidence_key: `cases/c/src/${DELIVERY}v2.log.gz`, n: 7, records: '1,2,3,4,5,6,7' },
      { evidence_key: `cases/c/src/${DELIVERY}v8.log.gz`, n: 2, records: '1,2' },
      { evidence_key: 'cases/c/src/cwl/get-log-events.json', n: 3, records: '0,1,2' },
      { evidence_key: 'cases/c/src/exportedlogs/task/eni-all/000000.gz', n: 3, records: '0,1,2' },
      { evidence_key: 'cases/c/src/firehose/2026/03/14/01/stream-1', n: 3, records: '1,2,3' },
      { evidence_key: 'cases/c/src/tgw/headerless.log', n: 2, records: '0,1' },
    ]);
    const typed = await engine.query(`SELECT version, srcport, bytes, "end", reject_reason, time FROM vpc_flow_logs WHERE reject_reason = 'BPA'`);
    expect(typed).toEqual([{ version: 8, srcport: 51000, bytes: 60, end: 1773450360, reject_reason: 'BPA', time: '2026-03-14T01:05:02Z' }]);
  });

  it('reports bad lines with the file and the line, keeps the rest, and hostile strings come back from DuckDB byte for byte', async () => {
    // Prepare
    const bytes = await fixture(deliveryName('bad-lines', '8f9a0b1c'));

    // Act
    const { tables, engine, ledger } = await caseWith({ [`${DELIVERY}bad.log.gz`]: gzipSync(bytes) }, { logSources: [VPC_FLOW_SOURCE, S3_ACCESS_SOURCE] });

    // Assess
    const key = `cases/c/src/${DELIVERY}bad.log.gz`;
    expect(tables.problems).toEqual([
      { key, record: 3, reason: 'line 4: 15 fields where the header names 17' },
      { key, record: 4, reason: 'line 5: field srcport is not a 32-bit unsigned integer: "http"' },
      { key, record: 5, reason: 'line 6: field 12 (end) is empty: two spaces in a row' },
      { key, record: 6, reason: 'line 7: field bytes is not an unsigned integer: "99999999999999999999"' },
    ]);
    const rows = await engine.query<{ interface_id: string; vpc_id: string | null; subnet_id: string | null; instance_id: string | null }>(
      'SELECT interface_id, vpc_id, subnet_id, instance_id FROM vpc_flow_logs ORDER BY evidence_record',
    );
    expect(rows).toEqual([
      { interface_id: 'eni-<script>alert(1)</script>', vpc_id: "vpc-'--;DROP\\TABLE", subnet_id: 'subnet-\u00e9\u00f1\u2603\u202eevil', instance_id: 'i-\\u0041\\n%00' },
      { interface_id: '=HYPERLINK("http://x.example","x")', vpc_id: null, subnet_id: null, instance_id: null },
      { interface_id: 'eni-0a1b2c3d4e5f60718', vpc_id: 'vpc-0a1b2c3d', subnet_id: 'subnet-0a1b2c3d', instance_id: 'i-0123456789abcdef0' },
    ]);
    const derived = ledger.entries.filter((e) => e.action === 'derived');
    expect(derived).toEqual([expect.objectContaining({ detail: expect.objectContaining({ parser: 'vpcflow', from: key, variant: 'custom', rows: 3, problems: 4 }) })]);
  });

  it('puts every flow record on the timeline with the documented column types, account and region from the record or the delivery key', async () => {
    // Prepare
    const { tables, engine } = await caseWith({
      [`${DELIVERY}v2.log.gz`]: gzipSync(await fixture(deliveryName('v2', '3f9a1c2e'))),
      'tgw/headerless.log': await fixture('transit-gateway/headerless.log'),
    });

    // Act
    const rows = await queryTimeline(engine, tables.sources);
    const types = await engine.query<{ column_name: string; column_type: string }>(
      `DESCRIBE SELECT * FROM (WITH vpc_flow_logs AS (SELECT * FROM main.vpc_flow_logs) ${VPC_FLOW_SOURCE.timelineSql})`,
    );

    // Assess
    // A source returns the timeline's columns but identity, which the timeline derives from actor for every source.
    expect(types.map((t) => t.column_name)).toEqual(TIMELINE_COLUMNS.filter((c) => c !== 'identity'));
    expect(types.map((t) => t.column_type)).toEqual([...Array(14).fill('VARCHAR'), 'INTEGER']);
    expect(rows).toHaveLength(9);
    const key = `cases/c/src/${DELIVERY}v2.log.gz`;
    expect(rows.filter((r) => r.evidence_key === key)).toEqual([
      expect.objectContaining({ time: '2026-03-14T01:05:00Z', cloud: 'aws', source: 'vpcflow', account: '111122223333', region: 'us-east-1', actor: '10.0.1.15', identity: '10.0.1.15', action: 'ACCEPT', service: 'vpc', target: '203.0.113.50:443', source_ip: '10.0.1.15', user_agent: null, outcome: 'success', error_code: null, evidence_record: 1 }),
      expect.objectContaining({ actor: '203.0.113.50', target: '10.0.1.15:49152', evidence_record: 2 }),
      expect.objectContaining({ actor: 'eni-0f0e0d0c0b0a09080', action: 'NODATA', target: 'eni-0f0e0d0c0b0a09080', outcome: 'success', evidence_record: 6 }),
      expect.objectContaining({ actor: 'eni-0f0e0d0c0b0a09081', action: 'SKIPDATA', outcome: 'failure', error_code: 'SKIPDATA', evidence_record: 7 }),
      expect.objectContaining({ actor: '198.51.100.7', action: 'REJECT', target: '10.0.1.15:22', outcome: 'failure', error_code: 'REJECT', evidence_record: 3 }),
      expect.objectContaining({ actor: '2001:db8:1::15', target: '2001:db8:2::9:3389', evidence_record: 4 }),
      expect.objectContaining({ actor: '10.0.1.15', target: '192.0.2.1:0', evidence_record: 5 }),
    ]);
    expect(rows.filter((r) => r.evidence_key.endsWith('headerless.log'))).toEqual([
      expect.objectContaining({ service: 'transitgateway', account: '111122223333', region: 'us-east-1', action: 'OK', actor: '10.0.1.15', target: '10.1.2.20:443' }),
      expect.objectContaining({ service: 'transitgateway', target: '10.9.9.9:8080' }),
    ]);
  });
});
