/**
 * A fake AWS KMS for Sign and GetPublicKey behind aws-sdk-client-mock. Behaviour: each key is a real key pair
 * made here with node:crypto. GetPublicKey answers the key's ARN, spec, usage, signing algorithms and the
 * SPKI DER public key; Sign answers a real Ed25519 signature (pure, over the message) for an
 * ECC_NIST_EDWARDS25519 key with ED25519_SHA_512 and MessageType RAW, so what a test verifies is a real
 * signature. Like KMS: a message over 4096 bytes, another algorithm or message type is a ValidationException;
 * an unknown key or alias is NotFoundException; a disabled key is DisabledException; a principal the key does
 * not allow is AccessDeniedException. Keys are found by id, ARN, alias name or alias ARN.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { DisabledException, GetPublicKeyCommand, KMSClient, NotFoundException, SignCommand } from '@aws-sdk/client-kms';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';

export const KMS_REGION = 'eu-west-1';
export const KMS_ACCOUNT = '999988887777';

export interface FakeKey {
  readonly id: string;
  readonly arn: string;
  readonly alias?: string;
  readonly spec: 'ECC_NIST_EDWARDS25519' | 'RSA_2048' | 'SYMMETRIC_DEFAULT';
  readonly usage: 'SIGN_VERIFY' | 'ENCRYPT_DECRYPT';
  readonly privateKey?: KeyObject;
  readonly publicKey?: KeyObject;
  enabled: boolean;
  /** Which calls the caller may make on it. @default both */
  allowed: Set<'kms:Sign' | 'kms:GetPublicKey'>;
}

function accessDenied(call: string, arn: string): Error {
  return Object.assign(new Error(`User: arn:aws:sts::${KMS_ACCOUNT}:assumed-role/test/session is not authorized to perform: ${call} on resource: ${arn} because no identity-based policy allows the ${call} action`), {
    name: 'AccessDeniedException',
    $metadata: { httpStatusCode: 400 },
  });
}

