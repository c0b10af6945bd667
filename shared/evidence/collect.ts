/**
 * The `collect` use case: preserve every object of the given sources into a case, hashing each in the pass
 * that stores it, record each acquisition in the custody ledger, then seal a manifest of the case.
 * Called by the CLI and by cloud handlers alike.
 */
import { pipeline, Transform, type TransformCallback } from 'node:stream';
import { isAmberError, AcquisitionError, ExitCode, InvalidInputError, StoreError } from '../errors.ts';
import type { EvidenceSource, SourceObject } from '../ports/evidence-source.ts';
import type { ObjectStore, PutResult } from '../ports/object-store.ts';
import type { Signer } from '../ports/signer.ts';
import { forEachConcurrent } from './concurrency.ts';
import { sha256Hex } from './hashing.ts';
import { CustodyLedger } from './ledger.ts';
import { sniffMediaType } from './media-type.ts';
import type { Actor, EvidenceItem } from './model.ts';
import { evidenceKey, relPathProblem, validateCaseName } from './names.ts';
import { sealManifest } from './seal.ts';

export interface CollectProgress {
  readonly files: number;
  readonly bytes: number;
  readonly current?: string;
}

export interface CollectOptions {
  readonly store: ObjectStore;
  readonly caseName: string;
  readonly sources: readonly EvidenceSource[];
  readonly actor: Actor;
  /** Retention applied to every preserved object. */
  readonly retainUntil?: Date;
  readonly clock?: () => Date;
  /** Objects stored at once (default 4). */
  readonly concurrency?: number;
  readonly onProgress?: (progress: CollectProgress) => void;
  /** Log source to record for every object of this run (`--source`), instead of recognising it by content later. */
  readonly source?: string;
  /**
   * Recognises an object's log source from its first bytes (up to RECOGNITION_BYTES) and key, recorded in
   * the item. Injected so the evidence core does not depend on the parsers.
   */
  readonly recognise?: (head: Uint8Array, key: string) => string | undefined;
  /**
   * Signs the seal and checkpoints. An unkeyed case is keyed with it (a `keyed` entry records its public
   * key); a keyed case requires it, and refuses another key, before anything is stored.
   */
  readonly signer?: Signer;
}

/** A source object that could not be preserved, with why. */
export interface CollectFailure {
  readonly origin: string;
  readonly reason: string;
  /** The error code (WRITE_ONCE_VIOLATION, ACQUISITION_FAILED, ...). */
  readonly code: string;
  readonly exitCode: number;
}

export interface CollectSummary {
  readonly case: string;
  readonly locker: string;
  /** Objects preserved in this run (new and re-acquired). */
  readonly items: number;
  readonly created: number;
  readonly reacquired: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly mbPerSecond: number;
  readonly failures: readonly CollectFailure[];
  readonly manifest: { readonly key: string; readonly sha256: string };
  readonly ledgerHead: { readonly seq: number; readonly sha256: string };
  /** Objects of this run by recognised log source (those no source claims are not counted). */
  readonly sources: Readonly<Record<string, number>>;
  /** Objects preserved with a caveat (changed while read): also in the ledger entry's detail. */
  readonly warnings: readonly { readonly origin: string; readonly reason: string }[];
  /** Fingerprint of the key that signed the seal and checkpoint (absent: an unsigned case). */
  readonly signedBy?: string;
}

/** Deterministic item id: the same key in the same case is the same item. */
export function itemId(key: string): string {
  return `ev-${sha256Hex(key).slice(0, 24)}`;
}

