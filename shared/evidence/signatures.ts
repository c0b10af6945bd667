/**
 * Signatures over Amber's own bookkeeping. Once a case's ledger records a public key (a `keyed` entry),
 * every manifest sealed and every checkpoint written after that entry has a detached, write-once signature
 * object at `_amber/signatures/<manifests|checkpoints>/<name>.sig.json` (a `SignatureRecord`).
 * A checkpoint names the ledger head and the previous checkpoint's hash, so its signature covers the whole
 * chain up to that head: rewriting the ledger consistently needs the private key.
 *
 * What is signed: one of two forms, told apart by the record's `statement` field, under the key the ledger
 * records, with the record's `algorithm` (shared/evidence/signature-algorithms.ts): `ed25519`, pure Ed25519
 * (RFC 8032; AWS KMS calls it ED25519_SHA_512 with MessageType RAW), or `es256`, ECDSA P-256 over SHA-256 with
 * a DER signature (an Azure Key Vault EC key). The commands below are for Ed25519; for ES256 the check of the
 * same bytes is `openssl dgst -sha256 -verify amber.pub -signature sig.der <file or statement>`.
 *
 * - File form (no `statement`; key-file signers): the signature is over the signed file's exact bytes.
 *     openssl pkeyutl -verify -pubin -inkey amber.pub -rawin -in <file> -sigfile sig.bin
 *   where sig.bin is the record's `signature`, base64-decoded (`jq -r .signature X.sig.json | base64 -d`).
 *
 * - Statement form (`statement` present; signers with a message limit, such as AWS KMS, which signs at most
 *   4096 bytes while a manifest is larger): the signature is over the UTF-8 bytes of a seal statement, stored
 *   verbatim in `statement`: the canonical JSON (keys sorted, no whitespace, no trailing newline) of
 *     {"algorithm":"ed25519","keyFingerprint":"<hex>","sha256":"<hex of the file's exact bytes>",
 *      "signed":"<key of the signed file>","type":"amber-seal-statement/1"}
 *   The statement binds the signature to the file through its SHA-256. To check one with standard tools:
 *     jq -j .statement X.sig.json > statement
 *     jq -r .signature X.sig.json | base64 -d > sig.bin
 *     openssl pkeyutl -verify -pubin -inkey amber.pub -rawin -in statement -sigfile sig.bin
 *     sha256sum <file>      # must equal the statement's "sha256"
 *   and the statement's "signed" must name that file.
 *
 * Verify accepts both forms for any key, so cases signed before the statement form existed still verify.
  */
import { IntegrityError, InvalidInputError } from '../errors.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { Signer } from '../ports/signer.ts';
import { canonicalJson } from './canonical-json.ts';
import { sha256Hex } from './hashing.ts';
import { publicKeyFingerprint } from './key-file-signer.ts';
import { isSignatureAlgorithm, parseSigningPublicKey, SIGNATURE_ALGORITHMS, verifySignature, type SignatureAlgorithm } from './signature-algorithms.ts';
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

/** A signature object as stored (one canonical JSON line). */
export interface SignatureRecord {
  readonly algorithm: SignatureAlgorithm;
  /** Fingerprint of the key that signed (SHA-256 of its DER SubjectPublicKeyInfo). */
  readonly keyFingerprint: string;
  /** The key of the signed file, and the SHA-256 of its exact bytes. */
  readonly signed: string;
  readonly signedSha256: string;
  /**
   * Base64 of the signature (Ed25519: the raw 64 bytes; ES256: DER): over `statement`'s UTF-8 bytes when there
   * is one, else over the file's exact bytes.
   */
  readonly signature: string;
  /** The seal statement that was signed (statement form, see above); absent in the file form. */
  readonly statement?: string;
}

/** The `type` of a seal statement; a later format gets another. */
export const SEAL_STATEMENT_TYPE = 'amber-seal-statement/1';

/** The fields of a seal statement (its text is their canonical JSON). */
export interface SealStatement {
  readonly type: typeof SEAL_STATEMENT_TYPE;
  readonly algorithm: SignatureAlgorithm;
  readonly keyFingerprint: string;
  /** The key of the signed file. */
  readonly signed: string;
  /** SHA-256 (hex) of the signed file's exact bytes. */
  readonly sha256: string;
}

/** The exact text a statement-form signer signs for one file. */
export function sealStatement(keyFingerprint: string, signedKey: string, sha256: string, algorithm: SignatureAlgorithm = 'ed25519'): string {
  const statement: SealStatement = { type: SEAL_STATEMENT_TYPE, algorithm, keyFingerprint, signed: signedKey, sha256 };
  return canonicalJson(statement);
}

