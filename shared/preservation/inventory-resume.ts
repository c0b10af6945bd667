/**
 * Resuming an AWS inventory that was interrupted (killed, timed out, a Lambda retried): an inventory is identified
 * by its account and its time, the stamp in its keys (`cases/<case>/aws/inventory/<account>/<yyyymmddThhmmssZ>/`).
 * One that read everything ends with its own record, `run.json`; one without it is incomplete. Resuming takes the
 * same stamp again, so every answer keeps its key, and hands the source the answers already kept there: those are
 * read from the store, never asked again, and are yielded for preservation only when the custody ledger does not
 * record them yet (kept, then interrupted before the ledger entry).
 */
import { InvalidInputError } from '../errors.ts';
import { evidenceKey } from '../evidence/names.ts';
import type { ObjectStore } from '../ports/object-store.ts';

/** The record a complete inventory ends with (INVENTORY_RUN_RECORD of the source). */
const RUN_RECORD = 'run.json';
const STAMP = /^\d{8}T\d{6}Z$/;

export interface ResumePoint {
  /** The inventory's time (its stamp as a Date). */
  readonly observedAt: Date;
  readonly stamp: string;
  /** Answers kept under this stamp (their keys), by key without extension relative to the case. */
  readonly kept: number;
  /** For AwsInventorySourceOptions.preserved. */
  readonly preserved: (stem: string) => Promise<{ bytes: Uint8Array; yield: boolean } | undefined>;
}

/** The stamps of the account's inventories in a case, oldest first, each with whether it is complete. */
export async function inventoryStamps(store: ObjectStore, caseName: string, account: string, stamp?: string): Promise<Array<{ stamp: string; complete: boolean; keys: string[] }>> {
  const base = evidenceKey(caseName, `aws/inventory/${account}/${stamp ? `${stamp}/` : ''}`);
  const byStamp = new Map<string, { complete: boolean; keys: string[] }>();
  const root = evidenceKey(caseName, `aws/inventory/${account}/`);
  for await (const o of store.list(base)) {
    if (o.deleteMarkerOnTop) continue;
    const [s, ...rest] = o.key.slice(root.length).split('/');
    if (s === undefined || !STAMP.test(s)) continue;
    const entry = byStamp.get(s) ?? { complete: false, keys: [] };
    if (rest.join('/') === RUN_RECORD) entry.complete = true;
    else entry.keys.push(o.key);
    byStamp.set(s, entry);
  }
  return [...byStamp].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([s, e]) => ({ stamp: s, ...e }));
}

/**
 * Where to resume the account's latest inventory in the case (`stamp` given: that one). Refuses, with the fix,
 * when there is none or it is complete.
 */
export async function resumePoint(store: ObjectStore, caseName: string, account: string, options: { stamp?: string; recorded?: () => Promise<ReadonlySet<string>> } = {}): Promise<ResumePoint> {
  if (options.stamp !== undefined && !STAMP.test(options.stamp)) throw new InvalidInputError(`inventory stamp ${JSON.stringify(options.stamp)} is not yyyymmddThhmmssZ`);
  const stamps = await inventoryStamps(store, caseName, account, options.stamp);
  const latest = stamps.at(-1);
  if (!latest) {
    throw new InvalidInputError(`case ${caseName} holds no inventory of account ${account} to resume`, { hint: `take one: amber inventory --case ${caseName} --cloud aws (without --resume)` });
  }
  if (latest.complete) {
    throw new InvalidInputError(`the latest inventory of account ${account} in case ${caseName} (${latest.stamp}) is complete: nothing to resume`, {
      hint: 'run without --resume to take a new inventory (it gets a stamp of its own)',
    });
  }
  const s = latest.stamp;
  const observedAt = new Date(`${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}Z`);
  return fromKeys(store, caseName, s, observedAt, latest.keys, options.recorded ? await options.recorded() : new Set());
}

/**
 * A resume point over the given kept keys (a Lambda retry knows its stamp and lists it itself). `recorded`: the
 * keys the case's custody ledger records already (not offered again); empty offers every kept answer again.
 */
export async function fromKeys(store: ObjectStore, caseName: string, stamp: string, observedAt: Date, keys: readonly string[], recorded: ReadonlySet<string> = new Set()): Promise<ResumePoint> {
  const prefix = evidenceKey(caseName, '');
  const byStem = new Map(keys.map((k) => [k.slice(prefix.length).replace(/\.(xml|json)$/, ''), k]));
  return {
    observedAt,
    stamp,
    kept: byStem.size,
    preserved: async (stem) => {
      const key = byStem.get(stem);
      if (key === undefined) return undefined;
      const chunks: Buffer[] = [];
      for await (const c of await store.get(key)) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
      return { bytes: Buffer.concat(chunks), yield: !recorded.has(key) };
    },
  };
}
