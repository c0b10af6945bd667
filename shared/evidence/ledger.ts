/**
 * The custody ledger: append-only JSON Lines at `cases/<case>/custody-ledger.jsonl`. Each entry carries the
 * SHA-256 of the previous line's exact text, so editing, removing, inserting or reordering any entry breaks
 * the chain. A chain alone cannot reveal a change to its last entries, so every command that appends also
 * writes a write-once checkpoint (`_amber/checkpoints/<seq>.json`) naming the new head and its hash. Each
 * checkpoint also names the previous checkpoint and the SHA-256 of its file, so removing any checkpoint shows.
 *
 * Before a writer appends, it writes a write-once run journal (`_amber/runs/<seq>-<nonce>.json`) naming the
 * head it starts from, and marks it done once its entries are anchored. Entries past the last checkpoint are
 * therefore either an interrupted Amber run (an unfinished journal starts at that checkpoint: the next writer
 * finishes its work and says so in a `recovered` entry) or written outside Amber (writers refuse to build on them).
 *
 * A writer given a Signer records its public key in a `keyed` entry before its first other entry (when the case
 * records none yet); from then on every checkpoint is signed (signatures.ts), and a writer without that key, or
 * with another one, is refused before it writes anything. A keyed writer whose signer carries a timestamp
 * authority records it in a `timestamped` entry (when the case records none yet); from then on every signed
 * checkpoint and seal also gets an RFC 3161 token (timestamps.ts), and a writer without one is refused.
 */
import { randomBytes } from 'node:crypto';
import { IntegrityError } from '../errors.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { Signer } from '../ports/signer.ts';
import { GENESIS_HASH, sha256Hex } from './hashing.ts';
import { LEDGER_ACTIONS, type Actor, type EvidenceItem, type LedgerAction, type LedgerEntry } from './model.ts';
import { amberPrefix, ledgerKey, manifestsPrefix, runsPrefix } from './names.ts';
import { assertSignerFits, keyedDetail, recordedKeys, unsignedWrite, writeSignature, type RecordedKey } from './signatures.ts';
import { timestamperOf } from '../ports/timestamper.ts';
import { assertTimestamperFits, timestampedDetail, timestampRequirement, writeTimestamp, type TimestampRequirement } from './timestamps.ts';

/** Where checkpoints of a case live. */
export function checkpointPrefix(caseName: string): string {
  return `${amberPrefix(caseName)}checkpoints/`;
}

function checkpointKey(caseName: string, seq: number): string {
  return `${checkpointPrefix(caseName)}${String(seq).padStart(10, '0')}.json`;
}

/** Flush the buffer to the store after this many entries (bounds what a crash can leave unrecorded). */
const FLUSH_EVERY = 200;

/** An open ledger for one writer: holds the parsed entries and buffers new ones. */
export class CustodyLedger {
  private readonly pending: string[] = [];
  /** Writes are chained so flushes land in order even when appends race ahead of a slow store. */
  private writing: Promise<void> = Promise.resolve();
  private headSeq: number;
  private headHash: string;
  /** The journal of this writer's entries not yet anchored (written before they reach the store). */
  private journal: { key: string; start: { seq: number; sha256: string } } | undefined;
  private anchoredSeq = -1;
  /** Writers opened with openForWriting keep run journals; plain readers (and cloud CAS writers) do not. */
  private journaled = false;
  /** Signs checkpoints and seals of a keyed case; keys an unkeyed case on its first entry. */
  private signer: Signer | undefined;
  /** The public key the ledger records (its first `keyed` entry), if any. */
  private recorded: RecordedKey | undefined;
  /** The ledger's `timestamped` entry, if any: from it on every checkpoint and seal carries an RFC 3161 token. */
  private timestamps: TimestampRequirement | undefined;

  private constructor(
    private readonly store: ObjectStore,
    readonly caseName: string,
    private readonly existing: readonly LedgerEntry[],
    lastSeq: number,
    lastHash: string,
    private readonly appended: LedgerEntry[] = [],
  ) {
    this.headSeq = lastSeq;
    this.headHash = lastHash;
  }

