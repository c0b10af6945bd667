/**
 * The preservation handlers: an Event Grid trigger (`Amber.PreservationRequested`, or a Defender alert wrapped
 * as `Amber.DefenderAlert`), an HTTP trigger for `amber preserve --cloud azure`, and an HTTP trigger for
 * Defender for Cloud workflow automation (the Logic App POSTs the alert). Each normalises its input
 * (triggers.ts) and runs preserveRequest (preserve-vm.ts); nothing else.
 *
 * Event Grid redelivers an event whose function threw: a VM that failed with a retryable error (throttling,
 * 5xx), or a VHD export that did (a snapshot still copying, throttling), makes the invocation throw after every VM was tried, so the redelivery finishes the work (names, tags and
 * ledger idempotency keys make it record nothing twice). An event that cannot be used is not retried: the
 * error is logged, and recorded as a `failed` step in the ledger of the case it names when that name is valid.
 */
import type { EventGridEvent, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { isAmberError, type InvalidInputError } from '../../../shared/errors.ts';
import { sha256Hex } from '../../../shared/evidence/hashing.ts';
import { validateCaseName } from '../../../shared/evidence/names.ts';
import { recordCustody } from '../../../shared/preservation/custody.ts';
import { preserveInventory, type InventoryOutcome, type PreserveInventoryDeps } from '../preserve-inventory.ts';
import { preserveRequestLogs, type LogsOutcome, type PreserveLogsDeps } from '../preserve-logs.ts';
import { preserveRequest, type PreserveDeps, type RequestOutcome } from '../preserve-vm.ts';
import { isDefenderAlert, normaliseAzureTrigger, PRESERVATION_EVENT_TYPE, type AzureTriggerConfig } from '../triggers.ts';

/** Everything the preservation handlers need, built once per instance by the entry point. */
export type PreservationDeps = PreserveDeps & {
  readonly triggers: AzureTriggerConfig;
  /** Log preservation for requests with a window (preserve-logs.ts); absent: the window is only logged. */
  readonly logs?: Pick<PreserveLogsDeps, 'http' | 'settings' | 'now'>;
  /** The estate inventory (preserve-inventory.ts), taken before the VMs when `onPreserve`; absent: never. */
  readonly inventory?: Pick<PreserveInventoryDeps, 'http' | 'settings'> & { readonly onPreserve: boolean };
};

/** A request's outcome, with what its inventory and its log window's preservation did (when configured). */
export type RequestWithLogs = RequestOutcome & { readonly logs?: LogsOutcome; readonly inventory?: InventoryOutcome };

/** What an invocation did. */
export interface PreservationResult {
  readonly requests: readonly RequestWithLogs[];
  readonly ignored: readonly { readonly id: string; readonly reason: string }[];
  /** The event could not be used: why, and whether the failure was recorded in the named case's ledger. */
  readonly rejected?: { readonly code: string; readonly message: string; readonly hint?: string; readonly recordedIn?: string };
}

/** Thrown after every VM was tried when some failed in a way a redelivery may fix. */
export class RetryablePreservationError extends Error {
  constructor(readonly result: PreservationResult) {
    super(`preservation incomplete, to be retried: ${result.requests.flatMap((r) => [...r.vms.filter((v) => v.error?.retryable).map((v) => `${v.instanceId}: ${v.error!.message}`), ...r.vms.flatMap((v) => (v.exports ?? []).filter((x) => x.status === 'failed' && x.retryable).map((x) => `VHD export of ${x.snapshotId}: ${x.reason}`)), ...(r.logs?.retryable ? [`logs of ${r.case}: not every stream was read within the budget`] : [])]).join('; ')}`);
    this.name = 'RetryablePreservationError';
  }
}

type Obj = Record<string, unknown>;

/** Normalises one event and preserves what it asks for. */
export async function handlePreservationEvent(deps: PreservationDeps, event: unknown, context: InvocationContext): Promise<PreservationResult> {
  let normalised;
  try {
    normalised = await normaliseAzureTrigger(event, deps.triggers);
  } catch (error) {
    if (!isAmberError(error) || error.code !== 'INVALID_INPUT') throw error;
    const rejected = await recordRejection(deps, event, error as InvalidInputError);
    context.error(JSON.stringify({ event: 'event rejected', invocationId: context.invocationId, ...rejected }));
    return { requests: [], ignored: [], rejected };
  }
  for (const i of normalised.ignored) context.log(JSON.stringify({ message: 'ignored', id: i.id, reason: i.reason }));
  const requests: RequestWithLogs[] = [];
  for (const request of normalised.requests) {
    // First the estate as it stands (network rules, public addresses, role assignments): a failure of it never stops the VMs.
    let inventory: InventoryOutcome | undefined;
    if (deps.inventory?.onPreserve) {
      inventory = await preserveInventory({ ...deps, ...deps.inventory }, { case: request.case, requestId: request.requestId, subscriptions: [request.accountId] });
      const line = JSON.stringify({ message: `inventory ${inventory.status}`, case: request.case, requestId: request.requestId, ...inventory });
      if (inventory.status === 'failed') context.error(line);
      else context.log(line);
    }
    const outcome = await preserveRequest(deps, request);
    for (const vm of outcome.vms) {
      const line = JSON.stringify({ message: vm.status === 'preserved' ? 'vm preserved' : 'vm preservation failed', case: outcome.case, requestId: outcome.requestId, trigger: outcome.trigger, ...vm });
      if (vm.status === 'preserved') context.log(line);
      else context.error(line);
    }
    // Logs after the VMs: the disks change by the minute, the logs are kept for days; a log failure never stops a snapshot.
    let logs: LogsOutcome | undefined;
    if (request.window && deps.logs) {
      logs = await preserveRequestLogs({ ...deps, ...deps.logs }, request);
      const line = JSON.stringify({ message: `logs ${logs.status}`, case: outcome.case, requestId: outcome.requestId, ...logs });
      if (logs.status === 'failed') context.error(line);
      else context.log(line);
    } else if (request.window) {
      context.log(JSON.stringify({ message: 'log window noted; log preservation is not configured in this function app', case: request.case, window: request.window }));
    }
    requests.push({ ...outcome, ...(inventory ? { inventory } : {}), ...(logs ? { logs } : {}) });
  }
  const result = { requests, ignored: normalised.ignored };
  if (requests.some((r) => r.vms.some((v) => v.error?.retryable || v.exports?.some((x) => x.status === 'failed' && x.retryable)) || r.logs?.retryable)) throw new RetryablePreservationError(result);
  return result;
}

/**
 * Records an unusable event as a `failed` step in the ledger of the case it names, when the name is a valid case
 * name: nothing else is written (no capture, no snapshot). The request id is the event's, else a hash of it.
 */
async function recordRejection(deps: PreservationDeps, event: unknown, error: InvalidInputError): Promise<NonNullable<PreservationResult['rejected']>> {
  const e = (typeof event === 'object' && event !== null ? event : {}) as Obj;
  const data = (typeof e.data === 'object' && e.data !== null ? e.data : {}) as Obj;
  const base = { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) };
  let caseName: string;
  try {
    caseName = validateCaseName(String(data.case ?? ''));
  } catch {
    return base;
  }
  const eventId = typeof e.id === 'string' && e.id !== '' ? e.id : `sha256-${sha256Hex(JSON.stringify(event) ?? '').slice(0, 32)}`;
  const requestId = typeof data.requestId === 'string' && data.requestId !== '' && data.requestId.length <= 256 ? data.requestId : eventId;
  try {
    await recordCustody(
      { store: deps.store, actor: deps.actor, ...(deps.signer ? { signer: deps.signer } : {}), ...(deps.clock ? { clock: deps.clock } : {}) },
      {
        case: caseName,
        requestId,
        step: 'failed',
        action: 'accessed',
        batches: [{ detail: { rejectedEvent: { id: String(e.id ?? ''), type: String(e.eventType ?? e.type ?? '') }, error: base }, failures: [{ origin: `event:${String(e.id ?? eventId)}`, reason: error.message }] }],
      },
    );
    return { ...base, recordedIn: caseName };
  } catch {
    return base;
  }
}

