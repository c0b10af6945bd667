/**
 * The bundled CLI (scripts/build/cli.ts, dist/cli): what `npx amber` runs after `npm ci`. Each test spawns
 * it from a folder outside the package, as a user would, and checks what it prints and does.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleState } from '../../scripts/bundle-state.mjs';
import { buildCli } from '../../scripts/build/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'scripts', 'amber.mjs');
const exec = promisify(execFile);

// The only reason to skip: the bundler itself cannot load (an install without devDependencies).
let unbuildable: string | undefined;
try {
  await import('esbuild');
} catch (error) {
  unbuildable = `esbuild cannot be loaded (${(error as Error).message}), so the CLI bundle cannot be built here`;
  console.warn(`skipping the bundled CLI tests: ${unbuildable}`);
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node <file> ...args` in `cwd` with exactly `env`, never throwing on a non-zero exit. */
async function spawnNode(file: string, args: string[], cwd: string, env: Record<string, string>): Promise<Run> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [file, ...args], { cwd, env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** An environment with nothing of the caller's AWS setup in it: no region, no credentials, no instance role. */
async function bareEnv(): Promise<Record<string, string>> {
  const home = await tempDir('amber-home-');
  return {
    PATH: process.env.PATH ?? '',
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AMBER_ACTOR: 'analyst@test',
  };
}

describe.skipIf(unbuildable !== undefined)('CLI: the bundle', () => {
  let entry: string;

  beforeAll(async () => {
    let state = bundleState(ROOT);
    if (!state.current) {
      await buildCli();
      state = bundleState(ROOT);
    }
    if (!state.current) throw new Error(`the CLI bundle is not current right after a build: ${state.reason}`);
    entry = state.entry;
  });

  it('prints the help and the version from any folder', async () => {
    const cwd = await tempDir();
    const env = await bareEnv();
    const help = await spawnNode(entry, ['--help'], cwd, env);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: amber <command> \[options\]$/m);
    expect(help.stdout).toMatch(/^ {2}collect /m);
    const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect((await spawnNode(entry, ['--version'], cwd, env)).stdout).toBe(`amber/${version}\n`);
    // The installed command (package.json bin) runs the same bundle.
    const bin = await spawnNode(BIN, ['help', 'verify'], cwd, env);
    expect(bin.code).toBe(0);
    expect(bin.stdout).toMatch(/^Usage: amber verify --case C/);
  });

  it('collects, verifies and runs the detection catalogue on a folder, from another working directory', async () => {
    const cwd = await tempDir();
    const env = await bareEnv();
    await mkdir(join(cwd, 'export'));
    const record = {
      eventVersion: '1.08',
      eventTime: '2026-11-20T01:00:00Z',
      eventName: 'ConsoleLogin',
      eventSource: 'signin.amazonaws.com',
      sourceIPAddress: '203.0.113.9',
      userIdentity: { type: 'Root', arn: 'arn:aws:iam::111122223333:root', accountId: '111122223333' },
      responseElements: { ConsoleLogin: 'Success' },
      additionalEventData: { MFAUsed: 'No' },
      awsRegion: 'us-east-1',
      recipientAccountId: '111122223333',
    };
    await writeFile(join(cwd, 'export', 'trail.json'), JSON.stringify({ Records: [record] }));
    await writeFile(join(cwd, 'export', 'notes.txt'), 'analyst notes\n');

    const collected = await spawnNode(entry, ['collect', '--case', 'C1', '--from', 'export', '--json'], cwd, env);
    expect(collected.code).toBe(0);
    expect(JSON.parse(collected.stdout)).toMatchObject({ case: 'C1', items: 2, sources: { cloudtrail: 1 }, failures: [] });

    const verified = await spawnNode(entry, ['verify', '--case', 'C1'], cwd, env);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/Case C1: INTACT/);

    // The catalogue's folders and DuckDB are found from the bundle as from the sources.
    const detected = await spawnNode(entry, ['detect', '--case', 'C1', '--json'], cwd, env);
    expect(detected.code).toBe(0);
    const findings = JSON.parse(detected.stdout).findings as Array<{ title: string; evidence_key: string }>;
    expect(findings.map((f) => f.title)).toContain('Root user used');
    expect(findings.every((f) => f.evidence_key === 'cases/C1/export/trail.json')).toBe(true);
  });

  it('names AWS_REGION when no region is set for an S3 locker, in its own words', async () => {
    const cwd = await tempDir();
    const run = await spawnNode(entry, ['cases', '--locker', 's3://evidence-bucket'], cwd, await bareEnv());
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^amber: error: no AWS region is set for s3:\/\/evidence-bucket: neither AWS_REGION nor the default profile names one\n {2}fix: set AWS_REGION/);
    expect(run.stderr).not.toMatch(/Region is missing/);
  });

  it('names the credential chain and the fix when no credentials are found for an S3 source, and nothing is stored', async () => {
    const cwd = await tempDir();
    const run = await spawnNode(entry, ['collect', '--case', 'C1', '--from', 's3://trail-bucket/AWSLogs/'], cwd, { ...(await bareEnv()), AWS_REGION: 'eu-west-1' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no AWS credentials for s3://trail-bucket/AWSLogs/: the default credential chain');
    expect(run.stderr).toMatch(/fix: set AWS_PROFILE .*aws sso login.*AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
    expect(run.stderr).not.toMatch(/Could not load credentials from any providers/);
    expect(existsSync(join(cwd, 'evidence'))).toBe(false);
  });

  it('says the same for `preserve`, which needs the credentials\' account', async () => {
    const cwd = await tempDir();
    const run = await spawnNode(entry, ['preserve', '--instance', 'i-0123456789abcdef0', '--case', 'C1'], cwd, { ...(await bareEnv()), AWS_REGION: 'eu-west-1' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no AWS credentials for sts:GetCallerIdentity (the account to preserve in): the default credential chain');
    expect(run.stderr).toMatch(/fix: set AWS_PROFILE/);
  });

  it('never shows the AWS SDK\'s Node.js version banner, which the SDK prints on this Node.js', async () => {
    const cwd = await tempDir();
    const env = { ...(await bareEnv()), AWS_REGION: 'eu-west-1' };
    const run = await spawnNode(entry, ['cases', '--locker', 's3://evidence-bucket'], cwd, env);
    expect(run.stderr).toContain('no AWS credentials'); // the SDK was loaded and a client made
    expect(run.stderr).not.toMatch(/AWS SDK for JavaScript|NodeVersionSupportWarning|NodeDeprecationWarning/);
    if (Number(process.versions.node.split('.')[0]) < 22) {
      // The control: without Amber's filter the same SDK prints it on this Node.js version.
      const script = join(cwd, 'bare-sdk.mjs');
      await writeFile(script, `const { S3Client } = await import(${JSON.stringify(import.meta.resolve('@aws-sdk/client-s3'))}); new S3Client({ region: 'eu-west-1' });\n`);
      expect((await spawnNode(script, [], cwd, env)).stderr).toMatch(/AWS SDK for JavaScript/);
    }
  });
});

describe('CLI: whether the bundle is current', () => {
  async function fakePackage(): Promise<{ root: string; source: string; builtAt: number }> {
    const root = await tempDir();
    const builtAt = Date.now();
    await mkdir(join(root, 'scripts'));
    await mkdir(join(root, 'dist', 'cli', 'b-1'), { recursive: true });
    const source = join(root, 'scripts', 'amber.ts');
    await writeFile(source, 'export {};\n');
    await utimes(source, new Date(builtAt - 60_000), new Date(builtAt - 60_000));
    await writeFile(join(root, 'dist', 'cli', 'b-1', 'amber.mjs'), '');
    await writeFile(join(root, 'dist', 'cli', 'current.json'), JSON.stringify({ builtAt, dir: 'b-1', files: ['scripts/amber.ts'] }));
    return { root, source, builtAt };
  }

  it('is current when no source changed since the build, and names the entry file', async () => {
    const { root } = await fakePackage();
    expect(bundleState(root)).toEqual({ current: true, entry: join(root, 'dist', 'cli', 'b-1', 'amber.mjs') });
  });

  it('is stale, naming the file, when a source changed after the build or was removed', async () => {
    const { root, source, builtAt } = await fakePackage();
    await utimes(source, new Date(builtAt + 1000), new Date(builtAt + 1000));
    expect(bundleState(root)).toEqual({ current: false, reason: 'scripts/amber.ts changed after the CLI bundle was built' });
    await writeFile(join(root, 'dist', 'cli', 'current.json'), JSON.stringify({ builtAt, dir: 'b-1', files: ['scripts/gone.ts'] }));
    expect(bundleState(root)).toMatchObject({ current: false, reason: expect.stringMatching(/scripts\/gone\.ts, which the CLI bundle was built from, is gone/) });
  });

  it('is missing when nothing was built', async () => {
    expect(bundleState(await tempDir())).toEqual({ current: false, reason: 'the CLI bundle (dist/cli) is not built' });
  });
});
