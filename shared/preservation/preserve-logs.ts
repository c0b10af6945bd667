/**
 * `preserveLogs`: copy the CloudTrail log files (and their digest files) of a time window, for some accounts
 * and regions, from the trail bucket into a case. Two steps, because in the cloud a Distributed Map fans the
 * copies out over many function invocations:
 *
 *   listLogObjects  lists the window's objects and writes the list (a JSON array of {bucket, key}) to the store
 *   copyLogObjects  copies one batch server-side with SHA-256 checksums, each copy hashed by Amber too
 *
 * Preserved keys keep the source key under the case (`cases/<case>/<source key>`), so Athena partition
 * projection works on the preserved copies as on the trail bucket. Copies are write-once: a retried batch finds
 * the same bytes already there (`created: false`) and yields the same items, never duplicates.
 */
import { AmberError, InvalidInputError, NotImplementedError, isAmberError } from '../errors.ts';
import { itemId } from '../evidence/collect.ts';
import { forEachConcurrent } from '../evidence/concurrency.ts';
import { sha256Hex } from '../evidence/hashing.ts';
import { sniffMediaType } from '../evidence/media-type.ts';
import type { Actor, EvidenceItem } from '../evidence/model.ts';
import { evidenceKey, relPathProblem, validateCaseName } from '../evidence/names.ts';
import type { EvidenceSource, SourceProblem } from '../ports/evidence-source.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import { parseLogFileKey } from '../sources/cloudtrail/digest.ts';
import { requestSlug, windowProblems, type LogTask } from './request.ts';

/** One object to copy. */
export interface LogObjectRef {
  readonly bucket: string;
  readonly key: string;
}

/** Where CloudTrail delivers: the trail bucket, its key prefix, and the organization id of an organization trail. */
export interface TrailLocation {
  readonly bucket: string;
  /** Key prefix set on the trail ('' when none). */
  readonly prefix: string;
  /** Organization id (`o-...`) for an organization trail, whose keys carry it; '' or undefined otherwise. */
  readonly organizationId?: string;
}

/** CloudTrail writes a file up to about 15 minutes after the events in it: files named this long after the window still hold its events. */
export const DELIVERY_SLACK_MS = 60 * 60_000;

/** The key prefixes (one per account, region and day, for log and digest files) that can hold the window's events. */
export function cloudTrailPrefixes(trail: TrailLocation, task: Pick<LogTask, 'accounts' | 'regions' | 'since' | 'until'>): string[] {
  const problems = windowProblems(task.since, task.until);
  for (const a of task.accounts) if (!/^\d{12}$/.test(a)) problems.push(`account ids are 12 digits, got ${JSON.stringify(a)}`);
  for (const r of task.regions) if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(r)) problems.push(`not a region name: ${JSON.stringify(r)}`);
  if (task.accounts.length === 0 || task.regions.length === 0) problems.push('at least one account and one region are needed');
  if (problems.length > 0) throw new InvalidInputError(`cannot list CloudTrail objects: ${problems.join('; ')}`, { hint: 'pass 12-digit account ids, region names and an ISO-8601 UTC window' });
  const root = `${trail.prefix ? `${trail.prefix.replace(/\/+$/, '')}/` : ''}AWSLogs/${trail.organizationId ? `${trail.organizationId}/` : ''}`;
  const days = daysBetween(new Date(task.since), new Date(Date.parse(task.until) + DELIVERY_SLACK_MS));
  const out: string[] = [];
  for (const account of task.accounts) {
    for (const region of task.regions) {
      for (const day of days) {
        out.push(`${root}${account}/CloudTrail/${region}/${day}/`, `${root}${account}/CloudTrail-Digest/${region}/${day}/`);
      }
    }
  }
  return out;
}

/** True when a listed key belongs in the window: log files by the time in their name, everything else kept. */
export function inWindow(key: string, since: string, until: string): boolean {
  const info = parseLogFileKey(key);
  // Digest files, and anything not named like a log file, are kept: nothing under the prefix is dropped unseen.
  if (info === undefined) return true;
  const t = Date.parse(info.time);
  return t >= Date.parse(since) - 5 * 60_000 && t <= Date.parse(until) + DELIVERY_SLACK_MS;
}