/** The Event Grid trigger's handler. */
export function eventGridHandler(deps: () => Promise<PreservationDeps>): (event: EventGridEvent, context: InvocationContext) => Promise<PreservationResult> {
  return async (event, context) => handlePreservationEvent(await deps(), event, context);
}

/** Reads a JSON body; a 400 response naming the position when it is not JSON. */
async function jsonBody(request: HttpRequest): Promise<{ value: unknown } | { response: HttpResponseInit }> {
  const text = await request.text();
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    return { response: { status: 400, jsonBody: { error: { code: 'INVALID_INPUT', message: `the request body is not JSON: ${(error as Error).message}`, hint: 'POST a JSON object with Content-Type: application/json' } } } };
  }
}

function httpResult(result: PreservationResult): HttpResponseInit {
  if (result.rejected) return { status: 400, jsonBody: { error: result.rejected } };
  // A VHD export asked for and not made is a failure of the request too (the snapshots themselves are kept).
  const failed = result.requests.some((r) => r.vms.some((v) => v.status === 'failed' || v.exports?.some((x) => x.status === 'failed')));
  return { status: failed ? 502 : 200, jsonBody: result };
}

async function httpRun(deps: PreservationDeps, event: unknown, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    return httpResult(await handlePreservationEvent(deps, event, context));
  } catch (error) {
    if (error instanceof RetryablePreservationError) return { status: 503, headers: { 'Retry-After': '60' }, jsonBody: error.result };
    const amber = isAmberError(error) ? error : undefined;
    context.error(JSON.stringify({ message: 'preservation failed', error: (error as Error).message }));
    return { status: amber?.code === 'NOT_IMPLEMENTED' ? 501 : 500, jsonBody: { error: { code: amber?.code ?? 'UNEXPECTED', message: (error as Error).message, ...(amber?.hint ? { hint: amber.hint } : {}) } } };
  }
}

