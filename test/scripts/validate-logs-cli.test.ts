import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';
import { makeChain, makeKeyPair } from '../shared/sources/cloudtrail/digest-chain.ts';

/** A trail bucket export (logs + signed digests) on disk, and the ListPublicKeys JSON for its key. */
async function exportedTrail(): Promise<{ cwd: string; logKey: string }> {
  const cwd = await tempDir();
  const keys = makeKeyPair();
  const chain = makeChain(keys, 3);
  for (const f of [...chain.logs, ...chain.digests]) {
    const path = join(cwd, 'trail', f.key);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, f.gz);
  }
  await writeFile(join(cwd, 'keys.json'), JSON.stringify({ PublicKeyList: [{ Value: keys.der.toString('base64'), Fingerprint: keys.fingerprint }] }));
  return { cwd, logKey: chain.logs[1]!.key };
}

describe('CLI: amber validate-logs', () => {
  it('exits 0 on an intact signed chain, saying the newest digest (signature in S3 metadata) could not be checked', async () => {
    const { cwd } = await exportedTrail();
    expect((await runCli(['collect', '--case', 'T1', '--from', 'trail'], { cwd })).code).toBe(0);
    const run = await runCli(['validate-logs', '--case', 'T1', '--public-key', 'keys.json', '--json'], { cwd });
    const report = JSON.parse(run.stdout);
    expect(report.summary).toMatchObject({ invalidLogFiles: 0, extraLogFiles: 0, missingDigests: 0 });
    expect(report.summary.validLogFiles).toBeGreaterThan(0);
    // The newest digest's signature lives in S3 metadata, which a local export does not carry.
    expect(report.digests.filter((d: { status: string }) => d.status !== 'valid').map((d: { status: string }) => d.status)).toEqual(['no-signature']);
    expect(report.intact).toBe(true);
    expect(run.code).toBe(0);
    const text = await runCli(['validate-logs', '--case', 'T1', '--public-key', 'keys.json'], { cwd });
    expect(text.stdout).toMatch(/CloudTrail log integrity VALID/);
    expect(text.stdout).toMatch(/newest digest\) could not be checked/);
  });

  it('names a log file whose content no longer matches its digest (changed before it was collected)', async () => {
    const { cwd, logKey } = await exportedTrail();
    await writeFile(join(cwd, 'trail', logKey), gzipSync('{"Records":[{"eventName":"Forged"}]}'));
    await runCli(['collect', '--case', 'T1', '--from', 'trail'], { cwd });
    const run = await runCli(['validate-logs', '--case', 'T1', '--public-key', 'keys.json', '--json'], { cwd });
    expect(run.code).toBe(3);
    expect(JSON.parse(run.stdout).logFiles).toContainEqual(expect.objectContaining({ status: 'modified' }));
  });

  it('exits 3 naming a preserved object altered after collection, before validating anything', async () => {
    const { cwd, logKey } = await exportedTrail();
    await runCli(['collect', '--case', 'T1', '--from', 'trail'], { cwd });
    const preserved = join(cwd, 'evidence/cases/T1/trail', logKey);
    await chmod(preserved, 0o644);
    await writeFile(preserved, gzipSync('{"Records":[{"eventName":"Forged"}]}'));
    const run = await runCli(['validate-logs', '--case', 'T1', '--public-key', 'keys.json', '--json'], { cwd });
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`${logKey}: altered`);
  });

  it('recognises a digest by its content wherever it was collected from', async () => {
    const moved = await tempDir();
    const keys = makeKeyPair();
    const chain = makeChain(keys, 2);
    for (const f of chain.logs) {
      await mkdir(dirname(join(moved, 't', f.key)), { recursive: true });
      await writeFile(join(moved, 't', f.key), f.gz);
    }
    // The digests sit in a folder of their own, out of the CloudTrail-Digest/ layout.
    for (const [i, f] of chain.digests.entries()) await writeFile(join(moved, `digest-${i}.json.gz`), f.gz);
    await writeFile(join(moved, 'keys.json'), JSON.stringify({ PublicKeyList: [{ Value: keys.der.toString('base64'), Fingerprint: keys.fingerprint }] }));
    await runCli(['collect', '--case', 'T2', '--from', 't', '--from', 'digest-0.json.gz', '--from', 'digest-1.json.gz'], { cwd: moved });
    const run = await runCli(['validate-logs', '--case', 'T2', '--public-key', 'keys.json', '--json'], { cwd: moved });
    const report = JSON.parse(run.stdout);
    expect(report.digests.length).toBe(2);
    expect(report.summary.validLogFiles).toBeGreaterThan(0);
  });

  it('reports a log file no digest lists as extra', async () => {
    const { cwd, logKey } = await exportedTrail();
    const planted = join(cwd, 'trail', logKey.replace(/_[A-Za-z0-9]+\.json\.gz$/, '_PLANTEDxxxxxxxxx.json.gz'));
    await writeFile(planted, gzipSync('{"Records":[]}'));
    await runCli(['collect', '--case', 'T1', '--from', 'trail'], { cwd });
    const run = await runCli(['validate-logs', '--case', 'T1', '--public-key', 'keys.json', '--json'], { cwd });
    expect(JSON.parse(run.stdout).extraLogFiles.length + JSON.parse(run.stdout).uncoveredLogFiles.length).toBe(1);
  });

  it('exits 2 with the fix when no public key is given', async () => {
    const { cwd } = await exportedTrail();
    await runCli(['collect', '--case', 'T1', '--from', 'trail'], { cwd });
    const run = await runCli(['validate-logs', '--case', 'T1'], { cwd });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/list-public-keys/);
  });
});
