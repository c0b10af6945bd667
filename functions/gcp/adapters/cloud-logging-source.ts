/**
 * The EvidenceSource port on Cloud Logging `entries.list` (REST v2): the Cloud Audit Logs of one project for a
 * closed time window, every response page preserved as the HTTP body Google sent, under a key naming the project,
 * the logs, the window and the page number; each page's origin records the exact request (filter included).
 *
 * - Raw bytes: the body is read whole and handed on unchanged; `nextPageToken` is read from those same bytes.
 * - Pacing: every HTTP attempt (retries included) first takes a token from a bucket refilled once a second, inside
 *   entries.list's read quota of 60 requests a minute per project. 429 RESOURCE_EXHAUSTED, 503 UNAVAILABLE and the
 *   other retryable statuses are retried with exponential backoff, a bounded number of times; then the page is
 *   reported as not read, by its number and request, and the pages before it stay preserved.
 * - Resumable: pages already in the locker for the same request are handed to `collect` again from the locker (same
 *   key, same bytes: recorded as already preserved) and the API is asked only for what follows the last preserved
 *   page, with that page's nextPageToken.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { AcquisitionError, UsageError } from '../../../shared/errors.ts';
import { compactTime, MAX_PAGES, pagePath, TokenBucket, type PreservedPages } from '../../../shared/evidence/api-pages.ts';
import type { EvidenceSource, SourceObject, SourceProblem } from '../../../shared/ports/evidence-source.ts';
import { describeGoogleError, GcpHttpError, sendWithRetry, type RetryPolicy, type TokenProvider } from './gcp-http.ts';

/** The `--from` spec of this source. */
export const GCP_LOGGING_SPEC = 'api:gcp-logging';

/** The OAuth scope entries.list needs (read-only). */
export const LOGGING_READ_SCOPE = 'https://www.googleapis.com/auth/logging.read';

/** The public endpoint of the Cloud Logging API. */
export const LOGGING_URL = 'https://logging.googleapis.com';

/** entries.list's read quota: 60 requests a minute per project, so one a second. */
export const ENTRIES_LIST_PER_SECOND = 1;

/** Largest pageSize entries.list accepts (documented maximum). */
export const LOGGING_PAGE_SIZE = 1000;

/** The four Cloud Audit Logs, by the name `--log` takes, with the log id inside `logName` (URL-encoded `/`). */
export const AUDIT_LOGS = {
  activity: 'cloudaudit.googleapis.com%2Factivity',
  data_access: 'cloudaudit.googleapis.com%2Fdata_access',
  system_event: 'cloudaudit.googleapis.com%2Fsystem_event',
  policy: 'cloudaudit.googleapis.com%2Fpolicy',
} as const;
export type AuditLog = keyof typeof AUDIT_LOGS;

const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;

export interface CloudLoggingSourceOptions {
  /** The project whose audit logs are read. */
  readonly project: string;
  /** Which audit logs, in the order given (at least one). */
  readonly logs: readonly AuditLog[];
  /** Start of the window (inclusive). */
  readonly since: Date;
  /** End of the window (exclusive); closed and settled (checked by the caller). */
  readonly until: Date;
  /** An extra Logging query language expression ANDed to the filter (recorded in the origin and the key). */
  readonly filter?: string;
  /** Gives the access token. */
  readonly token: TokenProvider;
  /**
   * Endpoint of the Logging API (AMBER_GCP_LOGGING_URL).
   * @default LOGGING_URL
   */
  readonly baseUrl?: string;
  /**
   * Entries per page.
   * @default LOGGING_PAGE_SIZE
   */
  readonly pageSize?: number;
  /** Pages already preserved, to resume from; without it every run starts at page 1. */
  readonly preserved?: PreservedPages;
  /** Retries of 429/503 (attempts, backoff, sleep). */
  readonly retry?: RetryPolicy;
  /** Clock and sleep for pacing (tests inject a virtual clock). */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Cloud Audit Logs through Cloud Logging entries.list, one SourceObject per response page. */
export class CloudLoggingSource implements EvidenceSource {
  readonly spec = GCP_LOGGING_SPEC;
  /** One page at a time: page n+1 is asked for only once page n is stored (see CloudTrailLookupSource). */
  readonly concurrency = 1;
  /** The exact filter sent with every request. */
  readonly filter: string;
  private readonly options: CloudLoggingSourceOptions;
  private readonly pageSize: number;