/**
 * `POST /api/preserve` (`amber preserve --cloud azure`): the body is the preservation request's detail, the same
 * as the Event Grid event's data. Answers 200 with what was preserved, 400 naming what is wrong with the request,
 * 502 when a VM or an asked-for VHD export failed (the ledger records where), 503 with Retry-After when a retry may finish it.
 */
export function preserveHttpHandler(deps: () => Promise<PreservationDeps>): (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit> {
  return async (request, context) => {
    const body = await jsonBody(request);
    if ('response' in body) return body.response;
    const data = (typeof body.value === 'object' && body.value !== null ? body.value : {}) as Obj;
    const id = typeof data.requestId === 'string' && data.requestId !== '' ? data.requestId : `http-${context.invocationId}`;
    return httpRun(await deps(), { id, eventType: PRESERVATION_EVENT_TYPE, data: body.value }, context);
  };
}

/**
 * `POST /api/defender-alert`: a Defender for Cloud alert as workflow automation gives it to a Logic App
 * (the Logic App's HTTP action forwards `triggerBody()`).
 */
export function defenderAlertHttpHandler(deps: () => Promise<PreservationDeps>): (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit> {
  return async (request, context) => {
    const body = await jsonBody(request);
    if ('response' in body) return body.response;
    if (!isDefenderAlert(body.value)) {
      return { status: 400, jsonBody: { error: { code: 'INVALID_INPUT', message: 'the body is not a Defender for Cloud alert (no SystemAlertId and AlertType)', hint: 'forward the workflow automation trigger\'s body (triggerBody()) unchanged' } } };
    }
    return httpRun(await deps(), body.value, context);
  };
}
