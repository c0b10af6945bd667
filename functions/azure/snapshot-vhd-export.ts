/**
 * A managed-disk snapshot exported into the evidence locker as a VHD, hashed by Amber as it is stored:
 *
 * 1. ARM `POST .../snapshots/{name}/beginGetAccess` (`{"access":"Read","durationInSeconds":N}`), a long-running
 *    operation followed through its `Azure-AsyncOperation` / `Location` headers (arm-rest.ts), whose result holds
 *    `accessSAS`, a read-only SAS URL of the snapshot's VHD;
 * 2. the VHD read from that URL and streamed into the locker (`putImmutable`: one pass, SHA-256 and size computed
 *    by Amber while the bytes go through; a body shorter than its Content-Length is refused, nothing recorded);
 * 3. the item recorded in the case's custody ledger (step `export-snapshot-vhd`, action `acquired`), its origin
 *    naming the snapshot, never the SAS (a secret while it is valid);
 * 4. ARM `POST .../endGetAccess`, always (finally), so the SAS stops working even when the copy failed.
 *
 * The copy streams through the function (no server-side Put Block From URL): evidence is hashed by Amber, not
 * by the storage service, and reading it back to hash it would read every byte twice.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { AcquisitionError, IntegrityError, InvalidInputError } from '../../shared/errors.ts';
import { itemId } from '../../shared/evidence/collect.ts';
import type { Actor, EvidenceItem } from '../../shared/evidence/model.ts';
import { evidenceKey } from '../../shared/evidence/names.ts';
import type { ObjectStore } from '../../shared/ports/object-store.ts';
import type { Signer } from '../../shared/ports/signer.ts';
import { recordCustody } from '../../shared/preservation/custody.ts';
import { CloudCallError } from '../../shared/preservation/errors.ts';
import type { ArmRest } from './adapters/arm-rest.ts';
import { API_VERSIONS } from './adapters/managed-disk-snapshot-provider.ts';

const SNAPSHOT_ID = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Compute\/snapshots\/[^/]+$/i;
/** How long the SAS is valid, in seconds, when not given: long enough for a large disk, short for a secret. */
export const DEFAULT_SAS_SECONDS = 4 * 3600;

export interface SnapshotVhdExportDeps {
  readonly arm: ArmRest;
  readonly store: ObjectStore;
  readonly actor: Actor;
  readonly signer?: Signer;
  readonly retainUntil?: () => Date;
  /** @default () => new Date() */
  readonly clock?: () => Date;
}

export interface SnapshotVhdExportRequest {
  readonly case: string;
  readonly requestId: string;
  /** The snapshot's ARM id. */
  readonly snapshotId: string;
  /** @default DEFAULT_SAS_SECONDS */
  readonly durationSeconds?: number;
}

/** What was stored and recorded. */
export interface SnapshotVhdExport {
  readonly item: EvidenceItem;
  /** False when the locker already held these exact bytes at that key (a repeated export). */
  readonly created: boolean;
}

/** The locker key of a snapshot's VHD: `<case>/azure/snapshots/<subscription>/<resource group>/<name>.vhd`. */
export function snapshotVhdKey(caseName: string, snapshotId: string): string {
  const id = snapshotId.replace(/\/+$/, '');
  if (!SNAPSHOT_ID.test(id)) {
    throw new InvalidInputError(`${JSON.stringify(snapshotId)} is not a managed-disk snapshot id`, { hint: 'pass /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Compute/snapshots/<name>' });
  }
  const parts = id.split('/');
  return evidenceKey(caseName, `azure/snapshots/${parts[2]}/${parts[4]}/${parts[8]}.vhd`);
}