  /**
   * Reads the ledger of a case (empty when the case is new), for reading. New entries chain to the last line
   * as stored; a writer that must not build on an unanchored or torn tail uses `openForWriting`.
   */
  static async open(store: ObjectStore, caseName: string, options: { journaled?: boolean; signer?: Signer } = {}): Promise<CustodyLedger> {
    const text = (await store.readText(ledgerKey(caseName))) ?? '';
    const lines = splitLines(text);
    const entries: LedgerEntry[] = [];
    let lastSeq = 0;
    for (const line of lines) {
      const entry = parseEntry(line);
      if (entry) {
        entries.push(entry);
        lastSeq = Math.max(lastSeq, entry.seq);
      } else {
        lastSeq += 1;
      }
    }
    const last = lines.at(-1);
    const ledger = new CustodyLedger(store, caseName, entries, lastSeq, last === undefined ? GENESIS_HASH : sha256Hex(last));
    ledger.journaled = options.journaled ?? false;
    ledger.signer = options.signer;
    ledger.recorded = recordedKeys(entries)[0];
    ledger.timestamps = timestampRequirement(entries);
    return ledger;
  }

  /**
   * Opens the ledger for a writer holding the case lock. A tail no checkpoint anchors, or a torn last line,
   * is never built upon: when an unfinished run journal starts at the last checkpoint (an interrupted Amber
   * run), its work is finished here and recorded in a `recovered` entry (entries anchored, the torn bytes
   * removed and recorded exactly, manifests it left named); otherwise this throws IntegrityError (exit 3).
   */
  static async openForWriting(store: ObjectStore, caseName: string, actor: Actor, at: Date, options: { signer?: Signer } = {}): Promise<CustodyLedger> {
    const text = (await store.readText(ledgerKey(caseName))) ?? '';
    // A keyed case without its key (or with another) is refused before anything, recovery included, is written.
    const parsed = splitLines(text).flatMap((l) => parseEntry(l) ?? []);
    assertSignerFits(caseName, recordedKeys(parsed)[0], options.signer);
    assertTimestamperFits(caseName, timestampRequirement(parsed), options.signer);
    const { checkpoints, failures: unreadable } = await readCheckpoints(store, caseName);
    const anchor = checkpoints.at(-1);
    const start = anchor ? { seq: anchor.seq, sha256: anchor.sha256 } : { seq: 0, sha256: GENESIS_HASH };
    const journals = await unfinishedJournals(store, caseName);
    const journal = journals.find((j) => j.start.seq === start.seq && j.start.sha256 === start.sha256);
    const failures = [...unreadable, ...verifyLedgerChain(text, checkpoints)];
    const tail = failures.filter((f) => f.kind === 'ledger-unanchored' || f.kind === 'ledger-torn');
    const other = failures.filter((f) => f.kind !== 'ledger-unanchored' && f.kind !== 'ledger-torn');
    const writer = (): Promise<CustodyLedger> => CustodyLedger.open(store, caseName, { journaled: true, ...(options.signer ? { signer: options.signer } : {}) });
    if (tail.length === 0 && !journal) return writer();
    if (!journal || other.length > 0) {
      if (tail.length === 0) return writer(); // breaks elsewhere are verify's to report, and writing on does not hide them
      const why = journal ? `the ledger is also broken before it (${other[0]!.reason})` : 'no interrupted Amber run accounts for this';
      throw new IntegrityError(`case ${caseName}: ${tail.map((f) => f.reason).join('; ')}; ${why}, so nothing is added on top of it`, {
        hint: `run \`amber verify --case ${caseName}\` to see what changed; if a person confirms these entries belong to the case, \`amber accept --case ${caseName} --reason "..."\` records that decision in the ledger`,
      });
    }
    // An interrupted run: finish its bookkeeping.
    const detail: Record<string, unknown> = { run: journal.key, startedFrom: start };
    const torn = tornTail(text);
    if (torn !== undefined) {
      if (!store.trimLogTail) throw new IntegrityError(`case ${caseName}: the ledger ends in a torn line and ${store.uri} cannot remove it`, { hint: 'restore the ledger from a copy, then run amber verify' });
      await store.trimLogTail(ledgerKey(caseName), torn);
      detail.tornTail = { bytes: Buffer.from(torn, 'utf8').toString('base64'), length: Buffer.byteLength(torn), sha256: sha256Hex(torn) };
    }
    const ledger = await writer();
    if (ledger.head.seq > start.seq) detail.entries = { from: start.seq + 1, to: ledger.head.seq };
    const sealed = new Set(ledger.entries.flatMap((e) => (e.action === 'sealed' || e.action === 'recovered' ? manifestKeysOf(e) : [])));
    const orphans: Array<{ key: string; sha256: string }> = [];
    for await (const obj of store.list(manifestsPrefix(caseName))) {
      // Only what this run could have written: manifests are numbered after the head they were sealed on.
      const number = Number(/manifests\/(\d+)/.exec(obj.key)?.[1] ?? 0);
      if (!sealed.has(obj.key) && number > start.seq) orphans.push({ key: obj.key, sha256: sha256Hex((await store.readText(obj.key)) ?? '') });
    }
    if (orphans.length > 0) detail.unsealedManifests = orphans;
    ledger.journal = journal;
    await ledger.append('recovered', actor, at, { detail: { reason: 'finished the bookkeeping of an interrupted run', ...detail } });
    await ledger.checkpoint();
    return ledger;
  }

