/**
 * The EvidenceSource port on an Azure estate (`amber inventory --cloud azure`, and the inventory function): every
 * answer of the queries below preserved as the HTTP body the API sent, under a key naming the scope (subscription
 * or tenant), the time of the inventory, the API and the query, which is all the parser needs to read it:
 * `azure/inventory/<subscription|tenant>/<yyyymmddThhmmssZ>/<resource-graph|arm|graph>/<query>/page-NNNNN.json`,
 * with an `api:azure-inventory?method=..&url=..[&body=..]&page=N` origin giving the exact request.
 *
 * - Azure Resource Graph (`POST /providers/Microsoft.ResourceGraph/resources?api-version=2022-10-01`), one request
 *   chain per subscription and query, `resultFormat: objectArray`, `$top: 1000`, each query ordered by id; the
 *   next page repeats the request with the answer's `$skipToken` in `options` (the documented paging). An answer
 *   with `resultTruncated: true` and no `$skipToken` is kept and reported as incomplete.
 * - ARM: the subscription's diagnostic settings (`Microsoft.Insights/diagnosticSettings`), where the Activity Log
 *   goes; Resource Graph does not hold them.
 * - Microsoft Graph, for the tenant: users (with `signInActivity` when the tenant and the permissions allow it,
 *   else again without it), `reports/authenticationMethods/userRegistrationDetails` (MFA registration), service
 *   principals and applications with their password and key credential metadata; `@odata.nextLink` paging.
 * - Throttling (429 with Retry-After) and 5xx: AzureHttp's bounded retries. A refusal (403) is kept as the
 *   answer to that query (absence counts only where the question was answered) and reported as a problem of
 *   that query (the manifest's failures); any other failure ends that query, reported. Neither stops the rest.
 * - One request at a time; each page is stored before the next is asked for. Each run is a new snapshot under
 *   its own time, so nothing is resumed.
 */
import { AcquisitionError } from '../../../shared/errors.ts';
import type { EvidenceSource, SourceObject, SourceProblem } from '../../../shared/ports/evidence-source.ts';
import { compactTime, segment } from './azure-api-source.ts';
import type { AzureHttp, AzureRequest } from './azure-http.ts';
import { MAX_PAGES, objectOf, pageOrigin, pagePath, type PageStream } from './azure-pages.ts';

/** The `api:` name of this source. */
export const AZURE_INVENTORY_SPEC = 'api:azure-inventory';

/** The Resource Graph API version Amber asks for. */
export const RESOURCE_GRAPH_API_VERSION = '2022-10-01';
/** The subscription diagnostic settings API version. */
export const DIAGNOSTIC_SETTINGS_API_VERSION = '2021-05-01-preview';

const RESOURCE_COLUMNS = 'id, name, type, location, resourceGroup, subscriptionId, tenantId, tags, properties';

