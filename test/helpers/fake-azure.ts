/**
 * A fake of the Azure APIs `amber collect --from api:azure-*|entra-*|m365-audit` calls, as a real HTTP server on
 * 127.0.0.1, answering with the documented response shapes. Written behaviour:
 * - Auth: `Authorization: Bearer <token>`; a token in `expired` answers 401 `{"error":{"code":
 *   "InvalidAuthenticationToken","message":"Access token has expired or is not yet valid."}}`, as Graph does.
 * - Microsoft Graph (`/v1.0/...`, `/beta/...`): `{"@odata.context","value":[...],"@odata.nextLink"}`, `pageSize`
 *   records a page; `$filter` `<field> ge T and <field> le T` is applied to the record's time field, and beta
 *   sign-ins' `signInEventTypes/any(t: t eq '<type>')` picks the records added under that type. The next link is
 *   the same URL with `$skiptoken` set. A single resource (`mailboxSettings`) answers the object as is.
 * - Azure Monitor Activity Log: `{"value":[...],"nextLink"}`, filtered on `eventTimestamp` (quoted times).
 * - Office 365 Management Activity API: `subscriptions/start` answers 200 the first time per content type and
 *   400 AF20024 ("already enabled") after; `subscriptions/content` refuses a span over 24 hours or without both
 *   times (400 AF20055), or a content type never started (400 AF20022); lists the blobs created in the span,
 *   `pageSize` a page, paging with the `NextPageUri` header; a blob's `contentUri` answers its records array.
 * - IoT Hub `POST /devices/query`: JSON array of twins, `pageSize` a page, `x-ms-continuation` header both ways.
 * - Azure Resource Graph `POST /providers/Microsoft.ResourceGraph/resources`: the query's table and type
 *   (`<Table> | where type =~ '<type>'`) pick the rows of `resourceGraph` (`<table>/<type>`, lower case) of the
 *   request's `subscriptions`; `pageSize` rows a page as `{"totalRecords","count","data","facets",
 *   "resultTruncated","$skipToken"}` (objectArray), the next page asked with `options.$skipToken`.
 * - ARM subscription diagnostic settings: `{"value":[...]}` from `diagnosticSettings` by subscription.
 * - `fault(match, status, times, headers)`: the next `times` requests whose `METHOD path?query body` contains `match`
 *   answer `status` with an error body (and the headers given, e.g. Retry-After) instead.
 *   A 403 answers as the API does: ARM `AuthorizationFailed` naming the action and scope, Graph
 *   `Authorization_RequestDenied`, the Management Activity API `AF20021`-style `{"error":{"code","message"}}`.
 * - `damage(match, times)`: the next `times` such requests answer a body that is not JSON.
 * Every request is recorded in `requests`; every 200 body in `served` (by `METHOD path?query`).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

type Rec = Record<string, unknown>;

export interface SeenRequest {
  readonly method: string;
  readonly target: string;
  readonly token: string;
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface FakeBlob {
  readonly contentId: string;
  readonly created: Date;
  readonly records: readonly Rec[];
}

const TIME_FIELDS: Readonly<Record<string, string>> = {
  'auditLogs/signIns': 'createdDateTime',
  'auditLogs/directoryAudits': 'activityDateTime',
  'identityProtection/riskDetections': 'detectedDateTime',
  'identityProtection/riskyUsers': 'riskLastUpdatedDateTime',
};

export class FakeAzure {
  readonly requests: SeenRequest[] = [];
  readonly served = new Map<string, Buffer>();
  readonly expired = new Set<string>();
  pageSize = 2;
  url = '';
  /** Graph collections by path without version prefix (`auditLogs/signIns`, or `auditLogs/signIns#nonInteractiveUser` for beta types). */
  readonly graph = new Map<string, Rec[]>();
  /** Single Graph resources by path (`users/u1/mailboxSettings`). */
  readonly resources = new Map<string, Rec>();
  readonly activity = new Map<string, Rec[]>();
  readonly blobs = new Map<string, FakeBlob[]>();
  twins: Rec[] = [];
  /** Resource Graph rows by `<table>/<type>` in lower case (`resources/microsoft.compute/disks`). */
  readonly resourceGraph = new Map<string, Rec[]>();
  /** Subscription diagnostic settings by subscription id. */
  readonly diagnosticSettings = new Map<string, Rec[]>();
  private readonly started = new Set<string>();
  private readonly faults: Array<{ match: string; status: number; times: number; headers: Record<string, string> }> = [];
  private readonly damaged: Array<{ match: string; times: number }> = [];
  private server: Server | undefined;

  fault(match: string, status: number, times = 1, headers: Record<string, string> = {}): this {
    this.faults.push({ match, status, times, headers });
    return this;
  }

  damage(match: string, times = 1): this {
    this.damaged.push({ match, times });
    return this;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void this.answer(req).then(({ status, body, headers }) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
        res.end(body);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Requests whose target contains `part` and were answered 200. */
  okRequests(part: string): SeenRequest[] {
    return this.requests.filter((r) => r.status === 200 && r.target.includes(part));
  }

  private async answer(req: IncomingMessage): Promise<{ status: number; body: string; headers: Record<string, string> }> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const target = req.url ?? '/';
    const method = req.method ?? 'GET';
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const out = this.route(method, target, token, body, req);
    this.requests.push({ method, target, token, status: out.status, headers: req.headers });
    if (out.status === 200) this.served.set(`${method} ${target}`, Buffer.from(out.body));
    return out;
  }

  private route(method: string, target: string, token: string, body: string, req: IncomingMessage): { status: number; body: string; headers: Record<string, string> } {
    if (token === '' || this.expired.has(token)) {
      return error(401, 'InvalidAuthenticationToken', 'Access token has expired or is not yet valid.', { 'www-authenticate': 'Bearer error="invalid_token"' });
    }
    const line = `${method} ${target}`;
    const fault = this.faults.find((f) => f.times > 0 && `${line} ${body}`.includes(f.match));
    if (fault) {
      fault.times -= 1;
      if (fault.status === 403) return forbidden(line, fault.headers);
      return error(fault.status, fault.status === 429 ? 'TooManyRequests' : 'ServiceUnavailable', 'the fake was told to fail here', fault.headers);
    }
    const damage = this.damaged.find((d) => d.times > 0 && line.includes(d.match));
    const url = new URL(target, this.url);
    const result = this.dispatch(method, url, body, req);
    if (damage && result.status === 200) {
      damage.times -= 1;
      return { ...result, body: `${result.body.slice(0, 40)}\u0000<html>proxy error` };
    }
    return result;
  }

  private dispatch(method: string, url: URL, body: string, req: IncomingMessage): { status: number; body: string; headers: Record<string, string> } {
    const path = url.pathname;
    const graph = /^\/(v1\.0|beta)\/(.+)$/.exec(path);
    if (graph) return this.graphAnswer(graph[1]!, decodeURIComponent(graph[2]!), url);
    const activity = /^\/subscriptions\/([^/]+)\/providers\/Microsoft\.Insights\/eventtypes\/management\/values$/.exec(path);
    if (activity) return this.page(this.filtered(this.activity.get(activity[1]!) ?? [], 'eventTimestamp', url), url, 'nextLink', {});
    const feed = /^\/api\/v1\.0\/([^/]+)\/activity\/feed\/(.+)$/.exec(path);
    if (feed) return this.feedAnswer(method, feed[1]!, feed[2]!, url);
    if (method === 'POST' && path === '/providers/Microsoft.ResourceGraph/resources') return this.resourceGraphAnswer(body);
    const diagnostic = /^\/subscriptions\/([^/]+)\/providers\/Microsoft\.Insights\/diagnosticSettings$/.exec(path);
    if (method === 'GET' && diagnostic) return { status: 200, body: JSON.stringify({ value: this.diagnosticSettings.get(diagnostic[1]!) ?? [] }), headers: {} };
    if (method === 'POST' && path === '/devices/query') {
      if (JSON.parse(body || '{}').query !== 'SELECT * FROM devices') return error(400, 'BadRequest', 'unexpected query');
      const from = Number(req.headers['x-ms-continuation'] ?? 0);
      const next: Record<string, string> = from + this.pageSize < this.twins.length ? { 'x-ms-continuation': String(from + this.pageSize) } : {};
      return { status: 200, body: JSON.stringify(this.twins.slice(from, from + this.pageSize)), headers: next };
    }
    return error(404, 'ResourceNotFound', `the fake does not answer ${method} ${path}`);
  }

  private filtered(records: Rec[], field: string, url: URL): Rec[] {
    const filter = url.searchParams.get('$filter') ?? '';
    const m = new RegExp(`${field} ge '?([^' ]+)'? and ${field} le '?([^' )]+)'?`).exec(filter);
    if (!m) return records;
    const [from, to] = [Date.parse(m[1]!), Date.parse(m[2]!)];
    return records.filter((r) => {
      const t = Date.parse(String(r[field]));
      return t >= from && t <= to;
    });
  }

  private page(records: Rec[], url: URL, linkKey: string, extra: Rec): { status: number; body: string; headers: Record<string, string> } {
    const from = Number(url.searchParams.get('$skiptoken') ?? 0);
    const doc: Rec = { ...extra, value: records.slice(from, from + this.pageSize) };
    if (from + this.pageSize < records.length) {
      const next = new URL(url.toString());
      next.searchParams.set('$skiptoken', String(from + this.pageSize));
      doc[linkKey] = `${this.url}${next.pathname}${next.search}`;
    }
    return { status: 200, body: JSON.stringify(doc), headers: {} };
  }

  private resourceGraphAnswer(body: string): { status: number; body: string; headers: Record<string, string> } {
    const request = JSON.parse(body || '{}') as { subscriptions?: string[]; query?: string; options?: { resultFormat?: string; $skipToken?: string } };
    const m = /^(\w+) \| where type =~ '([^']+)'/.exec(request.query ?? '');
    if (!m || request.options?.resultFormat !== 'objectArray') return error(400, 'BadRequest', 'the fake answers `<Table> | where type =~ ...` queries in objectArray format only');
    const subscriptions = new Set(request.subscriptions ?? []);
    const rows = (this.resourceGraph.get(`${m[1]!.toLowerCase()}/${m[2]!.toLowerCase()}`) ?? []).filter((r) => subscriptions.has(String(r.subscriptionId)));
    const from = request.options.$skipToken === undefined ? 0 : Number(Buffer.from(request.options.$skipToken, 'base64').toString('utf8').replace('offset:', ''));
    const data = rows.slice(from, from + this.pageSize);
    const doc: Rec = { totalRecords: rows.length, count: data.length, data, facets: [], resultTruncated: 'false' };
    if (from + this.pageSize < rows.length) doc.$skipToken = Buffer.from(`offset:${from + this.pageSize}`).toString('base64');
    return { status: 200, body: JSON.stringify(doc), headers: {} };
  }

  private graphAnswer(version: string, path: string, url: URL): { status: number; body: string; headers: Record<string, string> } {
    const resource = this.resources.get(path);
    if (resource) return { status: 200, body: JSON.stringify({ '@odata.context': `${this.url}/${version}/$metadata#${path}`, ...resource }), headers: {} };
    const type = /signInEventTypes\/any\(t: t eq '(\w+)'\)/.exec(url.searchParams.get('$filter') ?? '')?.[1];
    const key = type === undefined ? path : `${path}#${type}`;
    const records = this.graph.get(key);
    if (records === undefined) {
      if (/^users\/[^/]+\//.test(path)) return error(404, 'MailboxNotEnabledForRESTAPI', 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.');
      return { status: 200, body: JSON.stringify({ '@odata.context': `${this.url}/${version}/$metadata#${path}`, value: [] }), headers: {} };
    }
    const field = TIME_FIELDS[path];
    return this.page(field ? this.filtered(records, field, url) : records, url, '@odata.nextLink', { '@odata.context': `${this.url}/${version}/$metadata#${path}` });
  }

  private feedAnswer(method: string, tenant: string, op: string, url: URL): { status: number; body: string; headers: Record<string, string> } {
    const contentType = url.searchParams.get('contentType') ?? '';
    if (method === 'POST' && op === 'subscriptions/start') {
      if (this.started.has(contentType)) return error(400, 'AF20024', 'The subscription is already enabled. No property change.');
      this.started.add(contentType);
      return { status: 200, body: JSON.stringify({ contentType, status: 'enabled', webhook: null }), headers: {} };
    }
    if (method === 'GET' && op === 'subscriptions/content') {
      if (!this.started.has(contentType)) return error(400, 'AF20022', 'No subscription found for the specified content type');
      const start = Date.parse(`${url.searchParams.get('startTime') ?? ''}Z`);
      const end = Date.parse(`${url.searchParams.get('endTime') ?? ''}Z`);
      if (Number.isNaN(start) || Number.isNaN(end) || end - start > 24 * 3_600_000 || end <= start) {
        return error(400, 'AF20055', 'Start time and end time must both be specified (or both omitted) and must be less than or equal to 24 hours apart, with the start time prior to end time.');
      }
      const list = (this.blobs.get(contentType) ?? []).filter((b) => b.created.getTime() >= start && b.created.getTime() < end);
      const from = Number(url.searchParams.get('nextPage') ?? 0);
      const page = list.slice(from, from + this.pageSize).map((b) => ({
        contentType,
        contentId: b.contentId,
        contentUri: `${this.url}/api/v1.0/${tenant}/activity/feed/audit/${b.contentId}`,
        contentCreated: b.created.toISOString().replace('Z', ''),
        contentExpiration: new Date(b.created.getTime() + 7 * 86_400_000).toISOString().replace('Z', ''),
      }));
      const headers: Record<string, string> = {};
      if (from + this.pageSize < list.length) {
        const next = new URL(url.toString());
        next.searchParams.set('nextPage', String(from + this.pageSize));
        headers.NextPageUri = `${this.url}${next.pathname}${next.search}`;
      }
      return { status: 200, body: JSON.stringify(page), headers };
    }
    const audit = /^audit\/(.+)$/.exec(op);
    if (method === 'GET' && audit) {
      for (const list of this.blobs.values()) {
        const blob = list.find((b) => b.contentId === decodeURIComponent(audit[1]!));
        if (blob) return { status: 200, body: JSON.stringify(blob.records), headers: {} };
      }
      return error(404, 'AF20051', 'Content requested with the key does not exist.');
    }
    return error(400, 'AF20001', `the fake does not answer ${method} ${op}`);
  }
}

