/**
 * The `verify` use case: recompute every preserved object's SHA-256, check the custody ledger's chain and
 * checkpoints and every sealed manifest, and list each failure with its reason. The result is itself
 * recorded in the ledger (`verified`).
 */
import { InvalidInputError } from '../errors.ts';
import type { ObjectStore, StoredObject } from '../ports/object-store.ts';
import { forEachConcurrent } from './concurrency.ts';
import { hashStream, sha256Hex } from './hashing.ts';
import { CustodyLedger, checkpointPrefix, itemsOf, readCheckpoints, verifyLedgerChain, type LedgerFailureKind } from './ledger.ts';
import type { Actor, EvidenceItem, LedgerEntry } from './model.ts';
import { casePrefix, ledgerKey, validateCaseName } from './names.ts';

export type VerifyFailureKind =
  | 'hash-mismatch'
  | 'size-mismatch'
  | 'missing-object'
  | 'extra-object'
  | 'manifest-missing'
  | 'manifest-mismatch'
  | LedgerFailureKind;

export interface VerifyFailure {
  readonly kind: VerifyFailureKind;
  readonly reason: string;
  readonly key?: string;
  /** 1-based ledger line, for ledger failures. */
  readonly line?: number;
  readonly seq?: number;
  readonly expected?: string;
  readonly actual?: string;
}

/** Something worth a responder's attention that does not change a preserved byte. */
export interface VerifyWarning {
  readonly key: string;
  readonly reason: string;
}

/** One item as verification found it. */
export interface VerifiedItem {
  readonly key: string;
  readonly versionId?: string;
  readonly size: number;
  /** SHA-256 recorded at acquisition. */
  readonly recordedSha256: string;
  /** SHA-256 computed now from the stored bytes (undefined when they could not be read). */
  readonly storedSha256?: string;
  readonly ok: boolean;
}

export interface VerifyReport {
  readonly case: string;
  readonly locker: string;
  readonly intact: boolean;
  readonly checkedAt: string;
  readonly ledgerEntries: number;
  readonly bytes: number;
  readonly items: readonly VerifiedItem[];
  readonly failures: readonly VerifyFailure[];
  readonly warnings: readonly VerifyWarning[];
}

export interface VerifyOptions {
  readonly store: ObjectStore;
  readonly caseName: string;
  readonly actor: Actor;
  readonly clock?: () => Date;
  readonly concurrency?: number;
  /** Record the result in the ledger (default true). */
  readonly record?: boolean;
  readonly onProgress?: (done: number, total: number) => void;
}

/** Throws InvalidInputError when the locker holds nothing for the case. */
export async function assertCaseExists(store: ObjectStore, caseName: string): Promise<void> {
  for await (const _ of store.list(casePrefix(caseName))) return;
  throw new InvalidInputError(`unknown case ${JSON.stringify(caseName)} in ${store.uri}`, {
    hint: 'run `amber cases` to list the cases in this locker, or pass --locker with the locker that holds it',
  });
}

