/**
 * The Ed25519 key file adapter of the Signer port: a PKCS#8 PEM private key the responder keeps outside the
 * locker (`amber keys init`), and the public-key helpers verify uses (node:crypto only).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { InvalidInputError } from '../errors.ts';
import type { Signer } from '../ports/signer.ts';
import { sha256Hex } from './hashing.ts';

/** SHA-256 (hex) of a public key's DER SubjectPublicKeyInfo. */
export function publicKeyFingerprint(key: KeyObject): string {
  return sha256Hex(key.export({ type: 'spki', format: 'der' }));
}

/** Reads an Ed25519 public key from SPKI PEM; undefined when it is not one. */
export function parseEd25519PublicKey(pem: string): KeyObject | undefined {
  // node:crypto would derive a public key from a private one: a private key is never accepted where a public one belongs.
  if (pem.includes('PRIVATE KEY')) return undefined;
  try {
    const key = createPublicKey(pem);
    return key.asymmetricKeyType === 'ed25519' ? key : undefined;
  } catch {
    return undefined;
  }
}

/** Checks an Ed25519 signature over exactly `data`. */
export function verifyEd25519(publicKey: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    return verify(null, data, publicKey, signature);
  } catch {
    return false;
  }
}

/** A signer over an Ed25519 private key held in memory. */
export class Ed25519KeySigner implements Signer {
  readonly algorithm = 'ed25519' as const;
  readonly publicKeyPem: string;
  readonly fingerprint: string;

  constructor(private readonly privateKey: KeyObject) {
    const publicKey = createPublicKey(privateKey);
    this.publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    this.fingerprint = publicKeyFingerprint(publicKey);
  }

  /** Reads a PKCS#8 PEM Ed25519 private key file; errors name the file, the cause and the fix. */
  static async fromFile(path: string): Promise<Ed25519KeySigner> {
    const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new InvalidInputError(`cannot read the signing key ${path}: ${error.code ?? error.message}`, {
        hint: 'pass --signing-key (or set AMBER_SIGNING_KEY to) the key file `amber keys init --out FILE` wrote',
      });
    });
    let key: KeyObject;
    try {
      key = createPrivateKey(text);
    } catch (error) {
      throw new InvalidInputError(`the signing key ${path} is not a PEM private key: ${(error as Error).message}`, {
        hint: 'use the file `amber keys init --out FILE` wrote (PKCS#8 PEM, "BEGIN PRIVATE KEY"), not its public key',
      });
    }
    if (key.asymmetricKeyType !== 'ed25519') {
      throw new InvalidInputError(`the signing key ${path} is a ${key.asymmetricKeyType ?? 'unknown'} key; Amber signs with Ed25519`, {
        hint: 'create one with `amber keys init --out FILE` (or `openssl genpkey -algorithm ed25519`)',
      });
    }
    return new Ed25519KeySigner(key);
  }

  /** A new random key pair, as PEM texts. */
  static generate(): { privateKeyPem: string; publicKeyPem: string; fingerprint: string } {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    return {
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      fingerprint: publicKeyFingerprint(publicKey),
    };
  }

  sign(data: Uint8Array): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(sign(null, data, this.privateKey)));
  }
}
