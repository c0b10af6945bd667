/**
 * Instance preservation as one Azure Function invocation runs it (Azure has no state machine in this
 * deployment): for each VM of a request, the core's steps in order, each recorded in the case's custody ledger
 * as it completes (recordCustody, idempotent by request, step and content):
 *
 *   capture-instance   metadata records as evidence items (acquired)
 *   create-snapshots   the incremental snapshot set, with each snapshot's evidence id (accessed)
 *   snapshots-checked  one look at the snapshots' states (accessed); a failed disk stops here
 *   isolate-instance   the deny-all network security group, only when the request asked for it
 *   export-snapshot-vhd only when the request asks for `exportVhd`: each completed snapshot exported into the
 *                      locker as a hashed VHD (snapshot-vhd-export.ts; acquired, with the item), or why it was not
 *                      (accessed, with the failure). A failed export leaves the snapshots and the VM's status as
 *                      they are; a snapshot whose VHD the case's ledger already holds is not exported again.
 *   instance-preserved sealed manifest of the case
 *
 * A step that throws is recorded as step `failed` (the error, the step it happened in, and what had been
 * preserved until then), and the case is sealed, as the AWS state machine's failure path does. The same event
 * delivered twice records nothing twice: keys, snapshot names and ledger entries are derived from the request.
 * Waiting for an incremental snapshot's background copy (`completionPercent`) is not done here: the snapshot is
 * a fixed point in time once ARM provisioned it, and its state is recorded as ARM reported it.
 */
import { isAmberError, type AmberError } from '../../shared/errors.ts';
import type { Actor } from '../../shared/evidence/model.ts';
import type { ObjectStore } from '../../shared/ports/object-store.ts';
import type { Signer } from '../../shared/ports/signer.ts';
import type { SnapshotProvider } from '../../shared/ports/snapshot-provider.ts';
import { recordCustody, type CustodyBatch } from '../../shared/preservation/custody.ts';
import { SnapshotError } from '../../shared/preservation/errors.ts';
import { instanceTasks, type InstanceTask, type PreservationRequest } from '../../shared/preservation/request.ts';
import { CustodyLedger } from '../../shared/evidence/ledger.ts';
import type { SnapshotStatus } from '../../shared/ports/snapshot-provider.ts';
import type { ArmRest } from './adapters/arm-rest.ts';
import { exportSnapshotVhd, snapshotVhdKey } from './snapshot-vhd-export.ts';
import { captureInstance, checkSnapshots, createInstanceSnapshots, isolateInstance, snapshotEvidenceId, TAGS } from '../../shared/preservation/snapshot-instance.ts';

export interface PreserveDeps {
  readonly provider: SnapshotProvider;
  readonly store: ObjectStore;
  readonly actor: Actor;
  /** Retention of the metadata objects. @default the store's */
  readonly retainUntil?: () => Date;
  readonly signer?: Signer;
  /** @default () => new Date() */
  readonly clock?: () => Date;
  /** ARM client of the VHD export (requests with `exportVhd`); absent: their exports fail, saying so. */
  readonly arm?: ArmRest;
  /** How long the export's SAS is valid, in seconds. @default DEFAULT_SAS_SECONDS of snapshot-vhd-export.ts */
  readonly vhdSasSeconds?: number;
}

/** What the VHD export did for one snapshot. */
export interface VhdExportOutcome {
  readonly snapshotId: string;
  /** `already exported`: the case's ledger held this snapshot's VHD before this run; nothing was asked of ARM. */
  readonly status: 'exported' | 'already exported' | 'failed';
  readonly key?: string;
  readonly sha256?: string;
  readonly size?: number;
  /** Why the export failed, and whether sending the request again may fix it. */
  readonly reason?: string;
  readonly retryable?: boolean;
}

/** What happened to one VM. */
export interface VmOutcome {
  readonly instanceId: string;
  readonly status: 'preserved' | 'failed';
  readonly evidenceKeys: readonly string[];
  readonly snapshots: readonly { readonly snapshotId: string; readonly diskId: string; readonly evidenceId: string; readonly state: string }[];
  readonly isolation: 'applied' | 'not requested' | 'not reached';
  /** One per snapshot, when the request asked for `exportVhd` and the snapshots were taken. */
  readonly exports?: readonly VhdExportOutcome[];
  /** The failed step and its error, when status is `failed`. */
  readonly error?: { readonly step: string; readonly code: string; readonly message: string; readonly retryable: boolean };
  /** Why the failure itself could not be recorded in the ledger (the store refused the append). */
  readonly unrecorded?: string;
}