/**
 * Why a stored statement does not vouch for `signedKey` with these bytes under this key (undefined: it does).
 * Its signature is checked separately; this checks what it says.
 */
export function statementProblem(statement: string, signedKey: string, sha256: string, keyFingerprint: string, algorithm: SignatureAlgorithm = 'ed25519'): string | undefined {
  let parsed: Partial<SealStatement>;
  try {
    parsed = JSON.parse(statement) as Partial<SealStatement>;
  } catch {
    return 'its statement is not readable JSON';
  }
  if (typeof parsed !== 'object' || parsed === null || canonicalJson(parsed) !== statement) return 'its statement is not in canonical form';
  if (parsed.type !== SEAL_STATEMENT_TYPE) return `its statement is of type ${JSON.stringify(parsed.type)}, not ${SEAL_STATEMENT_TYPE}`;
  if (parsed.algorithm !== algorithm) return `its statement names algorithm ${JSON.stringify(parsed.algorithm)}, not ${algorithm}`;
  if (parsed.keyFingerprint !== keyFingerprint) return `its statement names key ${String(parsed.keyFingerprint)}, not ${keyFingerprint}`;
  if (parsed.signed !== signedKey) return `its statement was signed for ${JSON.stringify(parsed.signed)}, not for ${signedKey}`;
  if (parsed.sha256 !== sha256) return `its statement records sha256 ${String(parsed.sha256)}, and ${signedKey} as stored has sha256 ${sha256}: the file was changed after it was signed`;
  const keys = Object.keys(parsed).sort().join();
  if (keys !== 'algorithm,keyFingerprint,sha256,signed,type') return `its statement holds other fields (${keys})`;
  return undefined;
}

/** The key a case's ledger records, and the entry that records it. */
export interface RecordedKey {
  readonly seq: number;
  readonly algorithm: string;
  readonly publicKeyPem: string;
  readonly fingerprint: string;
  /** Where the ledger says the private key is kept (a KMS key ARN), when it says. */
  readonly keyLocation?: string;
}

/** The detail of the `keyed` entry that records a signer's public key. */
export function keyedDetail(signer: Signer): Record<string, unknown> {
  return {
    algorithm: signer.algorithm,
    publicKeyPem: signer.publicKeyPem,
    fingerprint: signer.fingerprint,
    ...(signer.keyLocation ? { keyLocation: signer.keyLocation } : {}),
  };
}

/** Every `keyed` entry of a ledger, in order (the first one is the case's key; rotation is not supported). */
export function recordedKeys(entries: readonly LedgerEntry[]): RecordedKey[] {
  return entries
    .filter((e) => e.action === 'keyed')
    .map((e) => {
      const d = (e.detail ?? {}) as { algorithm?: unknown; publicKeyPem?: unknown; fingerprint?: unknown; keyLocation?: unknown };
      return {
        seq: e.seq,
        algorithm: typeof d.algorithm === 'string' ? d.algorithm : '',
        publicKeyPem: typeof d.publicKeyPem === 'string' ? d.publicKeyPem : '',
        fingerprint: typeof d.fingerprint === 'string' ? d.fingerprint : '',
        ...(typeof d.keyLocation === 'string' && d.keyLocation !== '' ? { keyLocation: d.keyLocation } : {}),
      };
    });
}

/**
 * Throws before anything is written when a signer does not fit the case: a keyed case needs its key
 * (InvalidInputError, exit 2, naming the flag and variable), and another key is refused (no rotation).
 */
export function assertSignerFits(caseName: string, recorded: RecordedKey | undefined, signer: Signer | undefined): void {
  if (!recorded) return;
  // A KMS-kept key is named by the ledger (never a key file's path): say how to pass it.
  // A Key Vault key is named by its https identifier (akv:), a KMS key by its ARN (kms:).
  const scheme = recorded.keyLocation?.startsWith('https://') ? 'akv' : 'kms';
  const where = recorded.keyLocation ? `; the ledger says this case's key is kept in ${recorded.keyLocation} (--signing-key ${scheme}:${recorded.keyLocation})` : '';
  if (!signer) {
    throw new InvalidInputError(`case ${caseName} is signed (ledger entry ${recorded.seq} records key ${recorded.fingerprint}): every seal and checkpoint written to it must be signed, and no signing key was given`, {
      hint: `pass --signing-key FILE or set AMBER_SIGNING_KEY to the key file that signs this case${where}; without it, \`amber verify\` can still check the case (its result is then not recorded)`,
    });
  }
  if (signer.fingerprint !== recorded.fingerprint) {
    throw new InvalidInputError(`case ${caseName} is signed with key ${recorded.fingerprint} (ledger entry ${recorded.seq}); the signing key given is ${signer.fingerprint}`, {
      hint: `pass the key this case was signed with (--signing-key or AMBER_SIGNING_KEY)${where}; a case keeps one key: rotating keys is not supported`,
    });
  }
}

