/**
 * `amber collect --all-versions` against a REAL S3 endpoint (Ceph RADOS Gateway on 127.0.0.1): versions and
 * delete markers made by the server itself, collected into a folder locker and into an Object Lock bucket.
 *
 *   bash scripts/s3-server.sh start .s3-server && set -a && . .s3-server/env && set +a
 *   npx vitest run test/integration/s3-versions.test.ts
 *
 * Without AWS_ENDPOINT_URL_S3 the suite is skipped, unless AMBER_REQUIRE_S3=1 (CI), which makes it fail.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createS3Client, s3ConfigFromEnv } from '../../functions/aws/adapters/s3-client.ts';
import { runCli } from '../helpers/cli.ts';

const START_HINT = 'start the local S3 server with: bash scripts/s3-server.sh start .s3-server && set -a && . .s3-server/env && set +a';
const endpoint = process.env.AWS_ENDPOINT_URL_S3;
const required = process.env.AMBER_REQUIRE_S3 === '1';

if (!endpoint && required) {
  describe('S3 versions integration', () => {
    it('needs a real S3 endpoint (AMBER_REQUIRE_S3=1)', () => {
      throw new Error(`AMBER_REQUIRE_S3=1 but AWS_ENDPOINT_URL_S3 is not set; ${START_HINT}`);
    });
  });
} else if (!endpoint) {
  console.warn(`[s3-versions] skipped: AWS_ENDPOINT_URL_S3 is not set; ${START_HINT}`);
}

let client: S3Client | undefined;
function s3(): S3Client {
  client ??= createS3Client({ ...s3ConfigFromEnv(), maxAttempts: 3 });
  return client;
}

function name(label: string): string {
  return `amber-it-${label}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

/**
 * A versioned bucket where `logs/trail.json` was written twice and then deleted (a delete marker on top),
 * and `logs/other.json` written once. Returns the version ids the server gave.
 */
async function tamperedBucket(): Promise<{ bucket: string; v1: string; v2: string; marker: string; other: string }> {
  const bucket = name('src');
  await s3().send(new CreateBucketCommand({ Bucket: bucket }));
  await s3().send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  const put = async (key: string, body: string) => (await s3().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))).VersionId!;
  const v1 = await put('logs/trail.json', '{"Records":[{"eventName":"StopLogging"}]}');
  const v2 = await put('logs/trail.json', '{"Records":[]}');
  const marker = (await s3().send(new DeleteObjectCommand({ Bucket: bucket, Key: 'logs/trail.json' }))).VersionId!;
  const other = await put('logs/other.json', '{"Records":[{"eventName":"GetObject"}]}');
  return { bucket, v1, v2, marker, other };
}

function cliEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name).slice(dir.length + 1));
  }
  return out.sort();
}

describe.skipIf(!endpoint)('S3 versions integration (real Ceph RADOS Gateway)', () => {
  it('amber collect --all-versions keeps the overwritten and deleted versions, the delete marker and the configuration; verify passes', async () => {
    // Prepare
    const { bucket, v1, v2, marker, other } = await tamperedBucket();
    const cwd = await mkdtemp(join(tmpdir(), 'amber-it-versions-'));
    const env = cliEnv();

    // Act
    const run = await runCli(['collect', '--case', 'ver', '--from', `s3://${bucket}/logs/`, '--all-versions', '--locker', 'ev', '--json'], { cwd, env });

    // Assess
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const base = join(cwd, 'ev', 'cases', 'ver', 'aws', 's3', bucket);
    expect(await readFile(join(base, 'versions', v1, 'logs/trail.json'), 'utf8')).toBe('{"Records":[{"eventName":"StopLogging"}]}');
    expect(await readFile(join(base, 'versions', v2, 'logs/trail.json'), 'utf8')).toBe('{"Records":[]}');
    expect(await readFile(join(base, 'versions', other, 'logs/other.json'), 'utf8')).toBe('{"Records":[{"eventName":"GetObject"}]}');
    const markerDoc = JSON.parse(await readFile(join(base, 'delete-markers', marker, 'logs/trail.json.delete-marker.json'), 'utf8'));
    expect(markerDoc).toMatchObject({ deleteMarker: true, key: 'logs/trail.json', versionId: marker });
    const files = await walk(base);
    expect(files.filter((f) => f.startsWith('configuration/'))).toHaveLength(10);
    expect(files.some((f) => /^configuration\/[^/]+\/versioning\.xml$/.test(f))).toBe(true);
    expect(files.some((f) => /^configuration\/[^/]+\/policy\.none\.json$/.test(f))).toBe(true);
    const listing = files.find((f) => f.startsWith('listings/'))!;
    expect(await readFile(join(base, listing), 'utf8')).toContain(`<DeleteMarker>`);
    const verified = await runCli(['verify', '--case', 'ver', '--locker', 'ev', '--json'], { cwd, env });
    expect(verified.code).toBe(0);
    const items = JSON.parse(verified.stdout).items as { key: string; storedSha256: string }[];
    expect(items.find((i) => i.key.endsWith(`/versions/${v1}/logs/trail.json`))?.storedSha256).toBe(sha('{"Records":[{"eventName":"StopLogging"}]}'));
  });

  it('copies each version server-side into an Object Lock locker, pinned to its version id', async () => {
    // Prepare
    const { bucket, v1, v2 } = await tamperedBucket();
    const locker = name('lock');
    await s3().send(new CreateBucketCommand({ Bucket: locker, ObjectLockEnabledForBucket: true }));
    await s3().send(
      new PutObjectLockConfigurationCommand({ Bucket: locker, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } } } }),
    );
    const cwd = await mkdtemp(join(tmpdir(), 'amber-it-versions-'));
    const env = cliEnv();

    // Act
    const run = await runCli(['collect', '--case', 'ver', '--from', `s3://${bucket}/logs/trail`, '--all-versions', '--locker', `s3://${locker}`, '--json'], { cwd, env });

    // Assess
    expect(run.code).toBe(0);
    const verified = await runCli(['verify', '--case', 'ver', '--locker', `s3://${locker}`, '--json'], { cwd, env });
    expect(verified.code).toBe(0);
    const items = JSON.parse(verified.stdout).items as { key: string; storedSha256: string }[];
    expect(items.find((i) => i.key.endsWith(`/versions/${v1}/logs/trail.json`))?.storedSha256).toBe(sha('{"Records":[{"eventName":"StopLogging"}]}'));
    expect(items.find((i) => i.key.endsWith(`/versions/${v2}/logs/trail.json`))?.storedSha256).toBe(sha('{"Records":[]}'));
    expect(items.some((i) => i.key.includes('/versions/') && i.key.endsWith('other.json'))).toBe(false);
  });
});
