/**
 * The log preservation step the logs workflow calls over HTTP (OIDC-authenticated, internal ingress): for the
 * request's projects and window, the four Cloud Audit Logs through Cloud Logging entries.list (every response page
 * byte for byte, read as the project's collector service account), then, when the request names one, the objects
 * of an existing log-sink bucket, all through `collectEvidence` into the case.
 *
 * - Bounded: at most `maxObjectsPerCall` new objects per call, so a call ends well inside the function's timeout;
 *   the answer says `done: false` and the workflow calls again with the same body. Each call resumes from the
 *   locker (pages already preserved are followed by their own nextPageToken, not asked for again).
 * - Idempotent: an object whose key the case's ledger already records is not handed to `collect` again, so the
 *   same message twice stores and records nothing twice.
 * - Settled windows only: a window that ended less than SETTLE_MINUTES ago is still filling, and its pages would
 *   differ on a re-read; the answer asks the workflow to wait (`waitSeconds`) instead.
 * - Failures are recorded in the custody ledger (step `preserve-logs`, naming the project/page and the reason)
 *   before the step answers 502; what was preserved before the failure stays preserved and recorded.
 */
import type { HttpFunction } from '@google-cloud/functions-framework';
import { InvalidInputError, isAmberError } from '../../../shared/errors.ts';
import { preservedPagesIn } from '../../../shared/evidence/api-pages.ts';
import { collectEvidence, type CollectFailure } from '../../../shared/evidence/collect.ts';
import { CustodyLedger } from '../../../shared/evidence/ledger.ts';
import type { Actor } from '../../../shared/evidence/model.ts';
import { evidenceKey, validateCaseName } from '../../../shared/evidence/names.ts';
import type { EvidenceSource, SourceObject, SourceProblem } from '../../../shared/ports/evidence-source.ts';
import type { ObjectStore } from '../../../shared/ports/object-store.ts';
import { recordCustody } from '../../../shared/preservation/custody.ts';
import { windowProblems } from '../../../shared/preservation/request.ts';
import { AUDIT_LOGS, CloudLoggingSource, type AuditLog } from '../adapters/cloud-logging-source.ts';
import type { RetryPolicy, TokenProvider } from '../adapters/gcp-http.ts';
import { parseGsUri } from '../adapters/gcs-object-store.ts';
import { GcsEvidenceSource } from '../adapters/gcs-source.ts';
import { impersonatedAccessToken, type GoogleRestOptions } from '../adapters/google-rest.ts';
import { errorFields, type GcpLogger } from '../runtime.ts';

/** Audit log entries reach Logging within minutes; a window closed this long ago no longer changes. */
export const SETTLE_MINUTES = 15;

/** New objects preserved per call: 1000-entry pages at one request a second stay far inside a 300 s timeout. */
export const MAX_OBJECTS_PER_CALL = 50;

const STEP = 'preserve-logs';

