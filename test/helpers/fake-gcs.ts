/**
 * A fake of the Cloud Storage JSON API subset Amber uses, as a real HTTP server on 127.0.0.1 (no GCS emulator
 * installs here). Written behaviour, after the documented API:
 * - `GET /storage/v1/b/{bucket}`: the bucket resource (`versioning.enabled`, `retentionPolicy` with
 *   `retentionPeriod` in seconds as a string and `isLocked`, `objectRetention.mode`); 404 for another bucket;
 * - uploads `POST /upload/storage/v1/b/{bucket}/o?uploadType=media&name=N`, `uploadType=multipart`
 *   (multipart/related: JSON metadata part, then the media part) and `uploadType=resumable` (the session URI in
 *   `Location`; `PUT` chunks with `Content-Range: bytes a-b/*` answered 308 with `Range`, the last `bytes a-b/total`
 *   answered 200 with the object); `ifGenerationMatch` (0: only when no live object) and
 *   `ifMetagenerationMatch` preconditions → 412 `conditionNotMet`; a live object under retention (the bucket's
 *   policy, or its own `retention.retainUntilTime`) cannot be overwritten → 403;
 * - `GET /storage/v1/b/{bucket}/o/{name}` metadata, `?alt=media` the bytes, `?generation=G` a given generation;
 * - `GET /storage/v1/b/{bucket}/o?prefix=&versions=&pageToken=&maxResults=`: `{"kind":"storage#objects","items",
 *   "nextPageToken"}`, items by name then generation, noncurrent ones (with `timeDeleted`) only with versions=true;
 * - `PATCH /storage/v1/b/{bucket}/o/{name}?generation=G&ifMetagenerationMatch=M` merges `metadata`;
 * - objects carry `generation`/`metageneration`/`size` as strings, `md5Hash` and `crc32c` in base64, `etag`;
 * - `Authorization: Bearer <token>` must match `token`, else 401.
 * `tamper(name, bytes)` changes the live generation's bytes in place, behind the API (what verify must catch);
 * `failNext(status, n)` answers the next n requests with that status (503 to test retries).
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeBucketOptions {
  readonly versioning?: boolean;
  /** Bucket retention policy in seconds. */
  readonly retentionSeconds?: number;
  readonly retentionLocked?: boolean;
  /** Object Retention Lock enabled on the bucket. */
  readonly objectRetention?: boolean;
}

interface Generation {
  name: string;
  generation: number;
  metageneration: number;
  bytes: Buffer;
  contentType: string;
  metadata: Record<string, string> | undefined;
  retention: { mode: string; retainUntilTime: string } | undefined;
  created: Date;
  deleted: Date | undefined;
}

interface Session {
  bucket: string;
  meta: Record<string, unknown>;
  name: string;
  ifGenerationMatch: string | null;
  chunks: Buffer[];
  received: number;
}

export class FakeGcs {
  token = 'test-token';
  url = '';
  /** Objects a list page holds when the request does not say (`maxResults`); small values test paging. */
  listPageSize = 1000;
  /** Every request: method, path and query, status. */
  readonly requests: Array<{ method: string; url: string; status: number }> = [];
  private readonly buckets = new Map<string, { options: FakeBucketOptions; objects: Generation[] }>();
  private readonly sessions = new Map<string, Session>();
  private nextGeneration = 1_700_000_000_000_000;
  private failures: { status: number; times: number } | undefined;
  private server: Server | undefined;

  bucket(name: string, options: FakeBucketOptions = {}): this {
    this.buckets.set(name, { options, objects: [] });
    return this;
  }

  /** The live generation's bytes (undefined when none). */
  read(bucket: string, name: string): Buffer | undefined {
    return this.live(bucket, name)?.bytes;
  }

  /** Names of the live objects of a bucket, sorted. */
  names(bucket: string): string[] {
    return [...new Set((this.buckets.get(bucket)?.objects ?? []).filter((o) => o.deleted === undefined).map((o) => o.name))].sort();
  }

  /** Every generation of a name, oldest first. */
  generations(bucket: string, name: string): Array<{ generation: string; bytes: Buffer; metadata?: Record<string, string>; retention?: { mode: string; retainUntilTime: string }; live: boolean }> {
    return (this.buckets.get(bucket)?.objects ?? [])
      .filter((o) => o.name === name)
      .map((o) => ({ generation: String(o.generation), bytes: o.bytes, ...(o.metadata ? { metadata: o.metadata } : {}), ...(o.retention ? { retention: o.retention } : {}), live: o.deleted === undefined }));
  }

