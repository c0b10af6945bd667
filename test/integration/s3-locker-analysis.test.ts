/**
 * Analysing a case kept in an S3 Object Lock locker from a laptop: detect, timeline, report and validate-logs on
 * `--locker s3://bucket`, against a REAL S3 endpoint (Ceph RADOS Gateway on 127.0.0.1):
 *
 *   bash scripts/s3-server.sh start .s3-server && set -a && . .s3-server/env && set +a
 *   npx vitest run test/integration
 *
 * Without AWS_ENDPOINT_URL_S3 the suite is skipped, unless AMBER_REQUIRE_S3=1 (CI), which makes it fail.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CreateBucketCommand, PutObjectCommand, PutObjectLockConfigurationCommand, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client, s3ConfigFromEnv } from '../../functions/aws/adapters/s3-client.ts';
import { S3ObjectStore } from '../../functions/aws/adapters/s3-object-store.ts';
import { generateIncident } from '../../shared/demo/incident.ts';
import { runCli } from '../helpers/cli.ts';

const START_HINT = 'start the local S3 server with: bash scripts/s3-server.sh start .s3-server && set -a && . .s3-server/env && set +a';
const endpoint = process.env.AWS_ENDPOINT_URL_S3;
const required = process.env.AMBER_REQUIRE_S3 === '1';

if (!endpoint && required) {
  describe('S3 locker analysis', () => {
    it('needs a real S3 endpoint (AMBER_REQUIRE_S3=1)', () => {
      throw new Error(`AMBER_REQUIRE_S3=1 but AWS_ENDPOINT_URL_S3 is not set; ${START_HINT}`);
    });
  });
} else if (!endpoint) {
  console.warn(`[s3-locker-analysis] skipped: AWS_ENDPOINT_URL_S3 is not set; ${START_HINT}`);
}

let client: S3Client | undefined;
const s3 = (): S3Client => (client ??= createS3Client({ ...s3ConfigFromEnv(), maxAttempts: 3 }));

async function lockedBucket(label: string): Promise<string> {
  const bucket = `amber-it-${label}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  await s3().send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  await s3().send(
    new PutObjectLockConfigurationCommand({
      Bucket: bucket,
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } } },
    }),
  );
  return bucket;
}

interface Finding {
  readonly detection: string;
  readonly evidence_key: string;
  readonly evidence_record: number;
  readonly evidence_sha256: string;
}

/** The demo intrusion's CloudTrail files, written under `dir/logs`. */
async function writeStory(dir: string): Promise<void> {
  for (const f of generateIncident()) {
    await mkdir(dirname(join(dir, 'logs', f.path)), { recursive: true });
    await writeFile(join(dir, 'logs', f.path), f.bytes);
  }
}

describe.skipIf(!endpoint)('S3 locker analysis (real Ceph RADOS Gateway)', () => {
  it('detect, timeline and report run on an s3:// locker, give the same findings as a local locker, and record their work in the S3 ledger', async () => {
    const bucket = await lockedBucket('analysis');
    const cwd = await mkdtemp(join(tmpdir(), 'amber-it-s3an-'));
    await writeStory(cwd);
    const env = {
      ...Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => typeof e[1] === 'string')),
      AMBER_CACHE_DIR: join(cwd, 'cache'),
    };
    const locker = `s3://${bucket}`;
    expect((await runCli(['collect', '--case', 'c', '--from', 'logs', '--locker', locker, '--json'], { cwd, env })).code).toBe(0);
    expect((await runCli(['collect', '--case', 'c', '--from', 'logs', '--locker', 'local', '--json'], { cwd, env })).code).toBe(0);

    const remote1 = await runCli(['detect', '--case', 'c', '--locker', locker, '--json'], { cwd, env });
    expect(remote1.stderr).toBe('');
    expect(remote1.code).toBe(0);
    const remote2 = await runCli(['detect', '--case', 'c', '--locker', locker, '--json'], { cwd, env });
    const local = await runCli(['detect', '--case', 'c', '--locker', 'local', '--json'], { cwd, env });
    const findings = (run: { stdout: string }): Finding[] => (JSON.parse(run.stdout) as { findings: Finding[] }).findings;
    expect(findings(remote1).length).toBeGreaterThan(0);
    expect(findings(remote1).map((f) => f.detection)).toContain('cloudtrail-logging-disabled');
    // Parity: record for record the same findings from the S3 locker (first run and cached run) as from a local one.
    expect(findings(remote2)).toEqual(findings(remote1));
    expect(findings(remote1)).toEqual(findings(local));

    const timeline = await runCli(['timeline', '--case', 'c', '--locker', locker, '--format', 'csv', '--out', join(cwd, 'timeline.csv')], { cwd, env });
    expect(timeline.code).toBe(0);
    expect((await readFile(join(cwd, 'timeline.csv'), 'utf8')).split('\n').length).toBeGreaterThan(10);
    const report = await runCli(['report', '--case', 'c', '--locker', locker, '--out', join(cwd, 'report.html')], { cwd, env });
    expect(report.code).toBe(0);
    expect(await readFile(join(cwd, 'report.html'), 'utf8')).toContain('cloudtrail-logging-disabled');

    // The S3 ledger holds what the analyses did: the Parquet set derived once, each access, each export.
    const store = await S3ObjectStore.open({ bucket, client: s3() });
    const ledger = (await store.readText('cases/c/custody-ledger.jsonl'))!.trim().split('\n').map((l) => JSON.parse(l) as { action: string; detail?: Record<string, unknown> });
    // Two detect runs and the report read the case (the timeline export is recorded as exported).
    expect(ledger.filter((e) => e.action === 'accessed').length).toBe(3);
    expect(ledger.filter((e) => e.action === 'exported').length).toBe(2);
    expect(ledger.some((e) => e.action === 'derived')).toBe(true);
    // And the case, with everything the analyses added, still verifies in S3.
    const verified = await runCli(['verify', '--case', 'c', '--locker', locker, '--json'], { cwd, env });
    expect(verified.code).toBe(0);
  });

  it('a new version put over a preserved key (Object Lock allows it) never reaches a finding: the recorded version is read', async () => {
    const bucket = await lockedBucket('overwrite');
    const cwd = await mkdtemp(join(tmpdir(), 'amber-it-s3ow-'));
    await mkdir(join(cwd, 'logs'));
    const record = (name: string) => ({
      eventVersion: '1.09',
      eventTime: '2026-11-20T01:00:00Z',
      eventSource: 'cloudtrail.amazonaws.com',
      eventName: name,
      awsRegion: 'us-east-1',
      sourceIPAddress: '198.51.100.9',
      userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/mallory', accountId: '111122223333', userName: 'mallory' },
      requestParameters: { name: 'trail' },
      eventID: `id-${name}`,
    });
    await writeFile(join(cwd, 'logs', 'trail.json'), JSON.stringify({ Records: [record('StopLogging')] }));
    const env = {
      ...Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => typeof e[1] === 'string')),
      AMBER_CACHE_DIR: join(cwd, 'cache'),
    };
    const locker = `s3://${bucket}`;
    expect((await runCli(['collect', '--case', 'c', '--from', 'logs', '--locker', locker], { cwd, env })).code).toBe(0);
    await s3().send(new PutObjectCommand({ Bucket: bucket, Key: 'cases/c/trail.json', Body: JSON.stringify({ Records: [record('ListBuckets')] }) }));
    const run = await runCli(['detect', '--case', 'c', '--locker', locker, '--json'], { cwd, env });
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { findings: Finding[] };
    expect(out.findings.map((f) => f.detection)).toContain('cloudtrail-logging-disabled');
  });
});
