/**
 * Custody recorded in the cloud with a KMS key (the fake KMS really signs, test/helpers/fake-kms.ts): the case
 * records the key's public key and ARN, its manifests (larger than KMS can sign) and checkpoints are signed
 * through seal statements, `verify` checks them offline with the recorded public key, openssl alone checks them
 * too, and every change to a signed file, a statement or a signature fails verification.
 */
import { execFileSync } from 'node:child_process';
import { createHash, sign } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KmsSigner } from '../../../functions/aws/adapters/kms-signer.ts';
import { canonicalJson } from '../../../shared/evidence/canonical-json.ts';
import { Ed25519KeySigner } from '../../../shared/evidence/key-file-signer.ts';
import { CustodyLedger } from '../../../shared/evidence/ledger.ts';
import type { EvidenceItem } from '../../../shared/evidence/model.ts';
import { signatureKey, type SignatureRecord } from '../../../shared/evidence/signatures.ts';
import { verifyCase } from '../../../shared/evidence/verify.ts';
import { recordCustody } from '../../../shared/preservation/custody.ts';
import type { Signer } from '../../../shared/ports/signer.ts';
import { FakeKms, type FakeKey } from '../../helpers/fake-kms.ts';
import { MemoryObjectStore } from '../../helpers/memory-store.ts';
import { tempDir } from '../../helpers/tmp.ts';

const ACTOR = { principal: 'arn:aws:lambda:eu-west-1:999988887777:function:amber-record-custody', tool: 'amber/test' };
const CASE = 'INC-7';
const sha = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');

let kms: FakeKms;
let key: FakeKey;
let signer: KmsSigner;
let store: MemoryObjectStore;

beforeEach(async () => {
  kms = new FakeKms();
  key = kms.createKey({ alias: 'alias/amber-signing' });
  signer = await KmsSigner.open({ keyId: 'alias/amber-signing', client: kms.client });
  store = new MemoryObjectStore();
});
afterEach(() => kms.restore());

/** Stores `n` log objects under the case and returns them as items (the manifest of 40 is about 13 KB). */
async function preserved(n: number, from = 0): Promise<EvidenceItem[]> {
  const items: EvidenceItem[] = [];
  for (let i = from; i < from + n; i++) {
    const k = `cases/${CASE}/AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/01/111122223333_CloudTrail_eu-west-1_20260301T${String(i).padStart(4, '0')}Z_abc.json.gz`;
    const put = await store.putImmutable(k, Buffer.from(`log ${i}\n`));
    items.push({ id: `ev-${i}`, case: CASE, origin: `s3://trail/${k}`, key: k, size: put.size, sha256: put.sha256, acquiredAt: '2026-03-01T12:00:00.000Z', acquiredBy: ACTOR.principal, retainUntil: null, mediaType: 'application/gzip' });
  }
  return items;
}

async function record(s: Signer | undefined, items: EvidenceItem[], requestId = 'req-1') {
  return recordCustody({ store, actor: ACTOR, ...(s ? { signer: s } : {}) }, { case: CASE, requestId, step: 'copy-log-objects', action: 'copied', batches: [{ items: items.slice(0, 20) }, { items: items.slice(20) }], seal: true });
}

async function verify() {
  return verifyCase({ store, caseName: CASE, actor: ACTOR, record: false });
}

function signatureRecord(signed: string): SignatureRecord {
  return JSON.parse(store.text(signatureKey(CASE, signed))!) as SignatureRecord;
}

/** Replaces a stored object's bytes, as someone with write access to the bucket's storage would. */
function overwrite(k: string, text: string): void {
  store.objects.set(k, Buffer.from(text));
}

