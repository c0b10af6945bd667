/**
 * The inventory step in Google Cloud: the Cloud Asset Inventory of one or more member projects (every assets.list
 * page byte for byte, read as each project's collector service account, which holds roles/cloudasset.viewer on its
 * project only), preserved into a case through `collectEvidence`, as `amber inventory --cloud gcp` does locally.
 *
 * - `inventoryProject` (HTTP): called by the instance workflow as its first step (the body is the workflow's task:
 *   `accountId` is the project), and on demand by a responder (`{case, requestId, projects: [...]}`).
 * - `inventoryRequested` (CloudEvent, Pub/Sub): the same JSON as the message data, for inventories on demand.
 *
 * Idempotent per case and project: a project whose inventory the case's ledger already records is not read again
 * (a retried step, a second instance of the same request), unless the body says `"again": true` (a later look at
 * the estate). A refused or disabled query is preserved, recorded in the manifest's failures and listed in the
 * answer, never fatal; anything else is recorded in the custody ledger (step `inventory`) before answering 500.
 */
import type { CloudEvent, HttpFunction } from '@google-cloud/functions-framework';
import { InvalidInputError, isAmberError } from '../../../shared/errors.ts';
import { collectEvidence } from '../../../shared/evidence/collect.ts';
import { CustodyLedger } from '../../../shared/evidence/ledger.ts';
import type { Actor } from '../../../shared/evidence/model.ts';
import { validateCaseName } from '../../../shared/evidence/names.ts';
import type { ObjectStore } from '../../../shared/ports/object-store.ts';
import { recordCustody } from '../../../shared/preservation/custody.ts';
import { recogniseSource } from '../../../shared/sources/recognise.ts';
import { checkScope, GcpAssetInventorySource, type GcpInventoryProblem } from '../adapters/asset-inventory-source.ts';
import type { RetryPolicy, TokenProvider } from '../adapters/gcp-http.ts';
import { errorFields, type GcpLogger } from '../runtime.ts';
import { messageJson, type PubSubMessage } from '../triggers.ts';

const STEP = 'inventory';

