/**
 * The ObjectStore port on Cloud Storage (JSON API over plain REST): the evidence bucket, write-once through
 * `ifGenerationMatch=0`, with retention from the bucket's (locked) retention policy or Object Retention Lock.
 *
 * - Hashing: Amber hashes every byte as it passes on its way up (GCS itself reports only MD5 and CRC32C) and
 *   records that SHA-256 as the object's `amber-sha256` metadata: in the upload itself for bodies up to
 *   SINGLE_UPLOAD_LIMIT (one multipart request), with a metadata patch right after a resumable upload for larger
 *   ones (the hash is only known at the end).
 * - Write-once: an upload carries `ifGenerationMatch=0`, so GCS refuses it (412) when a live object holds the
 *   key; Amber then compares its hash of the incoming bytes with the stored object's: same bytes → idempotent
 *   (`created: false`), other bytes → WriteOnceViolationError, the stored object untouched. A key whose live
 *   object was deleted in a versioned bucket still counts as taken by its newest noncurrent generation.
 * - Ledger: `appendLog` reads the object and its generation and writes old + new bytes with
 *   `ifGenerationMatch=<that generation>`: a compare-and-swap; another writer in between → ConcurrentWriteError,
 *   nothing written. `lock` is a documented no-op.
 * - Plain REST rather than @google-cloud/storage: the library does not expose the single-pass hash of what it
 *   uploads, and keeps its own retries around preconditions; REST keeps each request's precondition explicit and
 *   the CLI's start-up free of the library.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { ConcurrentWriteError, InvalidInputError, ObjectNotFoundError, StoreError, WriteOnceViolationError } from '../../../shared/errors.ts';
import type { ObjectStore, PutOptions, PutResult, StoredObject } from '../../../shared/ports/object-store.ts';
import { describeGoogleError, GcpHttpError, RETRYABLE_STATUS, sendWithRetry, type RawResponse, type RetryPolicy, type TokenProvider } from './gcp-http.ts';

/** The public endpoint of the Cloud Storage JSON API. */
export const GCS_URL = 'https://storage.googleapis.com';
/** The OAuth scope for reading and writing objects. */
export const GCS_SCOPE = 'https://www.googleapis.com/auth/devstorage.read_write';
/** Object metadata key holding the hex SHA-256 Amber computed. */
export const SHA256_METADATA = 'amber-sha256';
const MiB = 1024 * 1024;
/** Bodies up to this size go up in one multipart request carrying the SHA-256 metadata. */
export const SINGLE_UPLOAD_LIMIT = 8 * MiB;
/** Resumable upload chunk: a multiple of 256 KiB, as the API requires. */
export const CHUNK_SIZE = 8 * MiB;
const HEX_SHA256 = /^[0-9a-f]{64}$/;
const BUCKET = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;

export interface GcsObjectStoreOptions {
  /** The evidence bucket. */
  readonly bucket: string;
  /** Gives the access token (scope GCS_SCOPE). */
  readonly token: TokenProvider;
  /**
   * Object name prefix every key lives under; a trailing `/` is added when missing.
   * @default '' (keys at the bucket root)
   */
  readonly prefix?: string;
  /**
   * Endpoint (AMBER_GCS_URL, or http://$STORAGE_EMULATOR_HOST).
   * @default GCS_URL
   */
  readonly baseUrl?: string;
  /** Retries of 429/5xx. */
  readonly retry?: RetryPolicy;
}

/** What the bucket offers, read once. */
export interface GcsBucketCapabilities {
  readonly versioning: boolean;
  /** The bucket retention policy in seconds, when it has one, and whether it is locked. */
  readonly retentionSeconds?: number;
  readonly retentionLocked: boolean;
  /** Object Retention Lock enabled: each object can carry its own locked retain-until time. */
  readonly objectRetention: boolean;
}