function validation(message: string): Error {
  return Object.assign(new Error(message), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
}

/**
 * The fake KMS of one test: create keys, then build signers over `client`. With `allClients`, every KMSClient
 * (a handler's own, built at module scope) answers from this fake.
 */
export class FakeKms {
  readonly client = new KMSClient({ region: KMS_REGION, credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' } });
  readonly mock: AwsClientStub<KMSClient>;
  readonly keys: FakeKey[] = [];
  /** Every Sign request's message, in order. */
  readonly signed: Uint8Array[] = [];

  constructor(options: { allClients?: boolean } = {}) {
    this.mock = options.allClients ? mockClient(KMSClient) : mockClient(this.client);
    this.mock.on(GetPublicKeyCommand).callsFake((input: { KeyId?: string }) => {
      const key = this.find(input.KeyId);
      if (!key.allowed.has('kms:GetPublicKey')) throw accessDenied('kms:GetPublicKey', key.arn);
      if (!key.enabled) throw new DisabledException({ message: `${key.arn} is disabled.`, $metadata: { httpStatusCode: 400 } });
      return {
        KeyId: key.arn,
        KeySpec: key.spec,
        KeyUsage: key.usage,
        ...(key.usage === 'SIGN_VERIFY' ? { SigningAlgorithms: key.spec === 'ECC_NIST_EDWARDS25519' ? ['ED25519_SHA_512', 'ED25519_PH_SHA_512'] : ['RSASSA_PSS_SHA_256'] } : {}),
        ...(key.publicKey ? { PublicKey: new Uint8Array(key.publicKey.export({ type: 'spki', format: 'der' })) } : {}),
      };
    });
    this.mock.on(SignCommand).callsFake((input: { KeyId?: string; Message?: Uint8Array; MessageType?: string; SigningAlgorithm?: string }) => {
      const key = this.find(input.KeyId);
      if (!key.allowed.has('kms:Sign')) throw accessDenied('kms:Sign', key.arn);
      if (!key.enabled) throw new DisabledException({ message: `${key.arn} is disabled.`, $metadata: { httpStatusCode: 400 } });
      if (key.spec !== 'ECC_NIST_EDWARDS25519' || !key.privateKey) throw Object.assign(new Error('InvalidKeyUsage'), { name: 'InvalidKeyUsageException', $metadata: { httpStatusCode: 400 } });
      if (input.SigningAlgorithm !== 'ED25519_SHA_512') throw validation(`unsupported signing algorithm ${String(input.SigningAlgorithm)} in this fake`);
      if ((input.MessageType ?? 'RAW') !== 'RAW') throw validation('ED25519_SHA_512 requires MessageType RAW');
      const message = input.Message ?? new Uint8Array();
      if (message.byteLength > 4096) throw validation(`1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length less than or equal to 4096`);
      this.signed.push(message);
      return { KeyId: key.arn, Signature: new Uint8Array(sign(null, message, key.privateKey)), SigningAlgorithm: 'ED25519_SHA_512' };
    });
  }

  /** Adds a key (an Ed25519 signing key unless told otherwise). */
  createKey(options: { id?: string; alias?: string; spec?: FakeKey['spec']; usage?: FakeKey['usage'] } = {}): FakeKey {
    const id = options.id ?? `1234abcd-12ab-34cd-56ef-${String(this.keys.length + 1).padStart(12, '0')}`;
    const spec = options.spec ?? 'ECC_NIST_EDWARDS25519';
    const pair = spec === 'ECC_NIST_EDWARDS25519' ? generateKeyPairSync('ed25519') : spec === 'RSA_2048' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : undefined;
    const key: FakeKey = {
      id,
      arn: `arn:aws:kms:${KMS_REGION}:${KMS_ACCOUNT}:key/${id}`,
      ...(options.alias ? { alias: options.alias } : {}),
      spec,
      usage: options.usage ?? (spec === 'SYMMETRIC_DEFAULT' ? 'ENCRYPT_DECRYPT' : 'SIGN_VERIFY'),
      ...(pair ? { privateKey: pair.privateKey, publicKey: pair.publicKey } : {}),
      enabled: true,
      allowed: new Set(['kms:Sign', 'kms:GetPublicKey']),
    };
    this.keys.push(key);
    return key;
  }

  /** A fake answering every KMSClient (a handler's own) with one Ed25519 key at `arn` (a handler's SIGNING_KEY_ARN). */
  static forHandlers(arn: string): { kms: FakeKms; key: FakeKey } {
    const kms = new FakeKms({ allClients: true });
    const id = /:key\/([^/]+)$/.exec(arn)?.[1];
    if (!id || !arn.startsWith(`arn:aws:kms:${KMS_REGION}:${KMS_ACCOUNT}:key/`)) throw new Error(`FakeKms.forHandlers: ${arn} is not a key ARN in ${KMS_REGION}/${KMS_ACCOUNT}`);
    return { kms, key: kms.createKey({ id }) };
  }

  /** The SHA-256 (hex) of a key's DER public key: the fingerprint a case keyed with it records. */
  static fingerprint(key: FakeKey): string {
    return createHash('sha256').update(key.publicKey!.export({ type: 'spki', format: 'der' })).digest('hex');
  }

  /** Removes the mock from the client. */
  restore(): void {
    this.mock.restore();
  }

  private find(keyId: string | undefined): FakeKey {
    const id = keyId ?? '';
    const key = this.keys.find((k) => k.id === id || k.arn === id || (k.alias !== undefined && (id === k.alias || id === `arn:aws:kms:${KMS_REGION}:${KMS_ACCOUNT}:${k.alias}`)));
    if (!key) throw new NotFoundException({ message: `Key '${id}' does not exist`, $metadata: { httpStatusCode: 400 } });
    return key;
  }
}
