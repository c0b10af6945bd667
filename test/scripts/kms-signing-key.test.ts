/**
 * `--signing-key kms:<key>` (and AMBER_SIGNING_KEY=kms:...): a case signed with an AWS KMS Ed25519 key (a fake
 * KMS that really signs, test/helpers/fake-kms.ts) verifies offline with the public key its ledger records,
 * keeps that key, and names it when another is given; keys KMS cannot sign Ed25519 with are usage errors.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CustodyLedger } from '../../shared/evidence/ledger.ts';
import { LocalObjectStore } from '../../shared/evidence/local-object-store.ts';
import { FakeKms, type FakeKey } from '../helpers/fake-kms.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const ENV = { AWS_REGION: 'eu-west-1' };
let kms: FakeKms;
let key: FakeKey;
let cwd: string;

beforeAll(() => {
  // The SDK's credential chain reads the process environment: fake credentials, no profile, no instance role.
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDTEST');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test-secret');
  vi.stubEnv('AWS_PROFILE', undefined);
  vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
});
afterAll(() => vi.unstubAllEnvs());

beforeEach(async () => {
  kms = new FakeKms({ allClients: true });
  key = kms.createKey({ alias: 'alias/amber-signing' });
  cwd = await tempDir();
  await mkdir(join(cwd, 'export'));
  await writeFile(join(cwd, 'export', 'a.jsonl'), '{"eventName":"GetObject"}\n');
  await writeFile(join(cwd, 'export', 'b.log'), 'line\n');
});
afterEach(() => kms.restore());

async function ledger(): Promise<CustodyLedger> {
  return CustodyLedger.open(await LocalObjectStore.open(join(cwd, 'evidence'), { create: false }), 'C');
}

describe('amber collect --signing-key kms:KEY', () => {
  it('signs the case with the KMS key, and verify checks it offline with the recorded public key', async () => {
    // Act
    const collected = await runCli(['collect', '--case', 'C', '--from', 'export', '--signing-key', 'kms:alias/amber-signing'], { cwd, env: ENV });
    kms.mock.reset();
    kms.mock.rejects(Object.assign(new Error('connect ENETUNREACH'), { code: 'ENETUNREACH' }));
    const verified = await runCli(['verify', '--case', 'C', '--json'], { cwd, env: ENV });

    // Assess
    expect(collected.code, collected.stderr).toBe(0);
    expect((await ledger()).entries[0]).toMatchObject({ action: 'keyed', detail: { fingerprint: FakeKms.fingerprint(key), keyLocation: key.arn } });
    expect(verified.code, verified.stderr).toBe(0);
    const report = JSON.parse(verified.stdout) as { intact: boolean; signing: { fingerprint: string; signatures: Array<{ ok: boolean }> } };
    expect(report.intact).toBe(true);
    expect(report.signing.fingerprint).toBe(FakeKms.fingerprint(key));
    expect(report.signing.signatures.length).toBeGreaterThanOrEqual(2);
    expect(report.signing.signatures.every((s) => s.ok)).toBe(true);
    expect(kms.mock.calls()).toHaveLength(0);
  });

  it('verifies against the KMS public key given as --public-key (what `aws kms get-public-key` returns, as PEM)', async () => {
    await runCli(['collect', '--case', 'C', '--from', 'export', '--signing-key', 'kms:alias/amber-signing'], { cwd, env: ENV });
    await writeFile(join(cwd, 'kms.pub'), key.publicKey!.export({ type: 'spki', format: 'pem' }));

    const run = await runCli(['verify', '--case', 'C', '--public-key', 'kms.pub'], { cwd, env: ENV });

    expect(run.code, run.stderr).toBe(0);
  });

  it('takes the key from AMBER_SIGNING_KEY=kms:ARN, and refuses a key file on the KMS-signed case, naming the KMS key', async () => {
    await runCli(['collect', '--case', 'C', '--from', 'export', '--signing-key', 'kms:alias/amber-signing'], { cwd, env: ENV });
    await writeFile(join(cwd, 'export', 'c.log'), 'more\n');
    const again = await runCli(['collect', '--case', 'C', '--from', 'export'], { cwd, env: { ...ENV, AMBER_SIGNING_KEY: `kms:${key.arn}` } });
    expect(again.code, again.stderr).toBe(0);
    const before = (await ledger()).entries.length;

    const keyFile = join(cwd, 'other.key');
    expect((await runCli(['keys', 'init', '--out', keyFile], { cwd })).code).toBe(0);
    await writeFile(join(cwd, 'export', 'd.log'), 'more\n');
    const refused = await runCli(['collect', '--case', 'C', '--from', 'export', '--signing-key', keyFile], { cwd, env: ENV });

    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`--signing-key kms:${key.arn}`);
    expect((await ledger()).entries.length).toBe(before);
    expect((await ledger()).entries.filter((e) => e.action === 'keyed')).toHaveLength(1);
  });

  it.each([
    ['names no key', 'kms:', /--signing-key kms: names no KMS key/, 2],
    ['is not an Ed25519 signing key', 'kms:alias/rsa', /is a RSA_2048 key for SIGN_VERIFY; Amber signs with Ed25519/, 2],
    ['does not exist', 'kms:alias/nope', /kms:GetPublicKey on KMS key alias\/nope failed: NotFoundException/, 1],
  ])('refuses a KMS key that %s, before anything is written', async (_what, spec, message, code) => {
    kms.createKey({ alias: 'alias/rsa', spec: 'RSA_2048' });

    const run = await runCli(['collect', '--case', 'C', '--from', 'export', '--signing-key', spec], { cwd, env: ENV });

    expect(run.code).toBe(code);
    expect(run.stderr).toMatch(message);
    await expect(LocalObjectStore.open(join(cwd, 'evidence', 'cases', 'C'), { create: false })).rejects.toThrow();
  });

  it('says which policies to fix when KMS denies signing', async () => {
    key.allowed.delete('kms:Sign');

    const run = await runCli(['collect', '--case', 'C', '--from', 'export', '--signing-key', 'kms:alias/amber-signing'], { cwd, env: ENV });

    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/kms:Sign on KMS key .* failed: AccessDeniedException/);
    expect(run.stderr).toMatch(/IAM policy and the key policy must allow kms:GetPublicKey and kms:Sign/);
  });
});