  /** Every readable entry, stored and appended by this writer. */
  get entries(): readonly LedgerEntry[] {
    return [...this.existing, ...this.appended];
  }

  /** Sequence number and hash of the newest entry. */
  get head(): { seq: number; sha256: string } {
    return { seq: this.headSeq, sha256: this.headHash };
  }

  /** The public key the ledger records (undefined: an unsigned case). */
  get signingKey(): RecordedKey | undefined {
    return this.recorded;
  }

  /** Refuses (before anything is written) a writer whose key does not fit the case. */
  assertCanWrite(): void {
    assertSignerFits(this.caseName, this.recorded, this.signer);
    assertTimestamperFits(this.caseName, this.timestamps, this.signer);
  }

  /** The ledger's `timestamped` entry (undefined: seals of this case carry no required token). */
  get timestampRequirement(): TimestampRequirement | undefined {
    return this.timestamps;
  }

  /**
   * With a signer on a case that records no key yet: appends the `keyed` entry naming its public key, so
   * that every seal and checkpoint from here on is signed by it.
   */
  async ensureKeyed(actor: Actor, at: Date): Promise<void> {
    if (this.signer && !this.recorded) {
      // Set before the append yields, so appends racing this one (collect stores objects concurrently) do not key twice.
      const signer = this.signer;
      this.recorded = { seq: this.headSeq + 1, algorithm: signer.algorithm, publicKeyPem: signer.publicKeyPem, fingerprint: signer.fingerprint };
      await this.append('keyed', actor, at, { detail: keyedDetail(signer) }); // numbered headSeq + 1 before it yields
    }
    await this.ensureTimestamped(actor, at);
  }

  /**
   * With a timestamp authority on a keyed case that records none yet: appends the `timestamped` entry, so that
   * every checkpoint and seal from here on carries a token and verify reports a removed one.
   */
  private async ensureTimestamped(actor: Actor, at: Date): Promise<void> {
    const timestamper = timestamperOf(this.signer);
    if (!timestamper || !this.recorded || this.timestamps) return;
    this.timestamps = { seq: this.headSeq + 1, tsa: timestamper.url }; // set before the append yields, as for `keyed`
    await this.append('timestamped', actor, at, { detail: timestampedDetail(timestamper) });
  }

  /**
   * Writes the signature of a manifest or checkpoint a keyed case is about to hold (nothing for an unsigned case),
   * and its RFC 3161 token when the case is timestamped. A TSA failure throws: the file is not written unstamped.
   */
  async signFile(key: string, bytes: Uint8Array): Promise<void> {
    if (!this.recorded) return;
    if (!this.signer) throw unsignedWrite(this.caseName, key);
    this.assertCanWrite();
    await writeSignature(this.store, this.caseName, this.signer, key, bytes);
    const timestamper = timestamperOf(this.signer);
    if (!this.timestamps || !timestamper) return;
    try {
      await writeTimestamp(this.store, this.caseName, timestamper, key, bytes);
    } catch (error) {
      // What this run recorded reaches the ledger (its journal lets the next run finish it): never lost.
      await this.flush().catch(() => undefined);
      throw error;
    }
  }