  /** Puts an object directly (a source bucket's content), a new generation over the live one. */
  put(bucket: string, name: string, bytes: Buffer | string): this {
    this.store(bucket, name, Buffer.from(bytes), 'application/octet-stream', undefined, undefined);
    return this;
  }

  /** Changes the live generation's bytes in place, behind the API. */
  tamper(bucket: string, name: string, bytes: Buffer | string): void {
    const live = this.live(bucket, name);
    if (!live) throw new Error(`no live object ${name} to tamper with`);
    live.bytes = Buffer.from(bytes);
  }

  failNext(status: number, times: number): this {
    this.failures = { status, times };
    return this;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const status = this.answer(req, Buffer.concat(chunks), res);
        this.requests.push({ method: req.method ?? '', url: req.url ?? '', status });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private answer(req: IncomingMessage, body: Buffer, res: ServerResponse): number {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const send = (status: number, doc?: unknown, headers: Record<string, string> = {}): number => {
      res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
      res.end(doc === undefined ? '' : JSON.stringify(doc, null, 1));
      return status;
    };
    if (req.headers.authorization !== `Bearer ${this.token}`) return send(401, googleError(401, 'Invalid Credentials', 'authError'));
    if (this.failures && this.failures.times > 0) {
      this.failures.times -= 1;
      return send(this.failures.status, googleError(this.failures.status, 'Backend Error', 'backendError'));
    }
    const q = url.searchParams;
    let m = /^\/storage\/v1\/b\/([^/]+)$/.exec(url.pathname);
    if (m && method === 'GET') {
      const b = this.buckets.get(decodeURIComponent(m[1]!));
      if (!b) return send(404, googleError(404, 'The specified bucket does not exist.', 'notFound'));
      return send(200, this.bucketResource(decodeURIComponent(m[1]!), b.options));
    }
    m = /^\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname);
    if (m && method === 'GET') return this.list(decodeURIComponent(m[1]!), q, send);
    m = /^\/storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(url.pathname);
    if (m && (method === 'GET' || method === 'PATCH')) {
      const bucket = decodeURIComponent(m[1]!);
      const name = decodeURIComponent(m[2]!);
      if (!this.buckets.has(bucket)) return send(404, googleError(404, 'The specified bucket does not exist.', 'notFound'));
      const gen = q.get('generation');
      const o = gen === null ? this.live(bucket, name) : this.buckets.get(bucket)!.objects.find((x) => x.name === name && String(x.generation) === gen);
      if (!o) return send(404, googleError(404, `No such object: ${bucket}/${name}`, 'notFound'));
      if (method === 'PATCH') {
        const want = q.get('ifMetagenerationMatch');
        if (want !== null && want !== String(o.metageneration)) return send(412, preconditionFailed());
        const patch = JSON.parse(body.toString('utf8') || '{}') as { metadata?: Record<string, string> };
        o.metadata = { ...o.metadata, ...patch.metadata };
        o.metageneration += 1;
        return send(200, this.resource(bucket, o));
      }
      if (q.get('alt') === 'media') {
        res.writeHead(200, { 'content-type': o.contentType, 'x-goog-generation': String(o.generation), 'content-length': String(o.bytes.length) });
        res.end(o.bytes);
        return 200;
      }
      return send(200, this.resource(bucket, o));
    }
    m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname);
    if (m && (method === 'POST' || method === 'PUT')) return this.upload(decodeURIComponent(m[1]!), method, q, req, body, send);
    return send(404, googleError(404, `the fake does not answer ${method} ${url.pathname}`, 'notFound'));
  }

  private upload(bucket: string, method: string, q: URLSearchParams, req: IncomingMessage, body: Buffer, send: (status: number, doc?: unknown, headers?: Record<string, string>) => number): number {
    if (!this.buckets.has(bucket)) return send(404, googleError(404, 'The specified bucket does not exist.', 'notFound'));
    const type = q.get('uploadType');
    if (method === 'PUT') {
      const session = this.sessions.get(q.get('upload_id') ?? '');
      if (!session || type !== 'resumable') return send(404, googleError(404, 'No such upload session', 'notFound'));
      const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(req.headers['content-range'] ?? ''));
      const empty = /^bytes \*\/(\d+)$/.exec(String(req.headers['content-range'] ?? ''));
      if (range) {
        if (Number(range[1]) !== session.received || Number(range[2]) - Number(range[1]) + 1 !== body.length) return send(400, googleError(400, 'Invalid Content-Range', 'invalid'));
        session.chunks.push(body);
        session.received += body.length;
      } else if (!empty) return send(400, googleError(400, 'Missing Content-Range', 'invalid'));
      const total = range ? range[3] : empty![1];
      if (total === '*') return send(308, undefined, { range: `bytes=0-${session.received - 1}` });
      if (Number(total) !== session.received) return send(400, googleError(400, 'Upload incomplete', 'invalid'));
      this.sessions.delete(q.get('upload_id')!);
      return this.finish(bucket, session.name, Buffer.concat(session.chunks), session.meta, session.ifGenerationMatch, send);
    }
    if (type === 'media') {
      const name = q.get('name');
      if (!name) return send(400, googleError(400, 'Required parameter: name', 'required'));
      return this.finish(bucket, name, body, { contentType: req.headers['content-type'] }, q.get('ifGenerationMatch'), send);
    }
    if (type === 'multipart') {
      const boundary = /boundary="?([^";]+)"?/.exec(String(req.headers['content-type'] ?? ''))?.[1];
      if (!boundary) return send(400, googleError(400, 'multipart upload needs a boundary', 'invalid'));
      const parts = splitMultipart(body, boundary);
      if (parts.length !== 2) return send(400, googleError(400, `multipart upload needs 2 parts, got ${parts.length}`, 'invalid'));
      const meta = JSON.parse(parts[0]!.body.toString('utf8')) as Record<string, unknown>;
      const name = (meta.name as string | undefined) ?? q.get('name');
      if (!name) return send(400, googleError(400, 'Required parameter: name', 'required'));
      return this.finish(bucket, name, parts[1]!.body, { ...meta, contentType: meta.contentType ?? parts[1]!.type }, q.get('ifGenerationMatch'), send);
    }
    if (type === 'resumable') {
      const meta = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
      const name = (meta.name as string | undefined) ?? q.get('name');
      if (!name) return send(400, googleError(400, 'Required parameter: name', 'required'));
      const id = randomUUID();
      this.sessions.set(id, { bucket, meta, name, ifGenerationMatch: q.get('ifGenerationMatch'), chunks: [], received: 0 });
      return send(200, undefined, { location: `${this.url}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=resumable&upload_id=${id}` });
    }
    return send(400, googleError(400, `uploadType ${type} is not supported`, 'invalid'));
  }

  private finish(bucket: string, name: string, bytes: Buffer, meta: Record<string, unknown>, ifGenerationMatch: string | null, send: (status: number, doc?: unknown) => number): number {
    const live = this.live(bucket, name);
    if (ifGenerationMatch !== null && ifGenerationMatch !== (live ? String(live.generation) : '0')) return send(412, preconditionFailed());
    if (live) {
      const until = this.retainedUntil(bucket, live);
      if (until !== undefined && until.getTime() > Date.now()) {
        return send(403, googleError(403, `Object '${bucket}/${name}' is subject to bucket's retention policy or object retention and cannot be deleted or overwritten until ${until.toISOString()}`, 'retentionPolicyNotMet'));
      }
    }
    const retention = meta.retention as { mode: string; retainUntilTime: string } | undefined;
    if (retention && !this.buckets.get(bucket)!.options.objectRetention) {
      return send(400, googleError(400, 'Object retention is not enabled on this bucket', 'invalid'));
    }
    const o = this.store(bucket, name, bytes, String(meta.contentType ?? 'application/octet-stream'), meta.metadata as Record<string, string> | undefined, retention);
    return send(200, this.resource(bucket, o));
  }

  private store(bucket: string, name: string, bytes: Buffer, contentType: string, metadata: Record<string, string> | undefined, retention: Generation['retention']): Generation {
    const b = this.buckets.get(bucket);
    if (!b) throw new Error(`no bucket ${bucket}`);
    const live = this.live(bucket, name);
    if (live) {
      if (b.options.versioning) live.deleted = new Date();
      else b.objects.splice(b.objects.indexOf(live), 1);
    }
    this.nextGeneration += 1;
    const o: Generation = { name, generation: this.nextGeneration, metageneration: 1, bytes, contentType, metadata, retention, created: new Date(), deleted: undefined };
    b.objects.push(o);
    return o;
  }

  private list(bucket: string, q: URLSearchParams, send: (status: number, doc?: unknown) => number): number {
    const b = this.buckets.get(bucket);
    if (!b) return send(404, googleError(404, 'The specified bucket does not exist.', 'notFound'));
    const prefix = q.get('prefix') ?? '';
    const versions = q.get('versions') === 'true';
    const max = Math.min(Number(q.get('maxResults') ?? this.listPageSize), 1000);
    const start = Number(q.get('pageToken') ?? 0);
    const all = b.objects
      .filter((o) => o.name.startsWith(prefix) && (versions || o.deleted === undefined))
      .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : x.generation - y.generation));
    const items = all.slice(start, start + max).map((o) => this.resource(bucket, o));
    return send(200, { kind: 'storage#objects', ...(start + max < all.length ? { nextPageToken: String(start + max) } : {}), ...(items.length > 0 ? { items } : {}) });
  }

  private live(bucket: string, name: string): Generation | undefined {
    return this.buckets.get(bucket)?.objects.find((o) => o.name === name && o.deleted === undefined);
  }

  private retainedUntil(bucket: string, o: Generation): Date | undefined {
    const seconds = this.buckets.get(bucket)!.options.retentionSeconds;
    const times = [
      ...(seconds === undefined ? [] : [o.created.getTime() + seconds * 1000]),
      ...(o.retention ? [Date.parse(o.retention.retainUntilTime)] : []),
    ];
    return times.length === 0 ? undefined : new Date(Math.max(...times));
  }

  private bucketResource(name: string, options: FakeBucketOptions): Record<string, unknown> {
    return {
      kind: 'storage#bucket',
      id: name,
      name,
      projectNumber: '123456789012',
      metageneration: '1',
      location: 'EU',
      storageClass: 'STANDARD',
      etag: 'CAE=',
      timeCreated: '2026-01-01T00:00:00.000Z',
      updated: '2026-01-01T00:00:00.000Z',
      ...(options.versioning ? { versioning: { enabled: true } } : {}),
      ...(options.retentionSeconds === undefined ? {} : { retentionPolicy: { retentionPeriod: String(options.retentionSeconds), effectiveTime: '2026-01-01T00:00:00.000Z', ...(options.retentionLocked ? { isLocked: true } : {}) } }),
      ...(options.objectRetention ? { objectRetention: { mode: 'Enabled' } } : {}),
    };
  }

  private resource(bucket: string, o: Generation): Record<string, unknown> {
    const seconds = this.buckets.get(bucket)!.options.retentionSeconds;
    const path = `b/${encodeURIComponent(bucket)}/o/${encodeURIComponent(o.name)}`;
    return {
      kind: 'storage#object',
      id: `${bucket}/${o.name}/${o.generation}`,
      selfLink: `${this.url}/storage/v1/${path}`,
      mediaLink: `${this.url}/download/storage/v1/${path}?generation=${o.generation}&alt=media`,
      name: o.name,
      bucket,
      generation: String(o.generation),
      metageneration: String(o.metageneration),
      contentType: o.contentType,
      storageClass: 'STANDARD',
      size: String(o.bytes.length),
      md5Hash: createHash('md5').update(o.bytes).digest('base64'),
      crc32c: crc32c(o.bytes).toString('base64'),
      etag: Buffer.from(`${o.generation}/${o.metageneration}`).toString('base64'),
      timeCreated: o.created.toISOString(),
      updated: o.created.toISOString(),
      timeStorageClassUpdated: o.created.toISOString(),
      ...(o.metadata ? { metadata: o.metadata } : {}),
      ...(o.retention ? { retention: o.retention } : {}),
      ...(seconds === undefined ? {} : { retentionExpirationTime: new Date(o.created.getTime() + seconds * 1000).toISOString() }),
      ...(o.deleted ? { timeDeleted: o.deleted.toISOString() } : {}),
    };
  }
}

function googleError(code: number, message: string, reason: string): Record<string, unknown> {
  return { error: { code, message, errors: [{ message, domain: 'global', reason }] } };
}

function preconditionFailed(): Record<string, unknown> {
  const message = 'At least one of the pre-conditions you specified did not hold.';
  return { error: { code: 412, message, errors: [{ message, domain: 'global', reason: 'conditionNotMet', locationType: 'header', location: 'If-Match' }] } };
}

function splitMultipart(body: Buffer, boundary: string): Array<{ type: string; body: Buffer }> {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Array<{ type: string; body: Buffer }> = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    const raw = body.subarray(start + 2, next - 2); // after CRLF, before CRLF--boundary
    const split = raw.indexOf('\r\n\r\n');
    const headers = raw.subarray(0, split).toString('utf8');
    parts.push({ type: /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1] ?? '', body: raw.subarray(split + 4) });
    at = next;
  }
  return parts;
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC32C (Castagnoli), big-endian, as GCS reports it. */
function crc32c(bytes: Buffer): Buffer {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC32C_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((c ^ 0xffffffff) >>> 0);
  return out;
}
