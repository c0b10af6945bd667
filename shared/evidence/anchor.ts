/**
 * Anchors: the ledger head written outside the locker. Signatures stop a consistent rewrite by someone without
 * the key, but not a rollback (the ledger cut back, later checkpoints, manifests and signatures deleted: what
 * remains is an older state that was genuinely signed), and not a rewrite by whoever holds the key. An anchor
 * kept where the locker's writers cannot reach (a file the responder keeps, an S3 bucket with Object Lock)
 * names the head at a moment: `amber verify --anchor` then fails when the case is behind it (shorter than the
 * anchored seq: a rollback) or beside it (the entry at the anchored seq has another hash: a rewrite).
 *
 * An anchor is one line of canonical JSON: `{"anchor": {...}, "signature": "...", "timestamp": "..."}`. The
 * signature (Ed25519, base64) is over the exact bytes of `canonicalJson(anchor)`, by the case's key; the
 * optional timestamp is an RFC 3161 token (DER, base64) over the SHA-256 of those same bytes. A case without a
 * key gets an unsigned anchor, and verify says it is unsigned.
 */
import { IntegrityError, InvalidInputError } from '../errors.ts';
import type { ObjectStore, PutResult } from '../ports/object-store.ts';
import type { Signer } from '../ports/signer.ts';
import { timestamperOf } from '../ports/timestamper.ts';
import { canonicalJson } from './canonical-json.ts';
import { sha256Hex } from './hashing.ts';
import { parseSigningPublicKey, verifySignature } from './signature-algorithms.ts';
import type { Actor, LedgerEntry } from './model.ts';
import { recordedKeys } from './signatures.ts';

/** The format tag every anchor carries. */
export const ANCHOR_FORMAT = 'amber-anchor/1';

/** What an anchor states (the signed part). */
export interface AnchorBody {
  readonly format: typeof ANCHOR_FORMAT;
  readonly case: string;
  /** The anchored ledger head: its sequence number and the SHA-256 of its line's exact text. */
  readonly seq: number;
  readonly sha256: string;
  /** When it was anchored (the anchoring machine's clock; the timestamp token, if any, is the trusted time). */
  readonly at: string;
  readonly actor: string;
  readonly tool: string;
  /** The case's signing key (null: an unsigned case). */
  readonly key: { readonly algorithm: string; readonly fingerprint: string } | null;
}

/** An anchor as written: the body, its signature and its timestamp token. */
export interface AnchorRecord {
  readonly anchor: AnchorBody;
  readonly signature?: string;
  readonly timestamp?: string;
}

/** Builds, signs and (when the signer carries a TSA) timestamps the anchor of a head. */
export async function createAnchor(options: {
  readonly caseName: string;
  readonly head: { readonly seq: number; readonly sha256: string };
  readonly signer?: Signer;
  readonly actor: Actor;
  readonly at: Date;
}): Promise<AnchorRecord> {
  const { signer } = options;
  const anchor: AnchorBody = {
    format: ANCHOR_FORMAT,
    case: options.caseName,
    seq: options.head.seq,
    sha256: options.head.sha256,
    at: options.at.toISOString(),
    actor: options.actor.principal,
    tool: options.actor.tool,
    key: signer ? { algorithm: signer.algorithm, fingerprint: signer.fingerprint } : null,
  };
  const bytes = Buffer.from(canonicalJson(anchor), 'utf8');
  const signature = signer ? Buffer.from(await signer.sign(bytes)).toString('base64') : undefined;
  const timestamper = timestamperOf(signer);
  const token = timestamper ? Buffer.from(await timestamper.timestamp(Buffer.from(sha256Hex(bytes), 'hex'))).toString('base64') : undefined;
  return { anchor, ...(signature ? { signature } : {}), ...(token ? { timestamp: token } : {}) };
}

/** The line an anchor is kept as (canonical JSON and a newline). */
export function anchorLine(record: AnchorRecord): string {
  return `${canonicalJson(record)}\n`;
}

/** The key of an anchor object in an S3 (or any write-once) destination: one object per anchor, never replaced. */
export function anchorObjectKey(record: AnchorRecord): string {
  return `${record.anchor.case}/${String(record.anchor.seq).padStart(10, '0')}-${record.anchor.at.replace(/[:.]/g, '')}.json`;
}

/** Writes an anchor as its own write-once object (S3 with Object Lock retention when the bucket has it). */
export async function putAnchor(store: ObjectStore, record: AnchorRecord): Promise<PutResult> {
  return store.putImmutable(anchorObjectKey(record), Buffer.from(anchorLine(record)), { mediaType: 'application/json' });
}

/** An anchor as read back, with where it came from (a file and line, or an object key). */
export interface LoadedAnchor {
  readonly source: string;
  readonly text: string;
}