describe('Custody signed with a KMS key', () => {
  it('keys the case with the KMS public key and ARN, signs the large manifest and each checkpoint through a statement, and verify finds it intact', async () => {
    // Act
    const recorded = await record(signer, await preserved(40));

    // Assess
    const ledger = await CustodyLedger.open(store, CASE);
    expect(ledger.entries[0]).toMatchObject({ action: 'keyed', detail: { algorithm: 'ed25519', fingerprint: signer.fingerprint, publicKeyPem: signer.publicKeyPem, keyLocation: key.arn } });
    const manifest = store.objects.get(recorded.sealed!.key)!;
    expect(manifest.length).toBeGreaterThan(4096);
    const sig = signatureRecord(recorded.sealed!.key);
    expect(JSON.parse(sig.statement!)).toEqual({ type: 'amber-seal-statement/1', algorithm: 'ed25519', keyFingerprint: signer.fingerprint, signed: recorded.sealed!.key, sha256: sha(manifest) });
    expect(sig).toMatchObject({ algorithm: 'ed25519', keyFingerprint: signer.fingerprint, signed: recorded.sealed!.key, signedSha256: sha(manifest) });
    // KMS saw only statements, each within its limit.
    expect(kms.signed.length).toBeGreaterThanOrEqual(2);
    for (const m of kms.signed) {
      expect(m.byteLength).toBeLessThanOrEqual(4096);
      expect(JSON.parse(Buffer.from(m).toString('utf8'))).toMatchObject({ type: 'amber-seal-statement/1' });
    }
    const report = await verify();
    expect(report.failures).toEqual([]);
    expect(report.intact).toBe(true);
    expect(report.signing?.fingerprint).toBe(signer.fingerprint);
    expect(report.signing?.signatures.map((s) => [s.signed, s.ok])).toEqual(
      expect.arrayContaining([[recorded.sealed!.key, true], [expect.stringMatching(/_amber\/checkpoints\/\d+\.json$/), true]]),
    );
  });

  it('verifies offline: with every KMS call failing, verify still checks every signature with the recorded public key', async () => {
    await record(signer, await preserved(40));
    kms.mock.reset();
    kms.mock.rejects(Object.assign(new Error('connect ENETUNREACH'), { code: 'ENETUNREACH' }));

    const report = await verify();

    expect(report.failures).toEqual([]);
    expect(report.signing?.signatures.length).toBeGreaterThanOrEqual(2);
    expect(report.signing?.signatures.every((s) => s.ok)).toBe(true);
    expect(kms.mock.calls()).toHaveLength(0);
  });

  it('a later cloud step on the same case signs with the same key, and a retried step writes no second signature', async () => {
    await record(signer, await preserved(40));
    const second = await record(signer, await preserved(5, 40), 'req-2');
    const again = await record(signer, await preserved(5, 40), 'req-2');

    expect(second.appended).toBe(3);
    expect(again).toMatchObject({ appended: 0, alreadyRecorded: 3 });
    const ledger = await CustodyLedger.open(store, CASE);
    expect(ledger.entries.filter((e) => e.action === 'keyed')).toHaveLength(1);
    expect((await verify()).failures).toEqual([]);
  });

  it('checks with openssl alone: the statement verifies under the recorded public key and names the manifest\'s SHA-256', async () => {
    // Prepare: what a third party holds: the public key from the ledger, the manifest, its signature object
    const recorded = await record(signer, await preserved(40));
    const dir = await tempDir();
    const pem = (await CustodyLedger.open(store, CASE)).signingKey!.publicKeyPem;
    const sig = signatureRecord(recorded.sealed!.key);
    await writeFile(join(dir, 'amber.pub'), pem);
    await writeFile(join(dir, 'statement'), sig.statement!);
    await writeFile(join(dir, 'sig.bin'), Buffer.from(sig.signature, 'base64'));
    const openssl = (statementFile: string): string =>
      execFileSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', join(dir, 'amber.pub'), '-rawin', '-in', join(dir, statementFile), '-sigfile', join(dir, 'sig.bin')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

    // Act + Assess
    expect(openssl('statement')).toMatch(/Signature Verified Successfully/);
    expect((JSON.parse(sig.statement!) as { sha256: string }).sha256).toBe(sha(store.objects.get(recorded.sealed!.key)!));
    await writeFile(join(dir, 'forged'), sig.statement!.replace(/"sha256":"[0-9a-f]{64}"/, `"sha256":"${'0'.repeat(64)}"`));
    expect(() => openssl('forged')).toThrow();
  });

  it('fails verification when a signed manifest is changed after it was signed, naming the statement\'s hash and the stored one', async () => {
    const recorded = await record(signer, await preserved(40));
    const text = store.text(recorded.sealed!.key)!;
    overwrite(recorded.sealed!.key, text.replace('"failures":[]', '"failures":[{"origin":"x","reason":"y"}]'));

    const report = await verify();

    const failure = report.failures.find((f) => f.kind === 'signature-invalid' && f.key === recorded.sealed!.key);
    expect(failure?.reason).toMatch(/its statement records sha256 [0-9a-f]{64}, and .* as stored has sha256 [0-9a-f]{64}: the file was changed after it was signed/);
    expect(report.intact).toBe(false);
  });

  it('fails verification when a statement is rewritten to match a changed manifest (the signature no longer matches it)', async () => {
    const recorded = await record(signer, await preserved(40));
    const changed = store.text(recorded.sealed!.key)!.replace('"failures":[]', '"failures":[{"origin":"x","reason":"y"}]');
    overwrite(recorded.sealed!.key, changed);
    const sig = signatureRecord(recorded.sealed!.key);
    const statement = canonicalJson({ ...(JSON.parse(sig.statement!) as object), sha256: sha(changed) });
    overwrite(signatureKey(CASE, recorded.sealed!.key), `${canonicalJson({ ...sig, signedSha256: sha(changed), statement })}\n`);

    const report = await verify();

    expect(report.failures.find((f) => f.key === recorded.sealed!.key && f.kind === 'signature-invalid')?.reason).toContain('does not match its seal statement');
  });

  it('fails verification when one file\'s genuine signature is moved onto another file', async () => {
    await record(signer, await preserved(40));
    await record(signer, await preserved(5, 40), 'req-2');
    const checkpoints = [...store.objects.keys()].filter((k) => /_amber\/checkpoints\/\d+\.json$/.test(k)).sort();
    expect(checkpoints.length).toBeGreaterThanOrEqual(2);
    const [first, last] = [checkpoints[0]!, checkpoints.at(-1)!];
    overwrite(signatureKey(CASE, last), store.text(signatureKey(CASE, first))!);

    const report = await verify();

    expect(report.failures.find((f) => f.key === last)).toMatchObject({ kind: 'signature-invalid', reason: expect.stringMatching(/its statement was signed for ".*checkpoints.*", not for .*checkpoints/) });
  });

  it('fails verification when a statement signature is turned into a file-form one (the statement removed)', async () => {
    const recorded = await record(signer, await preserved(40));
    const { statement: _dropped, ...fileForm } = signatureRecord(recorded.sealed!.key);
    overwrite(signatureKey(CASE, recorded.sealed!.key), `${canonicalJson(fileForm)}\n`);

    const report = await verify();

    expect(report.failures.find((f) => f.key === recorded.sealed!.key)).toMatchObject({ kind: 'signature-invalid' });
    expect(report.intact).toBe(false);
  });

  it('refuses, before writing anything, a writer with another key on a KMS-keyed case, and names the KMS key to use', async () => {
    await record(signer, await preserved(40));
    const before = store.text(`cases/${CASE}/custody-ledger.jsonl`);
    const keyFile = Ed25519KeySigner.generate();
    const dir = await tempDir();
    await writeFile(join(dir, 'k.pem'), keyFile.privateKeyPem);
    const other = await Ed25519KeySigner.fromFile(join(dir, 'k.pem'));

    const attempt = record(other, await preserved(1, 50), 'req-3');

    await expect(attempt).rejects.toMatchObject({ exitCode: 2, hint: expect.stringContaining(`--signing-key kms:${key.arn}`) });
    expect(store.text(`cases/${CASE}/custody-ledger.jsonl`)).toBe(before);
  });
});