/** The JSON API's object resource, the fields Amber reads. */
export interface GcsObject {
  readonly name: string;
  readonly generation: string;
  readonly metageneration?: string;
  readonly size?: string;
  readonly metadata?: Record<string, string>;
  readonly retention?: { readonly mode?: string; readonly retainUntilTime?: string };
  readonly retentionExpirationTime?: string;
  readonly timeDeleted?: string;
  readonly timeCreated?: string;
  readonly md5Hash?: string;
  readonly crc32c?: string;
}

/** `gs://bucket[/prefix]` split, refusing what is not a bucket name. */
export function parseGsUri(uri: string): { bucket: string; prefix: string } {
  const m = /^gs:\/\/([^/]+)(?:\/(.*))?$/.exec(uri);
  if (!m || !BUCKET.test(m[1]!)) {
    throw new InvalidInputError(`${JSON.stringify(uri)} is not a Cloud Storage location`, { hint: 'write it as gs://bucket or gs://bucket/prefix (bucket names: lowercase letters, digits, -, _ and .)' });
  }
  return { bucket: m[1]!, prefix: m[2] ?? '' };
}

/** Cloud Storage as Amber's write-once evidence store. */
export class GcsObjectStore implements ObjectStore {
  readonly uri: string;
  readonly bucket: string;
  readonly prefix: string;
  private readonly base: string;
  private capabilitiesPromise: Promise<GcsBucketCapabilities> | undefined;

  constructor(private readonly options: GcsObjectStoreOptions) {
    parseGsUri(`gs://${options.bucket}`);
    this.bucket = options.bucket;
    const p = (options.prefix ?? '').replace(/^\/+/, '');
    this.prefix = p === '' || p.endsWith('/') ? p : `${p}/`;
    this.uri = this.prefix === '' ? `gs://${this.bucket}` : `gs://${this.bucket}/${this.prefix.slice(0, -1)}`;
    this.base = (options.baseUrl ?? GCS_URL).replace(/\/+$/, '');
  }

  /** Creates a store and reads the bucket's retention and versioning (failing here when the bucket is missing). */
  static async open(options: GcsObjectStoreOptions): Promise<GcsObjectStore> {
    const store = new GcsObjectStore(options);
    await store.capabilities();
    return store;
  }

  /** Versioning and retention of the bucket (read on first use, then cached). */
  capabilities(): Promise<GcsBucketCapabilities> {
    if (this.capabilitiesPromise === undefined) {
      this.capabilitiesPromise = this.readCapabilities();
      this.capabilitiesPromise.catch(() => {
        this.capabilitiesPromise = undefined;
      });
    }
    return this.capabilitiesPromise;
  }