  /** Items recorded by `acquired`, `copied` and `derived` entries, by key (the first record of a key wins). */
  items(): Map<string, EvidenceItem> {
    return itemsOf(this.entries);
  }

  /** Appends an entry (buffered; `flush` or `checkpoint` writes it). */
  async append(
    action: LedgerAction,
    actor: Actor,
    at: Date,
    fields: { items?: readonly EvidenceItem[]; detail?: Record<string, unknown> } = {},
  ): Promise<LedgerEntry> {
    this.assertCanWrite();
    if (action !== 'keyed' && action !== 'timestamped') await this.ensureKeyed(actor, at);
    const entry: LedgerEntry = {
      seq: this.headSeq + 1,
      prev: this.headHash,
      at: at.toISOString(),
      action,
      actor: actor.principal,
      tool: actor.tool,
      case: this.caseName,
      ...(fields.items ? { items: fields.items } : {}),
      ...(fields.detail ? { detail: fields.detail } : {}),
    };
    const line = JSON.stringify(entry);
    this.pending.push(line);
    this.appended.push(entry);
    this.headSeq = entry.seq;
    this.headHash = sha256Hex(line);
    if (this.pending.length >= FLUSH_EVERY) await this.flush();
    return entry;
  }

  /**
   * Writes this writer's run journal (idempotent) before anything it does can leave a trace: call it before
   * storing objects or a manifest the ledger will name, so a crash in between is recognised as this run's.
   */
  async beginRun(): Promise<void> {
    this.assertCanWrite();
    if (this.journal || !this.journaled) return;
    const start = { seq: this.appendedStartSeq(), sha256: this.appendedStartHash() };
    const key = `${runsPrefix(this.caseName)}${String(start.seq).padStart(10, '0')}-${randomBytes(6).toString('hex')}.json`;
    const body = JSON.stringify({ case: this.caseName, start, pid: process.pid, startedAt: new Date().toISOString() });
    await this.store.putImmutable(key, Buffer.from(`${body}\n`), { mediaType: 'application/json' });
    this.journal = { key, start };
  }

  /** Writes buffered entries to the store. */
  async flush(): Promise<void> {
    if (this.pending.length === 0) return this.writing;
    this.assertCanWrite();
    await this.beginRun();
    const text = this.pending.map((l) => `${l}\n`).join('');
    this.pending.length = 0;
    this.writing = this.writing.then(() => this.store.appendLog(ledgerKey(this.caseName), text));
    await this.writing;
  }

  /**
   * Flushes and anchors the current head in a write-once checkpoint. Only heads this writer produced are
   * anchored: entries found unanchored (an interrupted run, or written outside Amber) stay reported by verify.
   * The content is deterministic, so anchoring the same head twice is idempotent.
   */
  async checkpoint(): Promise<void> {
    await this.flush();
    if (this.appended.length > 0 && this.anchoredSeq !== this.headSeq) {
      const { checkpoints } = await readCheckpoints(this.store, this.caseName);
      const previous = checkpoints.filter((c) => c.seq < this.headSeq).at(-1);
      const prev = previous ? { seq: previous.seq, sha256: previous.fileSha256 } : null;
      const body = Buffer.from(`${JSON.stringify({ case: this.caseName, seq: this.headSeq, sha256: this.headHash, prev })}\n`);
      // The signature goes first: a crash in between leaves a harmless signature, never an unsigned checkpoint.
      await this.signFile(checkpointKey(this.caseName, this.headSeq), body);
      await this.store.putImmutable(checkpointKey(this.caseName, this.headSeq), body, {
        mediaType: 'application/json',
      });
      this.anchoredSeq = this.headSeq;
    }
    if (this.journal) {
      // Done: its entries (if any) are anchored; what follows starts a new journal.
      await this.store.putImmutable(doneKey(this.journal.key), Buffer.from(`${JSON.stringify({ anchored: this.headSeq })}\n`), { mediaType: 'application/json' });
      this.journal = undefined;
    }
  }

  /** Head before this writer's first unflushed entry (where a journal written now starts). */
  private appendedStartSeq(): number {
    return this.headSeq - this.pending.length;
  }