export interface InventoryStepDeps {
  readonly store: ObjectStore;
  readonly actor: Actor;
  readonly logger: GcpLogger;
  /** The token for a project's inventory (its collector, impersonated). */
  readonly tokenFor: (project: string) => TokenProvider;
  /** Retention of preserved pages, from now. @default the store's default */
  readonly retainUntil?: () => Date;
  /** Endpoint of Cloud Asset (tests point it at a fake). @default Google's */
  readonly assetUrl?: string;
  /** Retries, clock and sleep (tests inject virtual ones). */
  readonly retry?: RetryPolicy;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What the step is asked to do. */
export interface InventoryTask {
  readonly case: string;
  readonly requestId: string;
  readonly projects: readonly string[];
  /** Take a new inventory even when the case holds one of the project. */
  readonly again: boolean;
}

/** What one call did. */
export interface InventoryOutcome {
  readonly case: string;
  readonly requestId: string;
  /** Projects read now, and projects whose inventory the case already held. */
  readonly taken: readonly string[];
  readonly alreadyTaken: readonly string[];
  readonly preserved: number;
  readonly problems: readonly GcpInventoryProblem[];
  readonly manifest?: { key: string; sha256: string };
}

/** Checks a body: `projects` (on demand) or `accountId` (the instance workflow's task); the rest passes through. */
export function inventoryTaskOf(body: unknown): InventoryTask {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const problems: string[] = [];
  const caseName = String(b.case ?? '');
  try {
    validateCaseName(caseName);
  } catch (error) {
    problems.push((error as Error).message);
  }
  const requestId = typeof b.requestId === 'string' && b.requestId !== '' ? b.requestId : '';
  if (requestId === '') problems.push('requestId is missing');
  const projects = Array.isArray(b.projects) ? b.projects.map(String) : typeof b.accountId === 'string' && b.accountId !== '' ? [b.accountId] : [];
  if (projects.length === 0) problems.push(`name the projects to inventory: projects (a list of project ids) or accountId, got ${JSON.stringify(b.projects ?? b.accountId)}`);
  for (const p of projects) {
    try {
      checkScope({ kind: 'project', id: p });
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  if (b.again !== undefined && typeof b.again !== 'boolean') problems.push(`again must be true or false, got ${JSON.stringify(b.again)}`);
  if (problems.length > 0) throw new InvalidInputError(`the inventory task cannot be used: ${problems.join('; ')}`, { hint: 'send {"case":"C","requestId":"R","projects":["project-id"]} (or the instance workflow\'s task unchanged)' });
  return { case: caseName, requestId, projects: [...new Set(projects)], again: b.again === true };
}

/** Takes the inventory of the task's projects not yet in the case (all of them with `again`). */
export async function takeInventory(deps: InventoryStepDeps, task: InventoryTask): Promise<InventoryOutcome> {
  const held = new Set<string>();
  if (!task.again) {
    const ledger = await CustodyLedger.open(deps.store, task.case);
    for (const key of ledger.items().keys()) {
      const m = new RegExp(`^cases/${task.case.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/gcp/inventory/([^/]+)/`).exec(key);
      if (m) held.add(m[1]!);
    }
  }
  const todo = task.projects.filter((p) => !held.has(p));
  const alreadyTaken = task.projects.filter((p) => held.has(p));
  if (todo.length === 0) return { case: task.case, requestId: task.requestId, taken: [], alreadyTaken, preserved: 0, problems: [] };
  const source = new GcpAssetInventorySource({
    scopes: todo.map((id) => ({ kind: 'project' as const, id })),
    observedAt: new Date(deps.now ? deps.now() : Date.now()),
    tokenFor: (scope) => deps.tokenFor(scope.id),
    ...(deps.assetUrl ? { baseUrl: deps.assetUrl } : {}),
    ...(deps.retry ? { retry: deps.retry } : {}),
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
  });
  const summary = await collectEvidence({
    store: deps.store,
    caseName: task.case,
    sources: [source],
    actor: deps.actor,
    concurrency: 1,
    recognise: recogniseSource,
    ...(deps.retainUntil ? { retainUntil: deps.retainUntil() } : {}),
  });
  const other = summary.failures.filter((f) => !f.origin.startsWith(`${source.spec}?`));
  if (other.length > 0) {
    throw new Error(`the inventory of ${todo.join(', ')} was not wholly preserved: ${other.map((f) => `${f.origin}: ${f.reason}`).join('; ')}`);
  }
  return { case: task.case, requestId: task.requestId, taken: todo, alreadyTaken, preserved: summary.items, problems: source.problems, manifest: { key: summary.manifest.key, sha256: summary.manifest.sha256 } };
}

async function recordFailure(deps: InventoryStepDeps, task: InventoryTask, error: unknown): Promise<void> {
  const fields = errorFields(error);
  try {
    await recordCustody({ store: deps.store, actor: deps.actor }, {
      case: task.case,
      requestId: task.requestId,
      step: STEP,
      action: 'accessed',
      batches: [{ failures: [{ origin: `gcp-inventory:${task.projects.join(',')}`, reason: String(fields.error) }], detail: { step: STEP, status: 'failed', code: fields.code } }],
    });
  } catch (ledgerError) {
    deps.logger.error(`${STEP} could not record its failure in the ledger`, { case: task.case, ...errorFields(ledgerError) });
  }
}

/** HTTP handler: 200 with what was taken (refused queries listed), 400 for a body that cannot be used, 500 otherwise. */
export function inventoryProjectHandler(deps: InventoryStepDeps): HttpFunction {
  return async (req, res) => {
    let task: InventoryTask;
    try {
      task = inventoryTaskOf(req.body);
    } catch (error) {
      deps.logger.error(`${STEP} refused its input`, errorFields(error));
      res.status(400).json(errorFields(error));
      return;
    }
    try {
      const outcome = await takeInventory(deps, task);
      deps.logger.info(`${STEP} done`, { case: task.case, requestId: task.requestId, taken: outcome.taken, alreadyTaken: outcome.alreadyTaken, preserved: outcome.preserved, problems: outcome.problems.length });
      // The instance workflow passes its task on: the answer keeps the body's fields beside the outcome.
      res.status(200).json({ ...(req.body as object), inventory: outcome });
    } catch (error) {
      deps.logger.error(`${STEP} failed`, { case: task.case, requestId: task.requestId, ...errorFields(error) });
      await recordFailure(deps, task, error);
      const retryable = !isAmberError(error);
      res.status(retryable ? 500 : 400).json({ ...errorFields(error), retryable });
    }
  };
}

/** CloudEvent handler: an unusable message is logged and acknowledged; a failure that may pass is thrown (redelivery). */
export function inventoryRequestedHandler(deps: InventoryStepDeps): (event: CloudEvent<{ message?: PubSubMessage }>) => Promise<void> {
  return async (event) => {
    const message = event.data?.message ?? {};
    let task: InventoryTask;
    try {
      task = inventoryTaskOf(messageJson(message));
    } catch (error) {
      deps.logger.error('inventory message refused', { messageId: message.messageId ?? event.id, ...errorFields(error) });
      return;
    }
    try {
      const outcome = await takeInventory(deps, task);
      deps.logger.info(`${STEP} done`, { case: task.case, requestId: task.requestId, taken: outcome.taken, alreadyTaken: outcome.alreadyTaken, preserved: outcome.preserved, problems: outcome.problems.length });
    } catch (error) {
      deps.logger.error(`${STEP} failed`, { case: task.case, requestId: task.requestId, ...errorFields(error) });
      await recordFailure(deps, task, error);
      throw error;
    }
  };
}
