/**
 * The three entry points that start preservation in Google Cloud, over one use case (startPreservation):
 *
 * - `preservationRequested`: CloudEvent of a Pub/Sub message "Preservation Requested" (the AWS event's JSON).
 * - `sccFinding`: CloudEvent of a Security Command Center finding notification, at or above a severity.
 * - `preserveHttp`: HTTP, for `amber preserve --cloud gcp` (internal ingress, IAM-authenticated); the body is the
 *   same JSON as the Pub/Sub message's data.
 *
 * Each starts one instance workflow per instance and one log workflow per window; execution labels derive from the
 * request id, so a redelivered message finds its executions already there (`started: false`). A message that can
 * never be used (not JSON, not a request, bad ids) is acknowledged with an error log naming it (retrying it would
 * only fail again); a failure that may pass (Workflows throttling) is thrown, so Pub/Sub redelivers.
 */
import type { CloudEvent, HttpFunction } from '@google-cloud/functions-framework';
import { InvalidInputError, isAmberError } from '../../../shared/errors.ts';
import type { WorkflowStarter } from '../../../shared/ports/workflow-starter.ts';
import { startPreservation, type PreservationRequest } from '../../../shared/preservation/request.ts';
import { errorFields, type GcpLogger } from '../runtime.ts';
import { preservationRequested, sccFinding, type GcpTriggerConfig, type NormalisedMessage, type PubSubMessage } from '../triggers.ts';

export interface StartPreservationDeps {
  readonly starter: WorkflowStarter;
  readonly logger: GcpLogger;
  readonly config: GcpTriggerConfig;
}

/** What one message started. */
export interface StartedRequests {
  readonly requests: readonly { readonly case: string; readonly requestId: string; readonly executions: readonly { kind: string; name: string; id: string; started: boolean }[] }[];
  readonly ignored: NormalisedMessage['ignored'];
}

type PubSubEventData = { readonly message?: PubSubMessage; readonly subscription?: string };

async function start(deps: StartPreservationDeps, normalised: NormalisedMessage): Promise<StartedRequests> {
  for (const i of normalised.ignored) deps.logger.info('finding ignored', { findingId: i.id, reason: i.reason });
  const out: StartedRequests['requests'][number][] = [];
  for (const request of normalised.requests) {
    const started = await startPreservation(request, deps.starter);
    const executions = started.executions.map((e) => ({ kind: e.kind, name: e.name, id: e.id, started: e.started }));
    deps.logger.info(executions.some((e) => e.started) ? 'preservation started' : 'preservation already started (duplicate message)', { case: request.case, requestId: request.requestId, trigger: request.trigger, executions });
    out.push({ case: started.case, requestId: started.requestId, executions });
  }
  return { requests: out, ignored: normalised.ignored };
}

/** Runs a Pub/Sub CloudEvent: unusable messages are logged and acknowledged, passing failures thrown. */
function pubSubHandler(deps: StartPreservationDeps, normalise: (message: PubSubMessage) => NormalisedMessage): (event: CloudEvent<PubSubEventData>) => Promise<void> {
  return async (event) => {
    const message = event.data?.message ?? {};
    let normalised: NormalisedMessage;
    try {
      normalised = normalise(message);
    } catch (error) {
      if (isAmberError(error) && error instanceof InvalidInputError) {
        deps.logger.error('message refused', { messageId: message.messageId ?? event.id, ...errorFields(error) });
        return;
      }
      throw error;
    }
    await start(deps, normalised);
  };
}

/** CloudEvent handler of "Preservation Requested" messages. */
export function preservationRequestedHandler(deps: StartPreservationDeps): (event: CloudEvent<PubSubEventData>) => Promise<void> {
  return pubSubHandler(deps, (m) => ({ requests: [preservationRequested(m)], ignored: [] }));
}

/** CloudEvent handler of Security Command Center finding notifications. */
export function sccFindingHandler(deps: StartPreservationDeps): (event: CloudEvent<PubSubEventData>) => Promise<void> {
  return pubSubHandler(deps, (m) => sccFinding(m, deps.config));
}

/** HTTP handler for `amber preserve --cloud gcp`: 200 with what was started, 400 naming what is wrong. */
export function preserveHttpHandler(deps: StartPreservationDeps): HttpFunction {
  return async (req, res) => {
    try {
      if (req.method !== 'POST') throw new InvalidInputError(`method ${req.method} is not allowed`, { hint: 'POST the request JSON' });
      const body = Buffer.isBuffer(req.rawBody) ? req.rawBody.toString('base64') : Buffer.from(JSON.stringify(req.body ?? null)).toString('base64');
      const requestId = req.get('x-amber-request-id') ?? '';
      const request: PreservationRequest = preservationRequested({ data: body, messageId: requestId });
      res.status(200).json(await start(deps, { requests: [request], ignored: [] }));
    } catch (error) {
      deps.logger.error('preserve request failed', errorFields(error));
      const status = error instanceof InvalidInputError ? 400 : 500;
      res.status(status).json(errorFields(error));
    }
  };
}
