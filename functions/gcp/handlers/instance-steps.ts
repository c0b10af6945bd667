/**
 * The instance preservation steps Cloud Workflows calls over HTTP (OIDC-authenticated, internal ingress), one use
 * case each, in order: `captureInstance` (metadata as evidence), `createSnapshots` (every attached disk, labelled
 * with case and evidence ids), `checkSnapshots` (one look: the workflow sleeps between looks, no function waits),
 * `copySnapshots` (the completed set into the evidence project, as images; `checkSnapshots` then follows the copies
 * the same way), `isolateInstance` (only when the request asked). Each step records what it did in the case's custody ledger
 * (idempotency keys: a retried step records nothing twice), and a step that fails records the failure there too,
 * naming the instance and the reason, before answering 500 (retryable) or 400 (it will not pass by retrying).
 */
import type { HttpFunction } from '@google-cloud/functions-framework';
import { InvalidInputError, isAmberError } from '../../../shared/errors.ts';
import type { Actor } from '../../../shared/evidence/model.ts';
import type { ObjectStore } from '../../../shared/ports/object-store.ts';
import type { SnapshotProvider, SnapshotRef } from '../../../shared/ports/snapshot-provider.ts';
import { recordCustody, type CustodyBatch } from '../../../shared/preservation/custody.ts';
import { CloudCallError } from '../../../shared/preservation/errors.ts';
import type { InstanceTask } from '../../../shared/preservation/request.ts';
import { captureInstance, checkSnapshots, copySnapshotsToEvidence, createInstanceSnapshots, isolateInstance } from '../../../shared/preservation/snapshot-instance.ts';
import { errorFields, type GcpLogger } from '../runtime.ts';
import { checked } from '../triggers.ts';

export interface InstanceStepDeps {
  readonly provider: SnapshotProvider;
  readonly store: ObjectStore;
  readonly actor: Actor;
  readonly logger: GcpLogger;
  /** Retention of metadata objects, from now. @default the store's default */
  readonly retainUntil?: () => Date;
  /** The project evidence copies of snapshots are made in (copySnapshots). */
  readonly evidenceProject?: string;
  /** Cloud KMS key of the evidence copies. @default Google-managed encryption */
  readonly evidenceKmsKey?: string;
}

/** What a step hands back for the ledger and the workflow's next step. */
interface StepOutcome {
  readonly output: Record<string, unknown>;
  readonly batch: CustodyBatch;
  readonly action: 'acquired' | 'accessed' | 'copied';
}

/** The task in a Workflows call body; the same checks as a Pub/Sub request, one instance. */
export function instanceTaskOf(body: unknown): InstanceTask {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const request = checked({
    case: String(b.case ?? ''),
    accountId: String(b.accountId ?? ''),
    region: String(b.region ?? ''),
    instanceIds: [String(b.instanceId ?? '')],
    isolate: b.isolate as boolean,
    requestId: String(b.requestId ?? ''),
    trigger: 'custom',
  });
  return { case: request.case, accountId: request.accountId, region: request.region, instanceId: request.instanceIds[0]!, requestId: request.requestId, isolate: request.isolate };
}

function snapshotsOf(body: unknown): SnapshotRef[] {
  const list = (body as { snapshots?: unknown }).snapshots;
  if (!Array.isArray(list)) throw new InvalidInputError('snapshots must be the list createSnapshots returned', { hint: 'pass ${createSnapshots.body.snapshots} in the workflow' });
  return list.map((s: Record<string, unknown>, i) => {
    if (typeof s?.snapshotId !== 'string' || typeof s.volumeId !== 'string' || typeof s.accountId !== 'string' || typeof s.region !== 'string') {
      throw new InvalidInputError(`snapshots[${i}] must be {snapshotId, volumeId, accountId, region}, got ${JSON.stringify(s)?.slice(0, 120)}`);
    }
    return { snapshotId: s.snapshotId, volumeId: s.volumeId, accountId: s.accountId, region: s.region };
  });
}

/** Wraps one step: parse, run, record in the ledger (success or failure), answer. */
function step(name: string, deps: InstanceStepDeps, run: (task: InstanceTask, body: unknown) => Promise<StepOutcome>): HttpFunction {
  return async (req, res) => {
    let task: InstanceTask;
    try {
      task = instanceTaskOf(req.body);
    } catch (error) {
      deps.logger.error(`${name} refused its input`, errorFields(error));
      res.status(400).json(errorFields(error));
      return;
    }
    const where = `gce:projects/${task.accountId}/zones/${task.region}/instances/${task.instanceId}`;
    try {
      const outcome = await run(task, req.body);
      const recorded = await recordCustody({ store: deps.store, actor: deps.actor }, { case: task.case, requestId: task.requestId, step: name, action: outcome.action, batches: [outcome.batch] });
      deps.logger.info(`${name} done`, { case: task.case, requestId: task.requestId, instance: task.instanceId, appended: recorded.appended, alreadyRecorded: recorded.alreadyRecorded });
      res.status(200).json({ ...task, ...outcome.output });
    } catch (error) {
      const fields = errorFields(error);
      deps.logger.error(`${name} failed`, { case: task.case, requestId: task.requestId, instance: task.instanceId, ...fields });
      try {
        await recordCustody({ store: deps.store, actor: deps.actor }, {
          case: task.case,
          requestId: task.requestId,
          step: name,
          action: 'accessed',
          batches: [{ failures: [{ origin: where, reason: String(fields.error) }], detail: { step: name, status: 'failed', code: fields.code } }],
        });
      } catch (ledgerError) {
        deps.logger.error(`${name} could not record its failure in the ledger`, { case: task.case, ...errorFields(ledgerError) });
      }
      const retryable = error instanceof CloudCallError ? error.retryable : !isAmberError(error);
      res.status(retryable ? 500 : 400).json({ ...fields, retryable });
    }
  };
}