  constructor(options: CloudLoggingSourceOptions) {
    if (!PROJECT_ID.test(options.project)) {
      throw new UsageError(`--project ${JSON.stringify(options.project)} is not a Google Cloud project id`, {
        hint: 'give the project id (6 to 30 lowercase letters, digits and hyphens, e.g. acme-prod-1), not its name or number',
      });
    }
    if (options.logs.length === 0) throw new UsageError('no audit log named', { hint: `use --log ${Object.keys(AUDIT_LOGS).join('|')}` });
    this.options = options;
    this.pageSize = options.pageSize ?? LOGGING_PAGE_SIZE;
    this.filter = loggingFilter(options);
  }

  /** The folder (relative to the case) of this request's pages. */
  folder(): string {
    const { project, logs, since, until, filter } = this.options;
    // An extra filter selects other entries: its pages get their own folder, named by the filter's hash.
    const extra = filter === undefined ? '' : `/filter-${createHash('sha256').update(filter, 'utf8').digest('hex').slice(0, 16)}`;
    return `gcp/logging-api/${project}/${logs.join('+')}/${compactTime(since)}_${compactTime(until)}${extra}`;
  }

  async *list(onProblem: (problem: SourceProblem) => void): AsyncIterable<SourceObject> {
    const state = { page: 0, token: undefined as string | undefined };
    try {
      yield* this.pages(state);
    } catch (error) {
      onProblem({ origin: this.origin(state.page + 1, state.token), reason: describeFailure(error, state.page + 1, this.options.project) });
    }
  }

  /** `api:gcp-logging?resourceNames=projects/P&filter=...&orderBy=timestamp asc&pageSize=1000&page=N[&pageToken=...]`. */
  origin(page: number, token: string | undefined): string {
    const q = new URLSearchParams({ resourceNames: `projects/${this.options.project}`, filter: this.filter, orderBy: 'timestamp asc', pageSize: String(this.pageSize), page: String(page) });
    if (token !== undefined) q.set('pageToken', token);
    return `${GCP_LOGGING_SPEC}?${q.toString()}`;
  }

