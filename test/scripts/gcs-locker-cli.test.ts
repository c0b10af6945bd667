/**
 * `--locker gs://bucket/prefix` and `--from gs://bucket/prefix` through the CLI, against the fake Cloud Storage
 * JSON API on 127.0.0.1 (AMBER_GCS_URL, AMBER_GCP_TOKEN): collect, verify, and a preserved object changed behind
 * Amber's back.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeGcs } from '../helpers/fake-gcs.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

let fake: FakeGcs;
let env: Record<string, string>;

beforeEach(async () => {
  fake = await new FakeGcs().start();
  fake.bucket('amber-evidence', { versioning: true, objectRetention: true }).bucket('bucket-locked', { retentionSeconds: 30 * 86_400, retentionLocked: true }).bucket('sink-bucket', { versioning: true });
  env = { AMBER_GCS_URL: fake.url, AMBER_GCP_TOKEN: fake.token };
});

afterEach(async () => {
  await fake.stop();
});

async function logsFolder(): Promise<string> {
  const cwd = await tempDir();
  await mkdir(join(cwd, 'logs'), { recursive: true });
  await writeFile(join(cwd, 'logs', 'a.log'), 'first synthetic log line\n');
  await writeFile(join(cwd, 'logs', 'b.log'), 'second synthetic log line\n');
  return cwd;
}

describe('amber with a gs:// locker', () => {
  it('collects into the bucket, verifies intact (exit 0), and fails verify (exit 3) naming an object changed behind its back', async () => {
    // Prepare
    const cwd = await logsFolder();
    const locker = ['--locker', 'gs://amber-evidence/lockers/eu'];

    // Act
    const collected = await runCli(['collect', '--case', 'INC-GS', '--from', 'logs', ...locker, '--json'], { cwd, env });
    const intact = await runCli(['verify', '--case', 'INC-GS', ...locker, '--json'], { cwd, env });
    await writeFile(join(cwd, 'logs', 'c.log'), 'third synthetic log line\n');
    const again = await runCli(['collect', '--case', 'INC-GS', '--from', 'logs', ...locker, '--json'], { cwd, env });
    const intactAgain = await runCli(['verify', '--case', 'INC-GS', ...locker], { cwd, env });
    fake.tamper('amber-evidence', 'lockers/eu/cases/INC-GS/logs/b.log', 'second synthetic log line, edited\n');
    const tampered = await runCli(['verify', '--case', 'INC-GS', ...locker], { cwd, env });

    // Assess
    expect(collected.code).toBe(0);
    const summary = JSON.parse(collected.stdout) as { created: number; locker: string };
    expect(summary).toMatchObject({ created: 2, locker: 'gs://amber-evidence/lockers/eu' });
    expect(fake.generations('amber-evidence', 'lockers/eu/cases/INC-GS/logs/a.log')[0]!.bytes.toString()).toBe('first synthetic log line\n');
    expect(intact.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ created: 1, reacquired: 2 });
    expect(intactAgain.code).toBe(0);
    // Each evidence object is locked by its own retention; the ledger is not (it is replaced on every append).
    const a = fake.generations('amber-evidence', 'lockers/eu/cases/INC-GS/logs/a.log');
    expect(a).toHaveLength(1);
    expect(a[0]!.retention).toMatchObject({ mode: 'Locked' });
    expect(Date.parse(a[0]!.retention!.retainUntilTime)).toBeGreaterThan(Date.now() + 360 * 86_400_000);
    expect(tampered.code).toBe(3);
    expect(tampered.stdout + tampered.stderr).toContain('cases/INC-GS/logs/b.log');
  });

  it('collects every generation of a gs:// source with --all-versions, and a re-run adds nothing (endpoint from STORAGE_EMULATOR_HOST)', async () => {
    // Prepare: a log sink object overwritten once; the endpoint as Google's libraries take it, host:port
    const cwd = await tempDir();
    env = { STORAGE_EMULATOR_HOST: fake.url.replace('http://', ''), AMBER_GCP_TOKEN: fake.token };
    fake.put('sink-bucket', 'cloudaudit.googleapis.com/activity/2026/03/01/00:00:00_00:59:59_S0.json', '{"v":1}\n');
    fake.put('sink-bucket', 'cloudaudit.googleapis.com/activity/2026/03/01/00:00:00_00:59:59_S0.json', '{"v":2}\n');
    const args = ['collect', '--case', 'INC-SRC', '--from', 'gs://sink-bucket/cloudaudit.googleapis.com/', '--all-versions', '--locker', 'ev', '--json'];

    // Act
    const first = await runCli(args, { cwd, env });
    const second = await runCli(args, { cwd, env });
    const verified = await runCli(['verify', '--case', 'INC-SRC', '--locker', 'ev'], { cwd, env });

    // Assess
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ created: 2 });
    expect(JSON.parse(second.stdout)).toMatchObject({ created: 0, reacquired: 2 });
    expect(verified.code).toBe(0);
  });

  it('refuses --all-versions without a gs:// source, a missing bucket, and collecting into a bucket retention policy, before storing anything', async () => {
    const cwd = await logsFolder();
    const noGs = await runCli(['collect', '--case', 'X', '--from', 'logs', '--all-versions'], { cwd, env });
    const missing = await runCli(['verify', '--case', 'X', '--locker', 'gs://no-such-bucket'], { cwd, env });
    const locked = await runCli(['collect', '--case', 'X', '--from', 'logs', '--locker', 'gs://bucket-locked'], { cwd, env });
    expect(locked.code).toBe(2);
    expect(locked.stderr).toMatch(/gs:\/\/bucket-locked has a bucket retention policy[\s\S]*--enable-per-object-retention/);
    expect(fake.requests.filter((r) => r.url.startsWith('/upload/'))).toEqual([]);
    expect(noGs.code).toBe(2);
    expect(noGs.stderr).toContain('--all-versions applies only to s3://, azblob:// and gs:// sources');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('gs://no-such-bucket does not exist');
  });
});
