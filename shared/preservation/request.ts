/**
 * Preservation requests: one normalised shape whatever triggered it (a custom event, a GuardDuty finding, a
 * Security Hub action, `amber preserve`), the deterministic names that make starting it idempotent, and the
 * `startPreservation` use case that starts one instance workflow per instance and one log workflow.
 */
import { InvalidInputError } from '../errors.ts';
import { sha256Hex } from '../evidence/hashing.ts';
import { validateCaseName } from '../evidence/names.ts';
import type { WorkflowStart, WorkflowStarted, WorkflowStarter } from '../ports/workflow-starter.ts';

/** A request to preserve evidence, normalised from any trigger. */
export interface PreservationRequest {
  readonly case: string;
  readonly accountId: string;
  readonly region: string;
  readonly instanceIds: readonly string[];
  /** Log window to copy, ISO-8601 UTC; absent: no log preservation. */
  readonly window?: { readonly since: string; readonly until: string };
  /**
   * An existing log export whose objects the log workflow preserves with the window (`gs://bucket[/prefix]` of a
   * Cloud Logging sink in Google Cloud). Needs a window. @default none: only the cloud's audit log API is read
   */
  readonly logSink?: string;
  readonly isolate: boolean;
  /** Also a memory image of each instance (AVML / WinPmem through SSM), before the snapshots. @default false */
  readonly memory?: boolean;
  /** Also CloudTrail event history (LookupEvents) for the window, besides the trail's objects. @default false */
  readonly cloudTrailEventHistory?: boolean;
  /**
   * Also each snapshot exported into the locker as a hashed VHD (Azure: beginGetAccess, the SAS read, endGetAccess),
   * once the snapshots are complete. @default false
   */
  readonly exportVhd?: boolean;
  /** Deterministic id of the triggering event: the same event twice yields one execution. */
  readonly requestId: string;
  readonly trigger: 'custom' | 'guardduty' | 'securityhub' | 'defender' | 'scc';
}

/** Input of one instance's preservation. */
export interface InstanceTask {
  readonly case: string;
  readonly accountId: string;
  readonly region: string;
  readonly instanceId: string;
  readonly requestId: string;
  readonly isolate: boolean;
  /** The request asks for a memory image. @default false */
  readonly memory?: boolean;
  /** The request asks for each snapshot exported as a hashed VHD. @default false */
  readonly exportVhd?: boolean;
}

/** Input of the log preservation of a request. */
export interface LogTask {
  readonly case: string;
  readonly requestId: string;
  readonly accounts: readonly string[];
  readonly regions: readonly string[];
  readonly since: string;
  readonly until: string;
  /** The request's log sink, when it names one. */
  readonly logSink?: string;
  /** Also CloudTrail event history (LookupEvents) for the window. @default false */
  readonly cloudTrailEventHistory?: boolean;
}

/** Identifiers that end up in evidence keys, tags and execution names: no separators, no control characters. */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const MAX_INSTANCES = 50;
/** A bucket URI (`gs://`, `s3://`, `azblob://`) of printable characters; each cloud checks its own scheme. */
const LOG_SINK = /^(gs|s3|azblob):\/\/[a-z0-9][a-z0-9._-]{1,221}(\/[\x21-\x7e]{0,1000})?$/;

