/**
 * An in-memory ObjectStore with the port's written behaviour, for core use-case tests:
 * - putImmutable and copyFrom are write-once (same bytes: `created: false`; other bytes: WriteOnceViolationError);
 * - copyFrom copies from `sources` (bucket → key → bytes), a stand-in for a server-side copy; a missing source is an
 *   AcquisitionError, and `failCopies` makes chosen source keys fail with a given error;
 * - appendLog appends; `conflictOnNextAppends(n)` makes the next n appends throw ConcurrentWriteError after
 *   `interloper` (if set) appended its own text first, as another writer would have.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { AcquisitionError, ConcurrentWriteError, ObjectNotFoundError, WriteOnceViolationError } from '../../shared/errors.ts';
import type { CopySource, ObjectStore, PutOptions, PutResult, StoredObject } from '../../shared/ports/object-store.ts';

export class MemoryObjectStore implements ObjectStore {
  readonly uri = 'memory://evidence';
  readonly objects = new Map<string, Buffer>();
  /** Source buckets copyFrom reads: bucket → key → bytes. */
  readonly sources = new Map<string, Map<string, Buffer>>();
  /** Source `bucket/key` → error its copy throws. */
  readonly failCopies = new Map<string, Error>();
  readonly calls = { putImmutable: 0, copyFrom: 0, appendLog: 0 };
  private conflicts = 0;
  /** Text another writer appends just before a conflicting append fails. */
  interloper: ((key: string) => string | undefined) | undefined;

  constructor(private readonly withCopy = true) {
    if (!withCopy) (this as { copyFrom?: unknown }).copyFrom = undefined;
  }

  /** Adds a source object for copyFrom. */
  addSource(bucket: string, key: string, body: string | Buffer): void {
    const b = this.sources.get(bucket) ?? new Map<string, Buffer>();
    b.set(key, Buffer.from(body));
    this.sources.set(bucket, b);
  }

  /** The next `n` appendLog calls fail with ConcurrentWriteError. */
  conflictOnNextAppends(n: number): void {
    this.conflicts = n;
  }

  text(key: string): string | undefined {
    return this.objects.get(key)?.toString('utf8');
  }

  async putImmutable(key: string, body: Readable | Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    this.calls.putImmutable += 1;
    const bytes = body instanceof Uint8Array ? Buffer.from(body) : Buffer.concat(await collect(body));
    return this.store(key, bytes, options);
  }

  async get(key: string): Promise<Readable> {
    const bytes = this.objects.get(key);
    if (bytes === undefined) throw new ObjectNotFoundError(key);
    return Readable.from([bytes]);
  }

  async readText(key: string): Promise<string | undefined> {
    return this.text(key);
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    for (const key of [...this.objects.keys()].sort()) if (key.startsWith(prefix)) yield { key, size: this.objects.get(key)!.byteLength };
  }

  async appendLog(key: string, text: string): Promise<void> {
    this.calls.appendLog += 1;
    if (this.conflicts > 0) {
      this.conflicts -= 1;
      const other = this.interloper?.(key);
      if (other !== undefined) this.objects.set(key, Buffer.concat([this.objects.get(key) ?? Buffer.alloc(0), Buffer.from(other)]));
      throw new ConcurrentWriteError(key);
    }
    this.objects.set(key, Buffer.concat([this.objects.get(key) ?? Buffer.alloc(0), Buffer.from(text)]));
  }

  async lock(): Promise<() => Promise<void>> {
    return async () => {};
  }

  async exists(): Promise<boolean> {
    return true;
  }

  async copyFrom(source: CopySource, key: string, options: PutOptions = {}): Promise<PutResult> {
    this.calls.copyFrom += 1;
    const failure = this.failCopies.get(`${source.bucket}/${source.key}`);
    if (failure) throw failure;
    const bytes = this.sources.get(source.bucket)?.get(source.key);
    if (bytes === undefined) throw new AcquisitionError(`cannot copy s3://${source.bucket}/${source.key}: NoSuchKey`, `s3://${source.bucket}/${source.key}`);
    return this.store(key, bytes, options);
  }

  private store(key: string, bytes: Buffer, options: PutOptions): PutResult {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const existing = this.objects.get(key);
    if (existing !== undefined) {
      const existingSha = createHash('sha256').update(existing).digest('hex');
      if (existingSha !== sha256) throw new WriteOnceViolationError(key, existingSha, sha256);
      return { key, size: bytes.byteLength, sha256, created: false };
    }
    this.objects.set(key, bytes);
    return { key, size: bytes.byteLength, sha256, created: true, ...(options.retainUntil ? { retainUntil: options.retainUntil.toISOString() } : {}) };
  }
}

async function collect(stream: Readable): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
  return chunks;
}
