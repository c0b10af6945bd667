/**
 * Tampering must never be turned into "INTACT" by verify itself: after each tamper class, verify runs twice
 * and both runs exit 3, leaving the ledger and checkpoints exactly as it found them.
 */
import { createHash } from 'node:crypto';
import { appendFile, chmod, cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { makeWritable, tempDir } from '../helpers/tmp.ts';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

/** A case collected into ./evidence from ./export (two files). */
async function collected(): Promise<{ cwd: string; locker: string; ledger: string; checkpoints: string }> {
  const cwd = await tempDir();
  await mkdir(join(cwd, 'export'), { recursive: true });
  await writeFile(join(cwd, 'export', 'a.jsonl'), '{"eventName":"GetObject"}\n');
  await writeFile(join(cwd, 'export', 'b.log'), 'line\n');
  expect((await runCli(['collect', '--case', 'C', '--from', 'export'], { cwd })).code).toBe(0);
  const locker = join(cwd, 'evidence');
  return { cwd, locker, ledger: join(locker, 'cases/C/custody-ledger.jsonl'), checkpoints: join(locker, 'cases/C/_amber/checkpoints') };
}

async function snapshot(locker: string): Promise<string> {
  const ledger = await readFile(join(locker, 'cases/C/custody-ledger.jsonl'), 'utf8').catch(() => '(none)');
  const checkpoints = await readdir(join(locker, 'cases/C/_amber/checkpoints')).catch(() => []);
  return `${ledger}\n${checkpoints.join(',')}`;
}

/** Runs verify twice; both must exit 3 and neither may change the ledger or its checkpoints. */
async function verifyTwiceBroken(cwd: string, locker: string): Promise<string> {
  const before = await snapshot(locker);
  const first = await runCli(['verify', '--case', 'C'], { cwd });
  const second = await runCli(['verify', '--case', 'C'], { cwd });
  expect([first.code, second.code]).toEqual([3, 3]);
  expect(await snapshot(locker)).toBe(before);
  return second.stdout;
}

describe('CLI: amber verify never launders what it found broken', () => {
  it('entries appended outside Amber (with a planted file) fail every verify', async () => {
    const { cwd, locker, ledger } = await collected();
    const text = await readFile(ledger, 'utf8');
    const last = text.trimEnd().split('\n').at(-1)!;
    const planted = 'cases/C/export/planted.log';
    await writeFile(join(locker, planted), 'planted\n');
    const item = { id: 'ev-x', case: 'C', origin: 'file:///x', key: planted, size: 8, sha256: sha('planted\n'), acquiredAt: '2026-01-01T00:00:00.000Z', acquiredBy: 'x', retainUntil: null, mediaType: 'text/plain' };
    const entry = { seq: JSON.parse(last).seq + 1, prev: sha(last), at: '2026-01-01T00:00:00.000Z', action: 'acquired', actor: 'x', tool: 'x', case: 'C', items: [item] };
    await chmod(ledger, 0o644);
    await appendFile(ledger, `${JSON.stringify(entry)}\n`);
    const out = await verifyTwiceBroken(cwd, locker);
    expect(out).toMatch(/ledger-unanchored .*not anchored/);
  });

  it('detect and timeline refuse to record on top of entries appended outside Amber (exit 3), so they cannot anchor them either', async () => {
    const { cwd, locker, ledger } = await collected();
    const last = (await readFile(ledger, 'utf8')).trimEnd().split('\n').at(-1)!;
    await chmod(ledger, 0o644);
    await appendFile(ledger, `${JSON.stringify({ ...JSON.parse(last), seq: JSON.parse(last).seq + 1, prev: sha(last), action: 'accessed' })}\n`);
    const before = await snapshot(locker);
    const detect = await runCli(['detect', '--case', 'C'], { cwd });
    expect(detect.code).toBe(3);
    expect(detect.stderr).toMatch(/not anchored[\s\S]*fix: run `amber verify --case C`/);
    expect((await runCli(['timeline', '--case', 'C', '--out', 't.csv'], { cwd })).code).toBe(3);
    expect(await snapshot(locker)).toBe(before);
    await verifyTwiceBroken(cwd, locker);
  });

  it('deleting the newest checkpoint fails every verify', async () => {
    const { cwd, locker, checkpoints } = await collected();
    const names = (await readdir(checkpoints)).sort();
    await rm(join(checkpoints, names.at(-1)!));
    expect(await verifyTwiceBroken(cwd, locker)).toMatch(/ledger-unanchored/);
  });

  it('deleting a checkpoint in the middle of the sequence fails every verify', async () => {
    const { cwd, locker, checkpoints } = await collected();
    expect((await runCli(['verify', '--case', 'C'], { cwd })).code).toBe(0);
    expect((await runCli(['verify', '--case', 'C'], { cwd })).code).toBe(0);
    const names = (await readdir(checkpoints)).sort();
    expect(names).toHaveLength(3);
    await rm(join(checkpoints, names[1]!));
    expect(await verifyTwiceBroken(cwd, locker)).toMatch(/checkpoint-removed .*checkpoint of entry \d+ was removed/);
  });

  it('a rolled-back ledger fails every verify with exit 3, writing nothing', async () => {
    const { cwd, locker, ledger } = await collected();
    const old = await readFile(ledger, 'utf8');
    expect((await runCli(['verify', '--case', 'C'], { cwd })).code).toBe(0);
    await chmod(ledger, 0o644);
    await writeFile(ledger, old);
    const out = await verifyTwiceBroken(cwd, locker);
    expect(out).toMatch(/ledger-removed/);
    expect(out).not.toMatch(/refusing to overwrite/);
  });

  it('a deleted ledger fails every verify, and cannot be accepted away (it must be restored)', async () => {
    const { cwd, locker, ledger } = await collected();
    await rm(ledger);
    expect(await verifyTwiceBroken(cwd, locker)).toMatch(/ledger-missing/);
    const accept = await runCli(['accept', '--case', 'C', '--reason', 'lost it'], { cwd });
    expect(accept.code).toBe(3);
    expect(accept.stderr).toMatch(/deleted or rolled back[\s\S]*fix: restore custody-ledger\.jsonl/);
    expect(await verifyTwiceBroken(cwd, locker)).toMatch(/ledger-missing/);
  });

  it('records a failed verification outside the chain, as failed', async () => {
    const { cwd, locker } = await collected();
    await makeWritable(join(locker, 'cases/C/export/b.log'));
    await writeFile(join(locker, 'cases/C/export/b.log'), 'changed\n');
    const run = await runCli(['verify', '--case', 'C', '--json'], { cwd });
    expect(run.code).toBe(3);
    const report = JSON.parse(run.stdout);
    expect(report.recorded).toMatchObject({ where: 'verification-record', key: expect.stringMatching(/^cases\/C\/_amber\/verifications\//) });
    const record = JSON.parse(await readFile(join(locker, report.recorded.key), 'utf8'));
    expect(record).toMatchObject({ intact: false, failures: [expect.objectContaining({ kind: 'hash-mismatch', key: 'cases/C/export/b.log' })] });
    const cases = JSON.parse((await runCli(['cases', '--json'], { cwd })).stdout);
    expect(cases.cases[0]).toMatchObject({ case: 'C', lastVerified: { at: report.checkedAt, intact: false } });
  });
});

describe('CLI: a case found broken stays broken until a person accepts it', () => {
  it('keeps failing after the evidence is put back, until amber accept records a reason; new failures still fail', async () => {
    const { cwd, locker } = await collected();
    const path = join(locker, 'cases/C/export/b.log');
    await makeWritable(path);
    await writeFile(path, 'changed\n');
    expect((await runCli(['verify', '--case', 'C'], { cwd })).code).toBe(3);
    await writeFile(path, 'line\n'); // the original bytes again
    const again = await runCli(['verify', '--case', 'C'], { cwd });
    expect(again.code).toBe(3);
    expect(again.stdout).toMatch(/previously-failed .*found hash-mismatch at cases\/C\/export\/b\.log/);

    expect((await runCli(['accept', '--case', 'C'], { cwd })).code).toBe(2); // a reason is required
    const accept = await runCli(['accept', '--case', 'C', '--reason', 'restored from the source copy, confirmed by J. Doe'], { cwd });
    expect(accept.code).toBe(0);
    expect(accept.stdout).toMatch(/1 failure accepted in ledger entry \d+/);
    const ok = await runCli(['verify', '--case', 'C'], { cwd });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/accepted {2}hash-mismatch at cases\/C\/export\/b\.log \(ledger entry \d+: restored from the source copy/);

    await makeWritable(join(locker, 'cases/C/export/a.jsonl'));
    await appendFile(join(locker, 'cases/C/export/a.jsonl'), 'x');
    const later = await runCli(['verify', '--case', 'C'], { cwd });
    expect(later.code).toBe(3);
    expect(later.stdout).toMatch(/hash-mismatch +cases\/C\/export\/a\.jsonl/);
  });

  it('accepting entries appended outside Amber is explicit, and verify shows them as accepted', async () => {
    const { cwd, locker, checkpoints } = await collected();
    await rm(join(checkpoints, (await readdir(checkpoints)).sort().at(-1)!));
    expect((await runCli(['verify', '--case', 'C'], { cwd })).code).toBe(3);
    expect((await runCli(['accept', '--case', 'C', '--reason', 'checkpoint removed by the cleanup job, ticket 42'], { cwd })).code).toBe(0);
    const ok = await runCli(['verify', '--case', 'C'], { cwd });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/accepted {2}ledger-unanchored/);
    void locker;
  });

  it('refuses to accept when there is nothing to accept', async () => {
    const { cwd } = await collected();
    const run = await runCli(['accept', '--case', 'C', '--reason', 'nothing wrong'], { cwd });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no failure to accept/);
  });
});

describe('CLI: amber verify on a locker it cannot write', () => {
  it('reports on a read-only locker and says the result was not recorded', async (ctx) => {
    const { cwd, locker } = await collected();
    const ro = join(await tempDir(), 'ro');
    await mkdir(ro);
    const { execFileSync } = await import('node:child_process');
    try {
      execFileSync('mount', ['--bind', '-o', 'ro', locker, ro], { stdio: 'ignore' });
      execFileSync('mount', ['-o', 'remount,bind,ro', ro], { stdio: 'ignore' });
    } catch {
      ctx.skip(); // bind mounts need privileges this platform does not give
    }
    try {
      const run = await runCli(['verify', '--case', 'C', '--locker', ro], { cwd });
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/INTACT/);
      expect(run.stderr).toMatch(/result not recorded: the locker cannot be written \(EROFS\)/);
    } finally {
      execFileSync('umount', [ro]);
    }
  });

  it('reports on a full disk and says the result was not recorded', async (ctx) => {
    const { execFileSync } = await import('node:child_process');
    const mnt = await tempDir();
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      ctx.skip();
    }
    try {
      const { cwd, locker } = await collected();
      await cp(locker, join(mnt, 'evidence'), { recursive: true });
      await writeFile(join(mnt, 'filler'), Buffer.alloc(1)).catch(() => undefined);
      // Fill every last block.
      const { open } = await import('node:fs/promises');
      const fh = await open(join(mnt, 'filler'), 'a');
      try {
        for (;;) await fh.write(Buffer.alloc(4096));
      } catch {
        // ENOSPC: the disk is full
      } finally {
        await fh.close();
      }
      const run = await runCli(['verify', '--case', 'C', '--locker', join(mnt, 'evidence')], { cwd });
      expect(run.code).toBe(0);
      expect(run.stderr).toMatch(/result not recorded: .*ENOSPC/);
      const ledger = await readFile(join(mnt, 'evidence/cases/C/custody-ledger.jsonl'), 'utf8');
      expect(ledger.endsWith('\n')).toBe(true);
    } finally {
      execFileSync('umount', [mnt]);
    }
  });
});
