/**
 * The EvidenceSource port on Cloud Asset Inventory (`amber inventory --cloud gcp`, and the inventory step of the GCP
 * deployment): for each project or organization, one `assets.list` (REST v1) per asset type and content type
 * (RESOURCE: the resource's own metadata; IAM_POLICY: the IAM policy set on it), every response page preserved as
 * the HTTP body Google sent, under a key naming the scope, the time of the inventory, the content type, the asset
 * type and the page:
 * `gcp/inventory/<project-id|organization-number>/<yyyymmddThhmmssZ>/<resource|iam-policy>/<service>/<Type>/page-NNNNN.json`,
 * with an `api:gcp-inventory?parent=..&contentType=..&assetTypes=..&pageSize=..&page=N[&pageToken=..]` origin
 * giving the exact request.
 *
 * - Raw bytes: each body is read whole and handed on unchanged; `nextPageToken` is read from those same bytes.
 * - Pacing and retries: every HTTP attempt, retries included, counts against a sliding window of 90 requests a
 *   minute (ListAssets allows 100 a minute per consumer project); 429 RESOURCE_EXHAUSTED, 503 UNAVAILABLE and the other retryable statuses
 *   are retried with exponential backoff (gcp-http.ts), so the page kept is the final attempt's.
 * - One query per asset type, so a refusal costs only that query: a 403 (permission denied, or the Cloud Asset API
 *   not enabled on the project) or any other error answer is preserved like any other page (what Google said is
 *   evidence of what could not be seen) and reported as a problem of that query, recorded in the manifest's
 *   failures; the other queries are read. A failure without an answer (network) is reported the same way.
 * - Sequential: one request at a time; a page is stored before the next is asked for (concurrency 1).
 */
import { Readable } from 'node:stream';
import { UsageError, type AcquisitionError } from '../../../shared/errors.ts';
import { compactTime, MAX_PAGES } from '../../../shared/evidence/api-pages.ts';
import type { EvidenceSource, SourceObject, SourceProblem } from '../../../shared/ports/evidence-source.ts';
import { describeGoogleError, GcpHttpError, googleErrorOf, sendWithRetry, type RetryPolicy, type TokenProvider } from './gcp-http.ts';

/** The `api:` name of this source. */
export const GCP_INVENTORY_SPEC = 'api:gcp-inventory';

/** The public endpoint of the Cloud Asset API (AMBER_GCP_ASSET_URL overrides it). */
export const ASSET_URL = 'https://cloudasset.googleapis.com';

/** Cloud Asset reads need the cloud-platform scope (it has no narrower read-only scope); roles/cloudasset.viewer limits them. */
export const ASSET_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/** Largest pageSize assets.list accepts (documented maximum). */
export const ASSET_PAGE_SIZE = 1000;

/** Requests in any 60 seconds: ListAssets allows 100 a minute per consumer project; 90 leaves room for other callers. */
export const ASSET_REQUESTS_PER_MINUTE = 90;

/**
 * Paces requests to at most `limit` in any 60 seconds (a sliding window): an inventory of a few projects runs at
 * full speed, a large one waits only when it would pass the quota.
 */
