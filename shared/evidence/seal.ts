/**
 * Sealing: a manifest of every item a case holds, as canonical JSON, stored write-once under
 * `_amber/manifests/<seq>.json`, and its SHA-256 recorded in a `sealed` ledger entry. `collect` and the cloud
 * custody step seal the same way, so `verify` reads one format. In a keyed case the manifest's exact bytes are
 * signed (signatures.ts) before the `sealed` entry names it.
 */
import { WriteOnceViolationError } from '../errors.ts';
import type { ObjectStore, PutResult } from '../ports/object-store.ts';
import { canonicalJson } from './canonical-json.ts';
import type { CustodyLedger } from './ledger.ts';
import type { Actor, Manifest } from './model.ts';
import { amberPrefix } from './names.ts';

/** A source that could not be preserved, listed in the manifest. */
export interface SealFailure {
  readonly origin: string;
  readonly reason: string;
}

/** What a seal wrote. */
export interface SealResult {
  readonly key: string;
  readonly sha256: string;
  readonly items: number;
}

/**
 * Writes the manifest of every item the ledger records (sorted by key) and appends the `sealed` entry. The
 * caller flushes or checkpoints the ledger afterwards. `detail` adds facts to the entry's detail (it cannot
 * replace the manifest's key, hash or counts).
 */
export async function sealManifest(
  store: ObjectStore,
  ledger: CustodyLedger,
  actor: Actor,
  sealedAt: Date,
  failures: readonly SealFailure[],
  detail: Record<string, unknown> = {},
): Promise<SealResult> {
  // A signed run records its key before its first seal (and before the manifest names the head).
  await ledger.ensureKeyed(actor, sealedAt);
  const manifest: Manifest = {
    case: ledger.caseName,
    sealedAt: sealedAt.toISOString(),
    tool: actor.tool,
    ledgerHead: ledger.head,
    items: [...ledger.items().values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
    failures: failures.map(({ origin, reason }) => ({ origin, reason })),
  };
  const base = `${amberPrefix(ledger.caseName)}manifests/${String(ledger.head.seq + 1).padStart(10, '0')}`;
  const body = Buffer.from(`${canonicalJson(manifest)}\n`);
  await ledger.beginRun();
  let key = `${base}.json`;
  let sealed: PutResult;
  // A run killed between writing its manifest and recording it leaves that number taken: use the next free one
  // (the leftover is named in the next run's `recovered` entry), never overwrite it, never block on it.
  for (let n = 2; ; n++) {
    try {
      sealed = await store.putImmutable(key, body, { mediaType: 'application/json' });
      break;
    } catch (error) {
      if (!(error instanceof WriteOnceViolationError) || n > 100) throw error;
      key = `${base}-${n}.json`;
    }
  }
  // Signed before the `sealed` entry names it: a recorded seal of a keyed case always has its signature.
  await ledger.signFile(key, body);
  await ledger.append('sealed', actor, sealedAt, {
    // The manifest's own fields come last: verify reads `manifest` and `sha256`, nothing may override them.
    detail: { ...detail, manifest: key, sha256: sealed.sha256, items: manifest.items.length, failures: failures.length },
  });
  return { key, sha256: sealed.sha256, items: manifest.items.length };
}