  private appendedStartHash(): string {
    if (this.pending.length === 0) return this.headHash;
    return this.appended[this.appended.length - this.pending.length]!.prev;
  }
}

function doneKey(journalKey: string): string {
  return journalKey.replace(/\.json$/, '.done.json');
}

/** A run journal: the head a writer started from. */
export interface RunJournal {
  readonly key: string;
  readonly start: { readonly seq: number; readonly sha256: string };
}

/** Journals of runs that never marked themselves done (interrupted, or still running under the lock). */
export async function unfinishedJournals(store: ObjectStore, caseName: string): Promise<RunJournal[]> {
  const keys = new Set<string>();
  for await (const obj of store.list(runsPrefix(caseName))) keys.add(obj.key);
  const out: RunJournal[] = [];
  for (const key of keys) {
    if (key.endsWith('.done.json') || keys.has(doneKey(key))) continue;
    try {
      const j = JSON.parse((await store.readText(key)) ?? '') as { start?: { seq?: unknown; sha256?: unknown } };
      if (Number.isSafeInteger(j.start?.seq) && typeof j.start?.sha256 === 'string') out.push({ key, start: { seq: j.start.seq as number, sha256: j.start.sha256 } });
    } catch {
      // An unreadable journal vouches for nothing: the tail it might cover stays unanchored.
    }
  }
  return out;
}

/** Manifest keys an entry names (`sealed`: its manifest; `recovered`: manifests an interrupted run left). */
export function manifestKeysOf(entry: LedgerEntry): string[] {
  const d = entry.detail as { manifest?: unknown; unsealedManifests?: unknown } | undefined;
  if (entry.action === 'sealed' && typeof d?.manifest === 'string') return [d.manifest];
  if (entry.action === 'recovered' && Array.isArray(d?.unsealedManifests)) {
    return d.unsealedManifests.flatMap((m: { key?: unknown }) => (typeof m?.key === 'string' ? [m.key] : []));
  }
  return [];
}

/** The partial last line of a ledger (text after the last newline), or undefined when it ends cleanly. */
export function tornTail(text: string): string | undefined {
  if (text.length === 0 || text.endsWith('\n')) return undefined;
  return text.slice(text.lastIndexOf('\n') + 1);
}

/** Items recorded in a list of entries, by key. */
export function itemsOf(entries: readonly LedgerEntry[]): Map<string, EvidenceItem> {
  const items = new Map<string, EvidenceItem>();
  for (const entry of entries) {
    if (entry.action !== 'acquired' && entry.action !== 'copied' && entry.action !== 'derived') continue;
    for (const item of entry.items ?? []) if (!items.has(item.key)) items.set(item.key, item);
  }
  return items;
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

function parseEntry(line: string): LedgerEntry | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const e = value as Partial<LedgerEntry>;
  const ok =
    Number.isSafeInteger(e.seq) &&
    (e.seq as number) > 0 &&
    typeof e.prev === 'string' &&
    /^[0-9a-f]{64}$/.test(e.prev) &&
    typeof e.at === 'string' &&
    typeof e.action === 'string' &&
    (LEDGER_ACTIONS as readonly string[]).includes(e.action);
  return ok ? (value as LedgerEntry) : undefined;
}

export type LedgerFailureKind =
  | 'ledger-missing'
  | 'ledger-edited'
  | 'ledger-removed'
  | 'ledger-inserted'
  | 'ledger-reordered'
  | 'ledger-unanchored'
  | 'ledger-torn'
  | 'checkpoint-removed'
  | 'checkpoint-edited';

/** One way the ledger is not what was written. `line` is 1-based. */
export interface LedgerFailure {
  readonly kind: LedgerFailureKind;
  readonly line?: number;
  readonly seq?: number;
  readonly reason: string;
}

/** A checkpoint as stored. */
export interface Checkpoint {
  readonly seq: number;
  readonly sha256: string;
  readonly key: string;
  /** SHA-256 of the checkpoint file's text (what the next checkpoint names). */
  readonly fileSha256?: string;
  /** The previous checkpoint (null: the first); undefined in checkpoints written before they were chained. */
  readonly prev?: { readonly seq: number; readonly sha256: string } | null;
}

