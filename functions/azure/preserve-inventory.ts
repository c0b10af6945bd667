/**
 * The inventory inside the Azure deployment: the estate of a request's subscription (and, when the function app
 * names a tenant, its Entra ID) preserved into the case through collectEvidence, every answer byte for byte and
 * hashed as stored (functions/azure/adapters/inventory-source.ts). It runs as the first step of a VM preservation,
 * so the case documents the network rules, public addresses and role assignments as they stood when the incident
 * was reported, and on demand (`POST /api/inventory`).
 *
 * - Recorded as the step `inventory` of the request in the custody ledger (answers per API, the problems met); a
 *   redelivered request whose inventory the ledger already records is not taken again.
 * - Never throws for what an API did: refusals (a 403 naming the missing permission) are kept and recorded; a
 *   failure of the locker is returned as `failed`, and the VM preservation goes on.
 */
import { isAmberError } from '../../shared/errors.ts';
import { collectEvidence } from '../../shared/evidence/collect.ts';
import { CustodyLedger } from '../../shared/evidence/ledger.ts';
import type { Actor } from '../../shared/evidence/model.ts';
import type { ObjectStore } from '../../shared/ports/object-store.ts';
import type { Signer } from '../../shared/ports/signer.ts';
import { recordCustody } from '../../shared/preservation/custody.ts';
import type { AzureHttp } from './adapters/azure-http.ts';
import { AzureInventorySource, type AzureInventoryProblem } from './adapters/inventory-source.ts';

/** The ledger step an inventory is recorded under. */
export const INVENTORY_STEP = 'inventory';

export interface InventorySettings {
  /** @default https://management.azure.com */
  readonly armUrl?: string;
  /** @default https://graph.microsoft.com */
  readonly graphUrl?: string;
  /** Entra tenant read through Graph; unset: the tenant Resource Graph names for the subscription. */
  readonly tenant?: string;
  /** Read Entra ID at all (needs the Graph application permissions, infra/azure/README.md). @default true */
  readonly entra?: boolean;
}

export interface PreserveInventoryDeps {
  readonly store: ObjectStore;
  readonly actor: Actor;
  readonly http: AzureHttp;
  readonly settings: InventorySettings;
  readonly retainUntil?: () => Date;
  readonly signer?: Signer;
  /** @default () => new Date() */
  readonly clock?: () => Date;
}

/** What one inventory asks for. */
export interface InventoryRequest {
  readonly case: string;
  readonly requestId: string;
  /** Subscription ids (GUIDs). */
  readonly subscriptions: readonly string[];
}

/** What an inventory did. */
export interface InventoryOutcome {
  /** complete: every query answered; partial: some were refused or not answered (recorded); failed: nothing usable stored. */
  readonly status: 'complete' | 'partial' | 'failed' | 'already taken';
  readonly subscriptions: readonly string[];
  readonly tenant: string | null;
  readonly answers: Readonly<Record<string, number>>;
  readonly problems: readonly AzureInventoryProblem[];
  /** Objects stored by this invocation. */
  readonly created: number;
  readonly error?: { readonly code: string; readonly message: string };
}

/** Takes the inventory of the request's subscriptions into its case; never throws for what an API did. */
export async function preserveInventory(deps: PreserveInventoryDeps, request: InventoryRequest): Promise<InventoryOutcome> {
  const subscriptions = [...new Set(request.subscriptions.map((s) => s.toLowerCase()))];
  const ledger = await CustodyLedger.open(deps.store, request.case).catch(() => undefined);
  const taken = ledger?.entries.some((e) => {
    const d = e.detail as { step?: unknown; requestId?: unknown } | undefined;
    return d?.step === INVENTORY_STEP && d.requestId === request.requestId;
  });
  if (taken) return { status: 'already taken', subscriptions, tenant: deps.settings.tenant ?? null, answers: {}, problems: [], created: 0 };
  const clock = deps.clock ?? (() => new Date());
  const s = deps.settings;
  const source = new AzureInventorySource({
    subscriptions,
    ...(s.tenant ? { tenant: s.tenant.toLowerCase() } : {}),
    observedAt: clock(),
    armUrl: s.armUrl ?? 'https://management.azure.com',
    graphUrl: s.graphUrl ?? 'https://graph.microsoft.com',
    http: deps.http,
    ...(s.entra === false ? { entra: false } : {}),
  });
  let created = 0;
  let error: InventoryOutcome['error'];
  try {
    const summary = await collectEvidence({ store: deps.store, caseName: request.case, sources: [source], actor: deps.actor, ...(deps.retainUntil ? { retainUntil: deps.retainUntil() } : {}), ...(deps.clock ? { clock: deps.clock } : {}), ...(deps.signer ? { signer: deps.signer } : {}) });
    created = summary.created;
  } catch (e) {
    error = { code: isAmberError(e) ? e.code : 'UNEXPECTED', message: (e as Error).message };
  }
  const status: InventoryOutcome['status'] = error ? 'failed' : source.problems.length > 0 ? 'partial' : 'complete';
  const outcome = { subscriptions, tenant: source.tenant ?? null, answers: { ...source.answers }, problems: [...source.problems] };
  try {
    await recordCustody(
      { store: deps.store, actor: deps.actor, ...(deps.signer ? { signer: deps.signer } : {}), ...(deps.clock ? { clock: deps.clock } : {}) },
      {
        case: request.case,
        requestId: request.requestId,
        step: INVENTORY_STEP,
        action: 'accessed',
        batches: [{
          detail: { status, ...outcome, ...(error ? { error } : {}) },
          ...(source.problems.length > 0 || error ? { failures: [...source.problems.map((p) => ({ origin: `api:azure-inventory?scope=${p.scope}&api=${p.api}&query=${p.query}`, reason: `${p.code}: ${p.message}` })), ...(error ? [{ origin: `request:${request.requestId}`, reason: error.message }] : [])] } : {}),
        }],
      },
    );
  } catch (e) {
    error ??= { code: isAmberError(e) ? e.code : 'UNEXPECTED', message: `the ${INVENTORY_STEP} step could not be recorded: ${(e as Error).message}` };
  }
  return { status: error ? 'failed' : status, ...outcome, created, ...(error ? { error } : {}) };
}
