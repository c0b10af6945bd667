/**
 * `amber anchor --to s3://bucket/prefix`: one write-once object per anchor, with the bucket's Object Lock
 * retention, read back by `verify --anchor s3://...`. S3 is the stateful fake behind aws-sdk-client-mock.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeS3 } from '../helpers/fake-s3.ts';
import { runCli } from '../helpers/cli.ts';
import { makeWritable, tempDir } from '../helpers/tmp.ts';

const s3Mock = mockClient(S3Client);
let s3: FakeS3;
const env = { AWS_REGION: 'eu-west-1' };

beforeEach(() => {
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDTEST');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
  s3 = new FakeS3().addBucket('anchors', { lockDays: 30 }).install(s3Mock);
});
afterEach(() => {
  s3Mock.reset();
  vi.unstubAllEnvs();
});

async function signedCase(): Promise<{ cwd: string; key: string }> {
  const cwd = await tempDir();
  await mkdir(join(cwd, 'export'));
  await writeFile(join(cwd, 'export', 'a.log'), 'a\n');
  const key = join(cwd, 'case.key');
  expect((await runCli(['keys', 'init', '--out', key], { cwd })).code).toBe(0);
  expect((await runCli(['collect', '--case', 'C', '--from', 'export', '--signing-key', key], { cwd })).code).toBe(0);
  return { cwd, key };
}

describe('amber anchor to S3', () => {
  it('writes one locked object per anchor, and verify --anchor s3:// passes, then catches a rollback (exit 3)', async () => {
    const { cwd, key } = await signedCase();
    const ledger = join(cwd, 'evidence', 'cases', 'C', 'custody-ledger.jsonl');
    const keep = (await readFile(ledger, 'utf8')).trim().split('\n').length;
    await writeFile(join(cwd, 'export', 'b.log'), 'b\n');
    expect((await runCli(['collect', '--case', 'C', '--from', 'export', '--signing-key', key], { cwd })).code).toBe(0);
    const anchored = await runCli(['anchor', '--case', 'C', '--to', 's3://anchors/amber', '--signing-key', key, '--json'], { cwd, env });
    expect(anchored.stderr).toBe('');
    expect(anchored.code).toBe(0);
    const result = JSON.parse(anchored.stdout) as { destination: string; retainUntil?: string; record: { anchor: { seq: number } } };
    const keys = s3.keys('anchors', 'amber/C/');
    expect(keys).toHaveLength(1);
    expect(result.destination).toBe(`s3://anchors/${keys[0]}`);
    const put = s3.calls.find((c) => c.command === 'PutObjectCommand')!;
    expect(put.input).toMatchObject({ ObjectLockMode: 'COMPLIANCE' });
    expect(Date.parse(result.retainUntil!)).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    expect(JSON.parse(s3.text('anchors', keys[0]!)!).anchor.seq).toBe(result.record.anchor.seq);

    const ok = await runCli(['verify', '--case', 'C', '--anchor', 's3://anchors/amber', '--json'], { cwd, env });
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).anchors).toEqual([expect.objectContaining({ ok: true, source: `s3://anchors/amber/C/${keys[0]!.slice('amber/C/'.length)}` })]);

    // Roll the case back to its first collect: verify alone cannot tell, the anchor in S3 can.
    const caseDir = join(cwd, 'evidence', 'cases', 'C');
    await makeWritable(caseDir);
    const lines = (await readFile(ledger, 'utf8')).split('\n').slice(0, keep);
    await writeFile(ledger, `${lines.join('\n')}\n`);
    const { readdir, rm } = await import('node:fs/promises');
    for (const sub of ['checkpoints', 'signatures/checkpoints', 'manifests', 'signatures/manifests']) {
      for (const name of await readdir(join(caseDir, '_amber', sub))) if (Number(/^(\d+)/.exec(name)?.[1]) > keep) await rm(join(caseDir, '_amber', sub, name));
    }
    await rm(join(caseDir, 'export', 'b.log'));
    expect((await runCli(['verify', '--case', 'C'], { cwd })).code).toBe(0);
    const behind = await runCli(['verify', '--case', 'C', '--anchor', 's3://anchors/amber'], { cwd, env });
    expect(behind.code).toBe(3);
    expect(behind.stdout).toMatch(/anchor-behind .*the case was rolled back/);
  });

  it('fails with exit 2 when the S3 prefix holds no anchor of the case', async () => {
    const { cwd } = await signedCase();
    const r = await runCli(['verify', '--case', 'C', '--anchor', 's3://anchors/elsewhere'], { cwd, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/holds no anchor/);
  });
});