export class MinuteWindow {
  private readonly sent: number[] = [];
  constructor(
    private readonly limit: number,
    private readonly now: () => number = () => Date.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  /** Waits until a request may be sent, then counts it. */
  async take(): Promise<void> {
    for (;;) {
      const now = this.now();
      while (this.sent.length > 0 && this.sent[0]! <= now - 60_000) this.sent.shift();
      if (this.sent.length < this.limit) {
        this.sent.push(now);
        return;
      }
      await this.sleep(this.sent[0]! + 60_000 - now);
    }
  }
}

export type AssetContentType = 'RESOURCE' | 'IAM_POLICY';

/** One assets.list query: a content type and one asset type. */
export interface AssetQuery {
  readonly contentType: AssetContentType;
  readonly assetType: string;
}

/** The resources read (RESOURCE), in this order. */
export const RESOURCE_TYPES = [
  'cloudresourcemanager.googleapis.com/Project',
  'compute.googleapis.com/Instance',
  'compute.googleapis.com/Firewall',
  'compute.googleapis.com/Disk',
  'compute.googleapis.com/Snapshot',
  'compute.googleapis.com/Image',
  'storage.googleapis.com/Bucket',
  'cloudfunctions.googleapis.com/CloudFunction',
  'cloudfunctions.googleapis.com/Function',
  'run.googleapis.com/Service',
  'iam.googleapis.com/ServiceAccount',
  'iam.googleapis.com/ServiceAccountKey',
  'logging.googleapis.com/LogSink',
] as const;

/** The resources whose IAM policies are read (IAM_POLICY): who may use them, and the project's audit log settings. */
export const IAM_POLICY_TYPES = [
  'cloudresourcemanager.googleapis.com/Project',
  'storage.googleapis.com/Bucket',
  'compute.googleapis.com/Disk',
  'compute.googleapis.com/Snapshot',
  'compute.googleapis.com/Image',
  'cloudfunctions.googleapis.com/CloudFunction',
  'run.googleapis.com/Service',
  'iam.googleapis.com/ServiceAccount',
] as const;

/** Every query of an inventory, resources first. */
export const ASSET_QUERIES: readonly AssetQuery[] = [
  ...RESOURCE_TYPES.map((assetType) => ({ contentType: 'RESOURCE' as const, assetType })),
  ...IAM_POLICY_TYPES.map((assetType) => ({ contentType: 'IAM_POLICY' as const, assetType })),
];

const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const ORGANIZATION = /^\d{1,20}$/;

/** What an inventory covers: a project (by id) or an organization (by number). */
export interface InventoryScope {
  readonly kind: 'project' | 'organization';
  readonly id: string;
}

/** The scope's `parent` as assets.list takes it. */
export function parentOf(scope: InventoryScope): string {
  return `${scope.kind === 'project' ? 'projects' : 'organizations'}/${scope.id}`;
}

/** Checks a project id or organization number, naming the flag and the fix. */
export function checkScope(scope: InventoryScope): InventoryScope {
  if (scope.kind === 'project' && !PROJECT_ID.test(scope.id)) {
    throw new UsageError(`--project ${JSON.stringify(scope.id)} is not a Google Cloud project id`, {
      hint: 'give the project id (6 to 30 lowercase letters, digits and hyphens, e.g. acme-prod-1), not its name or number',
    });
  }
  if (scope.kind === 'organization' && !ORGANIZATION.test(scope.id)) {
    throw new UsageError(`--organization ${JSON.stringify(scope.id)} is not an organization number`, {
      hint: 'give the organization\'s number (gcloud organizations list shows it as ID), e.g. --organization 123456789012',
    });
  }
  return scope;
}

/** The folder of one query's pages (relative to the case). */
export function queryFolder(scope: InventoryScope, stamp: string, query: AssetQuery): string {
  return `gcp/inventory/${scope.id}/${stamp}/${query.contentType === 'RESOURCE' ? 'resource' : 'iam-policy'}/${query.assetType}`;
}

export interface GcpAssetInventorySourceOptions {
  /** Projects and organizations to read, in order. */
  readonly scopes: readonly InventoryScope[];
  /** When the inventory is taken: named in every key, so two inventories of one case never collide. */
  readonly observedAt: Date;
  /** The access token of each scope (a member project is read as its collector; the CLI uses one for all). */
  readonly tokenFor: (scope: InventoryScope) => TokenProvider;
  /** Endpoint of the Cloud Asset API. @default ASSET_URL */
  readonly baseUrl?: string;
  /** Assets per page. @default ASSET_PAGE_SIZE */
  readonly pageSize?: number;
  /** The queries. @default ASSET_QUERIES */
  readonly queries?: readonly AssetQuery[];
  /** Retries of 429/503 (attempts, backoff, sleep). */
  readonly retry?: RetryPolicy;
  /** Requests in any 60 seconds. @default ASSET_REQUESTS_PER_MINUTE */
  readonly requestsPerMinute?: number;
  /** Clock and sleep of the pacing (tests inject virtual ones). */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What one query left unread, for the terminal and --json. */
export interface GcpInventoryProblem {
  readonly scope: string;
  readonly contentType: AssetContentType;
  readonly assetType: string;
  readonly page: number;
  /** HTTP status and Google's status (`403 PERMISSION_DENIED`), or the error's name. */
  readonly code: string;
  readonly message: string;
}

/** Cloud Asset Inventory of projects and organizations, one SourceObject per response page. */
export class GcpAssetInventorySource implements EvidenceSource {
  readonly spec = GCP_INVENTORY_SPEC;
  readonly concurrency = 1;
  /** Problems met, in order (also reported through `onProblem`). */
  readonly problems: GcpInventoryProblem[] = [];
  /** Pages preserved, per content type and asset type (`RESOURCE compute.googleapis.com/Instance`). */
  readonly answers: Record<string, number> = {};
  /** Assets listed, per scope. */
  readonly assets: Record<string, number> = {};
  /** `yyyymmddThhmmssZ` of the inventory, as in every key. */
  readonly stamp: string;
  private readonly options: GcpAssetInventorySourceOptions;
  private readonly pageSize: number;