export interface LogStepDeps {
  readonly store: ObjectStore;
  readonly actor: Actor;
  readonly logger: GcpLogger;
  /** The token for reading a project's logs (the project's collector, impersonated) or a sink bucket. */
  readonly tokenFor: (project: string) => TokenProvider;
  /** Retention of preserved objects, from now. @default the store's default */
  readonly retainUntil?: () => Date;
  /** @default MAX_OBJECTS_PER_CALL */
  readonly maxObjectsPerCall?: number;
  /** Endpoints (tests point them at fakes). @default Google's public endpoints */
  readonly loggingUrl?: string;
  readonly storageUrl?: string;
  /** Entries per Logging page. @default LOGGING_PAGE_SIZE */
  readonly pageSize?: number;
  /** Retries of 429/503 and the clock of the pacing (tests inject virtual ones). */
  readonly retry?: RetryPolicy;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The log task in a Workflows call body: the request's projects and window, and optionally a log sink. */
export interface GcpLogTask {
  readonly case: string;
  readonly requestId: string;
  readonly projects: readonly string[];
  readonly since: string;
  readonly until: string;
  /** `gs://bucket[/prefix]` of an existing log sink whose objects are preserved too. */
  readonly logSink?: string;
}

/** Checks a call body (the LogTask the start function passes, `accounts` being project ids). */
export function logTaskOf(body: unknown): GcpLogTask {
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
  const projects = Array.isArray(b.accounts) ? b.accounts.map(String) : [];
  if (projects.length === 0) problems.push(`accounts must list the project ids whose logs to preserve, got ${JSON.stringify(b.accounts)}`);
  const since = String(b.since ?? '');
  const until = String(b.until ?? '');
  problems.push(...windowProblems(since, until).map((p) => p.replace('window.', '')));
  const logSink = b.logSink === undefined || b.logSink === null || b.logSink === '' ? undefined : String(b.logSink);
  if (logSink !== undefined) {
    try {
      parseGsUri(logSink);
    } catch (error) {
      problems.push(`logSink: ${(error as Error).message}`);
    }
  }
  if (problems.length > 0) throw new InvalidInputError(`the log task cannot be used: ${problems.join('; ')}`, { hint: 'pass the task the start function gave the workflow, unchanged' });
  return { case: caseName, requestId, projects, since, until, ...(logSink === undefined ? {} : { logSink }) };
}

/**
 * Tokens per project: a member project's logs are read as its collector service account (impersonated with
 * short-lived tokens, as the instance steps do); a project without a collector as the function's own identity.
 */
export function collectorTokens(collectors: Readonly<Record<string, string>>, own: TokenProvider, options: Omit<GoogleRestOptions, 'token'> = {}): (project: string) => TokenProvider {
  const byProject = new Map<string, TokenProvider>();
  return (project) => {
    let token = byProject.get(project);
    if (!token) {
      const collector = collectors[project];
      token = collector ? impersonatedAccessToken(collector, own, options) : own;
      byProject.set(project, token);
    }
    return token;
  };
}

/** How far a call got: objects left in its budget, whether more remain, what it skipped as already recorded. */
interface Progress {
  left: number;
  more: boolean;
  skipped: number;
  handedOn: number;
}

/**
 * The request's sources as one: objects the ledger does not record yet, in order, at most `progress.left` of them.
 * One source rather than several, so a call that finds everything already recorded hands `collect` nothing at all
 * (it then refuses to seal an empty run) instead of reporting a source that "holds no files".
 */
function unrecorded(parts: readonly { source: EvidenceSource; relPrefix: string }[], caseName: string, recorded: ReadonlySet<string>, progress: Progress): EvidenceSource {
  return {
    spec: parts.map((p) => p.source.spec).join(' '),
    concurrency: 1,
    async *list(onProblem: (problem: SourceProblem) => void): AsyncIterable<SourceObject> {
      for (const { source, relPrefix } of parts) {
        for await (const object of source.list(onProblem)) {
          const relPath = `${relPrefix}${object.relPath}`;
          if (recorded.has(evidenceKey(caseName, relPath))) {
            progress.skipped += 1;
            continue;
          }
          if (progress.left <= 0) {
            progress.more = true; // stop before asking for anything further: the next call resumes here
            return;
          }
          progress.left -= 1;
          progress.handedOn += 1;
          yield { ...object, relPath };
        }
      }
    },
  };
}

/** HTTP handler: preserve the audit logs (and a log sink's objects) of a request, a bounded part per call. */
export function preserveLogsHandler(deps: LogStepDeps): HttpFunction {
  return async (req, res) => {
    let task: GcpLogTask;
    try {
      task = logTaskOf(req.body);
    } catch (error) {
      deps.logger.error(`${STEP} refused its input`, errorFields(error));
      res.status(400).json(errorFields(error));
      return;
    }
    const now = deps.now ?? Date.now;
    const settlesAt = Date.parse(task.until) + SETTLE_MINUTES * 60_000;
    if (settlesAt > now()) {
      const waitSeconds = Math.ceil((settlesAt - now()) / 1000);
      deps.logger.info(`${STEP} waits for the window to settle`, { case: task.case, requestId: task.requestId, waitSeconds });
      res.status(200).json({ ...task, done: false, waitSeconds });
      return;
    }
    try {
      const recorded = new Set((await CustodyLedger.open(deps.store, task.case)).items().keys());
      const progress: Progress = { left: deps.maxObjectsPerCall ?? MAX_OBJECTS_PER_CALL, more: false, skipped: 0, handedOn: 0 };
      const parts: { source: EvidenceSource; relPrefix: string }[] = task.projects.map((project) => ({
        relPrefix: '',
        source: new CloudLoggingSource({
            project,
            logs: Object.keys(AUDIT_LOGS) as AuditLog[],
            since: new Date(task.since),
            until: new Date(task.until),
            token: deps.tokenFor(project),
            preserved: preservedPagesIn(deps.store, task.case),
            ...(deps.loggingUrl ? { baseUrl: deps.loggingUrl } : {}),
            ...(deps.retry ? { retry: deps.retry } : {}),
            ...(deps.pageSize ? { pageSize: deps.pageSize } : {}),
            ...(deps.now ? { now: deps.now } : {}),
            ...(deps.sleep ? { sleep: deps.sleep } : {}),
          }),
      }));
      if (task.logSink !== undefined) {
        const { bucket } = parseGsUri(task.logSink);
        // The sink is read as the first project's collector: the member module grants it the sink bucket only.
        const sink = new GcsEvidenceSource({ uri: task.logSink, token: deps.tokenFor(task.projects[0]!), ...(deps.storageUrl ? { baseUrl: deps.storageUrl } : {}) });
        parts.push({ source: sink, relPrefix: `gcp/log-sink/${bucket}/` });
      }
      const source = unrecorded(parts, task.case, recorded, progress);
      let summary;
      try {
        summary = await collectEvidence({
        store: deps.store,
        caseName: task.case,
        sources: [source],
        actor: deps.actor,
        concurrency: 1,
        ...(deps.retainUntil ? { retainUntil: deps.retainUntil() } : {}),
        });
      } catch (error) {
        // Everything this request names is already preserved and recorded (a duplicate or a finished request).
        if (error instanceof InvalidInputError && progress.handedOn === 0 && progress.skipped > 0) {
          deps.logger.info(`${STEP} found everything already recorded`, { case: task.case, requestId: task.requestId, alreadyRecorded: progress.skipped });
          res.status(200).json({ ...task, done: true, preserved: 0, alreadyRecorded: progress.skipped });
          return;
        }
        throw error;
      }
      const output = { ...task, done: !progress.more, alreadyRecorded: progress.skipped, preserved: summary.items, created: summary.created, bytes: summary.bytes, manifest: summary.manifest };
      if (summary.failures.length > 0) {
        await recordFailures(deps, task, summary.failures);
        deps.logger.error(`${STEP} failed`, { case: task.case, requestId: task.requestId, failures: summary.failures.length });
        res.status(502).json({ ...output, failures: summary.failures, retryable: false });
        return;
      }
      deps.logger.info(`${STEP} done`, { case: task.case, requestId: task.requestId, preserved: summary.items, done: output.done });
      res.status(200).json(output);
    } catch (error) {
      const fields = errorFields(error);
      deps.logger.error(`${STEP} failed`, { case: task.case, requestId: task.requestId, ...fields });
      await recordFailures(deps, task, [{ origin: `gcp-logging:${task.projects.join(',')}`, reason: String(fields.error), code: String(fields.code ?? 'FAILED') }]);
      const retryable = !isAmberError(error);
      res.status(retryable ? 500 : 400).json({ ...fields, retryable });
    }
  };
}

/** Records a failed step in the ledger; a ledger that cannot be written is logged (the answer still says failed). */
async function recordFailures(deps: LogStepDeps, task: GcpLogTask, failures: readonly Pick<CollectFailure, 'origin' | 'reason' | 'code'>[]): Promise<void> {
  try {
    await recordCustody({ store: deps.store, actor: deps.actor }, {
      case: task.case,
      requestId: task.requestId,
      step: STEP,
      action: 'accessed',
      batches: [{ failures: failures.map((f) => ({ origin: f.origin, reason: f.reason })), detail: { step: STEP, status: 'failed', codes: [...new Set(failures.map((f) => f.code))].sort() } }],
    });
  } catch (ledgerError) {
    deps.logger.error(`${STEP} could not record its failure in the ledger`, { case: task.case, ...errorFields(ledgerError) });
  }
}