/** Reads every checkpoint of a case; unreadable ones are returned as failures. */
export async function readCheckpoints(store: ObjectStore, caseName: string): Promise<{ checkpoints: Checkpoint[]; failures: LedgerFailure[] }> {
  const checkpoints: Checkpoint[] = [];
  const failures: LedgerFailure[] = [];
  for await (const obj of store.list(checkpointPrefix(caseName))) {
    const text = await store.readText(obj.key);
    try {
      const c = JSON.parse(text ?? '') as { seq?: unknown; sha256?: unknown; prev?: { seq?: unknown; sha256?: unknown } | null };
      if (!Number.isSafeInteger(c.seq) || typeof c.sha256 !== 'string') throw new Error('fields missing');
      const prev = c.prev === null ? null : Number.isSafeInteger(c.prev?.seq) && typeof c.prev?.sha256 === 'string' ? { seq: c.prev.seq as number, sha256: c.prev.sha256 } : undefined;
      checkpoints.push({ seq: c.seq as number, sha256: c.sha256, key: obj.key, fileSha256: sha256Hex(text ?? ''), ...(prev === undefined ? {} : { prev }) });
    } catch {
      failures.push({ kind: 'ledger-edited', reason: `checkpoint ${obj.key} is not readable` });
    }
  }
  checkpoints.sort((a, b) => a.seq - b.seq);
  return { checkpoints, failures };
}

/**
 * Checks a ledger's text against its chain and checkpoints, naming every break: which entry was edited,
 * which were removed, inserted or reordered, and entries no checkpoint anchors.
 */
