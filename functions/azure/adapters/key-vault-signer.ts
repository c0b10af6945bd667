/**
 * The Azure Key Vault adapter of the Signer port. Key Vault has no Ed25519: an EC key on P-256 (`EC` or
 * `EC-HSM`, operation `sign`) signs ES256, ECDSA over the SHA-256 of the message. Amber hashes the message
 * itself and sends Key Vault only the 32-byte digest, so any file can be signed in the file form (no seal
 * statement). Key Vault returns the signature as raw r||s (IEEE P1363); it is stored DER-encoded, the form
 * `openssl dgst -sha256 -verify` and node:crypto read, so a case signed in Azure verifies offline with the
 * public key the ledger records (shared/evidence/signature-algorithms.ts). The private key never leaves the
 * vault; the public key is read once (keys/get), and every signature is checked against it before it is stored.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import type { TokenCredential } from '@azure/core-auth';
import type { CryptographyClient, KeyClientOptions } from '@azure/keyvault-keys';
import { InvalidInputError, IntegrityError, isAmberError, type AmberError } from '../../../shared/errors.ts';
import { publicKeyFingerprint } from '../../../shared/evidence/key-file-signer.ts';
import { p1363ToDer, verifySignature } from '../../../shared/evidence/signature-algorithms.ts';
import { CloudCallError } from '../../../shared/preservation/errors.ts';
import type { Signer } from '../../../shared/ports/signer.ts';

const CREATE_HINT = 'create one with `az keyvault key create --vault-name VAULT --name amber-signing --kty EC-HSM --curve P-256 --ops sign verify` (the Terraform module in infra/azure creates one: its signing_key_id output)';

/** A Key Vault key as `https://<vault>.vault.azure.net/keys/<name>[/<version>]`, in parts. */
export interface KeyVaultKeyRef {
  readonly vaultUrl: string;
  readonly name: string;
  readonly version?: string;
}

/** Parses a Key Vault key identifier (the `akv:` prefix of the CLI removed); throws InvalidInputError naming the fix. */
export function parseKeyVaultKeyId(id: string): KeyVaultKeyRef {
  let url: URL;
  try {
    url = new URL(id.trim());
  } catch {
    throw badKeyId(id);
  }
  const parts = url.pathname.split('/').filter((p) => p !== '');
  if (url.protocol !== 'https:' || url.search !== '' || url.hash !== '' || parts[0] !== 'keys' || parts.length < 2 || parts.length > 3 || !parts.every((p) => /^[0-9A-Za-z-]+$/.test(p))) throw badKeyId(id);
  return { vaultUrl: `https://${url.host}`, name: parts[1]!, ...(parts[2] ? { version: parts[2] } : {}) };
}

function badKeyId(id: string): InvalidInputError {
  return new InvalidInputError(`${JSON.stringify(id)} is not a Key Vault key identifier`, {
    hint: 'use https://<vault>.vault.azure.net/keys/<name>[/<version>] (on the command line: --signing-key akv:https://...), e.g. the Terraform output signing_key_id',
  });
}

export interface KeyVaultSignerOptions {
  /** The key: `https://<vault>.vault.azure.net/keys/<name>[/<version>]`; without a version, the current one. */
  readonly keyId: string;
  /** Who signs: DefaultAzureCredential in the CLI, the function app's managed identity in Azure. */
  readonly credential: TokenCredential;
  /**
   * Options of both Key Vault clients (retries, serviceVersion).
   * @default the SDK's
   */
  readonly clientOptions?: KeyClientOptions;
}

/** A signer whose EC P-256 private key is kept in Azure Key Vault. */
export class KeyVaultSigner implements Signer {
  readonly algorithm = 'es256' as const;

  private constructor(
    private readonly crypto: CryptographyClient,
    /** The key's versioned identifier, as Key Vault names it: recorded in the ledger as where the key is kept. */
    readonly keyLocation: string,
    readonly publicKeyPem: string,
    readonly fingerprint: string,
    private readonly publicKey: KeyObject,
  ) {}

