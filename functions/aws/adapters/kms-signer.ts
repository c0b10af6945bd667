/**
 * The AWS KMS adapter of the Signer port. An asymmetric KMS key of spec ECC_NIST_EDWARDS25519 (usage
 * SIGN_VERIFY) signs with ED25519_SHA_512 and MessageType RAW: pure Ed25519 (RFC 8032), the same signatures a
 * key file makes, so a case signed in AWS verifies offline with the public key the ledger records (no AWS
 * call). KMS signs at most 4096 bytes and a manifest is larger, so this signer signs seal statements
 * (shared/evidence/signatures.ts). The private key never leaves KMS; the public key is read once.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { GetPublicKeyCommand, KMSClient, SignCommand, type GetPublicKeyCommandOutput } from '@aws-sdk/client-kms';
import { InvalidInputError, IntegrityError, isAmberError, type AmberError } from '../../../shared/errors.ts';
import { publicKeyFingerprint } from '../../../shared/evidence/key-file-signer.ts';
import { CloudCallError } from '../../../shared/preservation/errors.ts';
import type { Signer } from '../../../shared/ports/signer.ts';
import { sdkClientConfig, type AwsClientConfig } from './aws-client.ts';
import { awsErrorInfo, awsHint, isRetryable } from './aws-errors.ts';

/** The longest message KMS Sign accepts with MessageType RAW. */
export const KMS_MAX_MESSAGE_BYTES = 4096;

const KEY_SPEC = 'ECC_NIST_EDWARDS25519';
const KEY_USAGE = 'SIGN_VERIFY';
const SIGNING_ALGORITHM = 'ED25519_SHA_512';
const CREATE_HINT = 'create one with `aws kms create-key --key-spec ECC_NIST_EDWARDS25519 --key-usage SIGN_VERIFY` (the Amber deployment creates one: its SigningKeyArn output)';

export interface KmsSignerOptions {
  /** The key: key id, key ARN, alias name (`alias/amber-signing`) or alias ARN. */
  readonly keyId: string;
  /** @default a KMSClient built from `config` */
  readonly client?: KMSClient;
  /**
   * Region, retries, credentials of the client built when none is given (an ARN's own region always wins).
   * @default the SDK's region chain and credentials
   */
  readonly config?: AwsClientConfig;
}

/** A signer whose Ed25519 private key is kept in AWS KMS. */
export class KmsSigner implements Signer {
  readonly algorithm = 'ed25519' as const;
  readonly maxMessageBytes = KMS_MAX_MESSAGE_BYTES;

  private constructor(
    private readonly client: KMSClient,
    /** The key's ARN, as KMS names it (recorded in the ledger as where the key is kept). */
    readonly keyLocation: string,
    readonly publicKeyPem: string,
    readonly fingerprint: string,
    private readonly publicKey: KeyObject,
  ) {}

  /**
   * Reads the key's public key (kms:GetPublicKey) and returns a signer over it. A key that is not an
   * Ed25519 signing key is refused (InvalidInputError, exit 2); a disabled, missing or forbidden key is a
   * CloudCallError naming the key and the fix.
   */
  static async open(options: KmsSignerOptions): Promise<KmsSigner> {
    const keyId = options.keyId.trim();
    if (keyId === '') throw new InvalidInputError('no KMS key was named', { hint: 'pass kms:<key id | key ARN | alias/name | alias ARN>' });
    // An ARN names its key's region: calling another region could only fail.
    const region = regionOfArn(keyId);
    const client = options.client ?? new KMSClient(sdkClientConfig({ ...options.config, ...(region ? { region } : {}) }));
    let out: GetPublicKeyCommandOutput;
    try {
      out = await client.send(new GetPublicKeyCommand({ KeyId: keyId }));
    } catch (error) {
      throw kmsError(error, 'kms:GetPublicKey', keyId);
    }
    const arn = out.KeyId ?? keyId;
    if (out.KeySpec !== KEY_SPEC || out.KeyUsage !== KEY_USAGE) {
      throw new InvalidInputError(`KMS key ${arn} is a ${out.KeySpec ?? 'unknown'} key for ${out.KeyUsage ?? 'unknown use'}; Amber signs with Ed25519 (${KEY_SPEC}, ${KEY_USAGE})`, { hint: CREATE_HINT });
    }
    if (out.SigningAlgorithms && !out.SigningAlgorithms.includes(SIGNING_ALGORITHM)) {
      throw new InvalidInputError(`KMS key ${arn} does not offer ${SIGNING_ALGORITHM} (it offers ${out.SigningAlgorithms.join(', ')})`, { hint: CREATE_HINT });
    }
    let publicKey: KeyObject;
    try {
      publicKey = createPublicKey({ key: Buffer.from(out.PublicKey ?? new Uint8Array()), format: 'der', type: 'spki' });
    } catch (error) {
      throw new IntegrityError(`KMS returned a public key for ${arn} that is not a DER SubjectPublicKeyInfo: ${(error as Error).message}`, { hint: 'run again; if it persists, report it with the key ARN', cause: error });
    }
    if (publicKey.asymmetricKeyType !== 'ed25519') {
      throw new IntegrityError(`KMS returned a ${publicKey.asymmetricKeyType ?? 'unknown'} public key for ${arn}, which it says is ${KEY_SPEC}`, { hint: 'run again; if it persists, report it with the key ARN' });
    }
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    return new KmsSigner(client, arn, pem, publicKeyFingerprint(publicKey), publicKey);
  }