/** What one request did. */
export interface RequestOutcome {
  readonly case: string;
  readonly requestId: string;
  readonly trigger: PreservationRequest['trigger'];
  readonly vms: readonly VmOutcome[];
}

function errorOf(step: string, error: unknown): NonNullable<VmOutcome['error']> {
  const amber = isAmberError(error) ? (error as AmberError & { retryable?: unknown }) : undefined;
  return {
    step,
    code: amber?.code ?? 'UNEXPECTED',
    message: (error as Error)?.message ?? String(error),
    retryable: amber ? amber.retryable === true : true,
  };
}

/** Preserves every VM of a request, one after the other, recording each step in the case's ledger. */
export async function preserveRequest(deps: PreserveDeps, request: PreservationRequest): Promise<RequestOutcome> {
  const vms: VmOutcome[] = [];
  for (const task of instanceTasks(request)) vms.push(await preserveVm(deps, task, request.trigger));
  return { case: request.case, requestId: request.requestId, trigger: request.trigger, vms };
}

async function preserveVm(deps: PreserveDeps, task: InstanceTask, trigger: PreservationRequest['trigger']): Promise<VmOutcome> {
  const record = async (step: string, batch: CustodyBatch, action: 'acquired' | 'accessed', seal = false): Promise<void> => {
    await recordCustody(
      { store: deps.store, actor: deps.actor, ...(deps.signer ? { signer: deps.signer } : {}), ...(deps.clock ? { clock: deps.clock } : {}) },
      { case: task.case, requestId: task.requestId, step, action, batches: [batch], seal },
    );
  };
  let step = 'capture-instance';
  const evidenceKeys: string[] = [];
  let snapshots: VmOutcome['snapshots'] = [];
  try {
    const captured = await captureInstance({ provider: deps.provider, store: deps.store, actor: deps.actor, ...(deps.retainUntil ? { retainUntil: deps.retainUntil() } : {}), ...(deps.clock ? { clock: deps.clock } : {}) }, task);
    evidenceKeys.push(...captured.evidenceKeys);
    await record(step, { items: captured.items, detail: { instanceId: task.instanceId, trigger, disks: captured.volumeIds } }, 'acquired');

    step = 'create-snapshots';
    const created = await createInstanceSnapshots({ provider: deps.provider }, { ...task, volumeIds: captured.volumeIds });
    const evidenceIds = new Map(created.snapshots.map((s) => [s.snapshotId, snapshotEvidenceId(task.case, task.requestId, s.volumeId, 'source')]));
    await record(
      step,
      {
        detail: {
          instanceId: task.instanceId,
          incremental: true,
          snapshots: created.snapshots.map((s) => ({ snapshotId: s.snapshotId, diskId: s.volumeId, evidenceId: evidenceIds.get(s.snapshotId)!, tag: TAGS.evidenceId })),
          uncoveredDisks: created.uncoveredVolumes,
        },
      },
      'accessed',
    );

    step = 'snapshots-checked';
    const checked = await checkSnapshots({ provider: deps.provider }, created.snapshots);
    snapshots = checked.snapshots.map((s) => ({ snapshotId: s.snapshotId, diskId: s.volumeId, evidenceId: evidenceIds.get(s.snapshotId) ?? '', state: s.state }));
    await record(step, { detail: { instanceId: task.instanceId, status: checked.status, snapshots: snapshots.map((s) => ({ snapshotId: s.snapshotId, state: s.state })) }, ...(checked.failed.length > 0 ? { failures: checked.failed.map((f) => ({ origin: f.snapshotId, reason: f.reason })) } : {}) }, 'accessed');
    if (checked.status === 'error') {
      throw new SnapshotError(`snapshots of ${task.instanceId} failed: ${checked.failed.map((f) => `${f.snapshotId}: ${f.reason}`).join('; ')}`, {
        hint: 'the snapshots that succeeded are kept; fix the disk (or the quota ARM named) and send the request again: it snapshots only what is missing',
      });
    }
    if (created.uncoveredVolumes.length > 0) {
      throw new SnapshotError(`disks of ${task.instanceId} are not in the snapshot set: ${created.uncoveredVolumes.join(', ')}`, {
        hint: 'a disk was attached or detached during preservation; send the request again',
      });
    }

    step = 'isolate-instance';
    const isolation = await isolateInstance({ provider: deps.provider }, task);
    if (isolation.applied) await record(step, { detail: { instanceId: task.instanceId, ...isolation.outcome } }, 'accessed');

    step = 'export-snapshot-vhd';
    const exports = task.exportVhd === true ? await exportVhds(deps, task, checked.snapshots, record) : undefined;

    step = 'instance-preserved';
    await record(step, { detail: { instanceId: task.instanceId, snapshots: snapshots.map((s) => s.snapshotId) } }, 'accessed', true);
    return { instanceId: task.instanceId, status: 'preserved', evidenceKeys, snapshots, isolation: isolation.applied ? 'applied' : 'not requested', ...(exports ? { exports } : {}) };
  } catch (error) {
    const err = errorOf(step, error);
    // The failure is recorded with what had been preserved until then, and the case sealed: the manifest says
    // where the run stopped. If even that cannot be written, the original error still surfaces.
    let unrecorded: string | undefined;
    try {
      await record('failed', { detail: { instanceId: task.instanceId, error: err, preserved: evidenceKeys, snapshots: snapshots.map((s) => s.snapshotId) }, failures: [{ origin: `azure-vm:${task.accountId}/${task.instanceId}`, reason: `${step}: ${err.message}` }] }, 'accessed', true);
    } catch (ledgerError) {
      unrecorded = (ledgerError as Error).message;
    }
    return { instanceId: task.instanceId, status: 'failed', evidenceKeys, snapshots, isolation: 'not reached', error: err, ...(unrecorded ? { unrecorded } : {}) };
  }
}

