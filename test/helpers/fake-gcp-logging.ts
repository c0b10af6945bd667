/**
 * A fake of Cloud Logging's `entries.list` (REST v2) as a real HTTP server on 127.0.0.1. Written behaviour:
 * - `POST /v2/entries:list` with the documented request body (`resourceNames`, `filter`, `orderBy`, `pageSize`,
 *   `pageToken`) answers the documented response `{"entries":[LogEntry...],"nextPageToken":"..."}` (an empty
 *   result is `{}`), pretty-printed as Google's REST front end does;
 * - the filter is read for the subset Amber sends: `logName=("..." OR "...")`, `timestamp>="..."`,
 *   `timestamp<"..."`; anything else in it is recorded, not applied;
 * - `orderBy` must be `timestamp asc` (entries come oldest first); pageSize defaults to 50, at most 1000;
 * - a pageToken carries a serial number, so asking for page 1 twice gives other bytes (tokens are opaque);
 * - `Authorization: Bearer <token>` must match `token`, else 401 UNAUTHENTICATED;
 * - `throttle(n)`: the next n calls answer 429 RESOURCE_EXHAUSTED; `unavailable(n)`: 503 UNAVAILABLE;
 *   `deny()`: 403 PERMISSION_DENIED until `allow()`; `breakAfter(n)`: once n pages were served, answers 400
 *   FAILED_PRECONDITION (not retried: the stand-in for a run interrupted half way), until `breakAfter(undefined)`; errors in Google's shape `{"error":{"code","message","status"}}`.
 * Every request is recorded in `requests` (body and status).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const FAKE_PROJECT = 'amber-test-prod';

export interface FakeAuditEntry {
  readonly log: 'activity' | 'data_access' | 'system_event' | 'policy';
  readonly methodName: string;
  readonly serviceName: string;
  readonly timestamp: Date;
  readonly resourceName: string;
  readonly principalEmail?: string;
  readonly request?: Record<string, unknown>;
}

export interface SeenListRequest {
  readonly body: { resourceNames?: string[]; filter?: string; orderBy?: string; pageSize?: number; pageToken?: string };
  readonly status: number;
}

export class FakeGcpLogging {
  readonly requests: SeenListRequest[] = [];
  /** Bodies of every 200 answer, in order. */
  readonly served: Buffer[] = [];
  token = 'test-token';
  url = '';
  private readonly entries: FakeAuditEntry[] = [];
  private throttles = 0;
  private outages = 0;
  private denied = false;
  private brokenAfter: number | undefined;
  private serial = 0;
  private server: Server | undefined;

  /** Adds `count` Admin Activity entries a minute apart from `oldest`, with overrides by index. */
  addEntries(count: number, oldest: Date, special: Record<number, Partial<FakeAuditEntry>> = {}): this {
    for (let i = 0; i < count; i += 1) {
      this.entries.push({
        log: 'activity',
        methodName: 'v1.compute.instances.insert',
        serviceName: 'compute.googleapis.com',
        timestamp: new Date(oldest.getTime() + i * 60_000),
        resourceName: `projects/${FAKE_PROJECT}/zones/europe-west1-b/instances/vm-${i}`,
        ...special[i],
      });
    }
    return this;
  }

  throttle(times: number): this {
    this.throttles = times;
    return this;
  }

  unavailable(times: number): this {
    this.outages = times;
    return this;
  }

  deny(): this {
    this.denied = true;
    return this;
  }

  breakAfter(pages: number | undefined): this {
    this.brokenAfter = pages;
    return this;
  }

  allow(): this {
    this.denied = false;
    return this;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const { status, body } = this.answer(req.method ?? '', req.url ?? '', req.headers.authorization, Buffer.concat(chunks).toString('utf8'));
        res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
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

  private answer(method: string, url: string, auth: string | undefined, text: string): { status: number; body: string } {
    if (method !== 'POST' || url !== '/v2/entries:list') return googleError(404, 'NOT_FOUND', `the fake does not answer ${method} ${url}`);
    let body: SeenListRequest['body'];
    try {
      body = JSON.parse(text || '{}') as SeenListRequest['body'];
    } catch {
      return googleError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
    }
    const result = this.list(auth, body);
    this.requests.push({ body, status: result.status });
    if (result.status === 200) this.served.push(Buffer.from(result.body));
    return result;
  }

  private list(auth: string | undefined, body: SeenListRequest['body']): { status: number; body: string } {
    if (auth !== `Bearer ${this.token}`) return googleError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token.');
    if (this.throttles > 0) {
      this.throttles -= 1;
      return googleError(429, 'RESOURCE_EXHAUSTED', "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute' of service 'logging.googleapis.com'.");
    }
    if (this.outages > 0) {
      this.outages -= 1;
      return googleError(503, 'UNAVAILABLE', 'The service is currently unavailable.');
    }
    if (this.denied) return googleError(403, 'PERMISSION_DENIED', `Permission denied for all log views (or it may not exist).`);
    if (this.brokenAfter !== undefined && this.served.length >= this.brokenAfter) return googleError(400, 'FAILED_PRECONDITION', 'the fake was told to break here (an interrupted run)');
    if (body.orderBy !== 'timestamp asc') return googleError(400, 'INVALID_ARGUMENT', `the fake serves orderBy "timestamp asc" only, got ${JSON.stringify(body.orderBy)}`);
    const project = /^projects\/([^/]+)$/.exec(body.resourceNames?.[0] ?? '')?.[1];
    if (project === undefined) return googleError(400, 'INVALID_ARGUMENT', 'resourceNames must name a project');
    const filter = body.filter ?? '';
    const names = [...(/logName=\(([^)]*)\)/.exec(filter)?.[1] ?? '').matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
    const from = Date.parse(/timestamp>="([^"]+)"/.exec(filter)?.[1] ?? '1970-01-01T00:00:00Z');
    const to = Date.parse(/timestamp<"([^"]+)"/.exec(filter)?.[1] ?? '9999-12-31T00:00:00Z');
    const start = body.pageToken === undefined ? 0 : Number(/^pt-(\d+)-\d+$/.exec(body.pageToken)?.[1] ?? NaN);
    if (Number.isNaN(start)) return googleError(400, 'INVALID_ARGUMENT', 'page_token doesn\'t match arguments from the request');
    const size = Math.min(body.pageSize ?? 50, 1000);
    const all = this.entries
      .filter((e) => names.includes(`projects/${project}/logs/cloudaudit.googleapis.com%2F${e.log}`))
      .filter((e) => e.timestamp.getTime() >= from && e.timestamp.getTime() < to)
      .sort((a, b) => a.timestamp.getTime() - b.timestamp.getTime());
    const page = all.slice(start, start + size);
    this.serial += 1;
    const doc: Record<string, unknown> = {};
    if (page.length > 0) doc.entries = page.map((e, i) => logEntry(e, project, start + i));
    if (start + size < all.length) doc.nextPageToken = `pt-${start + size}-${this.serial}`;
    return { status: 200, body: JSON.stringify(doc, null, 2) };
  }
}