  constructor(options: GcpAssetInventorySourceOptions) {
    if (options.scopes.length === 0) throw new UsageError('no project or organization to inventory', { hint: 'name one with --project P (repeatable) or --organization O' });
    for (const scope of options.scopes) checkScope(scope);
    this.options = options;
    this.pageSize = options.pageSize ?? ASSET_PAGE_SIZE;
    this.stamp = compactTime(new Date(Math.floor(options.observedAt.getTime() / 1000) * 1000));
  }

  /** `api:gcp-inventory?parent=..&contentType=..&assetTypes=..&pageSize=..&page=N[&pageToken=..]`. */
  origin(scope: InventoryScope, query: AssetQuery, page: number, token?: string): string {
    const q = new URLSearchParams({ parent: parentOf(scope), contentType: query.contentType, assetTypes: query.assetType, pageSize: String(this.pageSize), page: String(page) });
    if (token !== undefined) q.set('pageToken', token);
    return `${GCP_INVENTORY_SPEC}?${q.toString()}`;
  }

  async *list(onProblem: (problem: SourceProblem) => void): AsyncIterable<SourceObject> {
    const bucket = new MinuteWindow(this.options.requestsPerMinute ?? ASSET_REQUESTS_PER_MINUTE, this.options.now, this.options.sleep);
    for (const scope of [...new Map(this.options.scopes.map((s) => [`${s.kind}/${s.id}`, s])).values()]) {
      const token = this.options.tokenFor(scope);
      const queries = this.options.queries ?? ASSET_QUERIES;
      for (let i = 0; i < queries.length; i += 1) {
        const state = { scopeDown: false };
        yield* this.query(scope, queries[i]!, token, bucket, onProblem, state);
        // No credentials, a refused token or no network: every other query of this scope would fail the same way.
        if (state.scopeDown) {
          const rest = queries.slice(i + 1);
          if (rest.length > 0) {
            const problem: GcpInventoryProblem = { scope: parentOf(scope), contentType: rest[0]!.contentType, assetType: '*', page: 1, code: 'NotAsked', message: `the other ${rest.length} queries of ${parentOf(scope)} were not asked after the failure above: ${rest.map((q) => `${q.contentType} ${q.assetType}`).join(', ')}` };
            this.problems.push(problem);
            onProblem({ origin: this.origin(scope, rest[0]!, 1), reason: `${problem.code}: ${problem.message}` });
          }
          break;
        }
      }
    }
  }

