/**
 * `snapshotInstance`: preserve a running instance. The steps are separate use cases because in the cloud a
 * state machine runs them and waits between them (snapshots take minutes to hours, far past a function's
 * limit); `snapshotInstance` chains them with a polling wait for runs that have no state machine.
 *
 *   captureInstance        metadata records (instance, volumes, interfaces, groups, profile, tags, console) as evidence
 *   createInstanceSnapshots crash-consistent snapshots of every volume at once, tagged with case, request, evidence id
 *   checkSnapshots          one look at their state: completed, pending, or error with each failure's reason
 *   copySnapshotsToEvidence shared with and copied into the evidence account, re-encrypted with its key
 *   isolateInstance         quarantine, only when the request asked for it
 *
 * None of them writes the custody ledger: in the cloud one step (record-custody) is the ledger's only writer.
 * They return the evidence items and facts that step records.
 */
import { WriteOnceViolationError, isAmberError } from '../errors.ts';
import { itemId } from '../evidence/collect.ts';
import { hashStream, sha256Hex } from '../evidence/hashing.ts';
import type { Actor, EvidenceItem } from '../evidence/model.ts';
import { evidenceKey, relPathProblem, validateCaseName } from '../evidence/names.ts';
import type { ObjectStore, PutResult } from '../ports/object-store.ts';
import type {
  InstanceTarget,
  IsolationOutcome,
  MetadataDocument,
  ResourceTags,
  ShareAndCopyResult,
  SnapshotProvider,
  SnapshotRef,
  SnapshotStatus,
} from '../ports/snapshot-provider.ts';
import { SnapshotError } from './errors.ts';
import { requestSlug, type InstanceTask } from './request.ts';

/** Tag keys Amber puts on what it creates (and looks them up by). */
export const TAGS = {
  case: 'amber:case',
  requestId: 'amber:request-id',
  instanceId: 'amber:instance-id',
  evidenceId: 'amber:evidence-id',
  sourceSnapshotId: 'amber:source-snapshot-id',
  sourceAccountId: 'amber:source-account-id',
} as const;

/** Default name of the quarantine security group. */
export const QUARANTINE_GROUP_NAME = 'amber-quarantine';

export interface CaptureOptions {
  readonly provider: SnapshotProvider;
  readonly store: ObjectStore;
  readonly actor: Actor;
  /** @default () => new Date() */
  readonly clock?: () => Date;
  /** Retention of the metadata objects. @default the store's default retention */
  readonly retainUntil?: Date;
}

/** What `captureInstance` preserved. */
export interface CapturedMetadata {
  readonly volumeIds: readonly string[];
  readonly networkId?: string;
  readonly evidenceKeys: readonly string[];
  /** Evidence items for the ledger (`acquired`), one per metadata record. */
  readonly items: readonly EvidenceItem[];
}

/**
 * Captures the instance's metadata as evidence objects under
 * `cases/<case>/<provider path>/<request>/<record>`. Keys are deterministic per request: a retried capture
 * that finds a record already stored keeps the first capture (the one closest to the incident) and returns
 * its item, so a duplicated step yields one set of evidence items.
 */
export async function captureInstance(options: CaptureOptions, task: InstanceTask): Promise<CapturedMetadata> {
  const caseName = validateCaseName(task.case);
  const clock = options.clock ?? (() => new Date());
  const metadata = await options.provider.describeInstance(targetOf(task));
  const folder = `${metadata.pathPrefix}/${requestSlug(task.requestId)}`;
  const items = await Promise.all(
    metadata.documents.map(async (doc) => {
      const relPath = `${folder}/${doc.name}`;
      const problem = relPathProblem(relPath);
      if (problem) throw new SnapshotError(`cannot keep metadata record ${doc.name} at ${JSON.stringify(relPath)}: ${problem}`);
      const key = evidenceKey(caseName, relPath);
      const mediaType = doc.kind === 'json' ? 'application/json' : 'text/plain; charset=utf-8';
      const stored = await putOrKeepFirst(options.store, key, documentBytes(doc), { mediaType, ...(options.retainUntil ? { retainUntil: options.retainUntil } : {}) });
      const item: EvidenceItem = {
        id: itemId(key),
        case: caseName,
        origin: doc.origin,
        key,
        size: stored.size,
        sha256: stored.sha256,
        acquiredAt: clock().toISOString(),
        acquiredBy: options.actor.principal,
        retainUntil: stored.retainUntil ?? null,
        mediaType,
        ...(stored.versionId ? { versionId: stored.versionId } : {}),
      };
      return item;
    }),
  );
  return {
    volumeIds: metadata.volumeIds,
    ...(metadata.networkId ? { networkId: metadata.networkId } : {}),
    evidenceKeys: items.map((i) => i.key),
    items,
  };
}

/** The bytes of a metadata record: indented JSON (people read these) or the text as captured. */
export function documentBytes(doc: MetadataDocument): Buffer {
  return Buffer.from(doc.kind === 'json' ? `${JSON.stringify(doc.value, null, 2)}\n` : doc.text, 'utf8');
}