/** The Resource Graph queries, by the name they are preserved under (the parser reads each by that name). */
export const RESOURCE_GRAPH_QUERIES: Readonly<Record<string, string>> = {
  subscriptions: "ResourceContainers | where type =~ 'microsoft.resources/subscriptions' | project id, name, type, subscriptionId, tenantId, tags, properties | order by id asc",
  'virtual-machines': `Resources | where type =~ 'microsoft.compute/virtualmachines' | project ${RESOURCE_COLUMNS}, identity | order by id asc`,
  'network-interfaces': `Resources | where type =~ 'microsoft.network/networkinterfaces' | project ${RESOURCE_COLUMNS} | order by id asc`,
  'public-ip-addresses': `Resources | where type =~ 'microsoft.network/publicipaddresses' | project ${RESOURCE_COLUMNS}, sku | order by id asc`,
  'network-security-groups': `Resources | where type =~ 'microsoft.network/networksecuritygroups' | project ${RESOURCE_COLUMNS} | order by id asc`,
  'virtual-networks': `Resources | where type =~ 'microsoft.network/virtualnetworks' | project ${RESOURCE_COLUMNS} | order by id asc`,
  disks: `Resources | where type =~ 'microsoft.compute/disks' | project ${RESOURCE_COLUMNS}, sku | order by id asc`,
  snapshots: `Resources | where type =~ 'microsoft.compute/snapshots' | project ${RESOURCE_COLUMNS}, sku | order by id asc`,
  'storage-accounts': `Resources | where type =~ 'microsoft.storage/storageaccounts' | project ${RESOURCE_COLUMNS}, kind, sku | order by id asc`,
  'key-vaults': `Resources | where type =~ 'microsoft.keyvault/vaults' | project ${RESOURCE_COLUMNS} | order by id asc`,
  'web-apps': `Resources | where type =~ 'microsoft.web/sites' | project ${RESOURCE_COLUMNS}, kind, identity | order by id asc`,
  'role-assignments': "AuthorizationResources | where type =~ 'microsoft.authorization/roleassignments' | project id, name, type, subscriptionId, tenantId, properties | order by id asc",
  'role-definitions': "AuthorizationResources | where type =~ 'microsoft.authorization/roledefinitions' | project id, name, type, subscriptionId, tenantId, properties | order by id asc",
};

/** The Microsoft Graph queries (v1.0), by the name they are preserved under. */
export const GRAPH_QUERIES: Readonly<Record<string, string>> = {
  users: 'v1.0/users?$select=id,displayName,userPrincipalName,userType,accountEnabled,createdDateTime,signInActivity&$top=999',
  'user-registration-details': 'v1.0/reports/authenticationMethods/userRegistrationDetails',
  'service-principals': 'v1.0/servicePrincipals?$select=id,appId,displayName,servicePrincipalType,accountEnabled,appOwnerOrganizationId,passwordCredentials,keyCredentials&$top=999',
  applications: 'v1.0/applications?$select=id,appId,displayName,createdDateTime,signInAudience,passwordCredentials,keyCredentials&$top=999',
};

/** Users again without signInActivity, when the tenant refuses it (no Entra ID P1/P2, or no AuditLog.Read.All). */
export const USERS_WITHOUT_SIGN_IN = 'v1.0/users?$select=id,displayName,userPrincipalName,userType,accountEnabled,createdDateTime&$top=999';

export interface AzureInventoryOptions {
  /** Subscriptions to read with Resource Graph and ARM (lower-case GUIDs). */
  readonly subscriptions: readonly string[];
  /** The Entra tenant to read with Graph; undefined: the tenant Resource Graph names for the first subscription. */
  readonly tenant?: string;
  /** When the inventory is taken: named in every key, so two inventories of one case never collide. */
  readonly observedAt: Date;
  readonly armUrl: string;
  readonly graphUrl: string;
  readonly http: AzureHttp;
  /** Read Entra ID through Graph. @default true */
  readonly entra?: boolean;
}

/** What one query left unread, for the terminal and --json. */
export interface AzureInventoryProblem {
  /** The subscription or tenant. */
  readonly scope: string;
  readonly api: 'resource-graph' | 'arm' | 'graph';
  readonly query: string;
  readonly code: string;
  readonly message: string;
}

type Api = AzureInventoryProblem['api'];

/** An Azure estate, preserved answer by answer. */
export class AzureInventorySource implements EvidenceSource {
  readonly spec = AZURE_INVENTORY_SPEC;
  readonly concurrency = 1;
  /** Problems met, in order (also reported through `onProblem`). */
  readonly problems: AzureInventoryProblem[] = [];
  /** Answers preserved, per API. */
  readonly answers: Record<string, number> = {};
  /** The tenant read through Graph (given, or learnt from Resource Graph), once known. */
  tenant: string | undefined;
  private readonly stamp: string;
  private onProblem: (problem: SourceProblem) => void = () => undefined;

