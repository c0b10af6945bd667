/**
 * The Pub/Sub messages that start preservation in Google Cloud, normalised into PreservationRequests:
 *
 * - "Preservation Requested" (put by `amber preserve --cloud gcp` or by hand): the message data is the same JSON
 *   as the AWS event, `{"source": "amber", "detail-type": "Preservation Requested", "detail": {...}}`, with a
 *   project id as `accountId`, a zone as `region` and instance names (or numeric ids) as `instanceIds`. Request id:
 *   `detail.requestId`, else the Pub/Sub message id, so a redelivered message yields the same request. An optional
 *   `detail.logSink` (`gs://bucket[/prefix]`, with a window) names a log sink whose objects are preserved too; the
 *   AWS functions read the same payload and ignore the field.
 * - Security Command Center finding notifications (`{notificationConfigName, finding: {...}}`) on a Compute
 *   Engine instance, at or above a severity. Case `scc-<finding id>`, request id `scc-<finding id>`: the same
 *   finding notified again (SCC does, on every update) does not snapshot the instance twice. Inactive findings are
 *   ignored. The log window is the hours before the finding's event time; the sink named by the deployment
 *   (LOG_SINK), if any, is preserved with it.
 */
import { InvalidInputError } from '../../shared/errors.ts';
import { caseNameFrom, validatePreservationRequest, type PreservationRequest } from '../../shared/preservation/request.ts';
import { INSTANCE_NAME, PROJECT_ID, ZONE } from './adapters/compute-snapshot-provider.ts';
import { parseGsUri } from './adapters/gcs-object-store.ts';

/** The message type and source `amber preserve` publishes. */
export const PRESERVATION_MESSAGE = { source: 'amber', detailType: 'Preservation Requested' } as const;

/** Security Command Center severities, lowest first. */
export const SCC_SEVERITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type SccSeverity = (typeof SCC_SEVERITIES)[number];

/** A Pub/Sub message as a CloudEvent carries it (`data.message`). */
export interface PubSubMessage {
  readonly data?: string;
  readonly messageId?: string;
  readonly publishTime?: string;
  readonly attributes?: Readonly<Record<string, string>>;
}

export interface GcpTriggerConfig {
  /** Findings below this severity are ignored. */
  readonly sccMinSeverity: SccSeverity;
  /** Log window, in hours before the finding, for triggers that give none. */
  readonly defaultWindowHours: number;
  /**
   * Log sink (`gs://bucket[/prefix]`) preserved with the window of a finding's request (SCC findings name none).
   * @default none: Cloud Audit Logs through the Logging API only
   */
  readonly logSink?: string;
}

/** Requests a message yields, and what it held that was deliberately not acted on. */
export interface NormalisedMessage {
  readonly requests: readonly PreservationRequest[];
  readonly ignored: readonly { readonly id: string; readonly reason: string }[];
}

/** The JSON a Pub/Sub message carries (base64 in `data`); an error names the message id and what is wrong. */
export function messageJson(message: PubSubMessage | undefined): unknown {
  const id = message?.messageId ?? 'without an id';
  if (!message || typeof message.data !== 'string' || message.data === '') {
    throw new InvalidInputError(`Pub/Sub message ${id} has no data`, { hint: 'publish the request as JSON in the message body' });
  }
  const text = Buffer.from(message.data, 'base64').toString('utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    throw new InvalidInputError(`Pub/Sub message ${id} is not JSON${position ? ` (at character ${position})` : ''}: ${JSON.stringify(text.slice(0, 80))}`, {
      hint: 'publish {"source":"amber","detail-type":"Preservation Requested","detail":{...}} (see README, Deploying to Google Cloud)',
      cause: error,
    });
  }
}

/** A "Preservation Requested" message into one request. */
export function preservationRequested(message: PubSubMessage): PreservationRequest {
  const body = messageJson(message) as Record<string, unknown> | null;
  const id = message.messageId ?? '';
  if (typeof body !== 'object' || body === null || body.source !== PRESERVATION_MESSAGE.source || body['detail-type'] !== PRESERVATION_MESSAGE.detailType) {
    throw new InvalidInputError(`Pub/Sub message ${id || 'without an id'} is not a "${PRESERVATION_MESSAGE.detailType}" request (source ${JSON.stringify((body as { source?: unknown } | null)?.source)})`, {
      hint: `send {"source":"${PRESERVATION_MESSAGE.source}","detail-type":"${PRESERVATION_MESSAGE.detailType}","detail":{...}} to this topic`,
    });
  }
  const d = (typeof body.detail === 'object' && body.detail !== null ? body.detail : {}) as Record<string, unknown>;
  const window = d.window as { since?: unknown; until?: unknown } | undefined;
  return checked({
    case: String(d.case ?? ''),
    accountId: String(d.accountId ?? ''),
    region: String(d.region ?? ''),
    instanceIds: Array.isArray(d.instanceIds) ? d.instanceIds.map(String) : [],
    ...(window && typeof window === 'object' ? { window: { since: String(window.since), until: String(window.until) } } : {}),
    ...(d.logSink === undefined || d.logSink === null || d.logSink === '' ? {} : { logSink: String(d.logSink) }),
    isolate: d.isolate === undefined ? false : (d.isolate as boolean),
    requestId: typeof d.requestId === 'string' && d.requestId !== '' ? d.requestId : id,
    trigger: 'custom',
  });
}