/** Verifies a case end to end; never throws for integrity problems, it reports them. */
export async function verifyCase(options: VerifyOptions): Promise<VerifyReport> {
  const { store, actor } = options;
  const caseName = validateCaseName(options.caseName);
  const clock = options.clock ?? (() => new Date());
  await assertCaseExists(store, caseName);
  const release = options.record === false ? async () => undefined : await store.lock(`case-${caseName}`);
  try {
    const failures: VerifyFailure[] = [];
    const warnings: VerifyWarning[] = [];
    const ledgerText = await store.readText(ledgerKey(caseName));
    if (ledgerText === undefined) failures.push({ kind: 'ledger-missing', key: ledgerKey(caseName), reason: 'the custody ledger is missing' });
    const { checkpoints, failures: checkpointFailures } = await readCheckpoints(store, caseName);
    failures.push(...checkpointFailures, ...verifyLedgerChain(ledgerText ?? '', checkpoints));

    const ledger = await CustodyLedger.open(store, caseName);
    const entries = ledger.entries;
    const items = itemsOf(entries);
    const manifests = sealedManifests(entries);

    // What the store holds, to find extra objects and keys hidden by delete markers.
    const stored = new Map<string, StoredObject>();
    for await (const obj of store.list(casePrefix(caseName))) stored.set(obj.key, obj);
    const bookkeeping = new Set<string>([ledgerKey(caseName), ...manifests.keys(), ...checkpoints.map((c) => c.key)]);
    for (const [key, obj] of stored) {
      if (obj.deleteMarkerOnTop) {
        warnings.push({ key, reason: 'a delete marker hides this key from plain reads; the preserved version is still held and was verified' });
      }
      if (items.has(key) || bookkeeping.has(key) || key.startsWith(checkpointPrefix(caseName))) continue;
      failures.push({ kind: 'extra-object', key, reason: 'object in the case folder that the custody ledger does not record' });
    }

    for (const [key, sha256] of manifests) {
      const text = await store.readText(key);
      if (text === undefined) failures.push({ kind: 'manifest-missing', key, reason: 'sealed manifest is missing' });
      else {
        const actual = sha256Hex(text);
        if (actual !== sha256) failures.push({ kind: 'manifest-mismatch', key, expected: sha256, actual, reason: 'sealed manifest does not match the hash the ledger recorded' });
      }
    }

    const results: VerifiedItem[] = [];
    let done = 0;
    let bytes = 0;
    await forEachConcurrent(items.values(), options.concurrency ?? 4, async (item: EvidenceItem) => {
      const result = await checkItem(store, item, stored.has(item.key));
      results.push(result.item);
      if (result.failure) failures.push(result.failure);
      bytes += result.item.ok ? item.size : 0;
      options.onProgress?.((done += 1), items.size);
    });
    results.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

    const checkedAt = clock();
    const intact = failures.length === 0;
    if (options.record !== false) {
      const counts: Record<string, number> = {};
      for (const f of failures) counts[f.kind] = (counts[f.kind] ?? 0) + 1;
      await ledger.append('verified', actor, checkedAt, {
        detail: { intact, items: results.length, failures: failures.length, ...(failures.length ? { byKind: counts } : {}), warnings: warnings.length },
      });
      await ledger.checkpoint();
    }
    return { case: caseName, locker: store.uri, intact, checkedAt: checkedAt.toISOString(), ledgerEntries: entries.length, bytes, items: results, failures, warnings };
  } finally {
    await release();
  }
}

async function checkItem(store: ObjectStore, item: EvidenceItem, listed: boolean): Promise<{ item: VerifiedItem; failure?: VerifyFailure }> {
  const base = { key: item.key, ...(item.versionId ? { versionId: item.versionId } : {}), size: item.size, recordedSha256: item.sha256 };
  let found;
  try {
    found = await hashStream(await store.get(item.key, item.versionId));
  } catch (error) {
    const reason = listed ? `stored object cannot be read: ${(error as Error).message}` : 'preserved object is missing from the locker';
    return { item: { ...base, ok: false }, failure: { kind: 'missing-object', key: item.key, reason } };
  }
  const stored = { ...base, storedSha256: found.sha256 };
  if (found.sha256 !== item.sha256) {
    return {
      item: { ...stored, ok: false },
      failure: { kind: 'hash-mismatch', key: item.key, expected: item.sha256, actual: found.sha256, reason: `sha256 is ${found.sha256}, the ledger recorded ${item.sha256}` },
    };
  }
  if (found.size !== item.size) {
    return { item: { ...stored, ok: false }, failure: { kind: 'size-mismatch', key: item.key, expected: String(item.size), actual: String(found.size), reason: `size is ${found.size}, the ledger recorded ${item.size}` } };
  }
  return { item: { ...stored, ok: true } };
}

/** Manifest key → SHA-256, from `sealed` entries. */
function sealedManifests(entries: readonly LedgerEntry[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of entries) {
    const d = e.detail as { manifest?: unknown; sha256?: unknown } | undefined;
    if (e.action === 'sealed' && typeof d?.manifest === 'string' && typeof d.sha256 === 'string') out.set(d.manifest, d.sha256);
  }
  return out;
}
