import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { closest, editDistance } from '../../scripts/cli/args.ts';
import { hideSdkNodeVersionWarning, isSdkNodeVersionWarning } from '../../scripts/cli/warnings.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const COMMANDS = ['collect', 'verify', 'cases', 'detect', 'timeline', 'report', 'validate-logs', 'preserve', 'demo'];

describe('CLI: help', () => {
  it.each(COMMANDS)('`amber help %s` shows its usage, every option it accepts, and an example', async (name) => {
    const run = await runCli(['help', name], { cwd: '/' });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^Usage: amber ${name}`));
    expect(run.stdout).toMatch(/\nExample:\n {2}.*amber /);
    // Every flag the usage line names is explained below it.
    const [usageLine, ...body] = run.stdout.split('\n');
    for (const flag of new Set(usageLine!.match(/--[a-z-]+/g) ?? [])) expect(body.join('\n'), `${name} ${flag}`).toContain(flag);
    expect((await runCli([name, '--help'], { cwd: '/' })).stdout).toBe(run.stdout);
  });

  it('lists the commands and tells how to get one command\'s help', async () => {
    const run = await runCli(['help'], { cwd: '/' });
    expect(run.code).toBe(0);
    for (const name of COMMANDS) expect(run.stdout).toContain(`  ${name}`);
    expect(run.stdout).toContain('amber help <command>');
  });

  it('answers `amber help <typo>` with the nearest command', async () => {
    const run = await runCli(['help', 'timelne'], { cwd: '/' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown command "timelne"\n {2}fix: did you mean `amber timeline`\?/);
  });
});

describe('CLI: mistyped commands and options', () => {
  it('suggests the command a typo meant: `amber detcet` -> detect', async () => {
    const run = await runCli(['detcet', '--case', 'C1'], { cwd: '/' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown command "detcet"');
    expect(run.stderr).toContain('did you mean `amber detect`?');
  });

  it('lists every command when nothing is close', async () => {
    const run = await runCli(['frobnicate'], { cwd: '/' });
    expect(run.code).toBe(2);
    expect(run.stderr).not.toContain('did you mean');
    for (const name of ['collect', 'verify', 'accept', 'recover', 'cases', 'detect', 'timeline', 'report', 'demo']) expect(run.stderr).toMatch(new RegExp(`commands: .*\\b${name}\\b`));
  });

  it('suggests the option a typo meant: --lockr -> --locker', async () => {
    const run = await runCli(['verify', '--case', 'C1', '--lockr', 'x'], { cwd: '/' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('amber verify has no option --lockr');
    expect(run.stderr).toContain('did you mean --locker?');
  });

  it('lists the command\'s options when no option is close', async () => {
    const run = await runCli(['cases', '--format', 'csv'], { cwd: '/' });
    expect(run.code).toBe(2);
    expect(run.stderr).not.toContain('did you mean');
    expect(run.stderr).toMatch(/its options are --locker, --json, --help/);
  });

  it('says which option is missing its value, with an example', async () => {
    const atEnd = await runCli(['verify', '--case'], { cwd: '/' });
    expect(atEnd.code).toBe(2);
    expect(atEnd.stderr).toMatch(/error: --case needs a value\n {2}fix: give it one, e\.g\. --case C/);
    const beforeAnother = await runCli(['timeline', '--case', '--format', 'csv'], { cwd: '/' });
    expect(beforeAnother.code).toBe(2);
    expect(beforeAnother.stderr).toContain('--case needs a value');
  });

  it('says a switch takes no value, and a command without bare arguments got one', async () => {
    const sw = await runCli(['cases', '--json=yes'], { cwd: '/' });
    expect(sw.stderr).toContain('--json is a switch and takes no value');
    const bare = await runCli(['verify', 'C1'], { cwd: '/' });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/amber verify takes no bare arguments, got "C1"\n {2}fix: a value goes after its option \(e\.g\. --case C1\)/);
  });

  it('finds close matches only: transpositions count as one edit, and ties suggest nothing', () => {
    expect(editDistance('detcet', 'detect')).toBe(1);
    expect(editDistance('lockr', 'locker')).toBe(1);
    expect(closest('lockr', ['case', 'locker', 'json'])).toBe('locker');
    expect(closest('verfy', ['verify', 'cases'])).toBe('verify');
    expect(closest('xyz', ['case', 'json'])).toBeUndefined();
    expect(closest('retain', ['retain-days', 'case'])).toBe('retain-days');
    expect(closest('cas', ['case', 'cases'])).toBe('case');
    expect(closest('lock', ['lack', 'luck'])).toBeUndefined();
  });
});

describe('CLI: --out into a missing folder', () => {
  it('names the folder and says to create it, before any work is done', async () => {
    const cwd = await tempDir();
    const run = await runCli(['timeline', '--case', 'C1', '--out', 'reports/t.csv'], { cwd });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`cannot write --out reports/t.csv: the folder ${join(cwd, 'reports')} does not exist`);
    expect(run.stderr).toContain(`fix: create it first (mkdir -p "${join(cwd, 'reports')}")`);
  });

  it('says so when the folder is a file', async () => {
    const cwd = await tempDir();
    await writeFile(join(cwd, 'file'), 'x');
    const run = await runCli(['report', '--case', 'C1', '--out', 'file/r.html'], { cwd });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('is a file, not a folder');
  });

  it('accepts an --out in an existing folder (the command then runs as usual)', async () => {
    const cwd = await tempDir();
    await mkdir(join(cwd, 'reports'));
    const run = await runCli(['timeline', '--case', 'C1', '--out', 'reports/t.csv'], { cwd });
    expect(run.stderr).not.toContain('cannot write --out');
  });
});

describe('CLI: the AWS SDK\'s Node.js version banner', () => {
  const banner = `NodeVersionSupportWarning: The AWS SDK for JavaScript (v3)
versions published after the first week of January 2027
will require node >=22. You are running node v20.20.2.`;

  it('recognises the SDK banner (both wordings) and nothing else', () => {
    expect(isSdkNodeVersionWarning(banner)).toBe(true);
    expect(isSdkNodeVersionWarning('The AWS SDK for JavaScript (v3) will no longer support Node.js 16.x', 'NodeDeprecationWarning')).toBe(true);
    expect(isSdkNodeVersionWarning('Buffer() is deprecated', 'DeprecationWarning')).toBe(false);
    expect(isSdkNodeVersionWarning('The AWS SDK for JavaScript: something else', 'Warning')).toBe(false);
  });

  it('drops only that warning and passes every other one on to Node', () => {
    const passed: unknown[][] = [];
    const proc = { emitWarning: (...args: unknown[]) => void passed.push(args) } as unknown as NodeJS.Process;
    hideSdkNodeVersionWarning(proc);
    hideSdkNodeVersionWarning(proc); // twice: still one wrapper
    proc.emitWarning(banner);
    proc.emitWarning('The AWS SDK for JavaScript (v3) will no longer support Node.js 18.x', { type: 'NodeDeprecationWarning' });
    proc.emitWarning('something else', 'ExperimentalWarning');
    expect(passed).toEqual([['something else', 'ExperimentalWarning']]);
  });
});
