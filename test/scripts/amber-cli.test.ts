import { execFile } from 'node:child_process';
import { appendFile, chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

async function sampleFolder(): Promise<{ cwd: string; src: string }> {
  const cwd = await tempDir();
  const src = join(cwd, 'export');
  await mkdir(join(src, 'nested'), { recursive: true });
  await writeFile(join(src, 'a.jsonl'), '{"eventName":"GetObject"}\n');
  await writeFile(join(src, 'nested', 'b.log'), 'line\n');
  return { cwd, src };
}

describe('CLI: amber collect', () => {
  it('prints a JSON summary only with --json, into ./evidence by default', async () => {
    const { cwd } = await sampleFolder();
    const run = await runCli(['collect', '--case', 'C1', '--from', 'export', '--json'], { cwd });
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary).toMatchObject({ case: 'C1', items: 2, created: 2, bytes: 31, failures: [], locker: expect.stringMatching(/\/evidence$/) });
    expect(summary.manifest.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('prints items, bytes, time and MB/s for people', async () => {
    const { cwd } = await sampleFolder();
    const run = await runCli(['collect', '--case', 'C1', '--from', 'export'], { cwd });
    expect(run.stdout).toMatch(/Collected 2 objects into case C1/);
    expect(run.stdout).toMatch(/31 B in \d+\.\d\d s \(\d+\.\d MB\/s\)/);
  });

  it('takes several sources, as repeated --from and as extra paths', async () => {
    const { cwd, src } = await sampleFolder();
    await writeFile(join(cwd, 'single.csv'), 'a,b\n');
    const run = await runCli(['collect', '--case', 'C1', '--from', join(src, 'a.jsonl'), '--from', 'single.csv', join(src, 'nested'), '--json'], { cwd });
    expect(JSON.parse(run.stdout)).toMatchObject({ items: 3 });
  });

  it('recognises each file\'s log source by content and records it in the item (gzip too)', async () => {
    const { cwd, src } = await sampleFolder();
    await writeFile(join(src, 'trail.json.gz'), gzipSync('{"Records":[{"eventTime":"2026-11-20T01:00:00Z","eventName":"ListBuckets","eventSource":"s3.amazonaws.com"}]}'));
    await writeFile(join(src, 'flow.log'), 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n2 111122223333 eni-0a1b2c3d 10.0.0.1 10.0.0.2 443 50000 6 10 840 1763600000 1763600060 ACCEPT OK\n');
    const run = await runCli(['collect', '--case', 'C1', '--from', 'export', '--json'], { cwd });
    expect(JSON.parse(run.stdout).sources).toEqual({ cloudtrail: 1, vpcflow: 1 });
    const ledgerText = await readFile(join(cwd, 'evidence/cases/C1/custody-ledger.jsonl'), 'utf8');
    const items = ledgerText.trim().split('\n').flatMap((l) => (JSON.parse(l).items ?? []) as Array<{ key: string; source?: string }>);
    expect(items.find((i) => i.key.endsWith('flow.log'))?.source).toBe('vpcflow');
    expect(items.find((i) => i.key.endsWith('a.jsonl'))?.source).toBeUndefined();
  });

  it('takes --source to force a format, and refuses an unknown one listing the valid ids', async () => {
    const { cwd } = await sampleFolder();
    const bad = await runCli(['collect', '--case', 'C1', '--from', 'export', '--source', 'syslog'], { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown source "syslog"[\s\S]*use one of: cloudtrail, .*vpcflow/);
  });

  it('exits 2 naming the problem and the fix for an invalid case name', async () => {
    const { cwd } = await sampleFolder();
    const run = await runCli(['collect', '--case', '../x', '--from', 'export'], { cwd });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/invalid case name "\.\.\/x"/);
    expect(run.stderr).toMatch(/fix: /);
  });

  it('exits 2 when a source does not exist, before storing anything', async () => {
    const { cwd } = await sampleFolder();
    const run = await runCli(['collect', '--case', 'C1', '--from', 'export', '--from', 'typo'], { cwd });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/source typo \(.*\/typo\) does not exist/);
    const cases = await runCli(['cases', '--json'], { cwd });
    expect(cases.code).toBe(2); // no locker was even created
  });

  it('exits 2 on an unknown flag and on a missing --case', async () => {
    const { cwd } = await sampleFolder();
    expect((await runCli(['collect', '--case', 'C1', '--from', 'export', '--bogus'], { cwd })).code).toBe(2);
    const missing = await runCli(['collect', '--from', 'export'], { cwd });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing --case/);
  });

  it('exits 2 when new bytes would overwrite preserved evidence, and lists the file', async () => {
    const { cwd, src } = await sampleFolder();
    await runCli(['collect', '--case', 'C1', '--from', 'export'], { cwd });
    await appendFile(join(src, 'a.jsonl'), 'more\n');
    const run = await runCli(['collect', '--case', 'C1', '--from', 'export'], { cwd });
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/NOT preserved \(1\)/);
    expect(run.stdout).toMatch(/refusing to overwrite preserved evidence cases\/C1\/export\/a\.jsonl/);
  });

  it('escapes terminal control sequences in hostile file names', async () => {
    const { cwd, src } = await sampleFolder();
    await writeFile(join(src, 'evil\u001b[2Jname\r.log'), 'x');
    await writeFile(join(src, 'a.jsonl'), 'different bytes'); // forces a failure line naming files
    await runCli(['collect', '--case', 'C1', '--from', 'export'], { cwd });
    await writeFile(join(src, 'evil\u001b[2Jname\r.log'), 'changed');
    const run = await runCli(['collect', '--case', 'C1', '--from', 'export'], { cwd });
    expect(run.stdout).toContain('evil\\x1b[2Jname\\x0d.log');
    expect(run.stdout).not.toContain('\u001b');
  });
});

describe('CLI: amber verify', () => {
  it('exits 0 when intact and 3 listing every failing item with its reason', async () => {
    const { cwd } = await sampleFolder();
    await runCli(['collect', '--case', 'C1', '--from', 'export'], { cwd });
    const ok = await runCli(['verify', '--case', 'C1'], { cwd });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/Case C1: INTACT/);

    const a = join(cwd, 'evidence/cases/C1/export/a.jsonl');
    await chmod(a, 0o644);
    await appendFile(a, 'tampered');
    await writeFile(join(cwd, 'evidence/cases/C1/export/extra.txt'), 'planted');
    const bad = await runCli(['verify', '--case', 'C1'], { cwd });
    expect(bad.code).toBe(3);
    expect(bad.stdout).toMatch(/INTEGRITY FAILURE \(2 problems\)/);
    expect(bad.stdout).toMatch(/hash-mismatch\s+cases\/C1\/export\/a\.jsonl: sha256 is [0-9a-f]{64}, the ledger recorded [0-9a-f]{64}/);
    expect(bad.stdout).toMatch(/extra-object\s+cases\/C1\/export\/extra\.txt/);

    const json = await runCli(['verify', '--case', 'C1', '--json'], { cwd });
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stdout)).toMatchObject({ intact: false, failures: [{ kind: 'extra-object' }, { kind: 'hash-mismatch' }] });
  });

  it('exits 2 for an unknown case and for a missing locker', async () => {
    const { cwd } = await sampleFolder();
    await runCli(['collect', '--case', 'C1', '--from', 'export'], { cwd });
    const unknown = await runCli(['verify', '--case', 'C2'], { cwd });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown case "C2"/);
    const noLocker = await runCli(['verify', '--case', 'C1', '--locker', 'nowhere'], { cwd });
    expect(noLocker.code).toBe(2);
    expect(noLocker.stderr).toMatch(/evidence locker not found/);
  });

  it('uses AMBER_LOCKER when --locker is absent', async () => {
    const { cwd } = await sampleFolder();
    await runCli(['collect', '--case', 'C1', '--from', 'export', '--locker', 'elsewhere'], { cwd });
    const run = await runCli(['verify', '--case', 'C1'], { cwd, env: { AMBER_LOCKER: join(cwd, 'elsewhere') } });
    expect(run.code).toBe(0);
  });
});

