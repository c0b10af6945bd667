/**
 * Trusted timestamps on seals. A signed case whose writer has a timestamp authority (`--tsa-url`) records it
 * once in a `timestamped` ledger entry (after `keyed`); from that entry on, every checkpoint and every sealed
 * manifest gets an RFC 3161 token, stored write-once as DER at
 * `_amber/timestamps/<manifests|checkpoints>/<name>.tst`, next to its signature.
 *
 * What is stamped is the SHA-256 of the signed file's exact bytes, the same bytes the Ed25519 signature covers,
 * rather than of the signature: anyone can check a token with openssl alone and no decoding step
 * (`openssl ts -verify -in X.tst -token_in -data <manifest or checkpoint> -CAfile tsa-ca.pem`), the token stays
 * meaningful whatever signature scheme signs the file, and a token over the file dates its content as strongly:
 * content written later (by whoever holds the key) cannot get an earlier genTime.
 *
 * The `timestamped` entry is what lets verify tell a removed token from one never asked for: from it on, a
 * checkpoint or seal without its token is `timestamp-missing`. A writer without a timestamp authority is then
 * refused on that case (exit 2), as a writer without the key is on a keyed case.
 */
import type { Readable } from 'node:stream';
import { InvalidInputError, ObjectNotFoundError, WriteOnceViolationError } from '../errors.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { Signer } from '../ports/signer.ts';
import { timestamperOf, type Timestamper } from '../ports/timestamper.ts';
import { sha256Hex } from './hashing.ts';
import type { LedgerEntry } from './model.ts';
import { amberPrefix } from './names.ts';
// rfc3161.ts (and PKI.js, about half a second to load) is imported only where a token is made or read.
import type { TokenCheck } from './rfc3161.ts';
import type * as pkijs from 'pkijs';

/** Where timestamp tokens of a case live (bookkeeping, not evidence). */
export function timestampsPrefix(caseName: string): string {
  return `${amberPrefix(caseName)}timestamps/`;
}

/** The token of a manifest or checkpoint key (`_amber/checkpoints/0000000005.json` → `_amber/timestamps/checkpoints/0000000005.tst`). */
export function timestampKey(caseName: string, signedKey: string): string {
  const amber = amberPrefix(caseName);
  const rel = signedKey.startsWith(amber) ? signedKey.slice(amber.length) : signedKey;
  return `${timestampsPrefix(caseName)}${rel.replace(/\.json$/, '')}.tst`;
}

/** The `timestamped` entry of a case: from its seq on, every seal and checkpoint carries a token. */
export interface TimestampRequirement {
  readonly seq: number;
  /** The TSA the case was put under (recorded; a later writer may use another one). */
  readonly tsa: string;
}

/** The first `timestamped` entry of a ledger, if any. */
export function timestampRequirement(entries: readonly LedgerEntry[]): TimestampRequirement | undefined {
  const entry = entries.find((e) => e.action === 'timestamped');
  if (!entry) return undefined;
  const tsa = (entry.detail as { tsa?: unknown } | undefined)?.tsa;
  return { seq: entry.seq, tsa: typeof tsa === 'string' ? tsa : '' };
}

/** The detail of the `timestamped` entry. */
export function timestampedDetail(timestamper: Timestamper): Record<string, unknown> {
  return {
    tsa: timestamper.url,
    standard: 'RFC 3161',
    imprint: 'sha256 of the exact bytes of each checkpoint and sealed manifest from this entry on',
    tokens: '_amber/timestamps/<manifests|checkpoints>/<name>.tst (DER TimeStampToken)',
  };
}

/** Refuses (exit 2, before anything is written) a writer without a timestamp authority on a case that requires tokens. */
export function assertTimestamperFits(caseName: string, required: TimestampRequirement | undefined, signer: Signer | undefined): void {
  if (!required || timestamperOf(signer)) return;
  throw new InvalidInputError(`case ${caseName} is timestamped (ledger entry ${required.seq}, TSA ${required.tsa}): every seal and checkpoint written to it needs an RFC 3161 token, and no timestamp authority was given`, {
    hint: `pass --tsa-url URL or set AMBER_TSA_URL (this case used ${required.tsa}); without it, \`amber verify\` can still check the case (its result is then not recorded)`,
  });
}