/** HTTP handler: capture the instance's metadata as evidence. */
export function captureInstanceHandler(deps: InstanceStepDeps): HttpFunction {
  return step('capture-instance', deps, async (task) => {
    const captured = await captureInstance({ provider: deps.provider, store: deps.store, actor: deps.actor, ...(deps.retainUntil ? { retainUntil: deps.retainUntil() } : {}) }, task);
    return {
      action: 'acquired',
      batch: { items: captured.items },
      output: { volumeIds: captured.volumeIds, evidenceKeys: captured.evidenceKeys, ...(captured.networkId ? { networkId: captured.networkId } : {}) },
    };
  });
}

/** HTTP handler: snapshot every attached disk; disks left uncovered are recorded as failures. */
export function createSnapshotsHandler(deps: InstanceStepDeps): HttpFunction {
  return step('create-snapshots', deps, async (task, body) => {
    const volumeIds = (body as { volumeIds?: unknown }).volumeIds;
    if (!Array.isArray(volumeIds) || !volumeIds.every((v) => typeof v === 'string')) throw new InvalidInputError('volumeIds must be the disk names captureInstance returned');
    const created = await createInstanceSnapshots({ provider: deps.provider }, { ...task, volumeIds: volumeIds as string[] });
    const failures = created.uncoveredVolumes.map((disk) => ({ origin: `gce:projects/${task.accountId}/zones/${task.region}/disks/${disk}`, reason: `disk ${disk} of ${task.instanceId} could not be snapshotted (see the function's log for Google's answer)` }));
    return {
      action: 'accessed',
      // `reused` stays out of the ledger batch: a rerun must produce the same batch (and idempotency key) as the first.
      batch: { ...(failures.length > 0 ? { failures } : {}), detail: { snapshots: created.snapshots.map((s) => ({ ...s })) } },
      output: { snapshots: created.snapshots, reused: created.reused, uncoveredVolumes: created.uncoveredVolumes },
    };
  });
}

/** HTTP handler: one look at the snapshots (the workflow sleeps and calls again while `pending`). */
export function checkSnapshotsHandler(deps: InstanceStepDeps): HttpFunction {
  return step('check-snapshots', deps, async (_task, body) => {
    const checked = await checkSnapshots({ provider: deps.provider }, snapshotsOf(body));
    return {
      action: 'accessed',
      batch: {
        ...(checked.failed.length > 0 ? { failures: checked.failed.map((f) => ({ origin: `gce:snapshot/${f.snapshotId}`, reason: f.reason })) } : {}),
        detail: { status: checked.status, snapshots: checked.snapshots.map((s) => ({ snapshotId: s.snapshotId, volumeId: s.volumeId, state: s.state })) },
      },
      output: { status: checked.status, failed: checked.failed, snapshots: checked.snapshots },
    };
  });
}

/**
 * HTTP handler: copy the completed snapshot set into the evidence project (one image per snapshot); answers the
 * copies, which the workflow checks with checkSnapshots until they are READY. Recorded as `copied`, with every
 * source snapshot and its copy.
 */
export function copySnapshotsHandler(deps: InstanceStepDeps): HttpFunction {
  return step('copy-snapshots', deps, async (task, body) => {
    if (!deps.evidenceProject) throw new InvalidInputError('the copySnapshots step has no evidence project', { hint: 'set EVIDENCE_PROJECT on the step functions (infra/gcp sets it to the evidence project)' });
    const sources = snapshotsOf(body);
    const copied = await copySnapshotsToEvidence({ provider: deps.provider }, { ...task, snapshots: sources }, { accountId: deps.evidenceProject, region: 'global', kmsKeyArn: deps.evidenceKmsKey ?? '' });
    const pairs = sources.map((s, i) => ({ source: `projects/${s.accountId}/global/snapshots/${s.snapshotId}`, volumeId: s.volumeId, copy: copied.snapshots[i] ? `projects/${copied.snapshots[i].accountId}/global/${copied.snapshots[i].snapshotId}` : null }));
    return {
      action: 'copied',
      // `reused` stays out of the ledger batch, as in createSnapshots: a rerun records the same batch.
      batch: { detail: { evidenceProject: deps.evidenceProject, copies: pairs } },
      output: { snapshots: copied.snapshots, reused: copied.reused, sources },
    };
  });
}

/** HTTP handler: isolate the instance, only when the request asked. */
export function isolateInstanceHandler(deps: InstanceStepDeps): HttpFunction {
  return step('isolate-instance', deps, async (task) => {
    const result = await isolateInstance({ provider: deps.provider }, task);
    return { action: 'accessed', batch: { detail: { isolation: result } }, output: { isolation: result } };
  });
}
