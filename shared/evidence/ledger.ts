/**
 * The custody ledger: append-only JSON Lines at `cases/<case>/custody-ledger.jsonl`. Each entry carries the
 * SHA-256 of the previous line's exact text, so editing, removing, inserting or reordering any entry breaks
 * the chain. A chain alone cannot reveal a change to its last entries, so every command that appends also
 * writes a write-once checkpoint (`_amber/checkpoints/<seq>.json`) naming the new head and its hash.
 */
import type { ObjectStore } from '../ports/object-store.ts';
import { GENESIS_HASH, sha256Hex } from './hashing.ts';
import { LEDGER_ACTIONS, type Actor, type EvidenceItem, type LedgerAction, type LedgerEntry } from './model.ts';
import { amberPrefix, ledgerKey } from './names.ts';

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

  /** Reads the ledger of a case (empty when the case is new). New entries chain to the last line as stored. */
  static async open(store: ObjectStore, caseName: string): Promise<CustodyLedger> {
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
    return new CustodyLedger(store, caseName, entries, lastSeq, last === undefined ? GENESIS_HASH : sha256Hex(last));
  }

  /** Every readable entry, stored and appended by this writer. */
  get entries(): readonly LedgerEntry[] {
    return [...this.existing, ...this.appended];
  }

  /** Sequence number and hash of the newest entry. */
  get head(): { seq: number; sha256: string } {
    return { seq: this.headSeq, sha256: this.headHash };
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

  /** Writes buffered entries to the store. */
  async flush(): Promise<void> {
    if (this.pending.length === 0) return this.writing;
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
    if (this.appended.length === 0) return;
    const body = JSON.stringify({ case: this.caseName, seq: this.headSeq, sha256: this.headHash });
    await this.store.putImmutable(checkpointKey(this.caseName, this.headSeq), Buffer.from(`${body}\n`), {
      mediaType: 'application/json',
    });
  }
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

export type LedgerFailureKind = 'ledger-missing' | 'ledger-edited' | 'ledger-removed' | 'ledger-inserted' | 'ledger-reordered' | 'ledger-unanchored';

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
}

/** Reads every checkpoint of a case; unreadable ones are returned as failures. */
export async function readCheckpoints(store: ObjectStore, caseName: string): Promise<{ checkpoints: Checkpoint[]; failures: LedgerFailure[] }> {
  const checkpoints: Checkpoint[] = [];
  const failures: LedgerFailure[] = [];
  for await (const obj of store.list(checkpointPrefix(caseName))) {
    const text = await store.readText(obj.key);
    try {
      const c = JSON.parse(text ?? '') as { seq?: unknown; sha256?: unknown };
      if (!Number.isSafeInteger(c.seq) || typeof c.sha256 !== 'string') throw new Error('fields missing');
      checkpoints.push({ seq: c.seq as number, sha256: c.sha256, key: obj.key });
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
  const lines = splitLines(text);
  const failures: LedgerFailure[] = [];
  const flagged = new Set<number>(); // 0-based line indexes already explained
  const entries = lines.map(parseEntry);
  const hashes = lines.map((l) => sha256Hex(l));
  const lineOfHash = new Map(hashes.map((h, i) => [h, i]));

  if (text.length > 0 && !text.endsWith('\n')) {
    failures.push({ kind: 'ledger-edited', line: lines.length, reason: 'the last line is incomplete (no newline): the ledger was truncated or edited' });
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