/**
 * Asks the TSA for a token over the SHA-256 of `bytes` and stores it write-once beside the signature. A token
 * already stored for these exact bytes (a retried write) is kept. Errors name the file and the TSA.
 */
export async function writeTimestamp(store: ObjectStore, caseName: string, timestamper: Timestamper, signedKey: string, bytes: Uint8Array): Promise<string> {
  const key = timestampKey(caseName, signedKey);
  let token: Uint8Array;
  try {
    token = await timestamper.timestamp(Buffer.from(sha256Hex(bytes), 'hex'));
  } catch (error) {
    const e = error as Error & { hint?: string };
    const { TimestampAuthorityError } = await import('./rfc3161.ts');
    throw new TimestampAuthorityError(timestamper.url, `${signedKey} could not be timestamped: ${e.message}. Everything preserved so far stays preserved and recorded in the ledger; this seal or checkpoint is not complete until it has its token`, {
      hint: `${e.hint ? `${e.hint}; then ` : ''}run \`amber recover --case ${caseName}\` with the signing key and a working --tsa-url (or the same command again)`,
      cause: error,
    });
  }
  try {
    await store.putImmutable(key, token, { mediaType: 'application/timestamp-reply' });
  } catch (error) {
    if (!(error instanceof WriteOnceViolationError)) throw error;
    const existing = await readBytes(store, key);
    const { checkToken } = await import('./rfc3161.ts');
    if (!existing || !(await checkToken(existing, bytes)).ok) throw error;
  }
  return key;
}

/** One token as verify found it. */
export interface TimestampCheck {
  /** The stamped manifest or checkpoint, and its token. */
  readonly signed: string;
  readonly token: string;
  readonly ok: boolean;
  readonly kind?: 'timestamp-missing' | 'timestamp-invalid' | 'timestamp-untrusted';
  readonly reason?: string;
  /** The time the TSA states (genTime), ISO-8601 UTC. */
  readonly genTime?: string;
  readonly tsa?: string;
  readonly serial?: string;
  /** True when the TSA certificate was checked against the trust anchors given (--tsa-ca). */
  readonly chainChecked: boolean;
}

/** Checks the token of `signedKey` (stored bytes `bytes`); `required` says a missing token is a failure. */
export async function checkTimestamp(
  store: ObjectStore,
  caseName: string,
  signedKey: string,
  bytes: Uint8Array,
  required: boolean,
  trustAnchors: readonly pkijs.Certificate[],
): Promise<TimestampCheck | undefined> {
  const key = timestampKey(caseName, signedKey);
  const base = { signed: signedKey, token: key };
  const der = await readBytes(store, key);
  if (der === undefined) {
    return required
      ? { ...base, ok: false, kind: 'timestamp-missing', reason: `${signedKey} was written after the case was put under timestamps and has no token ${key}: it was removed, or the file was written without a timestamp authority`, chainChecked: false }
      : undefined;
  }
  const { checkToken } = await import('./rfc3161.ts');
  const found: TokenCheck = await checkToken(der, bytes, trustAnchors);
  const facts = {
    ...(found.genTime ? { genTime: found.genTime } : {}),
    ...(found.tsa ? { tsa: found.tsa } : {}),
    ...(found.serial ? { serial: found.serial } : {}),
    chainChecked: found.chainChecked,
  };
  if (found.ok) return { ...base, ...facts, ok: true };
  const kind = found.problem === 'untrusted' ? 'timestamp-untrusted' : 'timestamp-invalid';
  return { ...base, ...facts, ok: false, kind, reason: `token ${key} does not hold for ${signedKey}: ${found.reason ?? 'unknown reason'}` };
}

/** An object's bytes, or undefined when the store does not hold it. */
export async function readBytes(store: ObjectStore, key: string): Promise<Uint8Array | undefined> {
  let stream: Readable;
  try {
    stream = await store.get(key);
  } catch (error) {
    if (error instanceof ObjectNotFoundError || (error as { code?: string }).code === 'OBJECT_NOT_FOUND') return undefined;
    throw error;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}
