/**
 * Signatures over Amber's own bookkeeping. Once a case's ledger records a public key (a `keyed` entry),
 * every manifest sealed and every checkpoint written after that entry has a detached, write-once signature
 * object at `_amber/signatures/<manifests|checkpoints>/<name>.sig.json`. What is signed is the exact bytes
 * of the file (pure Ed25519), so a third party can check one with
 * `openssl pkeyutl -verify -pubin -inkey amber.pub -rawin -in <file> -sigfile <signature, base64-decoded>`.
 * A checkpoint names the ledger head and the previous checkpoint's hash, so its signature covers the whole
 * chain up to that head: rewriting the ledger consistently needs the private key.
 */
import { IntegrityError, InvalidInputError } from '../errors.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { Signer } from '../ports/signer.ts';
import { canonicalJson } from './canonical-json.ts';
import { sha256Hex } from './hashing.ts';
import { parseEd25519PublicKey, publicKeyFingerprint, verifyEd25519 } from './key-file-signer.ts';
import type { LedgerEntry } from './model.ts';
import { amberPrefix } from './names.ts';

/** Where signature objects of a case live (bookkeeping, not evidence). */
export function signaturesPrefix(caseName: string): string {
  return `${amberPrefix(caseName)}signatures/`;
}

/** The signature object of a manifest or checkpoint key (`_amber/manifests/0000000005.json` → `_amber/signatures/manifests/0000000005.sig.json`). */
export function signatureKey(caseName: string, signedKey: string): string {
  const amber = amberPrefix(caseName);
  const rel = signedKey.startsWith(amber) ? signedKey.slice(amber.length) : signedKey;
  return `${signaturesPrefix(caseName)}${rel.replace(/\.json$/, '')}.sig.json`;
}

/** A signature object as stored. */
export interface SignatureRecord {
  readonly algorithm: 'ed25519';
  /** Fingerprint of the key that signed (SHA-256 of its DER SubjectPublicKeyInfo). */
  readonly keyFingerprint: string;
  /** The key of the signed file, and the SHA-256 of its exact bytes. */
  readonly signed: string;
  readonly signedSha256: string;
  /** Base64 of the raw 64-byte Ed25519 signature over the file's exact bytes. */
  readonly signature: string;
}

/** The key a case's ledger records, and the entry that records it. */
export interface RecordedKey {
  readonly seq: number;
  readonly algorithm: string;
  readonly publicKeyPem: string;
  readonly fingerprint: string;
}

/** The detail of the `keyed` entry that records a signer's public key. */
export function keyedDetail(signer: Signer): Record<string, unknown> {
  return { algorithm: signer.algorithm, publicKeyPem: signer.publicKeyPem, fingerprint: signer.fingerprint };
}

/** Every `keyed` entry of a ledger, in order (the first one is the case's key; rotation is not supported). */
export function recordedKeys(entries: readonly LedgerEntry[]): RecordedKey[] {
  return entries
    .filter((e) => e.action === 'keyed')
    .map((e) => {
      const d = (e.detail ?? {}) as { algorithm?: unknown; publicKeyPem?: unknown; fingerprint?: unknown };
      return {
        seq: e.seq,
        algorithm: typeof d.algorithm === 'string' ? d.algorithm : '',
        publicKeyPem: typeof d.publicKeyPem === 'string' ? d.publicKeyPem : '',
        fingerprint: typeof d.fingerprint === 'string' ? d.fingerprint : '',
      };
    });
}

/**
 * Throws before anything is written when a signer does not fit the case: a keyed case needs its key
 * (InvalidInputError, exit 2, naming the flag and variable), and another key is refused (no rotation).
 */
export function assertSignerFits(caseName: string, recorded: RecordedKey | undefined, signer: Signer | undefined): void {
  if (!recorded) return;
  if (!signer) {
    throw new InvalidInputError(`case ${caseName} is signed (ledger entry ${recorded.seq} records key ${recorded.fingerprint}): every seal and checkpoint written to it must be signed, and no signing key was given`, {
      hint: 'pass --signing-key FILE or set AMBER_SIGNING_KEY to the key file that signs this case; without it, `amber verify` can still check the case (its result is then not recorded)',
    });
  }
  if (signer.fingerprint !== recorded.fingerprint) {
    throw new InvalidInputError(`case ${caseName} is signed with key ${recorded.fingerprint} (ledger entry ${recorded.seq}); the signing key given is ${signer.fingerprint}`, {
      hint: 'pass the key file this case was signed with (--signing-key or AMBER_SIGNING_KEY); a case keeps one key: rotating keys is not supported',
    });
  }
}