  /**
   * Reads the key (keys/get) and returns a signer over that version of it. A key that is not an enabled EC P-256
   * signing key is refused (InvalidInputError, exit 2); a missing or forbidden key is a CloudCallError naming
   * the key and the fix.
   */
  static async open(options: KeyVaultSignerOptions): Promise<KeyVaultSigner> {
    const ref = parseKeyVaultKeyId(options.keyId);
    const { KeyClient, CryptographyClient } = await import('@azure/keyvault-keys');
    const client = new KeyClient(ref.vaultUrl, options.credential, options.clientOptions);
    let key;
    try {
      key = await client.getKey(ref.name, ref.version ? { version: ref.version } : {});
    } catch (error) {
      throw keyVaultError(error, 'keys/get', options.keyId);
    }
    const jwk = key.key;
    const id = key.id ?? jwk?.kid ?? options.keyId;
    if (!jwk || (jwk.kty !== 'EC' && jwk.kty !== 'EC-HSM') || jwk.crv !== 'P-256' || !jwk.x || !jwk.y) {
      throw new InvalidInputError(`Key Vault key ${id} is a ${jwk?.kty ?? 'unknown'}${jwk?.crv ? ` ${jwk.crv}` : ''} key; Amber signs with ES256 and needs an EC key on P-256`, { hint: CREATE_HINT });
    }
    if (key.properties.enabled === false) {
      throw new InvalidInputError(`Key Vault key ${id} is disabled`, { hint: 'a key administrator enables it (az keyvault key set-attributes --enabled true); a case signed with it can only be extended with it' });
    }
    if (jwk.keyOps && !jwk.keyOps.includes('sign')) {
      throw new InvalidInputError(`Key Vault key ${id} does not allow the sign operation (it allows ${jwk.keyOps.join(', ') || 'none'})`, { hint: CREATE_HINT });
    }
    let publicKey: KeyObject;
    try {
      publicKey = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: Buffer.from(jwk.x).toString('base64url'), y: Buffer.from(jwk.y).toString('base64url') }, format: 'jwk' });
    } catch (error) {
      throw new IntegrityError(`Key Vault returned a public key for ${id} that is not a point on P-256: ${(error as Error).message}`, { hint: 'run again; if it persists, report it with the key identifier', cause: error });
    }
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    // Built over the key read, not its name: every signature is made with the version whose public key the ledger records.
    const crypto = new CryptographyClient(key, options.credential, options.clientOptions);
    return new KeyVaultSigner(crypto, id, pem, publicKeyFingerprint(publicKey), publicKey);
  }

  /** Signs `data` with ES256 (Key Vault signs its SHA-256); returns the DER signature, checked against the public key first. */
  async sign(data: Uint8Array): Promise<Uint8Array> {
    const digest = createHash('sha256').update(data).digest();
    let raw: Uint8Array;
    try {
      raw = (await this.crypto.sign('ES256', digest)).result;
    } catch (error) {
      throw keyVaultError(error, 'keys/sign', this.keyLocation);
    }
    let der: Uint8Array | undefined;
    try {
      der = raw.length === 64 ? p1363ToDer(raw) : undefined;
    } catch {
      der = undefined;
    }
    if (!der || !verifySignature('es256', this.publicKey, data, der)) {
      throw new IntegrityError(`Key Vault key ${this.keyLocation} returned a signature that does not verify under its own public key (${this.fingerprint}); nothing was stored`, {
        hint: 'run again; if it persists, report it with the key identifier',
      });
    }
    return der;
  }
}

/**
 * A signer opened on first use and kept (a function's module scope cannot await): one keys/get per instance.
 * A failed open is not kept, so the next invocation tries again.
 */
export function lazyKeyVaultSigner(options: KeyVaultSignerOptions): () => Promise<KeyVaultSigner> {
  let opening: Promise<KeyVaultSigner> | undefined;
  return () => {
    opening ??= KeyVaultSigner.open(options).catch((error: unknown) => {
      opening = undefined;
      throw error;
    });
    return opening;
  };
}

/** An error of a Key Vault call as a CloudCallError naming the key, and what to do. */
function keyVaultError(error: unknown, call: string, key: string): AmberError {
  if (isAmberError(error)) return error;
  const e = error as { statusCode?: number; code?: string; message?: string; name?: string };
  const status = e.statusCode;
  const hint =
    status === 403
      ? `the identity may not call ${call} on ${key}: grant it the "Key Vault Crypto User" role on that key (the Terraform module grants the function app's identity a role with keys/read and keys/sign/action on it only)`
      : status === 404
        ? `no key ${key}: check the vault name, the key name and its version (a vault with purge protection keeps a deleted key recoverable: az keyvault key recover)`
        : status === 401
          ? 'the credential could not sign in to Key Vault: run `az login` (or set the AZURE_* variables DefaultAzureCredential reads)'
          : status === 429 || (status !== undefined && status >= 500)
            ? 'Key Vault is throttling or unavailable: run again in a minute'
            : 'check the key identifier and that the vault is reachable from here (its firewall may allow selected networks only)';
  const retryable = status === 429 || (status !== undefined && status >= 500) || status === undefined;
  return new CloudCallError(`Key Vault ${call} on ${key} failed: ${e.code ?? e.name ?? 'error'}${status === undefined ? '' : ` (HTTP ${status})`}: ${e.message ?? String(error)}`, `keyvault:${call}`, retryable, { hint, cause: error });
}