  private async *pages(state: { page: number; token: string | undefined }): AsyncGenerator<SourceObject> {
    const folder = this.folder();
    // Resume: hand on what is preserved, in page order, following the tokens the pages themselves carry.
    const stored = new Set(this.options.preserved ? await this.options.preserved.list(`${folder}/`) : []);
    for (;;) {
      const relPath = pagePath(folder, state.page + 1);
      if (!stored.has(relPath)) break;
      const bytes = await this.options.preserved!.read(relPath);
      const origin = this.origin(state.page + 1, state.token);
      state.page += 1;
      yield page(origin, relPath, bytes);
      const next = nextPageTokenOf(bytes, relPath);
      if (next === undefined) return; // the window was read to its end in an earlier run
      state.token = next;
    }

    const bucket = new TokenBucket(ENTRIES_LIST_PER_SECOND, this.options.now, this.options.sleep);
    const url = `${(this.options.baseUrl ?? LOGGING_URL).replace(/\/+$/, '')}/v2/entries:list`;
    for (;;) {
      const request = {
        resourceNames: [`projects/${this.options.project}`],
        filter: this.filter,
        orderBy: 'timestamp asc',
        pageSize: this.pageSize,
        ...(state.token === undefined ? {} : { pageToken: state.token }),
      };
      const response = await sendWithRetry(
        url,
        async () => ({
          method: 'POST',
          headers: { authorization: `Bearer ${await this.options.token()}`, 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify(request),
        }),
        this.options.retry,
        () => bucket.take(), // every attempt, retries included, counts against the quota
      );
      const bytes = response.body;
      const number = state.page + 1;
      const relPath = pagePath(folder, number);
      const origin = this.origin(number, state.token);
      state.page = number;
      // Preserved before it is looked at: even a body Amber cannot read is evidence of what the API answered.
      yield page(origin, relPath, bytes);
      const next = nextPageTokenOf(bytes, relPath);
      if (next === undefined) return;
      if (next === state.token) {
        throw new AcquisitionError(`Cloud Logging returned the pageToken it was given for page ${number}, so reading on would never end`, origin, {
          hint: 'the pages read so far are preserved; collect the rest in a narrower window (--since set to the newest entry time on the last page)',
        });
      }
      if (number >= MAX_PAGES) {
        throw new AcquisitionError(`more than ${MAX_PAGES} pages of entries for one window`, origin, {
          hint: 'the pages read so far are preserved; collect the rest in narrower windows (--since set to the newest entry time on the last page)',
        });
      }
      state.token = next;
    }
  }
}

/**
 * The filter of a request, always written the same way for the same flags (a re-run must send the very request
 * it resumes): the audit logs' full names, the window as `timestamp >= since AND timestamp < until`, and the
 * extra expression in parentheses.
 */
export function loggingFilter(options: Pick<CloudLoggingSourceOptions, 'project' | 'logs' | 'since' | 'until' | 'filter'>): string {
  const names = options.logs.map((log) => `"projects/${options.project}/logs/${AUDIT_LOGS[log]}"`);
  const parts = [
    `logName=(${names.join(' OR ')})`,
    `timestamp>="${options.since.toISOString()}"`,
    `timestamp<"${options.until.toISOString()}"`,
    ...(options.filter === undefined ? [] : [`(${options.filter})`]),
  ];
  return parts.join(' AND ');
}

function page(origin: string, relPath: string, bytes: Buffer): SourceObject {
  return { origin, relPath, size: bytes.length, open: () => Promise.resolve(Readable.from([bytes])) };
}

/** The nextPageToken of a page, or undefined when it was the last one; a page that is not JSON stops the run. */
function nextPageTokenOf(bytes: Buffer, relPath: string): string | undefined {
  let doc: unknown;
  const text = bytes.toString('utf8');
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    const at = jsonErrorPosition(text, cause as Error);
    throw new AcquisitionError(`the page ${relPath} is not JSON${at === undefined ? '' : ` at character ${at}`} (${(cause as Error).message}); it is preserved as received, but the pages after it cannot be asked for`, relPath, {
      hint: 'run amber verify on the case; collect the rest of the window again later, into the same case, once the API answers JSON',
      cause,
    });
  }
  const token = (doc as { nextPageToken?: unknown } | null)?.nextPageToken;
  return typeof token === 'string' && token !== '' ? token : undefined;
}

/** Where JSON.parse gave up: its own position when it says one, else the first character that cannot start a document. */
function jsonErrorPosition(text: string, error: Error): number | undefined {
  const said = /position (\d+)/.exec(error.message);
  if (said) return Number(said[1]);
  if (/Unexpected end/i.test(error.message)) return text.length;
  const first = text.search(/\S/);
  return first >= 0 && !'{["-0123456789tfn'.includes(text[first]!) ? first : undefined;
}

/** A failure in words: which page was not read, what Google said, and what to do about it. */
function describeFailure(error: unknown, page: number, project: string): string {
  const head = `page ${page} was not read (the pages before it are preserved)`;
  if (error instanceof GcpHttpError) {
    const said = describeGoogleError(error.status, error.body);
    if (error.status === 429 || error.status === 503 || error.status >= 500) {
      return `${head}: ${said}, on all ${error.attempts} attempts; run the same command again later (it resumes at page ${page})`;
    }
    if (error.status === 401) return `${head}: ${said}; the access token was refused (expired?): refresh AMBER_GCP_TOKEN or the Application Default Credentials`;
    if (error.status === 403) {
      return `${head}: ${said}; the credentials may not read the audit logs of ${project}: grant roles/logging.viewer (Admin Activity, System Event, Policy Denied) and roles/logging.privateLogViewer (Data Access), or leave data_access out with --log`;
    }
    if (error.status === 400 && /token/i.test(said)) {
      return `${head}: ${said}; the page token of the last preserved page is no longer accepted (tokens expire after 24 hours): collect the rest of the window with --since set after the newest entry already preserved`;
    }
    return `${head}: ${said}; check --project, --log and --filter and run again`;
  }
  const e = error as Error;
  return `${head}: ${e.name === 'AcquisitionError' ? '' : `${e.name}: `}${e.message}${(error as AcquisitionError).hint ? `; ${(error as AcquisitionError).hint}` : ''}`;
}