/**
 * Signs a file (its exact bytes, or, for a signer with a message limit, its seal statement) and stores the
 * signature object write-once; returns its key.
 */
export async function writeSignature(store: ObjectStore, caseName: string, signer: Signer, signedKey: string, bytes: Uint8Array): Promise<string> {
  const signedSha256 = sha256Hex(bytes);
  const statement = signer.maxMessageBytes === undefined ? undefined : sealStatement(signer.fingerprint, signedKey, signedSha256, signer.algorithm);
  if (statement !== undefined && Buffer.byteLength(statement) > signer.maxMessageBytes!) {
    throw new InvalidInputError(`the seal statement of ${signedKey} is ${Buffer.byteLength(statement)} bytes, and the signing key signs at most ${signer.maxMessageBytes}`, {
      hint: 'use a shorter case name, or sign with a key file (amber keys init)',
    });
  }
  const message = statement === undefined ? bytes : Buffer.from(statement, 'utf8');
  const record: SignatureRecord = {
    algorithm: signer.algorithm,
    keyFingerprint: signer.fingerprint,
    signed: signedKey,
    signedSha256,
    signature: Buffer.from(await signer.sign(message)).toString('base64'),
    ...(statement === undefined ? {} : { statement }),
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
  // The record's algorithm must be the recorded key's: a signature never chooses how it is checked.
  const parsedKey = parseSigningPublicKey(recorded.publicKeyPem);
  if (!parsedKey || record.algorithm !== parsedKey.algorithm) {
    return { ...base, ok: false, kind: 'signature-invalid', reason: `signature ${key} names algorithm ${JSON.stringify(record.algorithm)}, and the key the ledger records signs with ${parsedKey?.algorithm ?? 'no algorithm Amber checks'}` };
  }
  const { key: publicKey, algorithm } = parsedKey;
  const bytes = Buffer.from(text, 'utf8');
  const signature = typeof record.signature === 'string' ? Buffer.from(record.signature, 'base64') : Buffer.alloc(0);
  if (record.statement !== undefined) {
    // Statement form: the signature must be the key's over the statement, and the statement must name this file as stored.
    if (typeof record.statement !== 'string' || !verifySignature(algorithm, publicKey, Buffer.from(record.statement, 'utf8'), signature)) {
      return { ...base, ok: false, kind: 'signature-invalid', reason: `the signature in ${key} does not match its seal statement: the statement or its signature was changed` };
    }
    const problem = statementProblem(record.statement, signedKey, sha256Hex(bytes), recorded.fingerprint, algorithm);
    if (problem) return { ...base, ok: false, kind: 'signature-invalid', reason: `the signature in ${key} does not vouch for ${signedKey}: ${problem}` };
    return { ...base, ok: true };
  }
  if (!verifySignature(algorithm, publicKey, bytes, signature)) {
    return { ...base, ok: false, kind: 'signature-invalid', reason: `the signature in ${key} does not match ${signedKey} as stored (sha256 ${sha256Hex(bytes)}): the file or its signature was changed` };
  }
  return { ...base, ok: true };
}

/** Why a recorded key cannot be trusted as recorded (unreadable, or a fingerprint that is not its own); undefined when sound. */
export function recordedKeyProblem(recorded: RecordedKey): string | undefined {
  if (!isSignatureAlgorithm(recorded.algorithm)) return `ledger entry ${recorded.seq} records a key of algorithm ${JSON.stringify(recorded.algorithm)}; Amber checks ${SIGNATURE_ALGORITHMS.join(' and ')}`;
  const parsed = parseSigningPublicKey(recorded.publicKeyPem);
  if (!parsed) return `ledger entry ${recorded.seq} records a public key that is not a readable Ed25519 or EC P-256 SPKI PEM`;
  if (parsed.algorithm !== recorded.algorithm) return `ledger entry ${recorded.seq} records algorithm ${recorded.algorithm} with a key that signs with ${parsed.algorithm}`;
  const actual = publicKeyFingerprint(parsed.key);
  if (actual !== recorded.fingerprint) return `ledger entry ${recorded.seq} records fingerprint ${recorded.fingerprint}, but its public key's fingerprint is ${actual}`;
  return undefined;
}

/** Thrown when a write to a keyed case would go unsigned (a bug or a misuse of the ledger API). */
export function unsignedWrite(caseName: string, what: string): IntegrityError {
  return new IntegrityError(`case ${caseName} is signed, and ${what} would be written without a signature`, {
    hint: 'pass --signing-key FILE or set AMBER_SIGNING_KEY to the key file that signs this case',
  });
}