  /**
   * Every page of one query; a failure ends that query, reported, never the run. A failure that says nothing about
   * this query (no answer at all, or 401: the token itself refused) sets `state.scopeDown`.
   */
  private async *query(scope: InventoryScope, query: AssetQuery, token: TokenProvider, bucket: MinuteWindow, onProblem: (problem: SourceProblem) => void, state: { scopeDown: boolean }): AsyncGenerator<SourceObject> {
    const folder = queryFolder(scope, this.stamp, query);
    const base = `${(this.options.baseUrl ?? ASSET_URL).replace(/\/+$/, '')}/v1/${parentOf(scope)}/assets`;
    let pageToken: string | undefined;
    for (let page = 1; ; page += 1) {
      const params = new URLSearchParams({ contentType: query.contentType, assetTypes: query.assetType, pageSize: String(this.pageSize) });
      if (pageToken !== undefined) params.set('pageToken', pageToken);
      const origin = this.origin(scope, query, page, pageToken);
      const relPath = `${folder}/page-${String(page).padStart(5, '0')}.json`;
      const report = (code: string, message: string): void => {
        const problem: GcpInventoryProblem = { scope: parentOf(scope), contentType: query.contentType, assetType: query.assetType, page, code, message };
        this.problems.push(problem);
        onProblem({ origin, reason: `${code}: ${message}` });
      };
      let body: Buffer;
      try {
        const response = await sendWithRetry(
          `${base}?${params.toString()}`,
          async () => ({ method: 'GET', headers: { authorization: `Bearer ${await token()}`, accept: 'application/json' } }),
          this.options.retry,
          () => bucket.take(), // every attempt, retries included, counts against the quota
        );
        body = response.body;
      } catch (error) {
        if (error instanceof GcpHttpError) {
          // Google's answer is kept as it came: a refusal is evidence of what this inventory could not see.
          yield pageObject(origin, relPath, error.body);
          this.count(query);
          report(`${error.status}${error.googleStatus ? ` ${error.googleStatus}` : ''}`, explain(error, scope, query, page));
          state.scopeDown = error.status === 401;
        } else {
          report((error as Error).name || 'Error', `${(error as Error).message}; page ${page} was not read (no answer to preserve)${(error as AcquisitionError).hint ? `; ${(error as AcquisitionError).hint}` : ''}`);
          state.scopeDown = true;
        }
        return;
      }
      // Preserved before it is looked at: even a body Amber cannot read is evidence of what the API answered.
      yield pageObject(origin, relPath, body);
      this.count(query);
      let doc: { assets?: unknown; nextPageToken?: unknown };
      try {
        doc = JSON.parse(body.toString('utf8')) as typeof doc;
      } catch (cause) {
        report('NotJson', `page ${page} is not JSON (${(cause as Error).message}); it is preserved as received, but the pages after it cannot be asked for`);
        return;
      }
      const key = parentOf(scope);
      this.assets[key] = (this.assets[key] ?? 0) + (Array.isArray(doc?.assets) ? doc.assets.length : 0);
      const next = typeof doc?.nextPageToken === 'string' && doc.nextPageToken !== '' ? doc.nextPageToken : undefined;
      if (next === undefined) return;
      if (next === pageToken) {
        report('PageTokenRepeated', `Cloud Asset returned the pageToken it was given for page ${page}, so reading on would never end; the pages read are preserved`);
        return;
      }
      if (page >= MAX_PAGES) {
        report('TooManyPages', `more than ${MAX_PAGES} pages for one query; the pages read are preserved`);
        return;
      }
      pageToken = next;
    }
  }

  private count(query: AssetQuery): void {
    const k = `${query.contentType} ${query.assetType}`;
    this.answers[k] = (this.answers[k] ?? 0) + 1;
  }
}

function pageObject(origin: string, relPath: string, bytes: Buffer): SourceObject {
  return { origin, relPath, size: bytes.length, open: () => Promise.resolve(Readable.from([bytes])) };
}

/** A refused or failed query in words: what Google said and what to do about it. */
function explain(error: GcpHttpError, scope: InventoryScope, query: AssetQuery, page: number): string {
  const said = describeGoogleError(error.status, error.body);
  const where = `${query.contentType} ${query.assetType} in ${parentOf(scope)}, page ${page}`;
  const google = googleErrorOf(error.body);
  if (error.status === 403 && /SERVICE_DISABLED|has not been used|is disabled/i.test(`${google?.message ?? ''} ${error.body.toString('utf8').slice(0, 2000)}`)) {
    return `${where}: ${said}; the Cloud Asset API is not enabled: enable cloudasset.googleapis.com (gcloud services enable cloudasset.googleapis.com --project ${scope.kind === 'project' ? scope.id : 'P'}) and run again; Google's answer is preserved`;
  }
  if (error.status === 403) {
    return `${where}: ${said}; the credentials may not list these assets: grant roles/cloudasset.viewer on ${parentOf(scope)} and run again; Google's answer is preserved, the other queries were read`;
  }
  if (error.status === 401) return `${where}: ${said}; the access token was refused (expired?): refresh AMBER_GCP_TOKEN or the Application Default Credentials`;
  if (error.status === 429 || error.status >= 500) return `${where}: ${said}, on all ${error.attempts} attempts; run again later; Google's last answer is preserved`;
  return `${where}: ${said}; Google's answer is preserved, the other queries were read`;
}