describe('CLI: amber cases and help', () => {
  it('lists cases with their item counts and last verification', async () => {
    const { cwd } = await sampleFolder();
    await runCli(['collect', '--case', 'C1', '--from', 'export'], { cwd });
    await runCli(['verify', '--case', 'C1'], { cwd });
    const run = await runCli(['cases', '--json'], { cwd });
    expect(JSON.parse(run.stdout).cases).toEqual([expect.objectContaining({ case: 'C1', items: 2, bytes: 31, lastVerified: expect.objectContaining({ intact: true }) })]);
  });

  it('prints usage with every command and the exit statuses', async () => {
    const run = await runCli(['--help'], { cwd: '/' });
    expect(run.code).toBe(0);
    for (const name of ['collect', 'verify', 'cases', 'demo']) expect(run.stdout).toContain(`  ${name}`);
    expect(run.stdout).toMatch(/3 integrity failure/);
    const sub = await runCli(['collect', '--help'], { cwd: '/' });
    expect(sub.stdout).toMatch(/--retain-days N/);
  });

  it('exits 2 for an unknown command', async () => {
    const run = await runCli(['colect'], { cwd: '/' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown command "colect"/);
  });
});

describe('CLI: the installed bin', () => {
  it('runs as `amber` through package.json bin and sets the exit status', async () => {
    const cwd = await tempDir();
    const bin = join(import.meta.dirname, '../../scripts/amber.mjs');
    const run = promisify(execFile);
    const ok = await run(process.execPath, [bin, '--version'], { cwd });
    expect(ok.stdout).toMatch(/^amber\/\d+\.\d+\.\d+/);
    await expect(run(process.execPath, [bin, 'verify', '--case', 'x'], { cwd })).rejects.toMatchObject({ code: 2 });
  });
});

describe('CLI: amber collect of nothing', () => {
  it('exits 2 naming the empty source and the fix, and creates no case', async () => {
    const cwd = await tempDir();
    await mkdir(join(cwd, 'empty'));
    const run = await runCli(['collect', '--case', 'C1', '--from', 'empty'], { cwd });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/nothing preserved: "empty" holds no files[\s\S]*fix: pass --from/);
    await expect(readFile(join(cwd, 'evidence/cases/C1/custody-ledger.jsonl'))).rejects.toThrow(/ENOENT/);
  });
});