  async putImmutable(key: string, body: Readable | Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    const name = this.name(key);
    const caps = await this.capabilities();
    const existing = await this.findExisting(name, caps);
    if (existing !== undefined) return this.settleExisting(key, existing, await hashBody(body, options.onProgress));

    const retention = caps.objectRetention && options.retainUntil ? { mode: 'Locked', retainUntilTime: options.retainUntil.toISOString() } : undefined;
    const meta = (sha256?: string) => ({
      name,
      contentType: options.mediaType ?? 'application/octet-stream',
      ...(sha256 ? { metadata: { [SHA256_METADATA]: sha256 } } : {}),
      ...(retention ? { retention } : {}),
    });
    const probe = await bufferUpTo(body, SINGLE_UPLOAD_LIMIT, options.onProgress);
    let stored: GcsObject;
    let hashed: Hashed | undefined;
    try {
      if (probe.complete) {
        const bytes = Buffer.concat(probe.chunks);
        hashed = { size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
        stored = await this.uploadMultipart(meta(hashed.sha256), bytes, '0');
      } else {
        ({ stored, hashed } = await this.uploadResumable(meta(), probe, options.onProgress));
        try {
          stored = await this.recordSha256(stored, hashed.sha256);
        } catch {
          // The bytes are stored whole and Amber's hash of them goes into the manifest; the metadata copy is a
          // convenience, and a later re-acquisition hashes the stored bytes when it is missing.
        }
      }
    } catch (err) {
      if (err instanceof BodyFailed) throw err.cause;
      if (err instanceof GcpHttpError && err.status === 412) {
        // Another writer created the key between the look-up and the upload: settle against what it stored.
        const winner = await this.findExisting(name, caps);
        const incoming = hashed ?? (err as GcpHttpError & { hashed?: Hashed }).hashed ?? (await hashBody(Readable.from(bytesOf(probe))));
        if (winner !== undefined) return this.settleExisting(key, winner, incoming);
      }
      throw this.storeError(err, 'upload', name);
    }
    return { key, size: hashed.size, sha256: hashed.sha256, created: true, versionId: stored.generation, ...retainUntilOf(stored) };
  }

  async get(key: string, versionId?: string): Promise<Readable> {
    const name = this.name(key);
    const url = `${this.objectUrl(name)}?alt=media${versionId === undefined ? '' : `&generation=${encodeURIComponent(versionId)}`}`;
    const policy = this.options.retry ?? {};
    const attempts = policy.attempts ?? 6;
    for (let attempt = 1; ; attempt += 1) {
      let response: Response;
      try {
        response = await fetch(url, { headers: await this.headers() });
      } catch (err) {
        if (attempt >= attempts) throw this.storeError(err, 'read', name, versionId);
        await (policy.sleep ?? sleepMs)((policy.baseMs ?? 1000) * 2 ** (attempt - 1));
        continue;
      }
      if (response.ok && response.body) return Readable.fromWeb(response.body as WebReadableStream);
      const bodyBytes = Buffer.from(await response.arrayBuffer());
      if (response.status === 404) {
        throw new ObjectNotFoundError(key, { hint: `nothing at ${this.target(name, versionId)}; list the case to see what is kept`, cause: new GcpHttpError(404, bodyBytes, attempt) });
      }
      if (!RETRYABLE_STATUS.has(response.status) || attempt >= attempts) throw this.storeError(new GcpHttpError(response.status, bodyBytes, attempt), 'read', name, versionId);
      await (policy.sleep ?? sleepMs)((policy.baseMs ?? 1000) * 2 ** (attempt - 1));
    }
  }

  async readText(key: string): Promise<string | undefined> {
    const read = await this.readWithGeneration(this.name(key));
    return read?.bytes.toString('utf8');
  }

  /** Every live object under a prefix, and in a versioned bucket each deleted one by its newest generation (marked `deleteMarkerOnTop`). */
  async *list(prefix: string): AsyncIterable<StoredObject> {
    const caps = await this.capabilities();
    if (!caps.versioning) {
      for await (const o of this.objects(this.prefix + prefix, false)) yield this.stored(o, false);
      return;
    }
    // Versions of one name come together, oldest first: the live one (no timeDeleted) wins, else the newest.
    let current: { name: string; newest: GcsObject; live?: GcsObject } | undefined;
    for await (const o of this.objects(this.prefix + prefix, true)) {
      if (current !== undefined && current.name !== o.name) {
        yield this.stored(current.live ?? current.newest, current.live === undefined);
        current = undefined;
      }
      current ??= { name: o.name, newest: o };
      if (BigInt(o.generation) >= BigInt(current.newest.generation)) current.newest = o;
      if (o.timeDeleted === undefined) current.live = o;
    }
    if (current !== undefined) yield this.stored(current.live ?? current.newest, current.live === undefined);
  }

  /** Every generation of every object under a prefix (noncurrent ones included), by name then generation. */
  async *listGenerations(prefix: string): AsyncIterable<StoredObject & { readonly live: boolean }> {
    for await (const o of this.objects(this.prefix + prefix, true)) yield { ...this.stored(o, false), live: o.timeDeleted === undefined };
  }

  /**
   * Appends by writing old bytes + `text` as a new generation, conditional on the generation read
   * (`ifGenerationMatch`; 0 when the log is new). When another writer got in first GCS answers 412 and this throws
   * ConcurrentWriteError, having written nothing. The ledger object is written without retention (a retained
   * object could not be replaced); its history stays detectable through the hash chain and the anchors, and in a
   * versioned bucket each earlier generation is kept as a noncurrent version.
   */
  async appendLog(key: string, text: string): Promise<void> {
    const name = this.name(key);
    const read = await this.readWithGeneration(name);
    const next = Buffer.concat([read?.bytes ?? Buffer.alloc(0), Buffer.from(text, 'utf8')]);
    try {
      await this.uploadMultipart({ name, contentType: 'text/plain; charset=utf-8' }, next, read?.generation ?? '0');
    } catch (err) {
      if (err instanceof GcpHttpError && err.status === 412) throw new ConcurrentWriteError(this.target(name), { cause: err });
      throw this.storeError(err, 'append to', name);
    }
  }

  /** GCS has no lock primitive Amber uses: a documented no-op; write-once keys and the compare-and-swap appendLog keep a case consistent. */
  async lock(_name: string): Promise<() => Promise<void>> {
    return async () => {};
  }

  async exists(): Promise<boolean> {
    try {
      await this.capabilities();
      return true;
    } catch (err) {
      if (err instanceof InvalidInputError) return false;
      throw err;
    }
  }

  private async readCapabilities(): Promise<GcsBucketCapabilities> {
    let response: RawResponse;
    try {
      response = await this.send(`${this.base}/storage/v1/b/${encodeURIComponent(this.bucket)}?fields=versioning,retentionPolicy,objectRetention`, 'GET');
    } catch (err) {
      if (err instanceof GcpHttpError && err.status === 404) {
        throw new InvalidInputError(`the bucket gs://${this.bucket} does not exist`, { hint: 'create it first (with a retention policy or Object Retention Lock for evidence), or check the name', cause: err });
      }
      throw this.storeError(err, 'read the settings of', '');
    }
    const doc = JSON.parse(response.body.toString('utf8')) as {
      versioning?: { enabled?: boolean };
      retentionPolicy?: { retentionPeriod?: string; isLocked?: boolean };
      objectRetention?: { mode?: string };
    };
    const seconds = Number(doc.retentionPolicy?.retentionPeriod);
    return {
      versioning: doc.versioning?.enabled === true,
      ...(Number.isFinite(seconds) && seconds > 0 ? { retentionSeconds: seconds } : {}),
      retentionLocked: doc.retentionPolicy?.isLocked === true,
      objectRetention: doc.objectRetention?.mode === 'Enabled',
    };
  }

  /** The live object under a name, or in a versioned bucket the newest generation of a deleted one. */
  private async findExisting(name: string, caps: GcsBucketCapabilities): Promise<GcsObject | undefined> {
    const live = await this.metadata(name);
    if (live !== undefined || !caps.versioning) return live;
    let newest: GcsObject | undefined;
    for await (const o of this.objects(name, true)) {
      if (o.name === name && (newest === undefined || BigInt(o.generation) > BigInt(newest.generation))) newest = o;
    }
    return newest;
  }

  private async settleExisting(key: string, existing: GcsObject, incoming: Hashed): Promise<PutResult> {
    const recorded = existing.metadata?.[SHA256_METADATA];
    const stored = recorded !== undefined && HEX_SHA256.test(recorded) ? recorded : (await hashBody(await this.get(key, existing.generation))).sha256;
    if (stored !== incoming.sha256) throw new WriteOnceViolationError(key, stored, incoming.sha256);
    return { key, size: incoming.size, sha256: incoming.sha256, created: false, versionId: existing.generation, ...retainUntilOf(existing) };
  }

  private async metadata(name: string): Promise<GcsObject | undefined> {
    try {
      const response = await this.send(this.objectUrl(name), 'GET');
      return JSON.parse(response.body.toString('utf8')) as GcsObject;
    } catch (err) {
      if (err instanceof GcpHttpError && err.status === 404) return undefined;
      throw this.storeError(err, 'look up', name);
    }
  }

  private async readWithGeneration(name: string): Promise<{ bytes: Buffer; generation: string } | undefined> {
    const meta = await this.metadata(name);
    if (meta === undefined) return undefined;
    try {
      // The bytes of exactly the generation looked up, so the compare-and-swap covers what was read.
      const response = await this.send(`${this.objectUrl(name)}?alt=media&generation=${meta.generation}`, 'GET');
      return { bytes: response.body, generation: meta.generation };
    } catch (err) {
      if (err instanceof GcpHttpError && err.status === 404) return undefined;
      throw this.storeError(err, 'read', name, meta.generation);
    }
  }

  /** The object resources under a raw prefix (no store prefix added; `logs` also matches `logs-old/`), live ones or every generation. */
  listObjects(prefix: string, versions: boolean): AsyncIterable<GcsObject> {
    return this.objects(prefix, versions);
  }

  /** Reads one generation of an object named in full (no store prefix added). */
  openObject(name: string, generation: string): Promise<Readable> {
    return this.get(name.slice(this.prefix.length), generation);
  }

  private async *objects(prefix: string, versions: boolean): AsyncGenerator<GcsObject> {
    let pageToken: string | undefined;
    do {
      const q = new URLSearchParams({ prefix, ...(versions ? { versions: 'true' } : {}), ...(pageToken ? { pageToken } : {}) });
      let response: RawResponse;
      try {
        response = await this.send(`${this.base}/storage/v1/b/${encodeURIComponent(this.bucket)}/o?${q.toString()}`, 'GET');
      } catch (err) {
        throw this.storeError(err, 'list', prefix);
      }
      const doc = JSON.parse(response.body.toString('utf8')) as { items?: GcsObject[]; nextPageToken?: string };
      for (const o of doc.items ?? []) yield o;
      pageToken = doc.nextPageToken;
    } while (pageToken);
  }

  private async uploadMultipart(meta: Record<string, unknown>, bytes: Buffer, ifGenerationMatch: string): Promise<GcsObject> {
    const boundary = `amber-${createHash('sha256').update(bytes).digest('hex').slice(0, 24)}`;
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\ncontent-type: application/json; charset=UTF-8\r\n\r\n${JSON.stringify(meta)}\r\n--${boundary}\r\ncontent-type: ${String(meta.contentType)}\r\n\r\n`),
      bytes,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const url = `${this.base}/upload/storage/v1/b/${encodeURIComponent(this.bucket)}/o?uploadType=multipart&ifGenerationMatch=${ifGenerationMatch}`;
    const response = await this.send(url, 'POST', body, `multipart/related; boundary=${boundary}`);
    return JSON.parse(response.body.toString('utf8')) as GcsObject;
  }

  /** A resumable upload, hashing each chunk as it goes up; the session is abandoned (nothing created) on failure. */
  private async uploadResumable(meta: Record<string, unknown>, probe: Probe, onProgress?: (bytes: number) => void): Promise<{ stored: GcsObject; hashed: Hashed }> {
    const start = await this.send(
      `${this.base}/upload/storage/v1/b/${encodeURIComponent(this.bucket)}/o?uploadType=resumable&ifGenerationMatch=0`,
      'POST',
      Buffer.from(JSON.stringify(meta)),
      'application/json; charset=UTF-8',
    );
    const session = start.headers.get('location');
    if (!session) throw new StoreError(`Cloud Storage opened no upload session for ${this.target(String(meta.name))}`, { hint: 'run the same command again' });
    const hash = createHash('sha256');
    let sent = 0;
    let pending = Buffer.alloc(0);
    let held: Buffer[] = [];
    let heldBytes = 0;
    const put = async (chunk: Buffer, last: boolean): Promise<RawResponse> => {
      const range = chunk.length === 0 ? `bytes */${sent}` : `bytes ${sent}-${sent + chunk.length - 1}/${last ? sent + chunk.length : '*'}`;
      const response = await this.send(session, 'PUT', chunk, 'application/octet-stream', { 'content-range': range });
      sent += chunk.length;
      return response;
    };
    let total = probe.size;
    for await (const piece of replay(probe.chunks, probe.rest)) {
      if (piece.consumedNew) {
        total += piece.chunk.length;
        onProgress?.(total);
      }
      hash.update(piece.chunk);
      held.push(piece.chunk);
      heldBytes += piece.chunk.length;
      // Strictly more than a chunk held: the last chunk (sent with the total) is never empty unless the body is.
      if (heldBytes > CHUNK_SIZE) {
        pending = Buffer.concat(held);
        while (pending.length > CHUNK_SIZE) {
          await put(pending.subarray(0, CHUNK_SIZE), false);
          pending = pending.subarray(CHUNK_SIZE);
        }
        held = [pending];
        heldBytes = pending.length;
      }
    }
    pending = Buffer.concat(held);
    const response = await put(pending, true).catch((err: unknown) => {
      if (err instanceof GcpHttpError) Object.assign(err, { hashed: { size: sent + pending.length, sha256: hash.copy().digest('hex') } });
      throw err;
    });
    return { stored: JSON.parse(response.body.toString('utf8')) as GcsObject, hashed: { size: sent, sha256: hash.digest('hex') } };
  }

  /** Records Amber's SHA-256 on an object uploaded before it was known (only the metadata changes; the bytes cannot). */
  private async recordSha256(stored: GcsObject, sha256: string): Promise<GcsObject> {
    const url = `${this.objectUrl(stored.name)}?generation=${stored.generation}&ifMetagenerationMatch=${stored.metageneration ?? '1'}`;
    const response = await this.send(url, 'PATCH', Buffer.from(JSON.stringify({ metadata: { [SHA256_METADATA]: sha256 } })), 'application/json; charset=UTF-8');
    return JSON.parse(response.body.toString('utf8')) as GcsObject;
  }

  private async send(url: string, method: string, body?: Buffer, contentType?: string, extra: Record<string, string> = {}): Promise<RawResponse> {
    return sendWithRetry(
      url,
      async () => ({
        method,
        headers: { ...(await this.headers()), ...(contentType ? { 'content-type': contentType } : {}), ...extra },
        ...(body === undefined ? {} : { body }),
        redirect: 'manual',
      }),
      this.options.retry,
    );
  }

  private async headers(): Promise<Record<string, string>> {
    return { authorization: `Bearer ${await this.options.token()}` };
  }

  private stored(o: GcsObject, deleted: boolean): StoredObject {
    return { key: o.name.slice(this.prefix.length), size: Number(o.size ?? 0), versionId: o.generation, ...(deleted ? { deleteMarkerOnTop: true } : {}) };
  }

  private name(key: string): string {
    const name = this.prefix + key;
    if (key === '' || /[\r\n]/.test(key) || Buffer.byteLength(name, 'utf8') > 1024) {
      throw new InvalidInputError(`${JSON.stringify(key)} cannot be a Cloud Storage object name`, { hint: 'object names are 1 to 1024 bytes of UTF-8 without line breaks' });
    }
    return name;
  }

  private objectUrl(name: string): string {
    return `${this.base}/storage/v1/b/${encodeURIComponent(this.bucket)}/o/${encodeURIComponent(name)}`;
  }

  private target(name: string, generation?: string): string {
    return `gs://${this.bucket}/${name}${generation === undefined ? '' : `#${generation}`}`;
  }

  private storeError(err: unknown, action: string, name: string, generation?: string): Error {
    if (err instanceof StoreError || err instanceof InvalidInputError || err instanceof ObjectNotFoundError) return err;
    const where = this.target(name, generation);
    if (err instanceof GcpHttpError) {
      const said = describeGoogleError(err.status, err.body);
      const hint =
        err.status === 401
          ? 'the access token was refused: refresh AMBER_GCP_TOKEN or the Application Default Credentials'
          : err.status === 403 && /retention/i.test(said)
            ? 'the object is under retention: evidence there cannot be replaced (which is the point); write to another key or case'
            : err.status === 403
              ? `grant the collector roles/storage.objectCreator and roles/storage.objectViewer on gs://${this.bucket} (and roles/storage.objectUser for the ledger, which is rewritten on each append)`
              : 'run the same command again; what is preserved stays as it is';
      return new StoreError(`cannot ${action} ${where}: ${said}${err.attempts > 1 ? ` (after ${err.attempts} attempts)` : ''}`, { hint, cause: err });
    }
    return new StoreError(`cannot ${action} ${where}: ${(err as Error).message}`, { hint: 'check the network and AMBER_GCS_URL, then run again', cause: err });
  }
}

interface Hashed {
  readonly size: number;
  readonly sha256: string;
}

interface Probe {
  readonly chunks: Buffer[];
  readonly size: number;
  readonly complete: boolean;
  readonly rest: AsyncIterator<unknown> | undefined;
}

/** A body stream that failed while read: the caller's origin is at fault, not the store. */
class BodyFailed extends Error {
  constructor(override readonly cause: unknown) {
    super('reading the body failed');
  }
}

function retainUntilOf(o: GcsObject): { retainUntil?: string } {
  const times = [o.retentionExpirationTime, o.retention?.retainUntilTime].filter((t): t is string => typeof t === 'string').map((t) => new Date(t));
  if (times.length === 0) return {};
  return { retainUntil: new Date(Math.max(...times.map((t) => t.getTime()))).toISOString() };
}

async function bufferUpTo(body: Readable | Uint8Array, limit: number, onProgress?: (bytes: number) => void): Promise<Probe> {
  if (body instanceof Uint8Array) {
    onProgress?.(body.byteLength);
    return { chunks: [Buffer.from(body)], size: body.byteLength, complete: true, rest: undefined };
  }
  const rest = body[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let size = 0;
  while (size <= limit) {
    let next: IteratorResult<unknown>;
    try {
      next = await rest.next();
    } catch (err) {
      throw new BodyFailed(err);
    }
    if (next.done) return { chunks, size, complete: true, rest: undefined };
    const chunk = toBuffer(next.value);
    chunks.push(chunk);
    size += chunk.length;
    onProgress?.(size);
  }
  return { chunks, size, complete: false, rest };
}

async function* replay(chunks: Buffer[], rest: AsyncIterator<unknown> | undefined): AsyncGenerator<{ chunk: Buffer; consumedNew: boolean }> {
  for (const chunk of chunks) yield { chunk, consumedNew: false };
  if (rest === undefined) return;
  for (;;) {
    let next: IteratorResult<unknown>;
    try {
      next = await rest.next();
    } catch (err) {
      throw new BodyFailed(err);
    }
    if (next.done) return;
    yield { chunk: toBuffer(next.value), consumedNew: true };
  }
}

async function* bytesOf(probe: Probe): AsyncGenerator<Buffer> {
  for await (const piece of replay(probe.chunks, probe.rest)) yield piece.chunk;
}

async function hashBody(body: Readable | Uint8Array, onProgress?: (bytes: number) => void): Promise<Hashed> {
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const raw of body instanceof Uint8Array ? [body] : body) {
      const chunk = toBuffer(raw);
      hash.update(chunk);
      size += chunk.length;
      onProgress?.(size);
    }
  } catch (err) {
    throw err instanceof BodyFailed ? err.cause : err;
  }
  return { size, sha256: hash.digest('hex') };
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw new TypeError(`expected bytes from the body stream, got ${typeof chunk}`);
}

function sleepMs(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