  constructor(private readonly options: AzureInventoryOptions) {
    this.stamp = compactTime(new Date(Math.floor(options.observedAt.getTime() / 1000) * 1000));
    this.tenant = options.tenant;
  }

  async *list(onProblem: (problem: SourceProblem) => void): AsyncIterable<SourceObject> {
    this.onProblem = onProblem;
    const arm = this.options.armUrl.replace(/\/+$/, '');
    for (const subscription of this.options.subscriptions) {
      for (const [name, query] of Object.entries(RESOURCE_GRAPH_QUERIES)) {
        const bodies: Buffer[] = [];
        yield* this.chain(subscription, 'resource-graph', name, { api: 'arm', method: 'POST', url: `${arm}/providers/Microsoft.ResourceGraph/resources?api-version=${RESOURCE_GRAPH_API_VERSION}`, body: graphQueryBody(subscription, query) }, bodies);
        if (name === 'subscriptions' && this.tenant === undefined) this.tenant = tenantOf(bodies);
      }
      yield* this.chain(subscription, 'arm', 'diagnostic-settings', { api: 'arm', method: 'GET', url: `${arm}/subscriptions/${subscription}/providers/Microsoft.Insights/diagnosticSettings?api-version=${DIAGNOSTIC_SETTINGS_API_VERSION}` });
    }
    if (this.options.entra === false) return;
    if (this.tenant === undefined) {
      this.problem({ scope: '*', api: 'graph', query: '*', code: 'NoTenant', message: 'Entra ID was not read: no tenant was given and Resource Graph named none; give --tenant ID (or AZURE_TENANT_ID)' });
      return;
    }
    const graph = this.options.graphUrl.replace(/\/+$/, '');
    const tenant = this.tenant;
    for (const [name, path] of Object.entries(GRAPH_QUERIES)) {
      const refused = yield* this.chain(tenant, 'graph', name, { api: 'graph', method: 'GET', url: `${graph}/${path}` });
      // signInActivity needs Entra ID P1/P2 and AuditLog.Read.All: without them the users are read without it.
      if (name === 'users' && refused) yield* this.chain(tenant, 'graph', 'users-basic', { api: 'graph', method: 'GET', url: `${graph}/${USERS_WITHOUT_SIGN_IN}` });
    }
  }

  /**
   * Every page of one query, each yielded as it comes. Returns true when the API refused the query (403): that
   * answer is preserved and reported. Any other failure is reported and ends the query.
   */
  private async *chain(scope: string, api: Api, query: string, first: AzureRequest, bodies: Buffer[] = []): AsyncGenerator<SourceObject, boolean> {
    const folder = `azure/inventory/${segment(scope)}/${this.stamp}/${api}/${query}`;
    const stream: PageStream = { spec: AZURE_INVENTORY_SPEC, folder, label: `${api} ${query} of ${scope}`, first, continuation: { kind: 'body', key: api === 'graph' ? '@odata.nextLink' : 'nextLink' } };
    const allowed = new URL(first.url).origin;
    let request: AzureRequest | undefined = first;
    let page = 0;
    try {
      while (request !== undefined) {
        if (page >= MAX_PAGES) throw new AcquisitionError(`more than ${MAX_PAGES} pages`, pageOrigin(stream, request, page + 1), { hint: 'the pages read so far are preserved' });
        const origin = pageOrigin(stream, request, page + 1);
        const response = await this.options.http.send(request, origin, [403]);
        page += 1;
        bodies.push(response.bytes);
        this.answers[api] = (this.answers[api] ?? 0) + 1;
        yield objectOf(origin, pagePath(folder, page), response.bytes);
        if (response.status === 403) {
          const error = errorOf(response.bytes);
          this.problem({ scope, api, query, code: error.code ?? 'Forbidden', message: `${error.message ?? 'HTTP 403'}; its answer is preserved; the other queries were read: grant the permission infra/azure/README.md lists for it and run again` });
          return true;
        }
        request = this.next(api, stream, request, response.bytes, page, allowed, scope, query);
      }
    } catch (error) {
      const e = error as Error & { hint?: string };
      this.problem({ scope, api, query, code: error instanceof AcquisitionError ? 'NotAnswered' : e.name, message: `${e.message}${e.hint ? `; ${e.hint}` : ''}; the rest of ${query} was not read${page > 0 ? ` (its first ${page} pages are preserved)` : ''}` });
    }
    return false;
  }

