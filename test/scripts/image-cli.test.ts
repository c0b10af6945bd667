/**
 * `amber image` end to end: the CLI with the SDK's own configuration (environment credentials, AWS_REGION,
 * AWS_ENDPOINT_URL_EBS pointing at a fake EBS direct API on 127.0.0.1), into a folder locker, then `amber verify`.
 * The fake's snapshot is 1 GiB (EBS sizes are whole GiB), so this test writes 1 GiB to a temporary folder.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { EBS_BLOCK, ebsBlock, FakeEbs } from '../helpers/fake-ebs.ts';
import { tempDir } from '../helpers/tmp.ts';

const SNAP = 'snap-0fedcba9876543210';
const WRITTEN: ReadonlyArray<readonly [number, string]> = [[0, 'm'], [1, 'b'], [1000, 'x'], [2047, 'z']];
let fake: FakeEbs;
let cwd: string;

beforeEach(async () => {
  fake = new FakeEbs().addSnapshot(SNAP, 1, new Map(WRITTEN.map(([i, seed]) => [i, ebsBlock(seed)])));
  const url = await fake.start();
  const home = await tempDir();
  cwd = await tempDir();
  for (const [name, value] of Object.entries({
    AWS_ENDPOINT_URL_EBS: url,
    AWS_ACCESS_KEY_ID: 'AKIDTEST',
    AWS_SECRET_ACCESS_KEY: 'test-secret',
    AWS_REGION: 'eu-west-1',
    AWS_CONFIG_FILE: join(home, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
  })) vi.stubEnv(name, value);
  vi.stubEnv('AWS_PROFILE', undefined);
  vi.stubEnv('AWS_SESSION_TOKEN', undefined);
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await fake.stop();
  await rm(join(cwd, 'ev'), { recursive: true, force: true }).catch(() => undefined);
});

let volumeHash: string | undefined;

/** SHA-256 of the 1 GiB volume: zeros except the written blocks (computed once). */
function volumeSha256(): string {
  if (volumeHash !== undefined) return volumeHash;
  const hash = createHash('sha256');
  const zeros = Buffer.alloc(EBS_BLOCK);
  const written = new Map(WRITTEN);
  for (let i = 0; i < 2048; i += 1) hash.update(written.has(i) ? ebsBlock(written.get(i)!) : zeros);
  volumeHash = hash.digest('hex');
  return volumeHash;
}

async function chunksSha256(dir: string, count: number): Promise<string> {
  const hash = createHash('sha256');
  for (let n = 0; n < count; n += 1) {
    for await (const part of createReadStream(join(dir, `${String(n).padStart(6, '0')}.raw`))) hash.update(part as Buffer);
  }
  return hash.digest('hex');
}

describe('amber image', () => {
  it('images a snapshot into the locker: the chunks rebuild the volume, image.json holds its SHA-256, verify passes', async () => {
    // Act
    const run = await runCli(['image', '--case', 'IMG-1', '--snapshot', SNAP, '--chunk-mib', '256', '--locker', 'ev', '--json'], { cwd });

    // Assess
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.image).toMatchObject({ snapshotId: SNAP, volumeBytes: 1024 ** 3, blocksWithData: 4, sparseBlocks: 2044, sha256: volumeSha256() });
    const base = join(cwd, 'ev', 'cases', 'IMG-1', 'aws', 'ebs', SNAP);
    expect(await chunksSha256(join(base, 'chunks'), 4)).toBe(volumeSha256());
    expect(JSON.parse(await readFile(join(base, 'image.json'), 'utf8')).sha256).toBe(volumeSha256());
    const verified = await runCli(['verify', '--case', 'IMG-1', '--locker', 'ev', '--json'], { cwd });
    expect(verified.code).toBe(0);
  });

  it('exits 1 naming the refused block when EBS sends bytes that do not match their checksum', async () => {
    // Prepare
    fake.corrupt(1000);

    // Act
    const run = await runCli(['image', '--case', 'IMG-2', '--snapshot', SNAP, '--chunk-mib', '256', '--locker', 'ev'], { cwd });

    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/INCOMPLETE/);
    expect(run.stdout).toMatch(/block 1000 of snap-0fedcba9876543210 .* does not match the checksum sent with it/);
  });

  it('`amber help image` explains every flag of its usage line and gives an example', async () => {
    const run = await runCli(['help', 'image'], { cwd });
    expect(run.code).toBe(0);
    const [usageLine, ...body] = run.stdout.split('\n');
    expect(usageLine).toMatch(/^Usage: amber image --case C --snapshot snap-/);
    for (const flag of new Set(usageLine!.match(/--[a-z-]+/g) ?? [])) expect(body.join('\n'), flag).toContain(flag);
    expect(run.stdout).toMatch(/\nExample:\n {2}amber image /);
  });

  it('refuses what is not a snapshot id (exit 2) before calling EBS', async () => {
    const run = await runCli(['image', '--case', 'IMG-3', '--snapshot', 'vol-0123456789abcdef0', '--locker', 'ev'], { cwd });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/not an EBS snapshot id/);
    expect(fake.requests.list).toBe(0);
  });
});
