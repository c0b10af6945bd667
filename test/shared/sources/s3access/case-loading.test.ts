/**
 * S3 server access logs through the product's path: collected into a locker under their delivery keys
 * (gzipped too), recognised by content, parsed into derived NDJSON that is itself evidence, loaded into
 * `s3_access_logs`, and read back on the timeline.
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

const FIXTURES = fileURLToPath(new URL('../../../fixtures/aws/s3access/', import.meta.url));
const PARTITIONED = 'logs/111122223333/us-east-1/customer-exports/2026/03/14/';

const fixture = async (path: string): Promise<Buffer> => readFile(join(FIXTURES, path));

describe('Use case: loadCaseTables with S3 server access logs', () => {
  it('registers the source (collect --source s3access finds it)', () => {
    // Assess
    expect(LOG_SOURCES).toContain(S3_ACCESS_SOURCE);
    expect(sourceById('s3access')).toBe(S3_ACCESS_SOURCE);
  });

  it('is the one registered source that claims each of its fixtures, whatever else is registered', () => {
    // Prepare
    const walk = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]));

    // Act / Assess
    for (const file of walk(FIXTURES)) {
      const found = detectSource(readFileSync(file, 'utf8').slice(0, 64 * 1024), file.slice(FIXTURES.length), LOG_SOURCES);
      expect(found.source?.id ?? found.reason, file).toBe('s3access');
    }
  });

  it('loads plain and gzipped log objects of every variant, typed, rows pointing at their line', async () => {
    // Prepare
    const files = {
      [`${PARTITIONED}2026-03-14-01-00-00-0A1B2C3D4E5F6071`]: await fixture(`standard/${PARTITIONED}2026-03-14-01-00-00-0A1B2C3D4E5F6071`),
      'logs/2026-03-14-02-00-00-1B2C3D4E5F607182.gz': gzipSync(await fixture('short-old/logs/2026-03-14-02-00-00-1B2C3D4E5F607182')),
      'logs/2026-03-25-19-33-00-2C3D4E5F60718293': await fixture('lifecycle/logs/2026-03-25-19-33-00-2C3D4E5F60718293'),
      'logs/2026-03-14-03-00-00-3D4E5F60718293A4.gz': gzipSync(await fixture('hostile/logs/2026-03-14-03-00-00-3D4E5F60718293A4')),
    };

    // Act
    const { tables, engine } = await caseWith(files, { logSources: [VPC_FLOW_SOURCE, S3_ACCESS_SOURCE] });

    // Assess
    expect(tables.problems).toEqual([]);
    expect(tables.unrecognised).toEqual([]);
    expect(tables.events.s3_access_logs).toBe(5 + 4 + 4 + 2);
    const lifecycle = await engine.query(`SELECT operation, requester, remoteip, httpstatus, objectsize, evidence_record FROM s3_access_logs WHERE operation LIKE 'S3.%' ORDER BY evidence_record`);
    expect(lifecycle).toEqual([
      { operation: 'S3.EXPIRE.OBJECT', requester: 'AmazonS3', remoteip: null, httpstatus: null, objectsize: 317, evidence_record: 0 },
      { operation: 'S3.TRANSITION_SIA.OBJECT', requester: 'AmazonS3', remoteip: null, httpstatus: null, objectsize: 88000000, evidence_record: 1 },
      { operation: 'S3.TRANSITION_GIR.OBJECT', requester: 'AmazonS3', remoteip: null, httpstatus: null, objectsize: 88000000, evidence_record: 2 },
      { operation: 'S3.CREATE.DELETEMARKER', requester: 'AmazonS3', remoteip: null, httpstatus: null, objectsize: null, evidence_record: 3 },
    ]);
    const hostile = await engine.query<{ useragent: string; referrer: string; request_uri: string; requester: string | null; time: string }>(
      `SELECT useragent, referrer, request_uri, requester, time FROM s3_access_logs WHERE evidence_key LIKE '%3D4E5F60718293A4.gz' ORDER BY evidence_record`,
    );
    expect(hostile[0]).toEqual({
      useragent: 'Mozilla/5.0 \\"quoted\\" and "bare" quotes =cmd|\' /C calc\'!A0 <script>alert(1)</script> \u00e9\u00f1 \u2603 \u202eevil \\x00 %00',
      referrer: '=HYPERLINK(\\"http://evil.example\\")',
      request_uri: 'GET /customer-exports/%3Cscript%3E%27%3B--.txt?x=\\"y\\" HTTP/1.1',
      requester: null,
      time: '2026-03-14T03:00:00Z',
    });
    expect(hostile[1]).toMatchObject({ requester: "arn:aws:iam::111122223333:user/o'brien", time: '2026-03-14T00:00:00Z' });
  });

  it('reports every damaged line with the file and the line, and loads the rest', async () => {
    // Act
    const { tables, engine, ledger } = await caseWith({ 'logs/bad.gz': gzipSync(await fixture('bad-lines/logs/2026-03-14-03-00-05-4E5F60718293A4B5')) });

    // Assess
    const key = 'cases/c/src/logs/bad.gz';
    expect(tables.problems.map((p) => [p.key, p.record, p.reason.slice(0, 7)])).toEqual([
      [key, 1, 'line 2:'], [key, 2, 'line 3:'], [key, 3, 'line 4:'], [key, 4, 'line 5:'], [key, 5, 'line 6:'],
    ]);
    expect(await engine.query('SELECT key, evidence_record FROM s3_access_logs ORDER BY evidence_record')).toEqual([
      { key: 'ok.txt', evidence_record: 0 },
      { key: 'ok2.txt', evidence_record: 6 },
    ]);
    expect(ledger.entries.filter((e) => e.action === 'derived')).toEqual([
      expect.objectContaining({ detail: expect.objectContaining({ parser: 's3access', from: key, rows: 2, problems: 5 }) }),
    ]);
  });

  it('puts every request on the timeline: requester (or anonymous), operation, bucket/key, outcome from status and error code, identity from an SSO session', async () => {
    // Prepare
    const sso = '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be customer-exports [14/Mar/2026:01:10:00 +0000] 203.0.113.90 arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/Alice.Smith@Example.com D0E1F2A3B4C5D6E7 REST.GET.OBJECT exports/x.csv "GET /customer-exports/exports/x.csv HTTP/1.1" 200 - 10 10 3 2 "-" "aws-cli/2.15.30" - - SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader s3.dualstack.eu-west-1.amazonaws.com TLSv1.3 - -\n';
    const { tables, engine } = await caseWith({
      [`${PARTITIONED}2026-03-14-01-00-00-0A1B2C3D4E5F6071`]: await fixture(`standard/${PARTITIONED}2026-03-14-01-00-00-0A1B2C3D4E5F6071`),
      'logs/2026-03-14-01-10-00-5F6071829304A5B6': Buffer.from(sso),
    }, { logSources: [VPC_FLOW_SOURCE, S3_ACCESS_SOURCE] });

    // Act
    const rows = await queryTimeline(engine, tables.sources);
    const types = await engine.query<{ column_name: string; column_type: string }>(
      `DESCRIBE SELECT * FROM (WITH s3_access_logs AS (SELECT * FROM main.s3_access_logs) ${S3_ACCESS_SOURCE.timelineSql})`,
    );

    // Assess
    expect(types.map((t) => t.column_name)).toEqual(TIMELINE_COLUMNS.filter((c) => c !== 'identity'));
    expect(types.map((t) => t.column_type)).toEqual([...Array(14).fill('VARCHAR'), 'INTEGER']);
    expect(rows.map((r) => [r.time, r.account, r.region, r.actor, r.action, r.target, r.source_ip, r.outcome, r.error_code, r.evidence_record])).toEqual([
      ['2026-03-14T00:59:01Z', '111122223333', 'us-east-1', 'arn:aws:iam::111122223333:user/alice', 'REST.GET.OBJECT', 'customer-exports/exports/customers.csv.gz', '203.0.113.66', 'success', null, 0],
      ['2026-03-14T00:59:02Z', '111122223333', 'us-east-1', 'arn:aws:iam::111122223333:user/alice', 'REST.GET.BUCKET', 'customer-exports', '203.0.113.66', 'success', null, 1],
      ['2026-03-14T00:59:03Z', '111122223333', 'us-east-1', 'anonymous', 'REST.GET.OBJECT', 'customer-exports/secret.txt', '198.51.100.7', 'failure', 'AccessDenied', 2],
      ['2026-03-14T00:59:04Z', '111122223333', 'us-east-1', 'arn:aws:iam::111122223333:user/alice', 'REST.PUT.BUCKETPOLICY', 'customer-exports', '203.0.113.70', 'success', null, 3],
      ['2026-03-14T00:59:05Z', '111122223333', 'us-east-1', 'arn:aws:sts::111122223333:assumed-role/etl/i-0123456789abcdef0', 'REST.GET.OBJECT', 'customer-exports/reports/daily.csv', '10.0.1.15', 'success', null, 4],
      ['2026-03-14T01:10:00Z', null, 'eu-west-1', 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/Alice.Smith@Example.com', 'REST.GET.OBJECT', 'customer-exports/exports/x.csv', '203.0.113.90', 'success', null, 0],
    ]);
    expect(rows.every((r) => r.cloud === 'aws' && r.source === 's3access' && r.service === 's3.amazonaws.com')).toBe(true);
    expect(rows[0]!.user_agent).toBe('aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64 prompt/off command/s3.cp');
    expect(rows[5]!.identity).toBe('alice.smith@example.com');
  });
});