/** Reads the anchors of a case from a write-once store (every object under `<case>/`). */
export async function loadAnchorsFromStore(store: ObjectStore, caseName: string): Promise<LoadedAnchor[]> {
  const out: LoadedAnchor[] = [];
  for await (const obj of store.list(`${caseName}/`)) {
    out.push({ source: `${store.uri}/${obj.key}`, text: (await store.readText(obj.key)) ?? '' });
  }
  return out;
}

/** Splits an anchor file (JSON Lines) into anchors, each named `FILE:line`. */
export function anchorsFromText(text: string, source: string): LoadedAnchor[] {
  return text
    .split('\n')
    .map((line, i) => ({ source: `${source}:${i + 1}`, text: line }))
    .filter((a) => a.text.trim() !== '');
}

/** The case an anchor line names (undefined when it is not readable): anchor files may hold several cases. */
export function caseOfAnchor(loaded: LoadedAnchor): string | undefined {
  try {
    const c = (JSON.parse(loaded.text) as { anchor?: { case?: unknown } }).anchor?.case;
    return typeof c === 'string' ? c : undefined;
  } catch {
    return undefined;
  }
}

/** One anchor as verify found it. */
export interface AnchorCheck {
  readonly source: string;
  readonly ok: boolean;
  readonly kind?: 'anchor-behind' | 'anchor-beside' | 'anchor-invalid';
  readonly reason?: string;
  readonly seq?: number;
  readonly sha256?: string;
  readonly at?: string;
  /** The key that signed it (absent: unsigned). */
  readonly signedBy?: string;
  /** genTime of its RFC 3161 token, when it has one that checks. */
  readonly genTime?: string;
}

/**
 * Checks a case's ledger against its anchors: each anchor of the case must verify with the case's recorded key
 * (an unsigned one only when the case was not keyed at the anchored entry), and the ledger must hold the anchored
 * entry with the anchored hash. Anchors of other cases are ignored; unreadable lines fail.
 */
export async function checkAnchors(caseName: string, ledgerText: string, entries: readonly LedgerEntry[], anchors: readonly LoadedAnchor[], tsaTrustPem?: string): Promise<AnchorCheck[]> {
  // Complete lines only: a torn last line (no newline) is no entry.
  const lines = ledgerText.split('\n').slice(0, -1);
  const hashOfSeq = new Map<number, string>();
  let last = 0;
  for (const line of lines) {
    try {
      const seq = (JSON.parse(line) as { seq?: unknown }).seq;
      if (typeof seq === 'number' && !hashOfSeq.has(seq)) hashOfSeq.set(seq, sha256Hex(line));
      if (typeof seq === 'number') last = Math.max(last, seq);
    } catch {
      // an unreadable line is the chain check's to report
    }
  }
  const key = recordedKeys(entries)[0];
  // PKI.js loads only when an anchor carries a token.
  const rfc3161 = anchors.some((a) => a.text.includes('"timestamp"')) ? await import('./rfc3161.ts') : undefined;
  const trust = tsaTrustPem && rfc3161 ? rfc3161.parseCertificatesPem(tsaTrustPem) : [];
  const out: AnchorCheck[] = [];
  for (const loaded of anchors) {
    let record: AnchorRecord;
    try {
      record = JSON.parse(loaded.text) as AnchorRecord;
      const a = record.anchor;
      if (a?.format !== ANCHOR_FORMAT || typeof a.case !== 'string' || !Number.isSafeInteger(a.seq) || typeof a.sha256 !== 'string' || typeof a.at !== 'string') throw new Error('not an amber anchor');
    } catch {
      out.push({ source: loaded.source, ok: false, kind: 'anchor-invalid', reason: `${loaded.source} is not an Amber anchor (${ANCHOR_FORMAT} JSON)` });
      continue;
    }
    const a = record.anchor;
    if (a.case !== caseName) continue;
    const facts = { source: loaded.source, seq: a.seq, sha256: a.sha256, at: a.at, ...(record.signature && a.key ? { signedBy: a.key.fingerprint } : {}) };
    const fail = (kind: NonNullable<AnchorCheck['kind']>, reason: string): void => void out.push({ ...facts, ok: false, kind, reason });
    const bytes = Buffer.from(canonicalJson(a), 'utf8');
    if (record.signature !== undefined) {
      if (!key) {
        fail('anchor-invalid', `anchor ${loaded.source} is signed by key ${a.key?.fingerprint ?? '?'}, but the case's ledger records no signing key: its \`keyed\` entry was removed and the ledger rewritten`);
        continue;
      }
      const publicKey = parseSigningPublicKey(key.publicKeyPem);
      if (a.key?.fingerprint !== key.fingerprint || !publicKey || !verifySignature(publicKey.algorithm, publicKey.key, bytes, Buffer.from(record.signature, 'base64'))) {
        fail('anchor-invalid', `anchor ${loaded.source} does not verify with the key the case records (${key.fingerprint}, entry ${key.seq}): the anchor was altered, or the case was re-keyed`);
        continue;
      }
    } else if (key && key.seq <= a.seq) {
      fail('anchor-invalid', `anchor ${loaded.source} of entry ${a.seq} is unsigned, but the case was keyed at entry ${key.seq}: Amber signs every anchor of a keyed case`);
      continue;
    }
    let genTime: string | undefined;
    if (record.timestamp !== undefined) {
      const { checkToken } = rfc3161 ?? (await import('./rfc3161.ts'));
      const token = await checkToken(Buffer.from(record.timestamp, 'base64'), bytes, trust);
      if (!token.ok) {
        fail('anchor-invalid', `the timestamp token of anchor ${loaded.source} does not hold: ${token.reason ?? ''}`);
        continue;
      }
      genTime = token.genTime;
    }
    const found = hashOfSeq.get(a.seq);
    if (last < a.seq || found === undefined) {
      fail('anchor-behind', `the ledger ends at entry ${last}, but anchor ${loaded.source} (${a.at}) records entry ${a.seq}: the case was rolled back, or entries were removed`);
      continue;
    }
    if (found !== a.sha256) {
      fail('anchor-beside', `entry ${a.seq} has sha256 ${found}, but anchor ${loaded.source} (${a.at}) records ${a.sha256}: the ledger was rewritten since it was anchored`);
      continue;
    }
    out.push({ ...facts, ok: true, ...(genTime ? { genTime } : {}) });
  }
  return out;
}

