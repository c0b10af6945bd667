/**
 * `amber inventory --resume`: a run killed mid-way (SIGKILL while it waits for an answer) is continued under the
 * same stamp; what it had kept is read from the locker, not asked again, and no answer is recorded twice.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ESTATE_ACCOUNT, FakeAwsEstate } from '../helpers/fake-aws-estate.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let fake: FakeAwsEstate;
let env: Record<string, string>;

beforeEach(async () => {
  fake = await new FakeAwsEstate().start();
  const home = await tempDir();
  env = {
    ...fake.env(),
    AWS_ACCESS_KEY_ID: 'AKIDTEST',
    AWS_SECRET_ACCESS_KEY: 'test-secret',
    AWS_REGION: 'eu-west-1',
    AWS_CONFIG_FILE: join(home, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  vi.stubEnv('AWS_PROFILE', undefined);
  vi.stubEnv('AWS_SESSION_TOKEN', undefined);
});

afterEach(async () => {
  vi.unstubAllEnvs();
  fake.release();
  await fake.stop();
});

/** Every file under a directory, relative to it, sorted. */
async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(join(e.parentPath, e.name).slice(dir.length + 1));
  return out.sort();
}

const nonSts = (calls: Record<string, number>): number => Object.entries(calls).filter(([s]) => s !== 'sts').reduce((a, [, n]) => a + n, 0);

describe('amber inventory --resume', () => {
  it('continues a killed inventory under its stamp without asking again for what it kept or recording anything twice', async () => {
    // Prepare: a real `amber` process, killed while it waits for its 9th answer (the first 8 are kept and recorded)
    const cwd = await tempDir();
    const kept = 8;
    const child = spawn(process.execPath, ['--import', join(ROOT, 'test/helpers/localhost-dns.mjs'), join(ROOT, 'scripts/amber.mjs'), 'inventory', '--case', 'RES-1', '--cloud', 'aws', '--region', 'eu-west-1', '--locker', 'ev'], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: cwd, AMBER_ACTOR: 'analyst@test', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    fake.holdAfter(kept, () => child.kill('SIGKILL'));
    expect(await exited, stderr).toBe('SIGKILL');
    fake.release();
    const base = join(cwd, 'ev', 'cases', 'RES-1', 'aws', 'inventory', ESTATE_ACCOUNT);
    const [stamp, ...others] = await readdir(base);
    expect(others).toEqual([]);
    const before = await files(join(base, stamp!));
    expect(before).toHaveLength(kept);
    expect(before).not.toContain('run.json');
    const callsBefore = nonSts(fake.calls);

    // Act
    const resumed = await runCli(['inventory', '--case', 'RES-1', '--cloud', 'aws', '--region', 'eu-west-1', '--locker', 'ev', '--resume', '--json'], { cwd });
    const again = await runCli(['inventory', '--case', 'RES-1', '--cloud', 'aws', '--region', 'eu-west-1', '--locker', 'ev', '--resume'], { cwd });
    const verify = await runCli(['verify', '--case', 'RES-1', '--locker', 'ev'], { cwd });
    const detect = await runCli(['detect', '--case', 'RES-1', '--locker', 'ev', '--json'], { cwd });

    // Assess: one inventory, under the interrupted run's stamp, now complete
    expect(resumed.code, resumed.stderr).toBe(0);
    const summary = JSON.parse(resumed.stdout) as { stamp: string; answers: Record<string, number>; resumed: Record<string, number>; collect: { created: number } };
    expect(summary.stamp).toBe(stamp);
    expect(await readdir(base)).toEqual([stamp]);
    const after = await files(join(base, stamp!));
    expect(after).toContain('run.json');
    expect(after).toEqual(expect.arrayContaining(before));
    // The kept answers were read from the locker: the service was asked only for the others
    expect(Object.values(summary.resumed).reduce((a, b) => a + b, 0)).toBe(kept);
    const asked = nonSts(fake.calls) - callsBefore;
    const answered = Object.values(summary.answers).reduce((a, b) => a + b, 0);
    expect(asked).toBe(answered);
    expect(answered + kept).toBe(after.length - 1);
    // Every answer recorded once in the ledger. The killed run's entries had not reached the ledger: its kept
    // answers are recorded now, as bytes already stored (recovered), not asked again and not stored twice
    const ledger = (await readFile(join(cwd, 'ev', 'cases', 'RES-1', 'custody-ledger.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { items?: Array<{ key: string }>; detail?: { recovered?: string } });
    const recorded = ledger.flatMap((e) => e.items ?? []).map((i) => i.key).filter((k) => k.includes('/aws/inventory/'));
    expect(recorded).toHaveLength(after.length);
    expect(new Set(recorded).size).toBe(recorded.length);
    expect(summary.collect.created).toBe(after.length);
    const recovered = ledger.filter((e) => e.detail?.recovered !== undefined).flatMap((e) => e.items ?? []).map((i) => i.key.slice(i.key.indexOf(stamp!) + stamp!.length + 1));
    expect(recovered.sort()).toEqual(before);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    // The findings of a complete inventory
    const { findings } = JSON.parse(detect.stdout) as { findings: Array<{ detection: string; target: string }> };
    expect(findings.filter((f) => f.detection === 'inventory-storage-public').map((f) => f.target)).toEqual(['site-assets']);
    expect(findings.filter((f) => f.detection === 'inventory-iam-user-without-mfa').map((f) => f.target)).toEqual(['bob']);
    // Nothing left to resume: said so, with the fix
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain(`the latest inventory of account ${ESTATE_ACCOUNT} in case RES-1 (${stamp}) is complete: nothing to resume`);
    expect(again.stderr).toContain('run without --resume');
  }, 180_000);

  it('refuses --resume when the case holds no inventory of the account', async () => {
    // Prepare
    const cwd = await tempDir();

    // Act
    const run = await runCli(['inventory', '--case', 'RES-2', '--cloud', 'aws', '--region', 'eu-west-1', '--locker', 'ev', '--resume'], { cwd });

    // Assess
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`case RES-2 holds no inventory of account ${ESTATE_ACCOUNT} to resume`);
    expect(nonSts(fake.calls)).toBe(0);
  });
});
