/**
 * The KMS signer against a fake KMS that really signs (test/helpers/fake-kms.ts): what it signs verifies
 * with the public key alone, as a key file's signature does; keys that cannot sign Ed25519, and KMS refusals,
 * are errors that name the key and the fix.
 */
import { createHash, generateKeyPairSync, sign, verify } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GetPublicKeyCommand, SignCommand } from '@aws-sdk/client-kms';
import { KMS_MAX_MESSAGE_BYTES, KmsSigner, lazyKmsSigner, regionOfArn } from '../../../../functions/aws/adapters/kms-signer.ts';
import { isAmberError } from '../../../../shared/errors.ts';
import { FakeKms, KMS_ACCOUNT, KMS_REGION } from '../../../helpers/fake-kms.ts';

let kms: FakeKms;
beforeEach(() => {
  kms = new FakeKms();
});
afterEach(() => kms.restore());

async function failure(promise: Promise<unknown>): Promise<{ name: string; message: string; hint: string; exitCode: number; retryable?: boolean }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'expected a rejection').toBeDefined();
  expect(isAmberError(error)).toBe(true);
  const e = error as { name: string; message: string; hint: string; exitCode: number; retryable?: boolean };
  return e;
}

describe('Class: KmsSigner', () => {
  describe('Method: open', () => {
    it('reads the public key once, as PEM, with the fingerprint a key file of the same key would have', async () => {
      // Prepare
      const key = kms.createKey({ alias: 'alias/amber-signing' });

      // Act
      const signer = await KmsSigner.open({ keyId: 'alias/amber-signing', client: kms.client });

      // Assess
      const der = key.publicKey!.export({ type: 'spki', format: 'der' });
      expect(signer.fingerprint).toBe(createHash('sha256').update(der).digest('hex'));
      expect(signer.publicKeyPem).toBe(key.publicKey!.export({ type: 'spki', format: 'pem' }).toString());
      expect(signer.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
      expect(signer.algorithm).toBe('ed25519');
      expect(signer.keyLocation).toBe(key.arn);
      expect(signer.maxMessageBytes).toBe(4096);
      expect(kms.mock.commandCalls(GetPublicKeyCommand)).toHaveLength(1);
    });

    it.each([
      ['an RSA signing key', { spec: 'RSA_2048' as const }, /is a RSA_2048 key for SIGN_VERIFY; Amber signs with Ed25519/],
      ['a symmetric encryption key', { spec: 'SYMMETRIC_DEFAULT' as const }, /is a SYMMETRIC_DEFAULT key for ENCRYPT_DECRYPT; Amber signs with Ed25519/],
    ])('refuses %s as invalid input (exit 2), naming the key spec needed', async (_name, spec, message) => {
      const key = kms.createKey(spec);
      const e = await failure(KmsSigner.open({ keyId: key.arn, client: kms.client }));
      expect(e.name).toBe('InvalidInputError');
      expect(e.exitCode).toBe(2);
      expect(e.message).toMatch(message);
      expect(e.message).toContain(key.arn);
      expect(e.hint).toContain('--key-spec ECC_NIST_EDWARDS25519 --key-usage SIGN_VERIFY');
    });

    it('says the caller may not read the key when KMS denies GetPublicKey, naming the key and both policies', async () => {
      const key = kms.createKey();
      key.allowed.delete('kms:GetPublicKey');
      const e = await failure(KmsSigner.open({ keyId: key.arn, client: kms.client }));
      expect(e.name).toBe('CloudCallError');
      expect(e.message).toMatch(new RegExp(`^kms:GetPublicKey on KMS key ${key.arn} failed: AccessDeniedException`));
      expect(e.hint).toMatch(/IAM policy and the key policy must allow kms:GetPublicKey and kms:Sign/);
      expect(e.retryable).toBe(false);
    });

    it('says a disabled key must be enabled again', async () => {
      const key = kms.createKey();
      key.enabled = false;
      const e = await failure(KmsSigner.open({ keyId: key.arn, client: kms.client }));
      expect(e.message).toContain('DisabledException');
      expect(e.hint).toContain(`aws kms enable-key --key-id ${key.arn}`);
    });

    it('says an unknown alias is not there, and where it looked', async () => {
      kms.createKey({ alias: 'alias/amber-signing' });
      const e = await failure(KmsSigner.open({ keyId: 'alias/amber-signin', client: kms.client }));
      expect(e.message).toContain('NotFoundException');
      expect(e.hint).toMatch(/no KMS key alias\/amber-signin in this account and region/);
    });

    it('refuses an empty key id before calling KMS', async () => {
      const e = await failure(KmsSigner.open({ keyId: ' ', client: kms.client }));
      expect(e.exitCode).toBe(2);
      expect(kms.mock.calls()).toHaveLength(0);
    });
  });

  describe('Method: sign', () => {
    it('returns a pure Ed25519 signature that verifies with the public key alone, and not over other bytes', async () => {
      // Prepare
      const key = kms.createKey();
      const signer = await KmsSigner.open({ keyId: key.id, client: kms.client });
      const message = Buffer.from('{"type":"amber-seal-statement/1"}');

      // Act
      const signature = await signer.sign(message);

      // Assess
      expect(signature).toHaveLength(64);
      expect(verify(null, message, signer.publicKeyPem, signature)).toBe(true);
      expect(verify(null, Buffer.from('{"type":"amber-seal-statement/2"}'), signer.publicKeyPem, signature)).toBe(false);
      const input = kms.mock.commandCalls(SignCommand)[0]!.args[0].input;
      expect(input).toMatchObject({ KeyId: key.arn, MessageType: 'RAW', SigningAlgorithm: 'ED25519_SHA_512' });
    });

    it(`refuses a message over ${KMS_MAX_MESSAGE_BYTES} bytes before calling KMS`, async () => {
      const signer = await KmsSigner.open({ keyId: kms.createKey().arn, client: kms.client });
      await expect(signer.sign(new Uint8Array(KMS_MAX_MESSAGE_BYTES))).resolves.toHaveLength(64);
      const e = await failure(signer.sign(new Uint8Array(KMS_MAX_MESSAGE_BYTES + 1)));
      expect(e.message).toBe('KMS signs at most 4096 bytes; this message is 4097');
      expect(kms.mock.commandCalls(SignCommand)).toHaveLength(1);
    });

    it('says the caller may not sign when only GetPublicKey is allowed', async () => {
      const key = kms.createKey();
      key.allowed.delete('kms:Sign');
      const signer = await KmsSigner.open({ keyId: key.arn, client: kms.client });
      const e = await failure(signer.sign(Buffer.from('x')));
      expect(e.message).toMatch(/^kms:Sign on KMS key .* failed: AccessDeniedException/);
      expect(e.hint).toContain('the deployment allows its record-custody and run-detections roles only');
    });

    it('fails when the key is disabled after it was opened', async () => {
      const key = kms.createKey();
      const signer = await KmsSigner.open({ keyId: key.arn, client: kms.client });
      key.enabled = false;
      const e = await failure(signer.sign(Buffer.from('x')));
      expect(e.message).toContain('DisabledException');
    });

    it('refuses a signature that does not verify under the key it opened (another key behind the same id): integrity failure', async () => {
      const key = kms.createKey();
      const signer = await KmsSigner.open({ keyId: key.arn, client: kms.client });
      const other = generateKeyPairSync('ed25519').privateKey;
      kms.mock.on(SignCommand).callsFake((input: { Message: Uint8Array }) => ({ KeyId: key.arn, Signature: new Uint8Array(sign(null, input.Message, other)), SigningAlgorithm: 'ED25519_SHA_512' }));
      const e = await failure(signer.sign(Buffer.from('x')));
      expect(e.exitCode).toBe(3);
      expect(e.message).toContain('does not verify under its own public key');
    });
  });
});

describe('Function: lazyKmsSigner', () => {
  it('opens the key once for many uses, and tries again after a failed open', async () => {
    const key = kms.createKey();
    key.enabled = false;
    const signer = lazyKmsSigner({ keyId: key.arn, client: kms.client });
    await expect(signer()).rejects.toThrow(/DisabledException/);
    key.enabled = true;
    const [a, b] = await Promise.all([signer(), signer()]);
    expect(a).toBe(b);
    expect((await signer()).fingerprint).toBe(a.fingerprint);
    expect(kms.mock.commandCalls(GetPublicKeyCommand)).toHaveLength(2);
  });
});

describe('Function: regionOfArn', () => {
  it('reads the region of a key or alias ARN, and nothing from an id or alias name', () => {
    expect(regionOfArn(`arn:aws:kms:${KMS_REGION}:${KMS_ACCOUNT}:key/1234`)).toBe(KMS_REGION);
    expect(regionOfArn(`arn:aws-us-gov:kms:us-gov-west-1:${KMS_ACCOUNT}:alias/amber`)).toBe('us-gov-west-1');
    expect(regionOfArn('alias/amber')).toBeUndefined();
    expect(regionOfArn('1234abcd-12ab-34cd-56ef-1234567890ab')).toBeUndefined();
  });
});
