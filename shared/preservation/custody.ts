/**
 * `recordCustody`: the one writer of a case's custody ledger in the cloud. Steps that preserve evidence (a
 * metadata capture, a batch of log copies, a snapshot set) return what they did; this records it, in order,
 * and can seal a manifest afterwards.
 *
 * Idempotent: every entry carries an idempotency key (a hash of the request, the step and what it records),
 * and an entry whose key the ledger already holds is not appended again, so a retried step, a redriven
 * Distributed Map or a duplicated event records each thing once. Safe with other writers: the store's append
 * is a compare-and-swap, and on ConcurrentWriteError the whole record is re-read and applied again.
 */
import { ConcurrentWriteError, isAmberError } from '../errors.ts';
import { canonicalJson } from '../evidence/canonical-json.ts';
import { sha256Hex } from '../evidence/hashing.ts';
import { CustodyLedger } from '../evidence/ledger.ts';
import type { Actor, EvidenceItem, LedgerAction } from '../evidence/model.ts';
import { validateCaseName } from '../evidence/names.ts';
import { sealManifest, type SealFailure, type SealResult } from '../evidence/seal.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { Signer } from '../ports/signer.ts';

/** One ledger entry's worth: items preserved together (a batch), objects that could not be, and facts. */
export interface CustodyBatch {
  readonly items?: readonly EvidenceItem[];
  readonly failures?: readonly SealFailure[];
  readonly detail?: Readonly<Record<string, unknown>>;
}

/** What a step asks to record. */
export interface CustodyRecord {
  readonly case: string;
  readonly requestId: string;
  /** The step that did the work (`capture-instance`, `copy-log-objects` ...). */
  readonly step: string;
  readonly action: LedgerAction;
  /** One entry each, in this order. */
  readonly batches: readonly CustodyBatch[];
  /** Seal a manifest of the whole case afterwards (its failures: every batch's failures). */
  readonly seal?: boolean;
  /** Facts for the seal's entry (e.g. which Map run's results were read); not part of any idempotency key. */
  readonly sealDetail?: Readonly<Record<string, unknown>>;
}

export interface RecordCustodyOptions {
  readonly store: ObjectStore;
  readonly actor: Actor;
  /**
   * Signs seals and checkpoints; keys a case that records no key yet (its first entry records the public key).
   * A case keyed with another key is refused before anything is written.
   * @default - unsigned: a keyed case is refused
   */
  readonly signer?: Signer;
  /** @default () => new Date() */
  readonly clock?: () => Date;
  /** Attempts when another writer appends at the same moment. @default 8 */
  readonly maxAttempts?: number;
  /** @default setTimeout-based sleep (jittered backoff between attempts) */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What was recorded. */
export interface CustodyRecorded {
  readonly case: string;
  /** Entries appended by this call (the seal included). */
  readonly appended: number;
  /** Entries found already recorded (a retry): not appended again. */
  readonly alreadyRecorded: number;
  readonly items: number;
  readonly failures: number;
  readonly sealed?: SealResult;
  readonly ledgerHead: { readonly seq: number; readonly sha256: string };
  /** Attempts it took (more than 1 when another writer appended at the same moment). */
  readonly attempts: number;
}

/** The idempotency key of one batch of a record. */
export function batchKey(record: Pick<CustodyRecord, 'requestId' | 'step' | 'action'>, batch: CustodyBatch): string {
  const items = (batch.items ?? []).map((i) => [i.key, i.sha256, i.versionId ?? null]);
  return sha256Hex(canonicalJson({ requestId: record.requestId, step: record.step, action: record.action, items, failures: batch.failures ?? [], detail: batch.detail ?? {} })).slice(0, 32);
}

/** Appends the record's entries the ledger does not hold yet, then seals when asked. */
export async function recordCustody(options: RecordCustodyOptions, record: CustodyRecord): Promise<CustodyRecorded> {
  const caseName = validateCaseName(record.case);
  const clock = options.clock ?? (() => new Date());
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const maxAttempts = options.maxAttempts ?? 8;
  const keys = record.batches.map((b) => batchKey(record, b));
  const sealKey = sha256Hex(`${keys.join('\n')}\nseal\n${record.requestId}\n${record.step}`).slice(0, 32);
  const failures = record.batches.flatMap((b) => b.failures ?? []);
  for (let attempt = 1; ; attempt++) {
    try {
      const ledger = await CustodyLedger.open(options.store, caseName, options.signer ? { signer: options.signer } : {});
      ledger.assertCanWrite();
      const known = new Set<string>();
      for (const entry of ledger.entries) {
        const key = (entry.detail as { idempotencyKey?: unknown } | undefined)?.idempotencyKey;
        if (typeof key === 'string') known.add(key);
      }
      let appended = 0;
      let alreadyRecorded = 0;
      let items = 0;
      for (const [i, batch] of record.batches.entries()) {
        const idempotencyKey = keys[i]!;
        if (known.has(idempotencyKey)) {
          alreadyRecorded += 1;
          continue;
        }
        known.add(idempotencyKey);
        await ledger.append(record.action, options.actor, clock(), {
          ...(batch.items && batch.items.length > 0 ? { items: batch.items } : {}),
          detail: {
            ...batch.detail,
            step: record.step,
            requestId: record.requestId,
            ...(batch.failures && batch.failures.length > 0 ? { failures: batch.failures } : {}),
            idempotencyKey,
          },
        });
        appended += 1;
        items += batch.items?.length ?? 0;
      }
      // Entries reach the store before the manifest is written, so a conflict leaves no manifest behind.
      await ledger.flush();
      let sealed: SealResult | undefined;
      if (record.seal && !known.has(sealKey)) {
        sealed = await sealManifest(options.store, ledger, options.actor, clock(), failures, { ...record.sealDetail, step: record.step, requestId: record.requestId, idempotencyKey: sealKey });
        appended += 1;
      } else if (record.seal) {
        alreadyRecorded += 1;
      }
      await ledger.checkpoint();
      return {
        case: caseName,
        appended,
        alreadyRecorded,
        items,
        failures: failures.length,
        ...(sealed ? { sealed } : {}),
        ledgerHead: ledger.head,
        attempts: attempt,
      };
    } catch (error) {
      const conflict = error instanceof ConcurrentWriteError || (isAmberError(error) && error.code === 'CONCURRENT_WRITE');
      if (!conflict || attempt >= maxAttempts) throw error;
      await sleep(Math.floor(Math.random() * Math.min(2_000, 50 * 2 ** attempt)));
    }
  }
}