export function verifyLedgerChain(text: string, checkpoints: readonly Checkpoint[]): LedgerFailure[] {
  const torn = tornTail(text);
  // A torn last line (a write cut short) is no entry, even when its text happens to parse.
  const lines = splitLines(torn === undefined ? text : text.slice(0, text.length - torn.length));
  const failures: LedgerFailure[] = [];
  const flagged = new Set<number>(); // 0-based line indexes already explained
  const entries = lines.map(parseEntry);
  const hashes = lines.map((l) => sha256Hex(l));
  const lineOfHash = new Map(hashes.map((h, i) => [h, i]));

  if (torn !== undefined) {
    failures.push({ kind: 'ledger-torn', line: lines.length + 1, reason: `line ${lines.length + 1} is incomplete (${Buffer.byteLength(torn)} bytes, no newline): a write was cut short, or the ledger was truncated` });
  }
  entries.forEach((e, i) => {
    if (!e) {
      failures.push({ kind: 'ledger-edited', line: i + 1, reason: `line ${i + 1} is not a valid ledger entry` });
      flagged.add(i);
    }
  });

  // Sequence numbers: duplicates are insertions, gaps are removals, descents are reorderings.
  const seen = new Map<number, number>();
  const referenced = new Set(entries.map((e) => e?.prev));
  let maxSeq = 0;
  entries.forEach((e, i) => {
    if (!e) return;
    const first = seen.get(e.seq);
    if (first !== undefined) {
      // Of two entries with one number, the genuine one is the one a later entry chains to.
      const intruder = referenced.has(hashes[i]!) && !referenced.has(hashes[first]!) ? first : i;
      failures.push({ kind: 'ledger-inserted', line: intruder + 1, seq: e.seq, reason: `entry ${e.seq} appears twice (lines ${first + 1} and ${i + 1}): line ${intruder + 1} was inserted` });
      flagged.add(intruder);
    } else {
      seen.set(e.seq, i);
    }
    if (e.seq < maxSeq && first === undefined) {
      failures.push({ kind: 'ledger-reordered', line: i + 1, seq: e.seq, reason: `entry ${e.seq} on line ${i + 1} comes after entry ${maxSeq}` });
      flagged.add(i);
    }
    maxSeq = Math.max(maxSeq, e.seq);
  });
  const missing: number[] = [];
  for (let s = 1; s <= maxSeq; s++) if (!seen.has(s)) missing.push(s);
  if (missing.length > 0) {
    for (const range of ranges(missing)) {
      failures.push({ kind: 'ledger-removed', seq: range[0], reason: `entr${range[0] === range[1] ? `y ${range[0]} was` : `ies ${range[0]}-${range[1]} were`} removed` });
    }
  }

  // The chain: each entry must name the hash of the line before it.
  entries.forEach((e, i) => {
    if (!e) return;
    const expected = i === 0 ? GENESIS_HASH : hashes[i - 1];
    if (e.prev === expected) return;
    const target = lineOfHash.get(e.prev);
    const prevSeq = i === 0 ? 0 : entries[i - 1]?.seq;
    if (flagged.has(i) || flagged.has(i - 1)) return;
    if (prevSeq !== undefined && e.seq > prevSeq + 1 && target === undefined) return; // explained by a removal
    if (target === i - 2) {
      failures.push({ kind: 'ledger-inserted', line: i, seq: entries[i - 1]?.seq, reason: `line ${i} is not in the chain: entry ${e.seq} chains to the entry before it` });
      flagged.add(i - 1);
    } else if (target !== undefined) {
      failures.push({ kind: 'ledger-reordered', line: i + 1, seq: e.seq, reason: `entry ${e.seq} chains to line ${target + 1}, not to the line before it` });
      flagged.add(i);
    } else if (i === 0) {
      failures.push({ kind: 'ledger-edited', line: 1, seq: e.seq, reason: 'the first entry does not start the chain' });
      flagged.add(0);
    } else {
      const seq = entries[i - 1]?.seq;
      failures.push({ kind: 'ledger-edited', line: i, seq, reason: `entry ${seq} on line ${i} was edited: its hash no longer matches the one entry ${e.seq} recorded` });
      flagged.add(i - 1);
    }
  });

  // Checkpoints anchor the head: they reveal edits or removals at the end, where no later entry looks back.
  const lineOfSeq = new Map<number, number>();
  entries.forEach((e, i) => e && !lineOfSeq.has(e.seq) && lineOfSeq.set(e.seq, i));
  let anchored = 0;
  for (const c of checkpoints) {
    const i = lineOfSeq.get(c.seq);
    if (i === undefined) {
      if (c.seq > maxSeq) {
        const span = c.seq === maxSeq + 1 ? `entry ${c.seq} was` : `entries ${maxSeq + 1}-${c.seq} were`;
        failures.push({ kind: 'ledger-removed', seq: c.seq, reason: `${span} removed (checkpoint ${c.key} records entry ${c.seq})` });
      }
      continue;
    }
    anchored = Math.max(anchored, c.seq);
    if (hashes[i] !== c.sha256 && !flagged.has(i)) {
      failures.push({ kind: 'ledger-edited', line: i + 1, seq: c.seq, reason: `entry ${c.seq} was edited: its hash differs from checkpoint ${c.key}` });
      flagged.add(i);
    }
  }
  // The checkpoints' own chain: a removed or replaced checkpoint anywhere in the sequence shows here.
  const bySeq = new Map(checkpoints.map((c) => [c.seq, c]));
  for (const c of checkpoints) {
    if (!c.prev) continue;
    const previous = bySeq.get(c.prev.seq);
    if (previous === undefined) {
      failures.push({ kind: 'checkpoint-removed', seq: c.prev.seq, reason: `checkpoint of entry ${c.prev.seq} was removed (${c.key} names it as the previous checkpoint)` });
    } else if (previous.fileSha256 !== c.prev.sha256) {
      failures.push({ kind: 'checkpoint-edited', seq: c.prev.seq, reason: `checkpoint ${previous.key} was replaced: its SHA-256 differs from the one ${c.key} recorded` });
    }
  }
  const truncated = checkpoints.some((c) => c.seq > maxSeq);
  if (maxSeq > anchored && lines.length > 0 && !truncated) {
    const span = maxSeq === anchored + 1 ? `entry ${maxSeq} is` : `entries ${anchored + 1}-${maxSeq} are`;
    failures.push({
      kind: 'ledger-unanchored',
      seq: anchored + 1,
      reason: `${span} not anchored by a checkpoint: appended outside Amber, or by a run that was interrupted`,
    });
  }
  return failures;
}

function ranges(sorted: number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const n of sorted) {
    const last = out.at(-1);
    if (last && last[1] === n - 1) last[1] = n;
    else out.push([n, n]);
  }
  return out;
}
