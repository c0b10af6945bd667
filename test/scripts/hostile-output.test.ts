/**
 * Outputs and hostile input: nothing a command writes may land on preserved evidence, log-derived text never
 * reaches a terminal raw (piped or not), and a file that changes while collected is flagged.
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const HOSTILE = 'curl\u001b]0;owned\u0007\u001b[2J\u009b31m\u202etxt.exe';
const trail = JSON.stringify({
  Records: [
    {
      eventVersion: '1.08',
      eventTime: '2026-11-20T01:00:00Z',
      eventSource: 's3.amazonaws.com',
      eventName: 'ListBuckets',
      awsRegion: 'us-east-1',
      sourceIPAddress: '198.51.100.7',
      userAgent: HOSTILE,
      userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/alice', accountId: '111122223333' },
      recipientAccountId: '111122223333',
    },
  ],
});

let cwd: string;
beforeAll(async () => {
  cwd = await tempDir();
  await mkdir(join(cwd, 'export'));
  await writeFile(join(cwd, 'export', 'trail.json'), trail);
  expect((await runCli(['collect', '--case', 'C', '--from', 'export'], { cwd })).code).toBe(0);
});

async function ledgerText(): Promise<string> {
  return readFile(join(cwd, 'evidence/cases/C/custody-ledger.jsonl'), 'utf8');
}

describe('CLI: output paths inside a locker are refused', () => {
  it('refuses timeline --out onto a preserved object, and leaves it as it was', async () => {
    const target = join(cwd, 'evidence/cases/C/export/trail.json');
    const run = await runCli(['timeline', '--case', 'C', '--out', target], { cwd });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/refusing to write .*inside the cases\/ folder of the evidence locker/);
    expect(await readFile(target, 'utf8')).toBe(trail);
  });

  it('refuses report --out onto a sealed manifest reached through a symbolic link', async () => {
    const manifests = join(cwd, 'evidence/cases/C/_amber/manifests');
    const manifest = join(manifests, (await readdir(manifests))[0]!);
    const before = await readFile(manifest);
    await symlink(manifest, join(cwd, 'innocent.html'));
    const ledgerBefore = await ledgerText();
    const run = await runCli(['report', '--case', 'C', '--out', 'innocent.html'], { cwd });
    expect(run.code).toBe(2);
    expect(sha(await readFile(manifest))).toBe(sha(before));
    expect(await ledgerText()).toBe(ledgerBefore); // refused before anything ran or was recorded
  });

  it('refuses a new file inside the cases folder of another locker', async () => {
    const other = await tempDir();
    await mkdir(join(other, 'export'));
    await writeFile(join(other, 'export', 'x.log'), 'x\n');
    expect((await runCli(['collect', '--case', 'D', '--from', 'export'], { cwd: other })).code).toBe(0);
    const run = await runCli(['timeline', '--case', 'C', '--out', join(other, 'evidence/cases/D/new.csv')], { cwd });
    expect(run.code).toBe(2);
  });

  it('writes to an ordinary path outside the locker', async () => {
    const run = await runCli(['timeline', '--case', 'C', '--out', 'timeline.csv'], { cwd });
    expect(run.code).toBe(0);
    expect(await readFile(join(cwd, 'timeline.csv'), 'utf8')).toContain(HOSTILE); // files keep the exact bytes
  });
});

describe('CLI: terminal escapes from logs are neutralised on stdout, piped or not', () => {
  const bin = join(import.meta.dirname, '../../scripts/amber.mjs');

  it('pipes JSON Lines without raw control characters, parsing to the same values, and records the hash of what went out', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [bin, 'timeline', '--case', 'C', '--format', 'jsonl'], { cwd, env: { ...process.env, AMBER_ACTOR: 'analyst@test' } });
    // eslint-disable-next-line no-control-regex -- the point is that none are left
    expect(stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);
    expect(JSON.parse(stdout.trim()).user_agent).toBe(HOSTILE);
    const exported = (await ledgerText()).trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.action === 'exported').at(-1);
    expect(exported.detail).toMatchObject({ to: 'stdout', sha256: sha(stdout) });
  });

  it('pipes CSV with visible escapes instead of raw ones', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [bin, 'timeline', '--case', 'C', '--format', 'csv'], { cwd, env: { ...process.env, AMBER_ACTOR: 'analyst@test' } });
    // eslint-disable-next-line no-control-regex -- the point is that none are left
    expect(stdout).not.toMatch(/[\u001b\u0007\u009b\u202e]/);
    expect(stdout).toContain('curl\\u001b]0;owned\\u0007\\u001b[2J\\u009b31m\\u202etxt.exe');
  });
});