/** Where listings are written in the store: outside the case folders (they are Amber's work files, not evidence). */
export function listingKey(caseName: string, requestId: string, body: string): string {
  return `_work/log-listings/${caseName}/${requestSlug(requestId)}-${sha256Hex(body).slice(0, 16)}.json`;
}

export interface ListLogObjectsOptions {
  /** Opens `s3://bucket/prefix` (or the store's equivalent) as a source to list. */
  readonly sourceFor: (uri: string) => EvidenceSource;
  /** Where the listing is written. */
  readonly store: ObjectStore;
  readonly trail: TrailLocation;
}

/** What `listLogObjects` found and wrote. */
export interface LogListed {
  readonly itemsKey: string;
  readonly count: number;
  /** Objects that cannot be preserved under their own key (reported, never dropped silently). */
  readonly skipped: readonly SourceProblem[];
}

/**
 * Lists the window's CloudTrail objects and writes them, sorted, as a JSON array of `{bucket, key}`. The
 * listing's key carries its hash: a retry that lists the same objects finds the listing already there, and one
 * that finds more (late deliveries) writes a second listing whose copies of the first objects are no-ops.
 */
export async function listLogObjects(options: ListLogObjectsOptions, task: LogTask): Promise<LogListed> {
  const caseName = validateCaseName(task.case);
  const refs = new Map<string, LogObjectRef>();
  const skipped: SourceProblem[] = [];
  for (const prefix of cloudTrailPrefixes(options.trail, task)) {
    const source = options.sourceFor(`s3://${options.trail.bucket}/${prefix}`);
    for await (const obj of source.list((p) => skipped.push(p))) {
      if (!inWindow(obj.relPath, task.since, task.until)) continue;
      const problem = relPathProblem(obj.relPath);
      if (problem) {
        skipped.push({ origin: obj.origin, reason: `cannot keep ${JSON.stringify(obj.relPath)} under the case: ${problem}` });
        continue;
      }
      refs.set(obj.relPath, { bucket: obj.s3?.bucket ?? options.trail.bucket, key: obj.s3?.key ?? obj.relPath });
    }
  }
  const sorted = [...refs.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const body = `${JSON.stringify(sorted)}\n`;
  const key = listingKey(caseName, task.requestId, body);
  await options.store.putImmutable(key, Buffer.from(body), { mediaType: 'application/json' });
  return { itemsKey: key, count: sorted.length, skipped };
}

export interface CopyLogObjectsOptions {
  /** The evidence store; it must copy server-side (`copyFrom`). */
  readonly store: ObjectStore;
  readonly actor: Actor;
  /** @default () => new Date() */
  readonly clock?: () => Date;
  readonly retainUntil?: Date;
  /** Copies in flight. @default 8 */
  readonly concurrency?: number;
}

/** An object that could not be preserved, and why. */
export interface CopyFailure {
  readonly origin: string;
  readonly reason: string;
  readonly code: string;
}

/** What a batch preserved. */
export interface CopiedBatch {
  /** Evidence items, sorted by key (the ledger records them in this order). */
  readonly items: readonly EvidenceItem[];
  /** Objects that cannot be preserved however often the batch runs (gone, refused, other bytes already kept). */
  readonly failures: readonly CopyFailure[];
  /** How many were already preserved with the same bytes (a retried batch). */
  readonly alreadyPreserved: number;
}

/** Failures that running the batch again may fix (throttling or 5xx that outlived the SDK's retries). */
export class CopyBatchError extends AmberError {
  override readonly code = 'COPY_BATCH_RETRY';
  constructor(readonly transient: readonly CopyFailure[]) {
    super(`${transient.length === 1 ? '1 object' : `${transient.length} objects`} could not be copied for a reason that may pass: ${transient.slice(0, 3).map((f) => `${f.origin}: ${f.reason}`).join('; ')}${transient.length > 3 ? '; ...' : ''}`, {
      hint: 'run the batch again (copies already made are kept and not duplicated)',
    });
  }
}

/** Error codes that running again cannot fix: the object is recorded as not preserved. */
const PERMANENT = new Set(['ACQUISITION_FAILED', 'WRITE_ONCE_VIOLATION', 'INTEGRITY', 'INVALID_INPUT', 'NOT_IMPLEMENTED', 'OBJECT_NOT_FOUND']);

/**
 * Copies a batch of objects into `cases/<case>/<source key>`. Objects that can never be copied are returned as
 * failures (the custody step lists them in the manifest); if any failed for a reason that may pass, the batch
 * throws CopyBatchError after finishing the others, so the orchestrator retries it, and the retry finds the
 * copies already made.
 */
export async function copyLogObjects(options: CopyLogObjectsOptions, batch: { readonly case: string; readonly requestId: string; readonly items: readonly LogObjectRef[] }): Promise<CopiedBatch> {
  const caseName = validateCaseName(batch.case);
  const store = options.store;
  if (!store.copyFrom) {
    throw new NotImplementedError(`the store ${store.uri} cannot copy server-side`, { hint: 'copy logs into an S3 evidence bucket, or use amber collect for a local locker' });
  }
  const copyFrom = store.copyFrom.bind(store);
  const clock = options.clock ?? (() => new Date());
  const items: EvidenceItem[] = [];
  const failures: CopyFailure[] = [];
  const transient: CopyFailure[] = [];
  let alreadyPreserved = 0;
  await forEachConcurrent(batch.items, options.concurrency ?? 8, async (ref) => {
    const origin = `s3://${ref.bucket}/${ref.key}`;
    const problem = relPathProblem(ref.key);
    if (problem) {
      failures.push({ origin, reason: `cannot keep ${JSON.stringify(ref.key)} under the case: ${problem}`, code: 'INVALID_INPUT' });
      return;
    }
    const key = evidenceKey(caseName, ref.key);
    try {
      const stored = await copyFrom({ bucket: ref.bucket, key: ref.key }, key, options.retainUntil ? { retainUntil: options.retainUntil } : {});
      if (!stored.created) alreadyPreserved += 1;
      items.push({
        id: itemId(key),
        case: caseName,
        origin,
        key,
        size: stored.size,
        sha256: stored.sha256,
        acquiredAt: clock().toISOString(),
        acquiredBy: options.actor.principal,
        retainUntil: stored.retainUntil ?? null,
        mediaType: /\.gz$/i.test(key) ? 'application/gzip' : sniffMediaType(key, new Uint8Array()),
        ...(stored.versionId ? { versionId: stored.versionId } : {}),
      });
    } catch (error) {
      const code = isAmberError(error) ? error.code : 'UNEXPECTED';
      const failure = { origin, reason: (error as Error).message, code };
      (PERMANENT.has(code) ? failures : transient).push(failure);
    }
  });
  if (transient.length > 0) throw new CopyBatchError(transient);
  items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  failures.sort((a, b) => (a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : 0));
  return { items, failures, alreadyPreserved };
}

/**
 * The whole log preservation in one call: list, then copy in batches. Returns every item and failure for the
 * caller to record in the custody ledger (see recordCustody).
 */
export async function preserveLogs(
  options: ListLogObjectsOptions & CopyLogObjectsOptions & { readonly batchSize?: number },
  task: LogTask,
): Promise<{ listing: LogListed; items: EvidenceItem[]; failures: CopyFailure[] }> {
  const listing = await listLogObjects(options, task);
  const refs = JSON.parse((await options.store.readText(listing.itemsKey)) ?? '[]') as LogObjectRef[];
  const items: EvidenceItem[] = [];
  const failures: CopyFailure[] = listing.skipped.map((s) => ({ ...s, code: 'ACQUISITION_FAILED' }));
  const size = options.batchSize ?? 100;
  for (let i = 0; i < refs.length; i += size) {
    const copied = await copyLogObjects(options, { case: task.case, requestId: task.requestId, items: refs.slice(i, i + size) });
    items.push(...copied.items);
    failures.push(...copied.failures);
  }
  return { listing, items, failures };
}

function daysBetween(since: Date, until: Date): string[] {
  const out: string[] = [];
  const day = new Date(Date.UTC(since.getUTCFullYear(), since.getUTCMonth(), since.getUTCDate()));
  const last = Date.UTC(until.getUTCFullYear(), until.getUTCMonth(), until.getUTCDate());
  while (day.getTime() <= last) {
    out.push(day.toISOString().slice(0, 10).replace(/-/g, '/'));
    day.setUTCDate(day.getUTCDate() + 1);
  }
  return out;
}
