/**
 * Log preservation inside the Azure deployment: when a preservation request carries a window, the Azure Activity
 * Log of its subscription and, when the function app names a tenant (AMBER_LOG_TENANT_ID), Entra ID sign-ins and
 * directory audits and the Microsoft 365 audit log (and, when configured, Entra ID Protection risk and the directory
 * and mailbox state), preserved into the request's case through collectEvidence
 * (every page byte for byte, hashed as stored, each acquisition in the custody ledger).
 *
 * - Idempotent: the sources resume from the pages the case already holds, and pages the ledger already records
 *   are not handed to collect again, so a redelivered event stores and records no page twice; a request whose
 *   logs the ledger already records as complete is not read again at all.
 * - Bounded: the Functions host ends an invocation at its time limit, so reading stops before asking for another
 *   page once `budgetMs` has passed. The `preserve-logs` step then says, per stream, what is complete and what is
 *   not, and the request is retryable: the redelivery resumes after the last preserved page.
 * - Failures (a 403 naming the permission or role that is missing, a damaged page) are recorded in the same step;
 *   they never stop the VM preservation of the request.
 */
import { isAmberError } from '../../shared/errors.ts';
import { collectEvidence } from '../../shared/evidence/collect.ts';
import { CustodyLedger } from '../../shared/evidence/ledger.ts';
import type { Actor } from '../../shared/evidence/model.ts';
import { casePrefix } from '../../shared/evidence/names.ts';
import type { EvidenceSource, SourceObject, SourceProblem } from '../../shared/ports/evidence-source.ts';
import type { ObjectStore } from '../../shared/ports/object-store.ts';
import type { Signer } from '../../shared/ports/signer.ts';
import { recordCustody, type CustodyBatch } from '../../shared/preservation/custody.ts';
import type { PreservationRequest } from '../../shared/preservation/request.ts';
import { ACTIVITY_SPEC, activityLogSource } from './adapters/activity-log-source.ts';
import type { SliceStatus } from './adapters/azure-api-source.ts';
import type { AzureHttp } from './adapters/azure-http.ts';
import { preservedPagesIn } from './adapters/azure-pages.ts';
import { AUDITS_SPEC, graphStateSource, graphWindowSource, RISK_SPEC, SIGNINS_SPEC, STATE_SPEC } from './adapters/graph-source.ts';
import { M365_CONTENT_TYPES, M365_SPEC, managementActivitySource } from './adapters/management-activity-source.ts';

/** Where the log APIs are and how long one invocation may read them. */
export interface LogPreservationSettings {
  /** Entra tenant (directory) id: Entra sign-ins, audits and the Microsoft 365 audit log are read only when set. */
  readonly tenant?: string;
  /** @default https://management.azure.com */
  readonly armUrl?: string;
  /** @default https://graph.microsoft.com */
  readonly graphUrl?: string;
  /** @default https://manage.office.com */
  readonly m365Url?: string;
  /** Milliseconds of reading per invocation; no further page is asked for after it. */
  readonly budgetMs: number;
  /** With a tenant: also Entra ID Protection risk detections and risky users of the window (api:entra-risk). @default false */
  readonly risk?: boolean;
  /**
   * With a tenant: also a snapshot of the directory and mailbox state (api:azure-state: grants, apps, conditional
   * access, MFA registration, every user's inbox rules and mailbox settings), taken when the request is handled.
   * @default false
   */
  readonly state?: boolean;
}

export interface PreserveLogsDeps {
  readonly store: ObjectStore;
  readonly actor: Actor;
  readonly http: AzureHttp;
  readonly settings: LogPreservationSettings;
  readonly retainUntil?: () => Date;
  readonly signer?: Signer;
  /** @default () => new Date() */
  readonly clock?: () => Date;
  /** Milliseconds, for the budget only. @default Date.now */
  readonly now?: () => number;
}

/** How one log stream (a source of the request) ended in this invocation. */
export interface LogStreamStatus {
  readonly source: string;
  readonly status: 'complete' | 'incomplete' | 'failed';
  /** Objects handed to the locker in this invocation (pages already recorded are not counted). */
  readonly preserved: number;
  readonly reasons?: readonly string[];
  /** Management Activity slices, as the CLI's slices report gives them. */
  readonly slices?: readonly SliceStatus[];
}

/** What the log preservation of one request did. */
export interface LogsOutcome {
  readonly status: 'complete' | 'incomplete' | 'failed' | 'already complete';
  readonly window: { readonly since: string; readonly until: string };
  readonly streams: readonly LogStreamStatus[];
  /** Objects stored and recorded in this invocation. */
  readonly created: number;
  /** The budget ran out before every stream was read: a redelivery resumes. */
  readonly retryable: boolean;
  /** What the reader of the case must know that is not a failure (a window read before its records settled). */
  readonly notes?: readonly string[];
  readonly error?: { readonly code: string; readonly message: string };
}