/** Reasons a request cannot be used (empty when it can). */
export function requestProblems(request: PreservationRequest): string[] {
  const problems: string[] = [];
  try {
    validateCaseName(request.case);
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (!SAFE_ID.test(request.accountId)) problems.push(`account id ${JSON.stringify(request.accountId)} is not an identifier`);
  if (!SAFE_ID.test(request.region)) problems.push(`region ${JSON.stringify(request.region)} is not an identifier`);
  if (typeof request.requestId !== 'string' || request.requestId.length === 0 || request.requestId.length > 256) {
    problems.push(`request id must be 1-256 characters, got ${JSON.stringify(request.requestId)}`);
  }
  if (!Array.isArray(request.instanceIds)) problems.push('instanceIds must be a list');
  else {
    for (const id of request.instanceIds) if (typeof id !== 'string' || !SAFE_ID.test(id)) problems.push(`instance id ${JSON.stringify(id)} is not an identifier`);
    if (new Set(request.instanceIds).size !== request.instanceIds.length) problems.push('instanceIds lists an instance twice');
    if (request.instanceIds.length > MAX_INSTANCES) problems.push(`at most ${MAX_INSTANCES} instances per request, got ${request.instanceIds.length}`);
    if (request.instanceIds.length === 0 && request.window === undefined) problems.push('nothing to preserve: no instance and no log window');
  }
  if (request.window !== undefined) problems.push(...windowProblems(request.window.since, request.window.until));
  if (request.logSink !== undefined) {
    if (typeof request.logSink !== 'string' || !LOG_SINK.test(request.logSink)) problems.push(`logSink must be a bucket URI such as gs://audit-sink/cloudaudit.googleapis.com/, got ${JSON.stringify(request.logSink)}`);
    else if (request.window === undefined) problems.push('logSink needs a window: the sink\'s objects are preserved with the log window');
  }
  if (typeof request.isolate !== 'boolean') problems.push(`isolate must be true or false, got ${JSON.stringify(request.isolate)}`);
  if (request.exportVhd !== undefined && typeof request.exportVhd !== 'boolean') problems.push(`exportVhd must be true or false, got ${JSON.stringify(request.exportVhd)}`);
  return problems;
}

/** Throws one InvalidInputError listing every problem of the request. */
export function validatePreservationRequest(request: PreservationRequest): PreservationRequest {
  const problems = requestProblems(request);
  if (problems.length > 0) {
    throw new InvalidInputError(`invalid preservation request${request.requestId ? ` ${request.requestId}` : ''}: ${problems.join('; ')}`, {
      hint: 'give a valid case name, account, region, instance ids, and a window with since before until (ISO-8601 UTC)',
    });
  }
  return request;
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?Z$/;

/** Reasons a log window is unusable (empty when it is fine). */
export function windowProblems(since: string, until: string): string[] {
  const problems: string[] = [];
  for (const [name, value] of [['since', since], ['until', until]] as const) {
    if (typeof value !== 'string' || !ISO_UTC.test(value) || Number.isNaN(Date.parse(value))) {
      problems.push(`window.${name} must be an ISO-8601 UTC time such as 2026-03-01T12:00:00Z, got ${JSON.stringify(value)}`);
    }
  }
  if (problems.length === 0 && Date.parse(since) >= Date.parse(until)) problems.push(`window.since (${since}) must be before window.until (${until})`);
  return problems;
}

/**
 * A case name made from a finding id (`gd-<id>`, `sh-<id>`): characters a case name cannot hold become `-`, and
 * an id too long keeps its end (where finding ids are unique) plus a hash of the whole id.
 */
export function caseNameFrom(prefix: string, findingId: string): string {
  const last = findingId.includes('/') ? findingId.slice(findingId.lastIndexOf('/') + 1) : findingId;
  const clean = last.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/\.{2,}/g, '.').replace(/^[^A-Za-z0-9]+/, '').replace(/-+$/, '');
  const body = clean.length === 0 ? sha256Hex(findingId).slice(0, 16) : clean;
  const name = `${prefix}-${body}`;
  if (name.length <= 128 && last === findingId) return name;
  // Part of the id was dropped (a path, or length): a hash of the whole id keeps distinct findings apart.
  const hash = sha256Hex(findingId).slice(0, 12);
  return `${prefix}-${body.slice(-(128 - prefix.length - hash.length - 2))}-${hash}`;
}

/** A request id usable as a path segment: itself when it is one, else `r-` and its hash. */
export function requestSlug(requestId: string): string {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(requestId) && !requestId.includes('..') ? requestId : `r-${sha256Hex(requestId).slice(0, 32)}`;
}

/**
 * Deterministic workflow execution name (Step Functions: 1-80 characters of letters, digits, `-` and `_`):
 * the case (cut), the subject (instance id or `logs`) and a hash of request and subject. The same request
 * always gets the same name, so a duplicated event finds the execution already there.
 */
export function executionName(caseName: string, subject: string, requestId: string): string {
  const hash = sha256Hex(`${requestId}\n${subject}`).slice(0, 24);
  const clean = (s: string): string => s.replace(/[^A-Za-z0-9_-]/g, '-');
  const head = clean(caseName).slice(0, 80 - hash.length - 2 - Math.min(subject.length, 24));
  return `${head}_${clean(subject).slice(0, 24)}_${hash}`;
}

/** The instance tasks of a request, one per instance. */
export function instanceTasks(request: PreservationRequest): InstanceTask[] {
  return request.instanceIds.map((instanceId) => ({
    case: request.case,
    accountId: request.accountId,
    region: request.region,
    instanceId,
    requestId: request.requestId,
    isolate: request.isolate,
    ...(request.memory ? { memory: true } : {}),
    ...(request.exportVhd === true ? { exportVhd: true } : {}),
  }));
}

/** The log task of a request, when it has a window. */
export function logTask(request: PreservationRequest): LogTask | undefined {
  if (request.window === undefined) return undefined;
  return {
    case: request.case,
    requestId: request.requestId,
    accounts: [request.accountId],
    regions: [request.region],
    since: request.window.since,
    until: request.window.until,
    ...(request.logSink === undefined ? {} : { logSink: request.logSink }),
    ...(request.cloudTrailEventHistory ? { cloudTrailEventHistory: true } : {}),
  };
}

/** What `startPreservation` started for one request. */
export interface StartedPreservation {
  readonly case: string;
  readonly requestId: string;
  readonly trigger: PreservationRequest['trigger'];
  readonly executions: readonly WorkflowStarted[];
}

/**
 * Starts the preservation of a request: one instance workflow per instance and, with a window, one log
 * workflow. Names are deterministic, so a duplicated request starts nothing new (`started: false`).
 */
export async function startPreservation(request: PreservationRequest, starter: WorkflowStarter): Promise<StartedPreservation> {
  validatePreservationRequest(request);
  const starts: WorkflowStart[] = instanceTasks(request).map((task) => ({ kind: 'instance', name: executionName(task.case, task.instanceId, task.requestId), input: task }));
  const logs = logTask(request);
  if (logs) starts.push({ kind: 'logs', name: executionName(logs.case, 'logs', logs.requestId), input: logs });
  const executions = await Promise.all(starts.map((s) => starter.start(s)));
  return { case: request.case, requestId: request.requestId, trigger: request.trigger, executions };
}