/** Stores bytes write-once; when the key already holds other bytes from an earlier attempt, keeps those. */
async function putOrKeepFirst(store: ObjectStore, key: string, bytes: Buffer, options: { mediaType: string; retainUntil?: Date }): Promise<PutResult> {
  try {
    return await store.putImmutable(key, bytes, options);
  } catch (error) {
    if (!(error instanceof WriteOnceViolationError) && !(isAmberError(error) && error.code === 'WRITE_ONCE_VIOLATION')) throw error;
    // The same request captured this record before (a retried step): the first capture stands.
    const { sha256, size } = await hashStream(await store.get(key));
    return { key, size, sha256, created: false };
  }
}

/** Deterministic evidence id of a snapshot: case, request, volume and stage (`source` or `evidence`). */
export function snapshotEvidenceId(caseName: string, requestId: string, volumeId: string, stage: 'source' | 'evidence'): string {
  return `ev-${sha256Hex(`snapshot\n${caseName}\n${requestId}\n${volumeId}\n${stage}`).slice(0, 24)}`;
}

export interface SnapshotStepOptions {
  readonly provider: SnapshotProvider;
}

/** The snapshot set of an instance, as created (or found, for a retried request). */
export interface CreatedSnapshots {
  readonly snapshots: readonly SnapshotRef[];
  readonly reused: boolean;
  /** Captured volumes the set does not cover (attached or detached between capture and snapshot). */
  readonly uncoveredVolumes: readonly string[];
}

/**
 * Creates crash-consistent snapshots of all the instance's volumes in one call, tagged with the case, the
 * request, the instance and each snapshot's evidence id. Idempotent: the provider first looks up snapshots
 * tagged with this request and instance, so a duplicated event or a retried step yields one snapshot set.
 */
export async function createInstanceSnapshots(
  options: SnapshotStepOptions,
  task: InstanceTask & { readonly volumeIds: readonly string[] },
): Promise<CreatedSnapshots> {
  const caseName = validateCaseName(task.case);
  const result = await options.provider.createSnapshots(targetOf(task), {
    requestId: task.requestId,
    tags: baseTags(task),
    tagsFor: (volumeId) => ({ [TAGS.evidenceId]: snapshotEvidenceId(caseName, task.requestId, volumeId, 'source') }),
    description: describe(`Amber case ${caseName}: ${task.instanceId} (request ${task.requestId})`),
  });
  const covered = new Set(result.snapshots.map((s) => s.volumeId));
  return { ...result, uncoveredVolumes: task.volumeIds.filter((v) => !covered.has(v)) };
}

/** One look at a snapshot set. */
export interface SnapshotsChecked {
  readonly status: 'completed' | 'pending' | 'error';
  /** Snapshots that failed or disappeared, each with the provider's reason. */
  readonly failed: readonly { readonly snapshotId: string; readonly reason: string }[];
  readonly snapshots: readonly SnapshotStatus[];
}

/** Reports whether every snapshot completed, some are still pending, or any failed (and why). */
export async function checkSnapshots(options: SnapshotStepOptions, snapshots: readonly SnapshotRef[]): Promise<SnapshotsChecked> {
  const states = snapshots.length === 0 ? [] : await options.provider.getSnapshots(snapshots);
  const failed = states
    .filter((s) => s.state === 'error' || s.state === 'missing')
    .map((s) => ({
      snapshotId: s.snapshotId,
      reason: s.reason ?? (s.state === 'missing' ? `snapshot ${s.snapshotId} of volume ${s.volumeId} no longer exists` : `snapshot ${s.snapshotId} of volume ${s.volumeId} failed`),
    }));
  const status = failed.length > 0 ? 'error' : states.every((s) => s.state === 'completed') ? 'completed' : 'pending';
  return { status, failed, snapshots: states };
}

/** Where evidence copies of snapshots go. */
export interface EvidenceAccount {
  readonly accountId: string;
  readonly region: string;
  /** Full ARN of the evidence key (used from the member account too). */
  readonly kmsKeyArn: string;
}

/**
 * Copies a completed snapshot set into the evidence account, re-encrypted with the evidence key. When the
 * instance lives in the evidence account itself, the snapshots already are there: nothing is copied. A set
 * encrypted with a key the evidence account cannot use first gets re-encrypted copies in its own account
 * (`stage: 'source'`): wait for those and call again.
 */
export async function copySnapshotsToEvidence(
  options: SnapshotStepOptions,
  set: { readonly case: string; readonly requestId: string; readonly instanceId: string; readonly accountId: string; readonly region: string; readonly snapshots: readonly SnapshotRef[] },
  evidence: EvidenceAccount,
): Promise<ShareAndCopyResult> {
  const caseName = validateCaseName(set.case);
  if (set.accountId === evidence.accountId || set.snapshots.length === 0) {
    return { stage: 'evidence', snapshots: set.snapshots, reused: [] };
  }
  return options.provider.shareAndCopy(set.snapshots, {
    evidenceAccountId: evidence.accountId,
    evidenceRegion: evidence.region,
    kmsKeyArn: evidence.kmsKeyArn,
    tags: baseTags(set),
    tagsFor: (source) => ({
      [TAGS.evidenceId]: snapshotEvidenceId(caseName, set.requestId, source.volumeId, 'evidence'),
      [TAGS.sourceAccountId]: source.accountId,
    }),
    description: describe(`Amber case ${caseName}: evidence copy of ${set.instanceId} (request ${set.requestId})`),
  });
}