/** What each source's API needs, named in the failure when the API answers 403. */
export const LOG_PERMISSIONS: Readonly<Record<string, string>> = {
  [ACTIVITY_SPEC]: 'Microsoft.Insights/eventtypes/values/read at the subscription (the "Amber Activity Log reader" custom role, infra/azure/roles.tf)',
  [SIGNINS_SPEC]: 'the Microsoft Graph application permissions AuditLog.Read.All and Directory.Read.All, with admin consent (infra/azure/README.md)',
  [AUDITS_SPEC]: 'the Microsoft Graph application permission AuditLog.Read.All, with admin consent (infra/azure/README.md)',
  [M365_SPEC]: 'the Office 365 Management APIs application permission ActivityFeed.Read, with admin consent (infra/azure/README.md)',
  [RISK_SPEC]: 'the Microsoft Graph application permissions IdentityRiskEvent.Read.All and IdentityRiskyUser.Read.All, with admin consent (infra/azure/README.md)',
  [STATE_SPEC]: 'the Microsoft Graph application permissions Directory.Read.All, Policy.Read.All, AuditLog.Read.All and MailboxSettings.Read, with admin consent (infra/azure/README.md)',
};

const STEP = 'preserve-logs';
/** Minutes after which the APIs hold a window's records (the CLI's AZURE_SETTLE_MINUTES). */
const SETTLE_MINUTES = 15;

/** A source that stops before asking for another object once the budget is spent, and says how it ended. */
class Tracked implements EvidenceSource {
  readonly concurrency = 1;
  preserved = 0;
  stopped = false;
  finished = false;
  readonly reasons: string[] = [];

  constructor(
    private readonly inner: EvidenceSource & { readonly slices?: readonly SliceStatus[] },
    private readonly recorded: ReadonlySet<string>,
    private readonly spent: () => boolean,
  ) {}

  get spec(): string {
    return this.inner.spec;
  }

  get slices(): readonly SliceStatus[] | undefined {
    return this.inner.slices;
  }

  async *list(onProblem: (problem: SourceProblem) => void): AsyncIterable<SourceObject> {
    const permission = LOG_PERMISSIONS[this.inner.spec];
    const problem = (p: SourceProblem): void => {
      const reason = /HTTP 403/.test(p.reason) && permission ? `${p.reason}; missing: ${permission}` : p.reason;
      this.reasons.push(reason);
      onProblem({ origin: p.origin, reason });
    };
    const it = this.inner.list(problem)[Symbol.asyncIterator]();
    for (;;) {
      if (this.spent()) {
        this.stopped = true;
        await it.return?.(undefined);
        const reason = `not finished within this invocation's budget of reading time (AMBER_LOG_BUDGET_SECONDS): the pages read so far are preserved, and the redelivered request resumes after the last one`;
        this.reasons.push(reason);
        onProblem({ origin: this.inner.spec, reason });
        return;
      }
      const next = await it.next();
      if (next.done) break;
      // A page the ledger already records was read back from the locker only to follow its link: not again.
      if (this.recorded.has(next.value.relPath)) continue;
      this.preserved += 1;
      yield next.value;
    }
    this.finished = true;
  }

  status(): LogStreamStatus {
    const slicesDone = (this.slices ?? []).every((s) => s.complete);
    const status = this.finished && this.reasons.length === 0 && slicesDone ? 'complete' : this.stopped || (this.finished && this.reasons.length === 0) ? 'incomplete' : 'failed';
    return {
      source: this.spec,
      status,
      preserved: this.preserved,
      ...(this.reasons.length > 0 ? { reasons: [...this.reasons] } : {}),
      ...(this.slices && this.slices.length > 0 ? { slices: [...this.slices] } : {}),
    };
  }
}

