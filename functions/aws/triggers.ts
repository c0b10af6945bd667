/**
 * The three EventBridge events that start preservation, normalised into PreservationRequests:
 *
 * - `source: amber`, `detail-type: Preservation Requested` (put by `amber preserve`): the detail is the request.
 *   Request id: `detail.requestId`, else the event id.
 * - `source: aws.guardduty`, `detail-type: GuardDuty Finding` on an EC2 instance with severity at or above the
 *   threshold. Case `gd-<finding id>`; request id `gd-<finding id>`, so GuardDuty re-publishing the same finding
 *   (it does, as its count grows) does not snapshot the instance again. Sample findings are ignored.
 * - `source: aws.securityhub`, `detail-type: Security Hub Findings - Custom Action`: every finding's
 *   `AwsEc2Instance` resources, one request per finding and account/region. Case `sh-<finding id>`; request
 *   id: the event id and a hash of finding, account and region (each click of the action is a new request).
 *
 * Triggers without their own window get the last `defaultWindowHours` before the event's time (the event's
 * time, not the clock, so a duplicated delivery yields the same request).
 */
import { InvalidInputError } from '../../shared/errors.ts';
import { sha256Hex } from '../../shared/evidence/hashing.ts';
import { caseNameFrom, validatePreservationRequest, type PreservationRequest } from '../../shared/preservation/request.ts';
import { PRESERVATION_EVENT } from './handlers/contracts.ts';

export interface TriggerConfig {
  /** GuardDuty findings below this severity are ignored. */
  readonly guardDutyMinSeverity: number;
  /** Log window, in hours before the event, for triggers that give none. */
  readonly defaultWindowHours: number;
}

/** Requests an event yields, and what it held that was deliberately not acted on. */
export interface NormalisedTrigger {
  readonly requests: readonly PreservationRequest[];
  readonly ignored: readonly { readonly id: string; readonly reason: string }[];
}

export const INSTANCE_ID = /^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;
export const ACCOUNT_ID = /^\d{12}$/;
export const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;

interface EventEnvelope {
  readonly id?: unknown;
  readonly source?: unknown;
  readonly 'detail-type'?: unknown;
  readonly time?: unknown;
  readonly account?: unknown;
  readonly region?: unknown;
  readonly detail?: unknown;
}

/** Normalises an EventBridge event into preservation requests; throws InvalidInputError for an event it cannot use. */
export function normaliseTrigger(event: unknown, config: TriggerConfig): NormalisedTrigger {
  const e = (typeof event === 'object' && event !== null ? event : {}) as EventEnvelope;
  const kind = `${String(e.source)} / ${String(e['detail-type'])}`;
  if (e.source === PRESERVATION_EVENT.source && e['detail-type'] === PRESERVATION_EVENT.detailType) return { requests: [customRequest(e)], ignored: [] };
  if (e.source === 'aws.guardduty' && e['detail-type'] === 'GuardDuty Finding') return guardDuty(e, config);
  if (e.source === 'aws.securityhub' && e['detail-type'] === 'Security Hub Findings - Custom Action') return securityHub(e, config);
  throw new InvalidInputError(`start-preservation cannot use an event of ${kind}`, {
    hint: `route only "${PRESERVATION_EVENT.source}/${PRESERVATION_EVENT.detailType}", "aws.guardduty/GuardDuty Finding" and "aws.securityhub/Security Hub Findings - Custom Action" events to this function`,
  });
}

function customRequest(e: EventEnvelope): PreservationRequest {
  const d = (typeof e.detail === 'object' && e.detail !== null ? e.detail : {}) as Record<string, unknown>;
  const window = d.window as { since?: unknown; until?: unknown } | undefined;
  const request: PreservationRequest = {
    case: String(d.case ?? ''),
    accountId: String(d.accountId ?? e.account ?? ''),
    region: String(d.region ?? e.region ?? ''),
    instanceIds: Array.isArray(d.instanceIds) ? d.instanceIds.map(String) : [],
    ...(window && typeof window === 'object' ? { window: { since: String(window.since), until: String(window.until) } } : {}),
    isolate: d.isolate === undefined ? false : (d.isolate as boolean),
    ...(d.memory === true ? { memory: true } : {}),
    ...(d.cloudTrailEventHistory === true ? { cloudTrailEventHistory: true } : {}),
    requestId: typeof d.requestId === 'string' && d.requestId !== '' ? d.requestId : String(e.id ?? ''),
    trigger: 'custom',
  };
  return checked(request);
}