  /** The request for the page after `page`, or undefined on the last one. */
  private next(api: Api, stream: PageStream, request: AzureRequest, bytes: Buffer, page: number, allowed: string, scope: string, query: string): AzureRequest | undefined {
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    } catch (cause) {
      throw new AcquisitionError(`page ${page} is not JSON (${(cause as Error).message}): it is preserved as received, but the next page cannot be read from it`, pageOrigin(stream, request, page), { cause });
    }
    if (api === 'resource-graph') {
      const token = doc.$skipToken;
      if (typeof token === 'string' && token !== '') {
        const body = JSON.parse(request.body ?? '{}') as { options?: Record<string, unknown> };
        if (body.options?.$skipToken === token) throw new AcquisitionError(`page ${page} gives the same $skipToken as the request, so reading on would never end`, pageOrigin(stream, request, page));
        return { ...request, body: JSON.stringify({ ...body, options: { ...body.options, $skipToken: token } }) };
      }
      if (doc.resultTruncated === true || doc.resultTruncated === 'true') {
        this.problem({ scope, api, query, code: 'ResultTruncated', message: `Resource Graph says page ${page} is truncated and gave no $skipToken: rows beyond it were not returned` });
      }
      return undefined;
    }
    const link = doc[api === 'graph' ? '@odata.nextLink' : 'nextLink'];
    if (typeof link !== 'string' || link === '') return undefined;
    if (link === request.url) throw new AcquisitionError(`page ${page} points to itself as the next page`, pageOrigin(stream, request, page));
    let target: string;
    try {
      target = new URL(link).origin;
    } catch (cause) {
      throw new AcquisitionError(`page ${page} names a next page that is not a URL`, pageOrigin(stream, request, page), { cause });
    }
    if (target !== allowed) throw new AcquisitionError(`page ${page} names a next page on ${target}, not on ${allowed}: not followed, so the token is not sent there`, pageOrigin(stream, request, page));
    return { ...request, url: link };
  }

  private problem(p: AzureInventoryProblem): void {
    this.problems.push(p);
    const q = new URLSearchParams({ scope: p.scope, api: p.api, query: p.query });
    this.onProblem({ origin: `${AZURE_INVENTORY_SPEC}?${q.toString()}`, reason: `${p.code}: ${p.message}` });
  }
}

/** The documented Resource Graph request body for one subscription. */
export function graphQueryBody(subscription: string, query: string): string {
  return JSON.stringify({ subscriptions: [subscription], query, options: { resultFormat: 'objectArray', $top: 1000 } });
}

function errorOf(bytes: Buffer): { code?: string; message?: string } {
  try {
    const doc = JSON.parse(bytes.toString('utf8')) as { error?: { code?: unknown; message?: unknown } };
    return { ...(typeof doc.error?.code === 'string' ? { code: doc.error.code } : {}), ...(typeof doc.error?.message === 'string' ? { message: doc.error.message } : {}) };
  } catch {
    return {};
  }
}

/** The tenant Resource Graph names in a `subscriptions` answer. */
function tenantOf(bodies: readonly Buffer[]): string | undefined {
  for (const b of bodies) {
    try {
      const doc = JSON.parse(b.toString('utf8')) as { data?: Array<{ tenantId?: unknown }> };
      const t = (doc.data ?? []).map((r) => r.tenantId).find((x): x is string => typeof x === 'string' && x !== '');
      if (t) return t.toLowerCase();
    } catch {
      // a page that is not JSON names no tenant
    }
  }
  return undefined;
}