/** Exports one snapshot as `<case>/azure/snapshots/<subscription>/<resource group>/<name>.vhd`; see the top of this file. */
export async function exportSnapshotVhd(deps: SnapshotVhdExportDeps, request: SnapshotVhdExportRequest): Promise<SnapshotVhdExport> {
  const snapshotId = request.snapshotId.replace(/\/+$/, '');
  const key = snapshotVhdKey(request.case, snapshotId);
  const origin = `azure-snapshot:${snapshotId}`;
  const clock = deps.clock ?? (() => new Date());
  let primary: unknown;
  try {
    const granted = await deps.arm
      .lro('POST', deps.arm.url(`${snapshotId}/beginGetAccess`, API_VERSIONS.disk), { access: 'Read', durationInSeconds: request.durationSeconds ?? DEFAULT_SAS_SECONDS })
      .catch((error: unknown) => {
        throw armError(error, 'Microsoft.Compute/snapshots/beginGetAccess/action', snapshotId);
      });
    const sas = sasOf(granted.bodyAsText, snapshotId);
    const res = await fetch(sas, { redirect: 'error' }).catch((cause: unknown) => {
      throw new AcquisitionError(`the VHD of snapshot ${snapshotId} could not be read: ${(cause as Error).message}`, origin, { hint: 'run again (a new SAS is asked for); the function needs outbound access to the storage that serves managed-disk SAS URLs', cause });
    });
    if (!res.ok || !res.body) {
      throw new AcquisitionError(`the VHD of snapshot ${snapshotId} answered HTTP ${res.status}`, origin, { hint: 'run again (a new SAS is asked for); a 403 means the SAS expired or was revoked' });
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    const stored = await deps.store.putImmutable(key, Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>), {
      mediaType: 'application/x-vhd',
      ...(Number.isSafeInteger(declared) ? { sizeHint: declared } : {}),
      ...(deps.retainUntil ? { retainUntil: deps.retainUntil() } : {}),
    });
    if (Number.isSafeInteger(declared) && stored.size !== declared) {
      throw new IntegrityError(`the VHD of snapshot ${snapshotId} was ${declared} bytes by its Content-Length and ${stored.size} bytes arrived: stored at ${key}, not recorded`, { hint: 'export it again to another case or ask for the object to be removed; a truncated copy is not evidence of the disk' });
    }
    const item: EvidenceItem = {
      id: itemId(key),
      case: request.case,
      origin,
      key,
      size: stored.size,
      sha256: stored.sha256,
      acquiredAt: clock().toISOString(),
      acquiredBy: deps.actor.principal,
      retainUntil: stored.retainUntil ?? null,
      mediaType: 'application/x-vhd',
      ...(stored.versionId ? { versionId: stored.versionId } : {}),
    };
    await recordCustody(
      { store: deps.store, actor: deps.actor, ...(deps.signer ? { signer: deps.signer } : {}), ...(deps.clock ? { clock: deps.clock } : {}) },
      { case: request.case, requestId: request.requestId, step: 'export-snapshot-vhd', action: 'acquired', batches: [{ items: [item], detail: { snapshotId } }], seal: true },
    );
    return { item, created: stored.created };
  } catch (error) {
    primary = error;
    throw error;
  } finally {
    // The SAS is revoked whatever happened; a failure to revoke is reported, after the copy's own error if any.
    try {
      await deps.arm.lro('POST', deps.arm.url(`${snapshotId}/endGetAccess`, API_VERSIONS.disk));
    } catch (error) {
      // eslint-disable-next-line no-unsafe-finally
      if (primary === undefined) throw armError(error, 'Microsoft.Compute/snapshots/endGetAccess/action', snapshotId);
    }
  }
}

function sasOf(body: string, snapshotId: string): string {
  let sas: unknown;
  try {
    sas = (JSON.parse(body || '{}') as { accessSAS?: unknown }).accessSAS;
  } catch {
    sas = undefined;
  }
  if (typeof sas !== 'string' || !/^https?:\/\//.test(sas)) {
    throw new AcquisitionError(`beginGetAccess on snapshot ${snapshotId} answered without an accessSAS URL`, `azure-snapshot:${snapshotId}`, { hint: 'run again; if it persists, check that the snapshot is not being copied (an incremental snapshot still copying cannot be read)' });
  }
  return sas;
}

function armError(error: unknown, call: string, snapshotId: string): CloudCallError {
  const e = error as { statusCode?: number; code?: string; message?: string };
  const status = e.statusCode;
  const denied = status === 403;
  return new CloudCallError(`${call} on ${snapshotId} failed${status ? ` (HTTP ${status}${e.code ? ` ${e.code}` : ''})` : ''}: ${e.message ?? String(error)}`, call, !denied && (status === undefined || status === 429 || status >= 500), {
    hint: denied ? `the identity needs ${call} on the snapshot's resource group (the Terraform module's snapshot role grants it: check that the role assignment is in place on the evidence resource group)` : 'run again; the export asks for a new SAS each time',
    cause: error,
  });
}