/** Preserves the logs of the request's window into its case; never throws for what an API or the window did. */
export async function preserveRequestLogs(deps: PreserveLogsDeps, request: PreservationRequest): Promise<LogsOutcome> {
  const window = { since: request.window?.since ?? '', until: request.window?.until ?? '' };
  const clock = deps.clock ?? (() => new Date());
  const record = (batch: CustodyBatch): Promise<unknown> =>
    recordCustody(
      { store: deps.store, actor: deps.actor, ...(deps.signer ? { signer: deps.signer } : {}), ...(deps.clock ? { clock: deps.clock } : {}) },
      { case: request.case, requestId: request.requestId, step: STEP, action: 'accessed', batches: [batch], seal: true },
    );
  const since = new Date(window.since);
  const until = new Date(window.until);
  if (Number.isNaN(since.getTime()) || Number.isNaN(until.getTime()) || since.getTime() >= until.getTime()) {
    const message = `the request's log window ${JSON.stringify(window)} is not two ISO-8601 times in order: no log was read`;
    await record({ detail: { status: 'failed', window, error: message }, failures: [{ origin: `request:${request.requestId}`, reason: message }] });
    return { status: 'failed', window, streams: [], created: 0, retryable: false, error: { code: 'INVALID_INPUT', message } };
  }

  const before = await CustodyLedger.open(deps.store, request.case).catch(() => undefined);
  if (before && loggedComplete(before, request.requestId)) return { status: 'already complete', window, streams: [], created: 0, retryable: false };
  const prefix = casePrefix(request.case);
  const recorded = new Set([...(before?.items().keys() ?? [])].map((k) => (k.startsWith(prefix) ? k.slice(prefix.length) : k)));

  const s = deps.settings;
  const preserved = preservedPagesIn(deps.store, request.case);
  const now = deps.now ?? Date.now;
  const started = now();
  const spent = (): boolean => now() - started >= s.budgetMs;
  const inner: EvidenceSource[] = [activityLogSource({ armUrl: s.armUrl ?? 'https://management.azure.com', subscriptions: [request.accountId.toLowerCase()], since, until, http: deps.http, preserved })];
  if (s.tenant) {
    const tenant = s.tenant.toLowerCase();
    const graph = { graphUrl: s.graphUrl ?? 'https://graph.microsoft.com', tenant, since, until, http: deps.http, preserved };
    inner.push(graphWindowSource(SIGNINS_SPEC, graph), graphWindowSource(AUDITS_SPEC, graph));
    inner.push(managementActivitySource({ m365Url: s.m365Url ?? 'https://manage.office.com', tenant, contentTypes: M365_CONTENT_TYPES, since, until, now: clock(), http: deps.http, preserved }));
    if (s.risk) inner.push(graphWindowSource(RISK_SPEC, graph));
    // State is not a window: a snapshot under the time it is taken (a redelivery after an unfinished one takes a new one).
    if (s.state) inner.push(graphStateSource({ graphUrl: graph.graphUrl, tenant, at: clock(), users: [], http: deps.http }));
  }
  const sources = inner.map((source) => new Tracked(source, recorded, spent));

  let created = 0;
  let error: LogsOutcome['error'];
  try {
    const summary = await collectEvidence({ store: deps.store, caseName: request.case, sources, actor: deps.actor, ...(deps.retainUntil ? { retainUntil: deps.retainUntil() } : {}), ...(deps.clock ? { clock: deps.clock } : {}), ...(deps.signer ? { signer: deps.signer } : {}) });
    created = summary.created;
  } catch (e) {
    // "Nothing preserved": every page was already recorded (a redelivery that only confirmed what the case holds).
    const nothingNew = isAmberError(e) && e.code === 'INVALID_INPUT' && sources.every((t) => t.preserved === 0);
    if (!nothingNew) error = { code: isAmberError(e) ? e.code : 'UNEXPECTED', message: (e as Error).message };
  }
  const streams = sources.map((t) => t.status());
  const notes =
    until.getTime() > clock().getTime() - SETTLE_MINUTES * 60_000
      ? [`the window ends less than ${SETTLE_MINUTES} minutes before it was read: records still arriving may be missing from its last pages; preserve a later window (amber collect --from api:azure-activity ...) for them`]
      : [];
  const status: LogsOutcome['status'] = error ? 'failed' : streams.every((x) => x.status === 'complete') ? 'complete' : streams.some((x) => x.status === 'failed') ? 'failed' : 'incomplete';
  const retryable = error === undefined && sources.some((t) => t.stopped);
  const failures = [...streams.flatMap((x) => (x.reasons ?? []).map((reason) => ({ origin: x.source, reason }))), ...(error ? [{ origin: `request:${request.requestId}`, reason: error.message }] : [])];
  try {
    await record({ detail: { status, window, tenant: s.tenant ?? null, streams: streams.map(({ reasons: _r, ...rest }) => rest), ...(notes.length > 0 ? { notes } : {}) }, ...(failures.length > 0 ? { failures } : {}) });
  } catch (e) {
    error ??= { code: isAmberError(e) ? e.code : 'UNEXPECTED', message: `the ${STEP} step could not be recorded: ${(e as Error).message}` };
  }
  return { status: error ? 'failed' : status, window, streams, created, retryable, ...(notes.length > 0 ? { notes } : {}), ...(error ? { error } : {}) };
}

/** True when the ledger records this request's logs as complete. */
function loggedComplete(ledger: CustodyLedger, requestId: string): boolean {
  return ledger.entries.some((e) => {
    const d = e.detail as { step?: unknown; requestId?: unknown; status?: unknown } | undefined;
    return d?.step === STEP && d.requestId === requestId && d.status === 'complete';
  });
}