describe('A statement signed by the case\'s own key', () => {
  /** Replaces a file's signature with one over `statement`, made with the KMS key's private key itself (as a key holder could). */
  function resign(signed: string, statement: string): void {
    const signature = sign(null, Buffer.from(statement, 'utf8'), key.privateKey!).toString('base64');
    overwrite(signatureKey(CASE, signed), `${canonicalJson({ ...signatureRecord(signed), statement, signature })}\n`);
  }
  const fields = (manifestSha: string, manifest: string) => ({ type: 'amber-seal-statement/1', algorithm: 'ed25519', keyFingerprint: signer.fingerprint, signed: manifest, sha256: manifestSha });

  it.each([
    ['not in canonical form', (f: Record<string, string>) => JSON.stringify(f, null, 1), /its statement is not in canonical form/],
    ['of another type', (f: Record<string, string>) => canonicalJson({ ...f, type: 'amber-seal-statement/2' }), /its statement is of type "amber-seal-statement\/2"/],
    ['with fields it does not define', (f: Record<string, string>) => canonicalJson({ ...f, note: 'also covers other files' }), /its statement holds other fields/],
    ['naming another key', (f: Record<string, string>) => canonicalJson({ ...f, keyFingerprint: 'f'.repeat(64) }), /its statement names key f{64}/],
  ])('vouches for nothing when it is %s', async (_what, make, reason) => {
    const manifest = (await record(signer, await preserved(40))).sealed!.key;
    resign(manifest, make(fields(sha(store.objects.get(manifest)!), manifest)));

    const report = await verify();

    expect(report.failures.find((f) => f.key === manifest)).toMatchObject({ kind: 'signature-invalid', reason: expect.stringMatching(reason) });
  });

  it('is accepted when it is exactly the statement Amber writes (the check above is not vacuous)', async () => {
    const manifest = (await record(signer, await preserved(40))).sealed!.key;
    resign(manifest, canonicalJson(fields(sha(store.objects.get(manifest)!), manifest)));

    expect((await verify()).failures).toEqual([]);
  });
});

describe('Signatures by a key file (no message limit)', () => {
  it('still sign the file\'s exact bytes, with no statement, and verify as before', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'k.pem'), Ed25519KeySigner.generate().privateKeyPem);
    const fileSigner = await Ed25519KeySigner.fromFile(join(dir, 'k.pem'));

    const recorded = await record(fileSigner, await preserved(40));

    const sig = signatureRecord(recorded.sealed!.key);
    expect(sig.statement).toBeUndefined();
    expect(Object.keys(sig).sort()).toEqual(['algorithm', 'keyFingerprint', 'signature', 'signed', 'signedSha256']);
    const ledger = await CustodyLedger.open(store, CASE);
    expect(ledger.entries[0]!.detail).not.toHaveProperty('keyLocation');
    expect((await verify()).failures).toEqual([]);
  });
});