  /**
   * Signs `data` (at most 4096 bytes) with ED25519_SHA_512, RAW. The signature is checked against the public
   * key before it is returned, so a signature that would not verify is never stored.
   */
  async sign(data: Uint8Array): Promise<Uint8Array> {
    if (data.byteLength > KMS_MAX_MESSAGE_BYTES) {
      throw new InvalidInputError(`KMS signs at most ${KMS_MAX_MESSAGE_BYTES} bytes; this message is ${data.byteLength}`, {
        hint: 'sign a seal statement (shared/evidence/signatures.ts writeSignature does so for this signer), not the file',
      });
    }
    let signature: Uint8Array | undefined;
    try {
      const out = await this.client.send(new SignCommand({ KeyId: this.keyLocation, Message: data, MessageType: 'RAW', SigningAlgorithm: SIGNING_ALGORITHM }));
      signature = out.Signature;
    } catch (error) {
      throw kmsError(error, 'kms:Sign', this.keyLocation);
    }
    const bytes = Buffer.from(signature ?? new Uint8Array());
    if (bytes.length !== 64 || !verify(null, data, this.publicKey, bytes)) {
      throw new IntegrityError(`KMS key ${this.keyLocation} returned a signature that does not verify under its own public key (${this.fingerprint}); nothing was stored`, {
        hint: 'run again; if it persists, check that the key was not replaced behind its alias, and report it with the key ARN',
      });
    }
    return new Uint8Array(bytes);
  }
}

/**
 * A signer opened on first use and kept (a handler's module scope cannot await): one GetPublicKey per
 * container. A failed open is not kept, so the next invocation tries again.
 */
export function lazyKmsSigner(options: KmsSignerOptions): () => Promise<KmsSigner> {
  let opening: Promise<KmsSigner> | undefined;
  return () => {
    opening ??= KmsSigner.open(options).catch((error: unknown) => {
      opening = undefined;
      throw error;
    });
    return opening;
  };
}

/** The region of a KMS key or alias ARN (`arn:aws:kms:<region>:<account>:key/...`), else undefined. */
export function regionOfArn(keyId: string): string | undefined {
  const m = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:(key|alias)\//.exec(keyId);
  return m?.[1];
}

const KEY_STATE_HINTS: Record<string, (key: string) => string> = {
  DisabledException: (key) => `KMS key ${key} is disabled: a key administrator enables it again (aws kms enable-key --key-id ${key}); a case signed with it can only be extended with it`,
  KMSInvalidStateException: (key) => `KMS key ${key} cannot sign in its state (pending deletion or import): a key administrator cancels the deletion (aws kms cancel-key-deletion) and enables it`,
  NotFoundException: (key) => `no KMS key ${key} in this account and region: check the key id or alias, and the region (an ARN names its own; else AWS_REGION)`,
  InvalidKeyUsageException: () => `the key is not an Ed25519 signing key: ${CREATE_HINT}`,
};

/** An SDK error of a KMS call as a CloudCallError naming the key, and what to do. */
function kmsError(error: unknown, call: string, key: string): AmberError {
  if (isAmberError(error)) return error;
  const info = awsErrorInfo(error);
  const denied = info.name === 'AccessDeniedException' || info.name === 'AccessDenied' || info.status === 403;
  const hint = denied
    ? `the caller may not call ${call} on KMS key ${key}: both its IAM policy and the key policy must allow kms:GetPublicKey and kms:Sign on that key (the deployment allows its record-custody and run-detections roles only)`
    : (KEY_STATE_HINTS[info.name]?.(key) ?? awsHint(error, call, `KMS key ${key}`));
  return new CloudCallError(`${call} on KMS key ${key} failed: ${info.name}${info.status === undefined ? '' : ` (HTTP ${info.status})`}: ${info.message}`, call, isRetryable(error), { hint, cause: error });
}