function error(status: number, code: string, message: string, headers: Record<string, string> = {}): { status: number; body: string; headers: Record<string, string> } {
  return { status, body: JSON.stringify({ error: { code, message } }), headers };
}

/** The 403 body of the API a request line is for (ARM, Graph or the Management Activity API). */
function forbidden(line: string, headers: Record<string, string>): { status: number; body: string; headers: Record<string, string> } {
  if (line.startsWith('POST /providers/Microsoft.ResourceGraph/resources')) {
    return error(403, 'AuthorizationFailed', "The client '00000000-0000-4000-8000-0000000000aa' with object id '00000000-0000-4000-8000-0000000000aa' does not have authorization to perform action 'Microsoft.ResourceGraph/resources/read' over scope '/providers/Microsoft.ResourceGraph' or the scope is invalid.", headers);
  }
  const arm = /\/subscriptions\/([^/]+)\/providers\/Microsoft\.Insights\/eventtypes/.exec(line);
  if (arm) {
    return error(403, 'AuthorizationFailed', `The client '00000000-0000-4000-8000-0000000000aa' with object id '00000000-0000-4000-8000-0000000000aa' does not have authorization to perform action 'Microsoft.Insights/eventtypes/values/read' over scope '/subscriptions/${arm[1]}' or the scope is invalid. If access was recently granted, please refresh your credentials.`, headers);
  }
  if (/ \/(v1\.0|beta)\//.test(line)) return error(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.', headers);
  return error(403, 'AF10001', 'The permission set () sent in the request does not include the expected permission.', headers);
}
