/** The `cases` use case: what a locker holds, case by case. */
import type { ObjectStore } from '../ports/object-store.ts';
import { CustodyLedger } from './ledger.ts';
import { verificationsPrefix } from './names.ts';

export interface CaseSummary {
  readonly case: string;
  readonly items: number;
  readonly bytes: number;
  readonly ledgerEntries: number;
  /** Time of the newest ledger entry. */
  readonly lastActivity?: string;
  /** Outcome of the newest `verified` entry. */
  readonly lastVerified?: { readonly at: string; readonly intact: boolean };
}

/** Lists the cases of a locker with their item counts, from each case's ledger. */
export async function listCases(store: ObjectStore): Promise<CaseSummary[]> {
  const names = new Set<string>();
  for await (const obj of store.list('cases/')) {
    const name = obj.key.split('/')[1];
    if (name) names.add(name);
  }
  const out: CaseSummary[] = [];
  for (const name of [...names].sort()) {
    const ledger = await CustodyLedger.open(store, name);
    const items = [...ledger.items().values()];
    const newest = ledger.entries.at(-1);
    const verified = [...ledger.entries].reverse().find((e) => e.action === 'verified');
    // A failed verification is recorded beside the ledger, never in it: the newest of either is the last word.
    let failedAt: string | undefined;
    for await (const obj of store.list(verificationsPrefix(name))) {
      let at: unknown;
      try {
        at = (JSON.parse((await store.readText(obj.key)) ?? '{}') as { checkedAt?: unknown }).checkedAt;
      } catch {
        at = obj.key; // unreadable: still a failed verification on record; verify reports it
      }
      if (typeof at === 'string' && (failedAt === undefined || at > failedAt)) failedAt = at;
      else if (typeof at !== 'string') failedAt ??= '';
    }
    const last = failedAt !== undefined && (!verified || failedAt > verified.at) ? { at: failedAt, intact: false } : verified ? { at: verified.at, intact: (verified.detail as { intact?: boolean } | undefined)?.intact === true } : undefined;
    out.push({
      case: name,
      items: items.length,
      bytes: items.reduce((n, i) => n + i.size, 0),
      ledgerEntries: ledger.entries.length,
      ...(newest ? { lastActivity: newest.at } : {}),
      ...(last ? { lastVerified: last } : {}),
    });
  }
  return out;
}
