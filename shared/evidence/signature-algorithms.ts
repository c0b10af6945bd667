/**
 * The signature algorithms Amber records and checks, and how each is checked with node:crypto alone (verify
 * needs only the public key the ledger records):
 *
 * - `ed25519`: pure Ed25519 (RFC 8032) over the message itself; the signature is the raw 64 bytes. Key files
 *   (`amber keys init`) and AWS KMS (ED25519_SHA_512, MessageType RAW) sign this way.
 * - `es256`: ECDSA on NIST P-256 over the message's SHA-256 (RFC 7518 ES256); the signature is stored DER-encoded
 *   (an ASN.1 ECDSA-Sig-Value, what `openssl dgst -sha256 -verify` reads). Azure Key Vault has no Ed25519 and
 *   returns ES256 signatures as raw r||s (IEEE P1363): its adapter converts them to DER before they are stored.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';

/** Signature algorithms Amber records and checks. */
export type SignatureAlgorithm = 'ed25519' | 'es256';

/** Every algorithm verify accepts, in the order messages list them. */
export const SIGNATURE_ALGORITHMS: readonly SignatureAlgorithm[] = ['ed25519', 'es256'];

/** Whether `value` names an algorithm Amber checks. */
export function isSignatureAlgorithm(value: unknown): value is SignatureAlgorithm {
  return typeof value === 'string' && (SIGNATURE_ALGORITHMS as readonly string[]).includes(value);
}

/** The algorithm a public key signs with (Ed25519, or an EC key on P-256), else undefined. */
export function algorithmOfKey(key: KeyObject): SignatureAlgorithm | undefined {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'es256';
  return undefined;
}

/** Reads a signing public key (SPKI PEM: Ed25519 or EC P-256); undefined when it is neither, or is a private key. */
export function parseSigningPublicKey(pem: string): { key: KeyObject; algorithm: SignatureAlgorithm } | undefined {
  // node:crypto would derive a public key from a private one: a private key is never accepted where a public one belongs.
  if (pem.includes('PRIVATE KEY')) return undefined;
  try {
    const key = createPublicKey(pem);
    const algorithm = algorithmOfKey(key);
    return algorithm ? { key, algorithm } : undefined;
  } catch {
    return undefined;
  }
}

/** Checks `signature` (as Amber stores it: raw Ed25519, DER ECDSA) over exactly `data` with `algorithm`. */
export function verifySignature(algorithm: SignatureAlgorithm, publicKey: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  if (algorithmOfKey(publicKey) !== algorithm) return false;
  try {
    return algorithm === 'ed25519' ? verify(null, data, publicKey, signature) : verify('sha256', data, { key: publicKey, dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
}

/**
 * An ECDSA signature given as raw r||s (IEEE P1363: each integer big-endian, left-padded to the curve's size) as
 * DER (SEQUENCE { INTEGER r, INTEGER s }). Throws on a length that is not even or an all-zero integer.
 */
export function p1363ToDer(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2 !== 0 || raw.length > 132) throw new Error(`an ECDSA signature of ${raw.length} bytes is not r||s of one curve size`);
  const half = raw.length / 2;
  const integer = (bytes: Uint8Array): Buffer => {
    let start = 0;
    while (start < bytes.length - 1 && bytes[start] === 0) start += 1;
    let body = Buffer.from(bytes.subarray(start));
    if (body.length === 1 && body[0] === 0) throw new Error('an ECDSA signature integer is zero');
    // DER integers are signed: a high first bit needs a leading zero byte.
    if (body[0]! & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
    return Buffer.concat([Buffer.from([0x02, body.length]), body]);
  };
  const content = Buffer.concat([integer(raw.subarray(0, half)), integer(raw.subarray(half))]);
  // P-256 to P-521 signatures: content under 128 bytes takes a one-byte length, else the 0x81 long form.
  const length = content.length < 0x80 ? Buffer.from([content.length]) : Buffer.from([0x81, content.length]);
  return new Uint8Array(Buffer.concat([Buffer.from([0x30]), length, content]));
}
