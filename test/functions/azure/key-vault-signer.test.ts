/**
 * Custody signed with an Azure Key Vault EC P-256 key (ES256), Key Vault answered at the HTTP layer with its
 * documented shapes (test/helpers/fake-key-vault.ts: the vault really signs with openssl and answers raw r||s):
 * the case records the key's public key and identifier, `verify` checks every signature offline with that
 * public key alone, the export's openssl command checks them too, and a changed file or signature fails.
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeyVaultSigner, parseKeyVaultKeyId } from '../../../functions/azure/adapters/key-vault-signer.ts';
import { CustodyLedger } from '../../../shared/evidence/ledger.ts';
import type { EvidenceItem } from '../../../shared/evidence/model.ts';
import { ledgerKey } from '../../../shared/evidence/names.ts';
import { p1363ToDer, verifySignature } from '../../../shared/evidence/signature-algorithms.ts';
import { signatureKey, type SignatureRecord } from '../../../shared/evidence/signatures.ts';
import { verifyCase } from '../../../shared/evidence/verify.ts';
import { planBundle } from '../../../shared/export/bundle.ts';
import { writeBundleFolder } from '../../../shared/export/write.ts';
import { recordCustody } from '../../../shared/preservation/custody.ts';
import { fakeCredential, FakeKeyVault, VAULT_URL } from '../../helpers/fake-key-vault.ts';
import { MemoryObjectStore } from '../../helpers/memory-store.ts';
import nock from '../../helpers/nock.ts';
import { tempDir } from '../../helpers/tmp.ts';

const ACTOR = { principal: '/subscriptions/s/resourceGroups/amber/providers/Microsoft.Web/sites/amber-functions', tool: 'amber/test' };
const CASE = 'INC-AKV';
const NO_RETRY = { retryOptions: { maxRetries: 0 } };

let vault: FakeKeyVault;
let store: MemoryObjectStore;

beforeEach(() => {
  nock.disableNetConnect();
  vault = new FakeKeyVault().install();
  store = new MemoryObjectStore();
});
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
  vault.close();
});

async function open(keyId = `${VAULT_URL}/keys/amber-signing`): Promise<KeyVaultSigner> {
  return KeyVaultSigner.open({ keyId, credential: fakeCredential(), clientOptions: NO_RETRY });
}

async function preserved(n: number): Promise<EvidenceItem[]> {
  const items: EvidenceItem[] = [];
  for (let i = 0; i < n; i++) {
    const k = `cases/${CASE}/azure/activity/page-${String(i).padStart(4, '0')}.json`;
    const put = await store.putImmutable(k, Buffer.from(`{"value":[${i}]}`));
    items.push({ id: `ev-${i}`, case: CASE, origin: `api:azure-activity?page=${i}`, key: k, size: put.size, sha256: put.sha256, acquiredAt: '2026-03-01T12:00:00.000Z', acquiredBy: ACTOR.principal, retainUntil: null, mediaType: 'application/json' });
  }
  return items;
}

async function record(signer: KeyVaultSigner, items: EvidenceItem[], requestId = 'req-1') {
  return recordCustody({ store, actor: ACTOR, signer }, { case: CASE, requestId, step: 'preserve-logs', action: 'acquired', batches: [{ items }], seal: true });
}

describe('parseKeyVaultKeyId', () => {
  it('reads the vault, key name and optional version of a key identifier', () => {
    expect(parseKeyVaultKeyId('https://v1.vault.azure.net/keys/amber-signing')).toEqual({ vaultUrl: 'https://v1.vault.azure.net', name: 'amber-signing' });
    expect(parseKeyVaultKeyId('https://v1.vault.azure.net/keys/amber-signing/abc123')).toEqual({ vaultUrl: 'https://v1.vault.azure.net', name: 'amber-signing', version: 'abc123' });
  });

  it('refuses what is not a key identifier, naming the form to use', () => {
    for (const bad of ['amber-signing', 'http://v1.vault.azure.net/keys/k', 'https://v1.vault.azure.net/secrets/k', 'https://v1.vault.azure.net/keys/k/v/extra', 'https://v1.vault.azure.net/keys/k?x=1']) {
      expect(() => parseKeyVaultKeyId(bad), bad).toThrow(/is not a Key Vault key identifier/);
    }
  });
});

describe('p1363ToDer', () => {
  it('turns raw r||s signatures into DER that verifies, including integers with a high bit or leading zeros', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    let sawHighBit = false;
    for (let i = 0; i < 64; i++) {
      const data = Buffer.from(`message ${i}`);
      const raw = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      sawHighBit ||= (raw[0]! & 0x80) !== 0 || (raw[32]! & 0x80) !== 0;
      expect(verifySignature('es256', publicKey, data, p1363ToDer(raw)), `signature ${i}`).toBe(true);
    }
    expect(sawHighBit).toBe(true);
    // A zero-led integer is rare (1 in 128 per signature): build one to be sure the short form is right.
    const zeroLed = Buffer.concat([Buffer.alloc(1), Buffer.alloc(31, 0x7f), Buffer.alloc(32, 0x01)]);
    expect(Buffer.from(p1363ToDer(zeroLed)).toString('hex')).toBe(`3043021f${'7f'.repeat(31)}0220${'01'.repeat(32)}`);
  });
});

describe('Class: KeyVaultSigner', () => {
  it('reads the public key after Key Vault\'s sign-in challenge, and records the versioned key identifier', async () => {
    const signer = await open();

    expect(signer.algorithm).toBe('es256');
    expect(signer.keyLocation).toBe(vault.kid);
    expect(signer.publicKeyPem).toBe(vault.publicKey.export({ type: 'spki', format: 'pem' }).toString());
    expect((signer as { maxMessageBytes?: number }).maxMessageBytes).toBeUndefined();
  });

  it('sends Key Vault only the SHA-256 of what it signs and returns a DER signature that verifies with the public key', async () => {
    const signer = await open();
    const data = Buffer.alloc(20_000, 'x');

    const signature = await signer.sign(data);

    expect(vault.signBodies).toHaveLength(1);
    expect(vault.signBodies[0]!.alg).toBe('ES256');
    expect(Buffer.from(vault.signBodies[0]!.value, 'base64url')).toHaveLength(32);
    expect(signature[0]).toBe(0x30);
    expect(verifySignature('es256', vault.publicKey, data, signature)).toBe(true);
    expect(verifySignature('es256', vault.publicKey, Buffer.alloc(20_000, 'y'), signature)).toBe(false);
  });

  it('refuses an RSA key, naming the key and how to create an EC P-256 one', async () => {
    nock.cleanAll();
    vault.close();
    vault = new FakeKeyVault({ kty: 'RSA-HSM' }).install();

    await expect(open()).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('is a RSA-HSM') as unknown, hint: expect.stringContaining('--kty EC-HSM --curve P-256') as unknown });
  });

  it('refuses a key whose operations do not include sign', async () => {
    nock.cleanAll();
    vault.close();
    vault = new FakeKeyVault({ keyOps: ['verify'] }).install();

    await expect(open()).rejects.toThrow(/does not allow the sign operation/);
  });

  it('names the role to grant when Key Vault forbids signing', async () => {
    const signer = await open();
    vault.failSign.push(403);

    await expect(signer.sign(Buffer.from('seal'))).rejects.toMatchObject({ code: 'CLOUD_CALL_FAILED', retryable: false, hint: expect.stringContaining('Key Vault Crypto User') as unknown });
  });

  it('names a missing key', async () => {
    await expect(open(`${VAULT_URL}/keys/no-such-key`)).rejects.toMatchObject({ code: 'CLOUD_CALL_FAILED' });
  });
});

describe('Custody signed with a Key Vault key', () => {
  it('keys the case with the ES256 public key, signs manifest and checkpoints, and verify finds it intact offline', async () => {
    const signer = await open();
    const recorded = await record(signer, await preserved(12));
    nock.cleanAll(); // verify makes no Key Vault call

    const ledger = await CustodyLedger.open(store, CASE);
    expect(ledger.entries[0]).toMatchObject({ action: 'keyed', detail: { algorithm: 'es256', fingerprint: signer.fingerprint, publicKeyPem: signer.publicKeyPem, keyLocation: vault.kid } });
    const sig = JSON.parse(store.text(signatureKey(CASE, recorded.sealed!.key))!) as SignatureRecord;
    expect(sig.algorithm).toBe('es256');
    expect(sig.statement).toBeUndefined();
    const report = await verifyCase({ store, caseName: CASE, actor: ACTOR, record: false });
    expect(report.failures).toEqual([]);
    expect(report.intact).toBe(true);
    expect(report.signing?.signatures.length).toBeGreaterThanOrEqual(2);
    expect(report.signing?.signatures.every((s) => s.ok)).toBe(true);
  });

  it('fails verification when a signed manifest or a signature is changed', async () => {
    const signer = await open();
    const recorded = await record(signer, await preserved(3));
    const manifestKey = recorded.sealed!.key;
    store.objects.set(manifestKey, Buffer.from(store.text(manifestKey)!.replace('"failures":[]', '"failures":[{"origin":"x","reason":"y"}]')));

    const report = await verifyCase({ store, caseName: CASE, actor: ACTOR, record: false });

    expect(report.failures.find((f) => f.key === manifestKey && f.kind === 'signature-invalid')?.reason).toContain('does not match');
    expect(report.intact).toBe(false);
  });

  it('refuses an Ed25519 signature record on an ES256-keyed case (a signature never chooses its algorithm)', async () => {
    const signer = await open();
    const recorded = await record(signer, await preserved(3));
    const sigKey = signatureKey(CASE, recorded.sealed!.key);
    const forged = { ...(JSON.parse(store.text(sigKey)!) as SignatureRecord), algorithm: 'ed25519' };
    store.objects.set(sigKey, Buffer.from(`${JSON.stringify(forged)}\n`));

    const report = await verifyCase({ store, caseName: CASE, actor: ACTOR, record: false });

    expect(report.failures.find((f) => f.key === recorded.sealed!.key)?.reason).toMatch(/names algorithm "ed25519", and the key the ledger records signs with es256/);
  });

  it('export: each signature\'s openssl command verifies the real ES256 signature, and fails once the signed file changes', async () => {
    const signer = await open();
    await record(signer, await preserved(3));
    const plan = await planBundle({ store, caseName: CASE, ledgerText: (await store.readText(ledgerKey(CASE)))!, tool: 'amber/test' });
    const out = join(await tempDir('amber-export-es256-'), 'bundle');
    await writeBundleFolder(plan, store, out);

    expect(plan.signatures.length).toBeGreaterThanOrEqual(2);
    for (const check of plan.signatures) {
      expect(check.algorithm).toBe('es256');
      expect(check.command).toMatch(/^openssl dgst -sha256 -verify public-key\.pem -signature \S+\.sig \S+$/);
      const run = spawnSync('sh', ['-c', check.command!], { cwd: out, encoding: 'utf8' });
      expect(run.status, `${check.command}\n${run.stderr}`).toBe(0);
      expect(run.stdout).toContain('Verified OK');
    }
    const target = plan.signatures[0]!;
    spawnSync('chmod', ['u+w', join(out, target.signed)]);
    spawnSync('sh', ['-c', `printf ' ' >> ${target.signed}`], { cwd: out });
    expect(spawnSync('sh', ['-c', target.command!], { cwd: out }).status).not.toBe(0);
  });
});