/** Preserves the sources into the case, records custody, seals a manifest. */
export async function collectEvidence(options: CollectOptions): Promise<CollectSummary> {
  const { store, actor } = options;
  const caseName = validateCaseName(options.caseName);
  const clock = options.clock ?? (() => new Date());
  const started = performance.now();
  const release = await store.lock(`case-${caseName}`);
  try {
    const ledger = await CustodyLedger.openForWriting(store, caseName, actor, clock(), options.signer ? { signer: options.signer } : {});
    const known = ledger.items();
    const failures: CollectFailure[] = [];
    const warnings: Array<{ origin: string; reason: string }> = [];
    const bySource: Record<string, number> = {};
    let created = 0;
    let reacquired = 0;
    /** Bytes of objects preserved (what the summary reports); `flowing` also counts puts that later failed. */
    let bytes = 0;
    let flowing = 0;
    let files = 0;
    let ledgerError: unknown;
    const report = (current?: string): void => options.onProgress?.({ files, bytes: flowing, ...(current ? { current } : {}) });
    // The run journal goes first, so a crash after any later write is recognised as this run's.
    let begun: Promise<void> | undefined;
    const begin = (): Promise<void> => (begun ??= ledger.beginRun());

    const preserve = async (obj: SourceObject): Promise<void> => {
      if (ledgerError !== undefined) {
        failures.push({ origin: obj.origin, reason: 'not attempted: the custody ledger could not be written', code: 'STORE_FAILED', exitCode: ExitCode.failure });
        return;
      }
      try {
        await begin();
      } catch (error) {
        ledgerError ??= error;
        failures.push({ origin: obj.origin, reason: `not preserved: the run journal could not be written: ${(error as Error).message}`, code: 'STORE_FAILED', exitCode: ExitCode.failure });
        return;
      }
      try {
        await preserveOne(obj);
      } catch (error) {
        // A ledger write failed: stop storing (what is stored would go unrecorded) and report at the end.
        ledgerError ??= error;
        failures.push({ origin: obj.origin, reason: `stored but not recorded: ${(error as Error).message}`, code: 'STORE_FAILED', exitCode: ExitCode.failure });
      }
    };

    const preserveOne = async (obj: SourceObject): Promise<void> => {
      const relProblem = relPathProblem(obj.relPath);
      if (relProblem) {
        failures.push({ origin: obj.origin, reason: `cannot keep path ${JSON.stringify(obj.relPath)}: ${relProblem}`, code: 'INVALID_INPUT', exitCode: ExitCode.usage });
        return;
      }
      const key = evidenceKey(caseName, obj.relPath);
      const head: Buffer[] = [];
      let stored: PutResult;
      let changed: string | undefined;
      try {
        if (obj.s3 && store.copyFrom) {
          stored = await store.copyFrom(obj.s3, key, { ...retention(options), onProgress: (n) => ((flowing += n), report(obj.origin)) });
        } else {
          const stream = await obj.open().catch((error: unknown) => {
            throw new AcquisitionError(`cannot read ${obj.origin}: ${(error as Error).message}`, obj.origin, { cause: error });
          });
          // pipeline (not pipe) so a read error mid-file reaches the store and fails this put.
          const body = pipeline(stream, headTap(head), () => undefined);
          try {
            stored = await store.putImmutable(key, body, {
              ...retention(options),
              mediaType: sniffMediaType(key, new Uint8Array()),
              ...(obj.size === undefined ? {} : { sizeHint: obj.size }),
              onProgress: (n) => {
                flowing += n;
                report(obj.origin);
              },
            });
          } catch (error) {
            await obj.afterRead?.(undefined).catch(() => undefined);
            throw error;
          }
          changed = await obj.afterRead?.(stored.size);
        }
      } catch (error) {
        failures.push({
          origin: obj.origin,
          reason: (error as Error).message,
          code: isAmberError(error) ? error.code : 'ACQUISITION_FAILED',
          exitCode: isAmberError(error) ? error.exitCode : ExitCode.failure,
        });
        return;
      }
      files += 1;
      bytes += stored.size;
      if (changed) warnings.push({ origin: obj.origin, reason: changed });
      const headBytes = Buffer.concat(head);
      const recognised = options.source ?? options.recognise?.(headBytes, key);
      if (recognised) bySource[recognised] = (bySource[recognised] ?? 0) + 1;
      const previous = known.get(key);
      const at = clock();
      if (previous && previous.sha256 !== stored.sha256) {
        // The key's recorded evidence is not what the locker holds now: replaced, or removed and stored anew. Recording
        // these bytes would give one key two hashes in the ledger and make the replacement look acquired.
        failures.push({
          origin: obj.origin,
          reason: `${key} ${stored.created ? 'was missing from the locker and now holds' : 'holds'} sha256 ${stored.sha256}, but the custody ledger recorded ${previous.sha256} for it: the preserved object was replaced or removed outside Amber, so these bytes are not recorded (run amber verify --case ${caseName})`,
          code: 'INTEGRITY',
          exitCode: ExitCode.integrity,
        });
        return;
      }
      if (previous) {
        reacquired += 1;
        await ledger.append('acquired', actor, at, {
          items: [previous],
          detail: {
            reacquired: true,
            origin: obj.origin,
            ...(stored.created ? { restored: 'the object was missing from the locker; the same bytes were stored again' } : {}),
            ...(changed ? { changedWhileRead: changed } : {}),
          },
        });
        return;
      }
      const item: EvidenceItem = {
        id: itemId(key),
        case: caseName,
        origin: obj.origin,
        key,
        size: stored.size,
        sha256: stored.sha256,
        acquiredAt: at.toISOString(),
        acquiredBy: actor.principal,
        retainUntil: stored.retainUntil ?? null,
        mediaType: sniffMediaType(key, headBytes),
        ...(stored.versionId ? { versionId: stored.versionId } : {}),
        ...(recognised ? { source: recognised } : {}),
      };
      known.set(key, item);
      created += 1;
      // Bytes already in the store but absent from the ledger: a run interrupted after storing; record them now.
      await ledger.append(obj.s3 && store.copyFrom ? 'copied' : 'acquired', actor, at, {
        items: [item],
        ...(stored.created && !changed
          ? {}
          : {
              detail: {
                ...(stored.created ? {} : { recovered: 'object was already stored with these bytes but not yet recorded' }),
                ...(changed ? { changedWhileRead: changed } : {}),
              },
            }),
      });
    };

    const empty: string[] = [];
    for (const source of options.sources) {
      let listedCount = 0;
      let problems = 0;
      const listed = source.list((problem) => {
        problems += 1;
        failures.push({ ...problem, code: 'ACQUISITION_FAILED', exitCode: ExitCode.failure });
      });
      await forEachConcurrent(counted(listed, () => (listedCount += 1)), source.concurrency ?? options.concurrency ?? 4, preserve);
      if (listedCount === 0 && problems === 0) empty.push(source.spec);
    }
    if (empty.length === options.sources.length) {
      // Nothing at all to preserve: sealing an empty manifest would look like a collection that happened.
      throw new InvalidInputError(`nothing preserved: ${empty.map((e) => JSON.stringify(e)).join(', ')} ${empty.length === 1 ? 'holds' : 'hold'} no files`, {
        hint: 'pass --from with the file, folder or s3://bucket/prefix that holds the logs (check the path, and for S3 the prefix and region)',
      });
    }
    for (const spec of empty) {
      failures.push({ origin: spec, reason: 'this source holds no files: nothing was preserved from it', code: 'INVALID_INPUT', exitCode: ExitCode.usage });
    }

    let sealed;
    try {
      if (ledgerError !== undefined) throw ledgerError;
      await begin();
      sealed = await sealManifest(store, ledger, actor, clock(), failures);
      await ledger.checkpoint();
    } catch (error) {
      const notPreserved = failures.map((f) => `${f.origin} (${f.reason})`);
      throw new StoreError(
        `collect into case ${caseName} could not be recorded: ${(error as Error).message}. ` +
          `${notPreserved.length} object${notPreserved.length === 1 ? '' : 's'} not preserved or not recorded: ${notPreserved.join('; ') || 'none'}`,
        {
          cause: error,
          hint: `fix the cause (${isAmberError(error) && error.hint ? error.hint : 'see the message'}) and run the same command again: objects already stored are recognised by their bytes and recorded, and the interrupted run is finished automatically`,
        },
      );
    }
    const seconds = (performance.now() - started) / 1000;
    return {
      case: caseName,
      locker: store.uri,
      items: created + reacquired,
      created,
      reacquired,
      bytes,
      seconds,
      mbPerSecond: seconds > 0 ? bytes / 1e6 / seconds : 0,
      failures,
      manifest: { key: sealed.key, sha256: sealed.sha256 },
      sources: bySource,
      warnings,
      ledgerHead: ledger.head,
      ...(ledger.signingKey ? { signedBy: ledger.signingKey.fingerprint } : {}),
    };
  } finally {
    await release();
  }
}

/** Passes items through, calling `onItem` for each (counts what a source listed). */
async function* counted<T>(items: AsyncIterable<T>, onItem: () => void): AsyncIterable<T> {
  for await (const item of items) {
    onItem();
    yield item;
  }
}

function retention(options: CollectOptions): { retainUntil?: Date } {
  return options.retainUntil ? { retainUntil: options.retainUntil } : {};
}

/** Leading bytes kept for media-type and log-source recognition (a gzip head inflates from these). */
const HEAD_BYTES = 64 * 1024;

/** Keeps the first bytes going by (for the media type), passing everything through untouched. */
function headTap(head: Buffer[]): Transform {
  let kept = 0;
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback) {
      if (kept < HEAD_BYTES) {
        head.push(chunk.subarray(0, HEAD_BYTES - kept));
        kept += Math.min(chunk.length, HEAD_BYTES - kept);
      }
      callback(null, chunk);
    },
  });
}
