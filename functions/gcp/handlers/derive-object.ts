/**
 * CloudEvent handler `deriveObject`: an object finalized in the evidence bucket (Eventarc,
 * `google.cloud.storage.object.v1.finalized`) becomes rows of its BigQuery table, so the tables fill as evidence is
 * preserved, without the local CLI.
 *
 * - Only evidence: keys `cases/<case>/...` that the case's custody ledger records as an item. Amber's own objects
 *   (the ledger `cases/<case>/custody-ledger.jsonl`, replaced on every append, and `cases/<case>/_amber/...`:
 *   manifests, checkpoints, journals), the derived rows themselves (`derived/...`) and
 *   anything outside the locker's prefix are ignored, so the handler never triggers itself.
 * - The object is read once and hashed as it is read; a SHA-256 other than its custody record's is an integrity
 *   failure recorded in the ledger (step `derive-rows`), and nothing is derived from those bytes.
 * - An object the ledger does not record yet (its `acquired` entry follows the upload by moments) is retried
 *   (the handler throws; Eventarc redelivers with backoff) until `unrecordedGraceMs` after its creation, then
 *   refused with an error log: something outside Amber wrote it.
 * - Rows: shared/sources/derive-rows.ts (the sources' own parsers), one NDJSON object per hive partition
 *   (case, account, day), each stored write-once with the locker's retention and recorded in one `derived` ledger
 *   entry carrying the input's key and SHA-256. Idempotent: the same object twice writes the same bytes under the
 *   same keys (`created: false`) and recordCustody finds the entry already there.
 */
import type { CloudEvent } from '@google-cloud/functions-framework';
import { createHash } from 'node:crypto';
import { IntegrityError, isAmberError } from '../../../shared/errors.ts';
import { CustodyLedger } from '../../../shared/evidence/ledger.ts';
import type { Actor, EvidenceItem } from '../../../shared/evidence/model.ts';
import { itemId } from '../../../shared/evidence/collect.ts';
import { ledgerKey } from '../../../shared/evidence/names.ts';
import type { ObjectStore } from '../../../shared/ports/object-store.ts';
import { recordCustody } from '../../../shared/preservation/custody.ts';
import { deriveRows } from '../../../shared/sources/derive-rows.ts';
import { errorFields, type GcpLogger } from '../runtime.ts';

const STEP = 'derive-rows';

/** An object larger than this is not derived in the function (it is recorded as not derived, with the reason). */
export const MAX_DERIVE_OBJECT_BYTES = 64 * 1024 * 1024;

/** How long an object the ledger does not record is retried before it is refused. */
export const UNRECORDED_GRACE_MS = 60 * 60 * 1000;

/** The Cloud Storage object of the event (StorageObjectData; generation and size are strings). */
export interface StorageObjectData {
  readonly bucket?: string;
  readonly name?: string;
  readonly generation?: string;
  readonly size?: string;
  readonly timeCreated?: string;
}

export interface DeriveObjectDeps {
  readonly store: ObjectStore;
  /** The evidence bucket and the locker's prefix in it (`''` at the root). */
  readonly bucket: string;
  readonly prefix: string;
  readonly actor: Actor;
  readonly logger: GcpLogger;
  /** @default MAX_DERIVE_OBJECT_BYTES */
  readonly maxObjectBytes?: number;
  /** @default UNRECORDED_GRACE_MS */
  readonly unrecordedGraceMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
  /** Retention of derived objects whose input records none, from now. @default the store's default */
  readonly retainUntil?: () => Date;
}

/** What one event did (returned for tests and logs). */
export type DeriveResult =
  | { readonly status: 'ignored'; readonly reason: string }
  | { readonly status: 'not-derived'; readonly key: string; readonly reason: string }
  | { readonly status: 'failed'; readonly key: string; readonly reason: string }
  | { readonly status: 'derived'; readonly key: string; readonly table: string; readonly rows: number; readonly items: readonly EvidenceItem[]; readonly created: number; readonly alreadyRecorded: boolean };

/** Thrown to have Eventarc deliver the event again (the object's custody record is not there yet). */
export class NotRecordedYetError extends Error {}

const CASE_KEY = /^cases\/([^/]+)\/(.+)$/;

/** The case an object name belongs to, or why it is not evidence to derive. */
export function evidenceObjectOf(name: string, prefix: string): { case: string; key: string } | { ignored: string } {
  const p = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  if (!name.startsWith(p)) return { ignored: `outside the locker prefix ${JSON.stringify(p)}` };
  const key = name.slice(p.length);
  const m = CASE_KEY.exec(key);
  if (!m) return { ignored: 'not under cases/ (derived rows and other objects are not evidence to derive)' };
  if (m[2]!.startsWith('_amber/') || key === ledgerKey(m[1]!)) return { ignored: "Amber's own record (ledger, manifest, checkpoint)" };
  return { case: m[1]!, key };
}

async function readHashed(store: ObjectStore, key: string, versionId: string | undefined, limit: number): Promise<{ bytes: Buffer; sha256: string } | { tooLarge: number }> {
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of await store.get(key, versionId)) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > limit) return { tooLarge: size };
    hash.update(b);
    chunks.push(b);
  }
  return { bytes: Buffer.concat(chunks), sha256: hash.digest('hex') };
}