type RecordStep = (step: string, batch: CustodyBatch, action: 'acquired' | 'accessed', seal?: boolean) => Promise<void>;

/**
 * Exports each snapshot of the set as a hashed VHD, one after the other (each reads the whole disk through the
 * function). Never throws: a snapshot that cannot be exported is recorded as a failure of step
 * `export-snapshot-vhd` and the next one is tried. Idempotent: a snapshot whose VHD key the case's ledger already
 * records is skipped without any call to ARM.
 */
async function exportVhds(deps: PreserveDeps, task: InstanceTask, snapshots: readonly SnapshotStatus[], record: RecordStep): Promise<VhdExportOutcome[]> {
  let recorded: ReadonlyMap<string, { readonly sha256: string; readonly size: number }>;
  try {
    recorded = (await CustodyLedger.open(deps.store, task.case)).items();
  } catch (error) {
    // Without the ledger, no export can be told apart from one already done: none is attempted.
    return Promise.all(snapshots.map((s) => failed(s.snapshotId, `the ledger of case ${task.case} could not be read: ${(error as Error).message}`, true)));
  }
  const outcomes: VhdExportOutcome[] = [];
  for (const snapshot of snapshots) {
    const snapshotId = snapshot.snapshotId;
    let key: string;
    try {
      key = snapshotVhdKey(task.case, snapshotId);
    } catch (error) {
      outcomes.push(await failed(snapshotId, (error as Error).message, false));
      continue;
    }
    const done = recorded.get(key);
    if (done) {
      outcomes.push({ snapshotId, status: 'already exported', key, sha256: done.sha256, size: done.size });
      continue;
    }
    if (snapshot.state !== 'completed') {
      outcomes.push(await failed(snapshotId, `the snapshot is not complete yet (${snapshot.progress ?? snapshot.state}): an incremental snapshot still copying cannot be read; send the request again later to export it`, true));
      continue;
    }
    if (!deps.arm) {
      outcomes.push(await failed(snapshotId, 'this function app has no ARM client for the VHD export', false));
      continue;
    }
    try {
      const out = await exportSnapshotVhd(
        { arm: deps.arm, store: deps.store, actor: deps.actor, ...(deps.signer ? { signer: deps.signer } : {}), ...(deps.retainUntil ? { retainUntil: deps.retainUntil } : {}), ...(deps.clock ? { clock: deps.clock } : {}) },
        { case: task.case, requestId: task.requestId, snapshotId, ...(deps.vhdSasSeconds ? { durationSeconds: deps.vhdSasSeconds } : {}) },
      );
      outcomes.push({ snapshotId, status: 'exported', key: out.item.key, sha256: out.item.sha256, size: out.item.size });
    } catch (error) {
      const err = errorOf('export-snapshot-vhd', error);
      outcomes.push(await failed(snapshotId, `${err.code}: ${err.message}`, err.retryable));
    }
  }
  return outcomes;

  async function failed(snapshotId: string, reason: string, retryable: boolean): Promise<VhdExportOutcome> {
    let unrecorded = '';
    try {
      await record('export-snapshot-vhd', { detail: { instanceId: task.instanceId, snapshotId, retryable }, failures: [{ origin: `azure-snapshot:${snapshotId}`, reason }] }, 'accessed');
    } catch (error) {
      unrecorded = ` (not recorded in the ledger: ${(error as Error).message})`;
    }
    return { snapshotId, status: 'failed', reason: `${reason}${unrecorded}`, retryable };
  }
}