/** Signs a file's exact bytes and stores the signature object write-once; returns its key. */
export async function writeSignature(store: ObjectStore, caseName: string, signer: Signer, signedKey: string, bytes: Uint8Array): Promise<string> {
  const record: SignatureRecord = {
    algorithm: signer.algorithm,
    keyFingerprint: signer.fingerprint,
    signed: signedKey,
    signedSha256: sha256Hex(bytes),
    signature: Buffer.from(await signer.sign(bytes)).toString('base64'),
  };
  const key = signatureKey(caseName, signedKey);
  await store.putImmutable(key, Buffer.from(`${canonicalJson(record)}\n`), { mediaType: 'application/json' });
  return key;
}

/** One signature as verify found it. */
export interface SignatureCheck {
  /** The signed manifest or checkpoint. */
  readonly signed: string;
  readonly signature: string;
  readonly ok: boolean;
  readonly kind?: 'signature-missing' | 'signature-invalid' | 'signature-key-mismatch';
  readonly reason?: string;
}

/** Checks the signature object of `signedKey` (whose stored text is `text`) against the recorded key. */
export async function checkSignature(store: ObjectStore, caseName: string, recorded: RecordedKey, signedKey: string, text: string): Promise<SignatureCheck> {
  const key = signatureKey(caseName, signedKey);
  const base = { signed: signedKey, signature: key };
  const raw = await store.readText(key);
  if (raw === undefined) {
    return { ...base, ok: false, kind: 'signature-missing', reason: `${signedKey} was written after the case was keyed (ledger entry ${recorded.seq}) and has no signature ${key}: it was removed, or the file was written without the key` };
  }
  let record: Partial<SignatureRecord>;
  try {
    record = JSON.parse(raw) as Partial<SignatureRecord>;
  } catch {
    return { ...base, ok: false, kind: 'signature-invalid', reason: `signature ${key} is not readable JSON` };
  }
  if (record.keyFingerprint !== recorded.fingerprint) {
    return { ...base, ok: false, kind: 'signature-key-mismatch', reason: `${signedKey} is signed by key ${String(record.keyFingerprint)}, not by the key the ledger records (${recorded.fingerprint}, entry ${recorded.seq})` };
  }
  const publicKey = parseEd25519PublicKey(recorded.publicKeyPem);
  const bytes = Buffer.from(text, 'utf8');
  const signature = typeof record.signature === 'string' ? Buffer.from(record.signature, 'base64') : Buffer.alloc(0);
  if (!publicKey || !verifyEd25519(publicKey, bytes, signature)) {
    return { ...base, ok: false, kind: 'signature-invalid', reason: `the signature in ${key} does not match ${signedKey} as stored (sha256 ${sha256Hex(bytes)}): the file or its signature was changed` };
  }
  return { ...base, ok: true };
}

/** Why a recorded key cannot be trusted as recorded (unreadable, or a fingerprint that is not its own); undefined when sound. */
export function recordedKeyProblem(recorded: RecordedKey): string | undefined {
  if (recorded.algorithm !== 'ed25519') return `ledger entry ${recorded.seq} records a key of algorithm ${JSON.stringify(recorded.algorithm)}; Amber checks ed25519`;
  const key = parseEd25519PublicKey(recorded.publicKeyPem);
  if (!key) return `ledger entry ${recorded.seq} records a public key that is not a readable Ed25519 SPKI PEM`;
  const actual = publicKeyFingerprint(key);
  if (actual !== recorded.fingerprint) return `ledger entry ${recorded.seq} records fingerprint ${recorded.fingerprint}, but its public key's fingerprint is ${actual}`;
  return undefined;
}

/** Thrown when a write to a keyed case would go unsigned (a bug or a misuse of the ledger API). */
export function unsignedWrite(caseName: string, what: string): IntegrityError {
  return new IntegrityError(`case ${caseName} is signed, and ${what} would be written without a signature`, {
    hint: 'pass --signing-key FILE or set AMBER_SIGNING_KEY to the key file that signs this case',
  });
}
