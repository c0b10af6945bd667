/**
 * The inventory in the deployment: every answer of an inventory source stored write-once in the evidence store
 * under the case, as evidence items for record-custody (the single writer of the ledgers), with the answers that
 * could not be read as failures. Both go into one work object (`_work/inventory/<case>/<request>-<stamp>-<hash>.json`),
 * since an account's items can outgrow a Step Functions payload (256 KiB); record-custody reads it (`itemsObject`).
 *
 * A retried attempt with the same stamp resumes (shared/preservation/inventory-resume.ts): the answers the
 * first attempt kept are read from the store, not asked again, and stored keys keep their first bytes.
 */
import { InvalidInputError, isAmberError, WriteOnceViolationError } from '../errors.ts';
import { itemId } from '../evidence/collect.ts';
import { hashStream, sha256Hex } from '../evidence/hashing.ts';
import { sniffMediaType } from '../evidence/media-type.ts';
import type { Actor, EvidenceItem } from '../evidence/model.ts';
import { evidenceKey, relPathProblem, validateCaseName } from '../evidence/names.ts';
import type { EvidenceSource, SourceProblem } from '../ports/evidence-source.ts';
import type { ObjectStore, PutResult } from '../ports/object-store.ts';
import type { CustodyBatch } from './custody.ts';
import { requestSlug } from './request.ts';

/** Where the work objects go (EVIDENCE_LAYOUT.inventoryBatches in infra). */
export const INVENTORY_BATCH_PREFIX = '_work/inventory/';
/** Evidence items per ledger entry when a work object is recorded. */
export const ITEMS_PER_ENTRY = 100;

export interface PreserveInventoryOptions {
  readonly store: ObjectStore;
  readonly actor: Actor;
  readonly retainUntil?: Date;
  readonly clock?: () => Date;
}

/** What record-custody reads back from the work object. */
export interface InventoryBatch {
  readonly items: readonly EvidenceItem[];
  readonly failures: readonly { readonly origin: string; readonly reason: string }[];
}

/** Stores every answer the source lists into the case; returns the items and what could not be read. */
export async function preserveInventory(options: PreserveInventoryOptions, caseName: string, source: EvidenceSource): Promise<InventoryBatch> {
  validateCaseName(caseName);
  const clock = options.clock ?? (() => new Date());
  const items: EvidenceItem[] = [];
  const failures: SourceProblem[] = [];
  for await (const obj of source.list((p) => failures.push(p))) {
    const problem = relPathProblem(obj.relPath);
    if (problem) {
      failures.push({ origin: obj.origin, reason: `cannot keep ${JSON.stringify(obj.relPath)}: ${problem}` });
      continue;
    }
    const key = evidenceKey(caseName, obj.relPath);
    const chunks: Buffer[] = [];
    for await (const c of await obj.open()) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
    const bytes = Buffer.concat(chunks);
    const mediaType = sniffMediaType(key, bytes.subarray(0, 64 * 1024));
    const stored = await putOrKeepFirst(options.store, key, bytes, { mediaType, ...(options.retainUntil ? { retainUntil: options.retainUntil } : {}) });
    items.push({
      id: itemId(key),
      case: caseName,
      origin: obj.origin,
      key,
      size: stored.size,
      sha256: stored.sha256,
      acquiredAt: clock().toISOString(),
      acquiredBy: options.actor.principal,
      retainUntil: stored.retainUntil ?? null,
      mediaType,
      ...(stored.versionId ? { versionId: stored.versionId } : {}),
    });
  }
  return { items, failures };
}

/** Writes the work object for record-custody; its key carries the content's hash (a retry writes its own). */
export async function writeInventoryBatch(store: ObjectStore, caseName: string, requestId: string, stamp: string, batch: InventoryBatch): Promise<string> {
  const body = `${JSON.stringify({ items: batch.items, failures: batch.failures })}\n`;
  const key = `${INVENTORY_BATCH_PREFIX}${validateCaseName(caseName)}/${requestSlug(requestId)}-${stamp}-${sha256Hex(body).slice(0, 16)}.json`;
  await store.putImmutable(key, Buffer.from(body), { mediaType: 'application/json' });
  return key;
}

/** The custody batches of a work object: its items ITEMS_PER_ENTRY to an entry, then its failures in one. */
export async function readInventoryBatch(store: ObjectStore, key: string): Promise<CustodyBatch[]> {
  if (!key.startsWith(INVENTORY_BATCH_PREFIX) || key.includes('..')) {
    throw new InvalidInputError(`itemsObject ${JSON.stringify(key)} is not under ${INVENTORY_BATCH_PREFIX}`, { hint: 'pass the itemsObject take-inventory returned' });
  }
  const text = await store.readText(key);
  if (text === undefined) throw new InvalidInputError(`itemsObject ${key} is not in the evidence store`, { hint: 'pass the itemsObject take-inventory returned, from the same evidence bucket' });
  const batch = JSON.parse(text) as InventoryBatch;
  const out: CustodyBatch[] = [];
  for (let i = 0; i < batch.items.length; i += ITEMS_PER_ENTRY) out.push({ items: batch.items.slice(i, i + ITEMS_PER_ENTRY) });
  if (batch.failures.length > 0) out.push({ failures: batch.failures });
  return out;
}

/** Stores bytes write-once; a key an earlier attempt filled with other bytes keeps those (and they are described). */
async function putOrKeepFirst(store: ObjectStore, key: string, bytes: Buffer, options: { mediaType: string; retainUntil?: Date }): Promise<PutResult> {
  try {
    return await store.putImmutable(key, bytes, options);
  } catch (error) {
    if (!(error instanceof WriteOnceViolationError) && !(isAmberError(error) && error.code === 'WRITE_ONCE_VIOLATION')) throw error;
    const { sha256, size } = await hashStream(await store.get(key));
    return { key, size, sha256, created: false };
  }
}
