import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbQueryEngine } from '../../../shared/query/duckdb-engine.ts';
import { loadCloudTrailTable } from '../../../shared/query/tables/cloudtrail.ts';
import { queryTimeline, renderTimeline, TIMELINE_COLUMNS, type TimelineRow } from '../../../shared/timeline/timeline.ts';
import { tempDir } from '../../helpers/tmp.ts';

const HOSTILE_UA = `=cmd|' /C calc'!A0`;
let engine: DuckDbQueryEngine;
let rows: TimelineRow[];

beforeAll(async () => {
  const dir = join(await tempDir(), 'AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/20');
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'f.json');
  await writeFile(
    path,
    JSON.stringify({
      Records: [
        {
          eventTime: '2026-11-20T10:00:05Z', eventSource: 'iam.amazonaws.com', eventName: 'CreateAccessKey', awsRegion: 'eu-west-1', sourceIPAddress: '203.0.113.7', userAgent: HOSTILE_UA,
          userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/mallory', accountId: '111122223333', userName: 'mallory' },
          requestParameters: { userName: 'alice' }, recipientAccountId: '111122223333',
        },
        {
          eventTime: '2026-11-20T09:00:00Z', eventSource: 'signin.amazonaws.com', eventName: 'ConsoleLogin', awsRegion: 'eu-west-1', sourceIPAddress: '203.0.113.7', userAgent: 'Mozilla/5.0, "quoted"',
          userIdentity: { type: 'IAMUser', accountId: '111122223333', userName: 'mallory' }, errorMessage: 'Failed authentication', responseElements: { ConsoleLogin: 'Failure' },
          recipientAccountId: '111122223333',
        },
        {
          eventTime: '2026-11-20T11:00:00Z', eventSource: 's3.amazonaws.com', eventName: 'GetBucketAcl', awsRegion: 'eu-west-1', sourceIPAddress: '203.0.113.7', userAgent: 'aws-cli',
          userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/mallory', accountId: '111122223333' }, errorCode: 'AccessDenied',
          requestParameters: { bucketName: 'payroll', acl: '' }, recipientAccountId: '111122223333',
        },
      ],
    }),
  );
  engine = await DuckDbQueryEngine.create();
  await loadCloudTrailTable(engine, [{ path, key: 'cases/c/AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/20/f.json', shape: 'records' }]);
  rows = await queryTimeline(engine, { cloudtrail: 'main.cloudtrail' });
});
afterAll(async () => engine.close());

describe('Function: queryTimeline', () => {
  it('gives one normalised row per event in time order, pointing at the evidence record', () => {
    expect(rows.map((r) => [r.time, r.action, r.evidence_record])).toEqual([
      ['2026-11-20T09:00:00Z', 'ConsoleLogin', 1],
      ['2026-11-20T10:00:05Z', 'CreateAccessKey', 0],
      ['2026-11-20T11:00:00Z', 'GetBucketAcl', 2],
    ]);
    expect(rows[1]).toMatchObject({ cloud: 'aws', source: 'cloudtrail', account: '111122223333', region: 'eu-west-1', actor: 'arn:aws:iam::111122223333:user/mallory', target: 'alice', outcome: 'success' });
  });

  it('marks failed calls and failed console logins as failures with their error', () => {
    expect(rows[0]).toMatchObject({ outcome: 'failure', error_code: 'Failed authentication', actor: 'mallory' });
    expect(rows[2]).toMatchObject({ outcome: 'failure', error_code: 'AccessDenied', target: 'payroll' });
  });
});

describe('Function: renderTimeline', () => {
  it('writes CSV with a header and neutralises formula injection from attacker-controlled fields', () => {
    const csv = [...renderTimeline(rows, 'csv')].join('');
    const lines = csv.trimEnd().split('\n');
    expect(lines[0]).toBe(TIMELINE_COLUMNS.join(','));
    expect(lines).toHaveLength(4);
    expect(csv).toContain(`,'=cmd|' /C calc'!A0,`);
    expect(csv).not.toMatch(/,=cmd/);
    expect(csv).toContain('"Mozilla/5.0, ""quoted"""');
  });

  it('writes Timesketch JSONL with message, datetime and timestamp_desc on every line', () => {
    const lines = [...renderTimeline(rows, 'timesketch')].map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatchObject({
      message: 'arn:aws:iam::111122223333:user/mallory CreateAccessKey on alice from 203.0.113.7',
      datetime: '2026-11-20T10:00:05Z',
      timestamp_desc: 'Event Time',
      evidence_record: 0,
    });
  });
});