function guardDuty(e: EventEnvelope, config: TriggerConfig): NormalisedTrigger {
  const d = (typeof e.detail === 'object' && e.detail !== null ? e.detail : {}) as {
    id?: unknown;
    accountId?: unknown;
    region?: unknown;
    severity?: unknown;
    type?: unknown;
    resource?: { resourceType?: unknown; instanceDetails?: { instanceId?: unknown } };
    service?: { additionalInfo?: { sample?: unknown } };
  };
  const id = String(d.id ?? e.id ?? '');
  if (d.service?.additionalInfo?.sample === true || d.service?.additionalInfo?.sample === 'true') {
    return { requests: [], ignored: [{ id, reason: 'a GuardDuty sample finding (generated for testing): its instance is not real' }] };
  }
  const instanceId = d.resource?.instanceDetails?.instanceId;
  if (d.resource?.resourceType !== 'Instance' || typeof instanceId !== 'string') {
    return { requests: [], ignored: [{ id, reason: `the finding is about a ${String(d.resource?.resourceType ?? 'unknown')} resource, not an EC2 instance` }] };
  }
  const severity = Number(d.severity);
  if (!Number.isFinite(severity) || severity < config.guardDutyMinSeverity) {
    return { requests: [], ignored: [{ id, reason: `severity ${String(d.severity)} is below the threshold ${config.guardDutyMinSeverity}` }] };
  }
  const request: PreservationRequest = {
    case: caseNameFrom('gd', id),
    accountId: String(d.accountId ?? e.account ?? ''),
    region: String(d.region ?? e.region ?? ''),
    instanceIds: [instanceId],
    window: defaultWindow(e, config),
    isolate: false,
    requestId: `gd-${id}`,
    trigger: 'guardduty',
  };
  return { requests: [checked(request)], ignored: [] };
}

function securityHub(e: EventEnvelope, config: TriggerConfig): NormalisedTrigger {
  const d = (typeof e.detail === 'object' && e.detail !== null ? e.detail : {}) as { findings?: unknown };
  const findings = Array.isArray(d.findings) ? (d.findings as Record<string, unknown>[]) : [];
  if (findings.length === 0) throw new InvalidInputError('the Security Hub custom action event holds no findings', { hint: 'select findings before choosing the action' });
  const requests: PreservationRequest[] = [];
  const ignored: { id: string; reason: string }[] = [];
  for (const f of findings) {
    const findingId = String(f.Id ?? '');
    const groups = new Map<string, { accountId: string; region: string; instanceIds: string[] }>();
    for (const r of Array.isArray(f.Resources) ? (f.Resources as Record<string, unknown>[]) : []) {
      if (r.Type !== 'AwsEc2Instance' || typeof r.Id !== 'string') continue;
      const arn = /^arn:[\w-]+:ec2:([a-z0-9-]+):(\d{12}):instance\/(i-[0-9a-f]+)$/.exec(r.Id);
      const instanceId = arn ? arn[3]! : r.Id;
      const accountId = arn ? arn[2]! : String(f.AwsAccountId ?? e.account ?? '');
      const region = arn ? arn[1]! : String(r.Region ?? f.Region ?? e.region ?? '');
      const key = `${accountId}|${region}`;
      const g = groups.get(key) ?? { accountId, region, instanceIds: [] };
      if (!g.instanceIds.includes(instanceId)) g.instanceIds.push(instanceId);
      groups.set(key, g);
    }
    if (groups.size === 0) {
      ignored.push({ id: findingId, reason: 'the finding names no AwsEc2Instance resource' });
      continue;
    }
    for (const g of groups.values()) {
      requests.push(
        checked({
          case: caseNameFrom('sh', findingId),
          accountId: g.accountId,
          region: g.region,
          instanceIds: g.instanceIds,
          window: defaultWindow(e, config),
          isolate: false,
          requestId: `${String(e.id ?? '')}-${sha256Hex(`${findingId}\n${g.accountId}\n${g.region}`).slice(0, 12)}`,
          trigger: 'securityhub',
        }),
      );
    }
  }
  return { requests, ignored };
}

/** The last `defaultWindowHours` before the event's time. */
function defaultWindow(e: EventEnvelope, config: TriggerConfig): { since: string; until: string } {
  const t = typeof e.time === 'string' ? Date.parse(e.time) : Number.NaN;
  if (Number.isNaN(t)) throw new InvalidInputError(`the event has no readable time: ${JSON.stringify(e.time)}`, { hint: 'EventBridge events carry an ISO-8601 `time`' });
  const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
  return { since: iso(t - config.defaultWindowHours * 3_600_000), until: iso(t) };
}

/** The core's checks, plus AWS's id formats. */
function checked(request: PreservationRequest): PreservationRequest {
  const problems: string[] = [];
  if (!ACCOUNT_ID.test(request.accountId)) problems.push(`account id must be 12 digits, got ${JSON.stringify(request.accountId)}`);
  if (!REGION.test(request.region)) problems.push(`not a region name: ${JSON.stringify(request.region)}`);
  for (const id of request.instanceIds) if (!INSTANCE_ID.test(id)) problems.push(`not an EC2 instance id: ${JSON.stringify(id)}`);
  if (problems.length > 0) {
    throw new InvalidInputError(`invalid preservation request ${request.requestId}: ${problems.join('; ')}`, {
      hint: 'instance ids look like i-0123456789abcdef0, accounts are 12 digits, regions like eu-west-1',
    });
  }
  return validatePreservationRequest(request);
}