/** What `isolateInstance` did. */
export type IsolationResult =
  | { readonly applied: true; readonly outcome: IsolationOutcome }
  | { readonly applied: false; readonly reason: string };

/**
 * Isolates the instance (quarantine group replacing all its groups, termination protection, out of its
 * Auto Scaling group) only when the request asked for it; otherwise changes nothing and says so.
 */
export async function isolateInstance(
  options: SnapshotStepOptions & { readonly quarantineGroupName?: string },
  task: InstanceTask,
): Promise<IsolationResult> {
  validateCaseName(task.case);
  if (task.isolate !== true) return { applied: false, reason: 'isolation was not requested' };
  const outcome = await options.provider.isolate(targetOf(task), {
    quarantineGroupName: options.quarantineGroupName ?? QUARANTINE_GROUP_NAME,
    tags: baseTags(task),
  });
  return { applied: true, outcome };
}

export interface SnapshotInstanceOptions extends CaptureOptions {
  /** Where evidence copies go; without it the snapshots stay where they were made. */
  readonly evidence?: EvidenceAccount;
  /** @default setTimeout-based sleep */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default 15 000 ms */
  readonly pollIntervalMs?: number;
  /** Give up waiting after this long. @default 6 hours */
  readonly timeoutMs?: number;
}

/** Everything `snapshotInstance` preserved. */
export interface InstancePreserved {
  readonly captured: CapturedMetadata;
  readonly source: readonly SnapshotStatus[];
  readonly evidence?: readonly SnapshotStatus[];
  readonly isolation: IsolationResult;
}

/**
 * The whole instance preservation in one call, waiting by polling: capture, snapshot, wait, copy to the
 * evidence account (and wait), then isolate when asked. For runs without a state machine; the cloud runs the
 * same steps from one.
 */
export async function snapshotInstance(options: SnapshotInstanceOptions, task: InstanceTask): Promise<InstancePreserved> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const captured = await captureInstance(options, task);
  const created = await createInstanceSnapshots(options, { ...task, volumeIds: captured.volumeIds });
  const source = await waitFor(options, sleep, created.snapshots);
  let evidence: readonly SnapshotStatus[] | undefined;
  if (options.evidence) {
    let snapshots = source.map(refOf);
    for (let round = 0; round < 3; round++) {
      const copied = await copySnapshotsToEvidence(options, { ...task, snapshots }, options.evidence);
      const states = await waitFor(options, sleep, copied.snapshots);
      if (copied.stage === 'evidence') {
        evidence = states;
        break;
      }
      snapshots = states.map(refOf);
    }
    if (evidence === undefined) throw new SnapshotError(`the snapshots of ${task.instanceId} could not be copied into the evidence account`);
  }
  const isolation = await isolateInstance(options, task);
  return { captured, source, ...(evidence ? { evidence } : {}), isolation };
}

async function waitFor(options: SnapshotInstanceOptions, sleep: (ms: number) => Promise<void>, snapshots: readonly SnapshotRef[]): Promise<readonly SnapshotStatus[]> {
  const timeoutMs = options.timeoutMs ?? 6 * 3_600_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const checked = await checkSnapshots(options, snapshots);
    if (checked.status === 'completed') return checked.snapshots;
    if (checked.status === 'error') {
      throw new SnapshotError(`snapshots failed: ${checked.failed.map((f) => `${f.snapshotId}: ${f.reason}`).join('; ')}`, {
        hint: 'check the volumes in the console (a volume in error cannot be snapshotted); the snapshots that completed are kept',
      });
    }
    if (Date.now() > deadline) throw new SnapshotError(`snapshots still pending after ${Math.round(timeoutMs / 60_000)} minutes`, {
      hint: 'large volumes take hours for their first snapshot; wait longer (timeoutMs) or check the snapshots in the console',
    });
    await sleep(options.pollIntervalMs ?? 15_000);
  }
}

function refOf(s: SnapshotStatus): SnapshotRef {
  return { snapshotId: s.snapshotId, volumeId: s.volumeId, accountId: s.accountId, region: s.region };
}

function targetOf(task: { accountId: string; region: string; instanceId: string }): InstanceTarget {
  return { accountId: task.accountId, region: task.region, instanceId: task.instanceId };
}

function baseTags(task: { case: string; requestId: string; instanceId: string }): ResourceTags {
  // Tag values hold at most 256 characters; case names (128) fit, request ids are cut.
  return { [TAGS.case]: task.case, [TAGS.requestId]: task.requestId.slice(0, 256), [TAGS.instanceId]: task.instanceId };
}

/** Descriptions hold at most 255 characters. */
function describe(text: string): string {
  return text.length <= 255 ? text : `${text.slice(0, 252)}...`;
}