/** One entry in the documented LogEntry shape with an AuditLog protoPayload. */
function logEntry(e: FakeAuditEntry, project: string, n: number): Record<string, unknown> {
  const time = e.timestamp.toISOString().replace('.000Z', '.123456Z');
  return {
    protoPayload: {
      '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
      status: {},
      authenticationInfo: { principalEmail: e.principalEmail ?? 'analyst@example.com' },
      requestMetadata: { callerIp: '198.51.100.23', callerSuppliedUserAgent: 'google-cloud-sdk gcloud/470.0.0', requestAttributes: { time, auth: {} }, destinationAttributes: {} },
      serviceName: e.serviceName,
      methodName: e.methodName,
      authorizationInfo: [{ resource: e.resourceName, permission: 'fake.permission', granted: true, resourceAttributes: {} }],
      resourceName: e.resourceName,
      ...(e.request ? { request: e.request } : {}),
    },
    insertId: `fake${String(n).padStart(6, '0')}`,
    resource: { type: 'audited_resource', labels: { project_id: project, service: e.serviceName, method: e.methodName } },
    timestamp: time,
    severity: 'NOTICE',
    logName: `projects/${project}/logs/cloudaudit.googleapis.com%2F${e.log}`,
    receiveTimestamp: new Date(e.timestamp.getTime() + 800).toISOString(),
  };
}

function googleError(code: number, status: string, message: string): { status: number; body: string } {
  return { status: code, body: JSON.stringify({ error: { code, message, status } }, null, 2) };
}