interface SccFinding {
  readonly name?: unknown;
  readonly resourceName?: unknown;
  readonly state?: unknown;
  readonly severity?: unknown;
  readonly category?: unknown;
  readonly eventTime?: unknown;
}

const GCE_INSTANCE = /^\/\/compute\.googleapis\.com\/projects\/([^/]+)\/zones\/([^/]+)\/instances\/([^/]+)$/;

/** A Security Command Center notification into a request for its instance, or the reason it is ignored. */
export function sccFinding(message: PubSubMessage, config: GcpTriggerConfig): NormalisedMessage {
  const body = messageJson(message) as { finding?: SccFinding } | null;
  const f = body?.finding;
  if (typeof f !== 'object' || f === null || typeof f.name !== 'string') {
    throw new InvalidInputError(`Pub/Sub message ${message.messageId ?? 'without an id'} is not a Security Command Center notification (no finding.name)`, {
      hint: 'route only the notification config\'s topic to this function',
    });
  }
  const findingId = f.name.slice(f.name.lastIndexOf('/') + 1);
  const ignore = (reason: string): NormalisedMessage => ({ requests: [], ignored: [{ id: f.name as string, reason }] });
  if (f.state !== 'ACTIVE') return ignore(`the finding is ${String(f.state)}, not ACTIVE`);
  const instance = typeof f.resourceName === 'string' ? GCE_INSTANCE.exec(f.resourceName) : null;
  if (!instance) return ignore(`the finding is about ${String(f.resourceName)}, not a Compute Engine instance`);
  const rank = SCC_SEVERITIES.indexOf(f.severity as SccSeverity);
  if (rank < SCC_SEVERITIES.indexOf(config.sccMinSeverity)) return ignore(`severity ${String(f.severity)} is below the threshold ${config.sccMinSeverity}`);
  const time = typeof f.eventTime === 'string' ? Date.parse(f.eventTime) : Number.NaN;
  if (Number.isNaN(time)) throw new InvalidInputError(`finding ${f.name} has no readable eventTime: ${JSON.stringify(f.eventTime)}`);
  const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
  return {
    requests: [
      checked({
        case: caseNameFrom('scc', findingId),
        accountId: instance[1]!,
        region: instance[2]!,
        instanceIds: [instance[3]!],
        window: { since: iso(time - config.defaultWindowHours * 3_600_000), until: iso(time) },
        ...(config.logSink === undefined ? {} : { logSink: config.logSink }),
        isolate: false,
        requestId: `scc-${findingId}`,
        trigger: 'scc',
      }),
    ],
    ignored: [],
  };
}

/** The core's checks, plus Google's formats for projects, zones and instances. */
export function checked(request: PreservationRequest): PreservationRequest {
  const problems: string[] = [];
  if (!PROJECT_ID.test(request.accountId)) problems.push(`not a Google Cloud project id: ${JSON.stringify(request.accountId)}`);
  if (!ZONE.test(request.region)) problems.push(`not a Compute Engine zone: ${JSON.stringify(request.region)}`);
  for (const id of request.instanceIds) if (!INSTANCE_NAME.test(id) && !/^\d{1,20}$/.test(id)) problems.push(`not a Compute Engine instance name or id: ${JSON.stringify(id)}`);
  if (request.logSink !== undefined) {
    try {
      parseGsUri(request.logSink);
    } catch (error) {
      problems.push(`logSink: ${(error as Error).message}`);
    }
  }
  if (problems.length > 0) {
    throw new InvalidInputError(`invalid preservation request ${request.requestId}: ${problems.join('; ')}`, {
      hint: 'accountId is the project id (my-project-123), region the zone (europe-west1-b), instanceIds the instance names',
    });
  }
  return validatePreservationRequest(request);
}