/** Derives one finalized object (see the module comment). */
export async function deriveObject(deps: DeriveObjectDeps, data: StorageObjectData): Promise<DeriveResult> {
  if (!data.name || data.bucket !== deps.bucket) return { status: 'ignored', reason: `object ${JSON.stringify(data.name)} of bucket ${JSON.stringify(data.bucket)} is not in the evidence bucket ${deps.bucket}` };
  const where = evidenceObjectOf(data.name, deps.prefix);
  if ('ignored' in where) return { status: 'ignored', reason: where.ignored };
  const { key } = where;
  const ledger = await CustodyLedger.open(deps.store, where.case);
  const item = ledger.items().get(key);
  if (!item) {
    const age = (deps.now ?? Date.now)() - Date.parse(data.timeCreated ?? '');
    if (!(age > (deps.unrecordedGraceMs ?? UNRECORDED_GRACE_MS))) throw new NotRecordedYetError(`${key} is not in the custody ledger of case ${where.case} yet; the event is delivered again`);
    return { status: 'ignored', reason: `${key} is not recorded in the custody ledger of case ${where.case} (created ${data.timeCreated}); only evidence Amber preserved is derived` };
  }
  if (item.derivedFrom) return { status: 'ignored', reason: `${key} is itself derived from ${item.derivedFrom}` };
  const requestId = `derive-${item.sha256}`;
  const fail = async (reason: string, code: string): Promise<DeriveResult> => {
    await recordCustody({ store: deps.store, actor: deps.actor }, {
      case: where.case,
      requestId,
      step: STEP,
      action: 'accessed',
      batches: [{ failures: [{ origin: key, reason }], detail: { step: STEP, status: 'failed', codes: [code], from: key, fromSha256: item.sha256 } }],
    });
    return { status: 'failed', key, reason };
  };

  const read = await readHashed(deps.store, key, item.versionId, deps.maxObjectBytes ?? MAX_DERIVE_OBJECT_BYTES);
  if ('tooLarge' in read) return fail(`${key} is larger than ${deps.maxObjectBytes ?? MAX_DERIVE_OBJECT_BYTES} bytes: not derived in the function (amber detect reads it locally)`, 'TOO_LARGE');
  if (read.sha256 !== item.sha256) {
    const error = new IntegrityError(`${key} has SHA-256 ${read.sha256}, its custody record says ${item.sha256}: nothing was derived from it`);
    deps.logger.error(`${STEP} integrity failure`, { case: where.case, key, ...errorFields(error) });
    return fail(error.message, error.code);
  }

  const outcome = deriveRows(read.bytes, { case: where.case, id: item.id, key, ...(item.source ? { source: item.source } : {}) });
  if (outcome.kind === 'not-derived') return { status: 'not-derived', key, reason: outcome.reason };
  if (outcome.parts.length === 0) return { status: 'not-derived', key, reason: `no row of ${key} could be read (${outcome.problems.length} problem(s))` };

  // Kept as long as the input is; an input recorded without retention gets the deployment's.
  const retainUntil = item.retainUntil ? new Date(item.retainUntil) : deps.retainUntil?.();
  const items: EvidenceItem[] = [];
  let created = 0;
  for (const part of outcome.parts) {
    const stored = await deps.store.putImmutable(part.key, part.body, { mediaType: 'application/x-ndjson', sizeHint: part.body.length, ...(retainUntil ? { retainUntil } : {}) });
    if (stored.created) created += 1;
    items.push({
      id: itemId(part.key),
      case: where.case,
      origin: `amber:derive?from=${encodeURIComponent(key)}&parser=${outcome.source}`,
      key: part.key,
      size: stored.size,
      sha256: stored.sha256,
      acquiredAt: new Date((deps.now ?? Date.now)()).toISOString(),
      acquiredBy: deps.actor.principal,
      retainUntil: stored.retainUntil ?? item.retainUntil,
      mediaType: 'application/x-ndjson',
      ...(stored.versionId ? { versionId: stored.versionId } : {}),
      derivedFrom: item.id,
    });
  }
  const recorded = await recordCustody({ store: deps.store, actor: deps.actor }, {
    case: where.case,
    requestId,
    step: STEP,
    action: 'derived',
    batches: [{
      items,
      detail: {
        from: key,
        fromSha256: item.sha256,
        parser: outcome.source,
        variant: outcome.variant,
        table: outcome.table,
        rows: outcome.rows,
        problems: outcome.problems.length,
        ...(outcome.problems.length > 0 ? { firstProblems: outcome.problems.slice(0, 20) } : {}),
      },
    }],
  });
  return { status: 'derived', key, table: outcome.table, rows: outcome.rows, items, created, alreadyRecorded: recorded.appended === 0 };
}

/** The Eventarc handler: logs what it did; throws only to be delivered again (not recorded yet, a passing failure). */
export function deriveObjectHandler(deps: DeriveObjectDeps): (event: CloudEvent<StorageObjectData>) => Promise<void> {
  return async (event) => {
    const data = event.data ?? {};
    try {
      const result = await deriveObject(deps, data);
      if (result.status === 'ignored') deps.logger.info('object ignored', { object: data.name, reason: result.reason });
      else if (result.status === 'not-derived') deps.logger.info('object not derived', { key: result.key, reason: result.reason });
      else if (result.status === 'failed') deps.logger.error(`${STEP} failed`, { key: result.key, reason: result.reason });
      else deps.logger.info(result.alreadyRecorded ? 'rows already derived (duplicate event)' : 'rows derived', { key: result.key, table: result.table, rows: result.rows, objects: result.items.map((i) => i.key), created: result.created });
    } catch (error) {
      if (error instanceof NotRecordedYetError) {
        deps.logger.warn('object not recorded yet; retried', { object: data.name, error: error.message });
        throw error;
      }
      deps.logger.error(`${STEP} failed`, { object: data.name, ...errorFields(error) });
      if (isAmberError(error) && error.code === 'INVALID_INPUT') return; // would fail the same way again
      throw error;
    }
  };
}