/** Throws InvalidInputError when none of the anchors read belongs to the case (a wrong file or prefix). */
export function assertAnchorsForCase(caseName: string, anchors: readonly LoadedAnchor[], where: string): void {
  if (anchors.some((a) => caseOfAnchor(a) === caseName || caseOfAnchor(a) === undefined)) return;
  throw new InvalidInputError(`${where} holds no anchor of case ${caseName} (${anchors.length} anchor(s) of other cases)`, {
    hint: `pass the file or s3:// prefix \`amber anchor --case ${caseName} --to ...\` wrote`,
  });
}

/** What `amber anchor` did. */
export interface AnchorResult {
  readonly record: AnchorRecord;
  /** Where the anchor was written (a file path or an s3:// object URI). */
  readonly destination: string;
  /** The `anchored` ledger entry that records it. */
  readonly recordedIn: number;
  readonly retainUntil?: string;
}

/**
 * The `anchor` use case: under the case lock, verify the case (a broken one is refused with exit 3: an anchor
 * must never bless what verify finds broken), anchor its ledger head, write the anchor with `write` (outside the
 * locker), then record it in an `anchored` entry and a checkpoint. A keyed case needs its key, as every writer does.
 */
export async function anchorCase(options: {
  readonly store: ObjectStore;
  readonly caseName: string;
  readonly actor: Actor;
  readonly signer?: Signer;
  readonly clock?: () => Date;
  readonly write: (record: AnchorRecord) => Promise<{ destination: string; retainUntil?: string }>;
}): Promise<AnchorResult> {
  const { store, caseName, actor, signer } = options;
  const clock = options.clock ?? (() => new Date());
  // Loaded here: verify.ts reads anchors (checkAnchors) and anchoring runs verify.
  const [{ verifyCase }, { CustodyLedger }] = await Promise.all([import('./verify.ts'), import('./ledger.ts')]);
  const release = await store.lock(`case-${caseName}`);
  try {
    const report = await verifyCase({ store, caseName, actor, record: false });
    if (!report.intact) {
      const first = report.failures.slice(0, 3).map((f) => `${f.kind} ${f.key ?? (f.seq !== undefined ? `entry ${f.seq}` : '')}`.trim());
      throw new IntegrityError(`case ${caseName} is not intact (${report.failures.length} failure(s): ${first.join('; ')}${report.failures.length > 3 ? '; ...' : ''}), so its head is not anchored`, {
        hint: `run \`amber verify --case ${caseName}\` to see every failure; anchor once it verifies (or a person has accepted the failures with amber accept)`,
      });
    }
    const at = clock();
    const ledger = await CustodyLedger.openForWriting(store, caseName, actor, at, signer ? { signer } : {});
    ledger.assertCanWrite();
    const head = ledger.head;
    const record = await createAnchor({ caseName, head, actor, at, ...(signer ? { signer } : {}) });
    const written = await options.write(record);
    const entry = await ledger.append('anchored', actor, at, {
      detail: {
        destination: written.destination,
        seq: head.seq,
        sha256: head.sha256,
        anchorSha256: sha256Hex(anchorLine(record)),
        signedBy: record.anchor.key?.fingerprint ?? null,
        timestamped: record.timestamp !== undefined,
        ...(written.retainUntil ? { retainUntil: written.retainUntil } : {}),
      },
    });
    await ledger.checkpoint();
    return { record, destination: written.destination, recordedIn: entry.seq, ...(written.retainUntil ? { retainUntil: written.retainUntil } : {}) };
  } finally {
    await release();
  }
}
