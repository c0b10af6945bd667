/**
 * `amber capture` end to end: the bundled CLI (dist/cli, built when stale) spawned as a user runs it, SSM at a
 * local fake that speaks the documented JSON protocol (AWS_ENDPOINT_URL_SSM, the SDK's own endpoint setting),
 * and the locker a real S3 server with Object Lock (the shared Ceph RGW). The fake plays the instance: it
 * "uploads" the triage output and the memory image into the bucket, as the instance profile would.
 *
 *   set -a && . /work/ceph/env && set +a     (or bash scripts/s3-server.sh start .s3-server && . .s3-server/env)
 *
 * Without AWS_ENDPOINT_URL_S3 the suite is skipped, unless AMBER_REQUIRE_S3=1 (CI), which makes it fail.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client, s3ConfigFromEnv } from '../../functions/aws/adapters/s3-client.ts';
import { S3ObjectStore } from '../../functions/aws/adapters/s3-object-store.ts';
import { buildCli } from '../../scripts/build/cli.ts';
import { bundleState } from '../../scripts/bundle-state.mjs';
import { CustodyLedger } from '../../shared/evidence/ledger.ts';
import { TRIAGE_SECTIONS } from '../../shared/preservation/triage/output.ts';
import { FakeSsm } from '../helpers/fake-ssm.ts';
import { tempDir } from '../helpers/tmp.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const endpoint = process.env.AWS_ENDPOINT_URL_S3;
const required = process.env.AMBER_REQUIRE_S3 === '1';
const exec = promisify(execFile);
const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

const AVML = Buffer.from('synthetic avml stand-in');
const INSTANCE = 'i-0e2e0e2e0e2e0e2e1';
const triageOutput = `${TRIAGE_SECTIONS.map((s) => `=== amber-section ${s} begin ===\nsynthetic ${s}\n=== amber-section ${s} end rc=0 ===`).join('\n')}\n=== amber-triage complete ===\n`;

if (!endpoint && required) {
  describe('amber capture end to end', () => {
    it('needs a real S3 endpoint (AMBER_REQUIRE_S3=1)', () => {
      throw new Error('AMBER_REQUIRE_S3=1 but AWS_ENDPOINT_URL_S3 is not set; load /work/ceph/env or start scripts/s3-server.sh');
    });
  });
} else if (!endpoint) {
  console.warn('[capture-cli-e2e] skipped: AWS_ENDPOINT_URL_S3 is not set; load /work/ceph/env or start scripts/s3-server.sh');
}

describe.skipIf(!endpoint)('amber capture end to end (bundled CLI, fake SSM, real S3 with Object Lock)', () => {
  let entry: string;
  let s3: S3Client;
  let fake: FakeSsm;
  let ssmEndpoint: string;
  /** Memory images the "instance" streamed, by s3 URI, uploaded when its invocation ends. */
  const pending = new Map<string, Buffer>();
  let arrives: (image: Buffer) => Buffer = (b) => b;

  beforeAll(async () => {
    if (!bundleState(ROOT).current) await buildCli();
    const state = bundleState(ROOT);
    if (!state.current) throw new Error(`the CLI bundle is not current right after a build: ${state.reason}`);
    entry = state.entry;
    s3 = createS3Client({ ...s3ConfigFromEnv(), maxAttempts: 3 });
    fake = new FakeSsm();
    fake.onOutput = async (bucket, key, bytes) => {
      for (const [uri, image] of pending) {
        const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri)!;
        await s3.send(new PutObjectCommand({ Bucket: m[1], Key: m[2], Body: arrives(image) }));
        pending.delete(uri);
      }
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes }));
    };
    ssmEndpoint = await fake.start();
  }, 300_000);

  afterAll(async () => {
    await fake?.stop();
  });

  /** The instance: triage output for the triage script; for the AVML script, an image at the URI it names. */
  const instance = (image: Buffer) => (script: string) => {
    if (!script.includes('amber-memory')) return { stdout: triageOutput };
    const pinned = /^TOOL_SHA256='([0-9a-f]{64})'$/m.exec(script)![1]!;
    if (pinned !== sha(AVML)) return { stdout: `amber-memory: error=tool-hash-mismatch expected=${pinned}\n`, responseCode: 11 };
    pending.set(/^IMAGE_URI='(s3:\/\/[^']+)'$/m.exec(script)![1]!, image);
    return { stdout: `amber-memory: mem-bytes=${image.length} free-kib=900000\namber-memory: tool-sha256=${pinned}\namber-memory: image-sha256=${sha(image)}\n` };
  };

  async function newLocker(): Promise<string> {
    const bucket = `amber-it-capture-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
    return bucket;
  }

  async function amber(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const home = await tempDir('amber-home-');
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: home,
      AWS_CONFIG_FILE: join(home, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? '',
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? '',
      AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
      AWS_ENDPOINT_URL_S3: endpoint!,
      AWS_ENDPOINT_URL_SSM: ssmEndpoint,
      AMBER_ACTOR: 'analyst@test',
    };
    try {
      const { stdout, stderr } = await exec(process.execPath, [entry, ...args], { cwd: home, env, maxBuffer: 64 * 1024 * 1024 });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  async function bytesOf(bucket: string, key: string): Promise<Buffer> {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await out.Body!.transformToByteArray());
  }

  it('preserves the triage output and the memory image with their hashes, records both in the ledger, exits 0', async () => {
    const bucket = await newLocker();
    const image = randomBytes(3 * 1024 * 1024 + 17);
    arrives = (b) => b;
    fake.addInstance(INSTANCE, { states: ['InProgress', 'Success'], run: instance(image) });
    const run = await amber(['capture', '--case', 'E2E-1', '--instance', INSTANCE, '--memory', '--avml', 's3://amber-tools/avml', '--avml-sha256', sha(AVML), '--locker', `s3://${bucket}`, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as { volatile: { instances: Array<{ outcome: string; items: Array<{ key: string; sha256: string; size: number }>; sections: string[] }> }; memory: { instances: Array<{ outcome: string; instanceSha256: string; amberSha256: string; items: Array<{ key: string; sha256: string; size: number }> }> } };
    const triage = out.volatile.instances[0]!;
    expect(triage.outcome).toBe('captured');
    expect(triage.sections).toEqual([...TRIAGE_SECTIONS]);
    const stdout = triage.items.find((i) => i.key.endsWith('/stdout'))!;
    expect(stdout.sha256).toBe(sha(triageOutput));
    expect((await bytesOf(bucket, stdout.key)).toString('utf8')).toBe(triageOutput);
    const memory = out.memory.instances[0]!;
    expect(memory).toMatchObject({ outcome: 'captured', instanceSha256: sha(image), amberSha256: sha(image) });
    const lime = memory.items.find((i) => i.key.endsWith('/memory.lime'))!;
    expect(lime).toMatchObject({ sha256: sha(image), size: image.length });
    expect(sha(await bytesOf(bucket, lime.key))).toBe(sha(image));

    const ledger = await CustodyLedger.open(new S3ObjectStore({ bucket, client: s3 }), 'E2E-1');
    const steps = ledger.entries.filter((e) => e.action === 'acquired').map((e) => [e.detail?.step, e.detail?.instanceId ?? null, e.detail?.outcome ?? null]);
    expect(steps).toEqual([
      ['volatile-triage', null, null],
      ['volatile-triage', INSTANCE, 'captured'],
      ['memory-capture', INSTANCE, 'captured'],
    ]);
    const recorded = ledger.items();
    expect(recorded.get(lime.key)?.sha256).toBe(sha(image));
    expect(recorded.get(stdout.key)?.sha256).toBe(sha(triageOutput));

    const verified = await amber(['verify', '--case', 'E2E-1', '--locker', `s3://${bucket}`]);
    expect(verified.code, verified.stderr).toBe(0);
  }, 300_000);

  it('exits 3 when the image that arrives is not the one the instance hashed, keeping it as it arrived', async () => {
    const bucket = await newLocker();
    const image = randomBytes(1024 * 1024);
    arrives = (b) => Buffer.concat([b.subarray(0, 100), Buffer.from([b[100]! ^ 0xff]), b.subarray(101)]);
    const other = 'i-0e2e0e2e0e2e0e2e2';
    fake.addInstance(other, { states: ['Success'], run: instance(image) });
    const run = await amber(['capture', '--case', 'E2E-2', '--instance', other, '--memory', '--avml', 's3://amber-tools/avml', '--avml-sha256', sha(AVML), '--locker', `s3://${bucket}`]);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stdout).toMatch(/memory of i-0e2e0e2e0e2e0e2e2: FAILED \(integrity-mismatch\)/);
    const ledger = await CustodyLedger.open(new S3ObjectStore({ bucket, client: s3 }), 'E2E-2');
    const entry = ledger.entries.find((e) => e.detail?.step === 'memory-capture' && e.detail?.instanceId === other)!;
    expect(entry.detail).toMatchObject({ outcome: 'failed', reason: 'integrity-mismatch', integrityFailure: true, instanceSha256: sha(image) });
    const kept = [...ledger.items().values()].find((i) => i.key.endsWith('/memory.lime'))!;
    expect(kept.sha256).toBe(sha(arrives(image)));
    expect(sha(await bytesOf(bucket, kept.key))).toBe(sha(arrives(image)));
  }, 300_000);
});
