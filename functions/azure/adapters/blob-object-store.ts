/**
 * The ObjectStore port on Azure Blob Storage: a container (ideally with version-level immutability, WORM)
 * as Amber's write-once evidence locker.
 *
 * - putImmutable stages the body as blocks while Amber hashes it (each block carries its MD5, which the service
 *   checks on arrival), then commits the block list with `If-None-Match: *`, so a key is created once and
 *   never replaced through Amber. The SHA-256 Amber computed is stored in the blob's metadata (`amber_sha256`).
 *   When the container has version-level immutability, the commit also sets a Locked time-based immutability
 *   policy until the retention asked for (`x-ms-immutability-policy-until-date`, `-mode: Locked`).
 * - appendLog keeps the custody ledger in an append blob; every append is conditional on the length and ETag
 *   read just before (`x-ms-blob-condition-appendpos`, `If-Match`), so a concurrent writer makes it throw
 *   ConcurrentWriteError with nothing written. One append block is atomic: a ledger line cannot tear.
 * - lock is a documented no-op (Blob Storage leases would outlive a killed process for up to a minute or, for
 *   infinite leases, forever); the conditional appends keep the ledger from forking instead.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { BlobGetPropertiesResponse, BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import {
  ConcurrentWriteError,
  InvalidInputError,
  ObjectNotFoundError,
  StoreError,
  WriteOnceViolationError,
} from '../../../shared/errors.ts';
import type { ObjectStore, PutOptions, PutResult, StoredObject } from '../../../shared/ports/object-store.ts';
import { blobErrorInfo, isBlobNotFound, toBlobStoreError } from './blob-client.ts';

const MiB = 1024 * 1024;
/** Block size staged at once: one block in memory at a time; 50,000 blocks allow objects up to 390 GiB. */
export const BLOCK_SIZE = 8 * MiB;
const MAX_BLOCKS = 50_000;
/**
 * Largest single append block: 100 MiB from service version 2022-11-02 on (this SDK sends a later one). A
 * ledger flush is at most a few hundred entries, far below; a larger write is refused, never split, because
 * a split append could be torn by a crash between its blocks.
 */
export const MAX_APPEND = 100 * MiB;
/** Metadata name holding Amber's hex SHA-256 (metadata names must be C# identifiers: no hyphen). */
export const SHA256_METADATA = 'amber_sha256';
const HEX_SHA256 = /^[0-9a-f]{64}$/;

export interface BlobObjectStoreOptions {
  /** The client of the storage account (built by blobServiceFromEnv). */
  readonly service: BlobServiceClient;
  readonly account: string;
  readonly container: string;
  /**
   * Blob name prefix every store key lives under; a trailing `/` is added when missing.
   * @default '' (keys at the container root)
   */
  readonly prefix?: string;
  /**
   * List every version (the account has blob versioning): a key whose current blob was deleted is still
   * listed, with its newest version and `deleteMarkerOnTop`.
   * @default false
   */
  readonly listVersions?: boolean;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/** What the container offers, detected once when the store opens. */
export interface BlobContainerCapabilities {
  /** Version-level immutability (WORM) is enabled: blob-level immutability policies can be set. */
  readonly immutability: boolean;
}

interface Hashed {
  readonly size: number;
  readonly sha256: string;
}

interface Committed extends Hashed {
  /** The version the commit created, when the account has blob versioning. */
  readonly versionId: string | undefined;
}

/** Azure Blob Storage as Amber's write-once evidence store. */
export class BlobObjectStore implements ObjectStore {
  readonly uri: string;
  readonly prefix: string;
  private readonly container: ContainerClient;
  private readonly base: string;
  private readonly listVersions: boolean;
  private readonly now: () => Date;
  private capabilitiesPromise: Promise<BlobContainerCapabilities> | undefined;

  constructor(options: BlobObjectStoreOptions) {
    this.prefix = normalisePrefix(options.prefix ?? '');
    this.base = `azblob://${options.account}/${options.container}`;
    this.uri = this.prefix === '' ? this.base : `${this.base}/${this.prefix.slice(0, -1)}`;
    this.container = options.service.getContainerClient(options.container);
    this.listVersions = options.listVersions ?? false;
    this.now = options.now ?? (() => new Date());
  }

  /** Creates a store and checks the container (existence, access, immutability) before returning it. */
  static async open(options: BlobObjectStoreOptions): Promise<BlobObjectStore> {
    const store = new BlobObjectStore(options);
    await store.capabilities();
    return store;
  }

  /** Whether the container has version-level immutability (read once, then cached). */
  capabilities(): Promise<BlobContainerCapabilities> {
    if (this.capabilitiesPromise === undefined) {
      this.capabilitiesPromise = this.container.getProperties().then(
        (p) => ({ immutability: p.isImmutableStorageWithVersioningEnabled === true }),
        (err: unknown) => {
          this.capabilitiesPromise = undefined;
          if (blobErrorInfo(err).code === 'ContainerNotFound' || blobErrorInfo(err).status === 404) {
            throw new StoreError(`the evidence container ${this.base} does not exist`, {
              hint: `create it with version-level immutability (az storage container-rm create --storage-account ACCOUNT --name CONTAINER --enable-vlw), or check the names in ${this.uri}`,
              cause: err,
            });
          }
          throw toBlobStoreError(err, 'open the container', this.base);
        },
      );
    }
    return this.capabilitiesPromise;
  }

  async putImmutable(key: string, body: Readable | Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    const name = this.blobName(key);
    const caps = await this.capabilities();
    const existing = await this.head(name);
    if (existing !== undefined) {
      // Re-acquisition: hash what arrives (nothing is uploaded) and compare with what the key holds.
      return this.settleExisting(key, name, existing, await hashBody(body, options.onProgress));
    }
    const retainUntil = this.retention(caps, options.retainUntil);
    let stored: Committed;
    try {
      stored = await this.stageAndCommit(name, body, options, retainUntil);
    } catch (err) {
      if (err instanceof BodyFailed) throw err.cause;
      if (err instanceof LostRace) {
        // Another writer committed the key between our check and our commit (If-None-Match: * refused ours).
        const winner = await this.head(name);
        if (winner !== undefined) return this.settleExisting(key, name, winner, err.incoming);
        throw toBlobStoreError(err.cause, 'commit', this.target(name));
      }
      throw toBlobStoreError(err, 'upload', this.target(name));
    }
    return {
      key,
      size: stored.size,
      sha256: stored.sha256,
      created: true,
      ...(stored.versionId === undefined ? {} : { versionId: stored.versionId }),
      ...(retainUntil === undefined ? {} : { retainUntil: retainUntil.toISOString() }),
    };
  }

  async get(key: string, versionId?: string): Promise<Readable> {
    const name = this.blobName(key);
    const blob = versionId === undefined ? this.container.getBlobClient(name) : this.container.getBlobClient(name).withVersion(versionId);
    try {
      const body = (await blob.download()).readableStreamBody;
      if (body === undefined) throw new StoreError(`Azure returned no body for ${this.target(name, versionId)}`, { hint: 'run again; report it if it persists' });
      return body instanceof Readable ? body : Readable.from(body as AsyncIterable<Buffer>);
    } catch (err) {
      if (err instanceof StoreError) throw err;
      if (isBlobNotFound(err)) {
        throw new ObjectNotFoundError(key, {
          hint: versionId === undefined
            ? `nothing at ${this.target(name)}; if it was deleted from a versioned account, list the case's versions and read one by its id`
            : `version ${versionId} of ${this.target(name)} does not exist; list the case to see the versions kept`,
          cause: err,
        });
      }
      throw toBlobStoreError(err, 'read', this.target(name, versionId));
    }
  }

  async readText(key: string): Promise<string | undefined> {
    const name = this.blobName(key);
    try {
      return (await this.container.getBlobClient(name).downloadToBuffer()).toString('utf8');
    } catch (err) {
      if (isBlobNotFound(err)) return undefined;
      throw toBlobStoreError(err, 'read', this.target(name));
    }
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    const listPrefix = this.prefix + prefix;
    // With versions: one entry per key, its current version, or (deleted) its newest one flagged as hidden.
    const pending = new Map<string, { newest: { versionId?: string; size: number }; current: boolean }>();
    const pages = this.container.listBlobsFlat({ prefix: listPrefix, includeVersions: this.listVersions }).byPage({ maxPageSize: 1000 });
    for (;;) {
      let page;
      try {
        page = await pages.next();
      } catch (err) {
        throw toBlobStoreError(err, 'list', this.target(listPrefix));
      }
      if (page.done) break;
      const items = page.value.segment.blobItems;
      for (const item of items) {
        const version = { ...(item.versionId === undefined ? {} : { versionId: item.versionId }), size: item.properties.contentLength ?? 0 };
        if (!this.listVersions) {
          yield { key: item.name.slice(this.prefix.length), ...version };
          continue;
        }
        const seen = pending.get(item.name);
        // Versions of a name are listed oldest first; the current one says so.
        const current = item.isCurrentVersion === true;
        if (seen === undefined) pending.set(item.name, { newest: version, current });
        else if (!seen.current) pending.set(item.name, { newest: version, current });
      }
      // The name a continued listing resumes in may have more versions on the next page: hold it back.
      const keep = page.value.continuationToken ? items.at(-1)?.name : undefined;
      for (const [name, e] of pending) {
        if (name === keep) continue;
        pending.delete(name);
        yield { key: name.slice(this.prefix.length), ...e.newest, deleteMarkerOnTop: !e.current };
      }
    }
    for (const [name, e] of pending) yield { key: name.slice(this.prefix.length), ...e.newest, deleteMarkerOnTop: !e.current };
  }

  /**
   * Appends `text` as one append block, conditional on the blob's length and ETag read just before: if
   * another writer appended in between, Azure refuses (412) and this throws ConcurrentWriteError with nothing
   * written; the caller re-reads the ledger and appends again.
   */
  async appendLog(key: string, text: string): Promise<void> {
    const name = this.blobName(key);
    const target = this.target(name);
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.byteLength > MAX_APPEND) {
      throw new StoreError(`cannot append ${bytes.byteLength} bytes to ${target} at once: one append block holds at most ${MAX_APPEND}`, {
        hint: 'ledger entries are small; this means a caller flushed an unusual batch, run the step again in smaller parts',
      });
    }
    const blob = this.container.getAppendBlobClient(name);
    const props = await this.head(name);
    let position: number;
    let etag: string | undefined;
    if (props === undefined) {
      try {
        etag = (await blob.create({ conditions: { ifNoneMatch: '*' }, blobHTTPHeaders: { blobContentType: 'text/plain; charset=utf-8' } })).etag;
      } catch (err) {
        if (isConflict(err)) throw new ConcurrentWriteError(target, { cause: err });
        throw toBlobStoreError(err, 'create the log', target);
      }
      position = 0;
    } else {
      if (props.blobType !== 'AppendBlob') {
        throw new StoreError(`the log ${target} is a ${props.blobType ?? 'blob'} of another kind, not an append blob: Amber did not write it`, {
          hint: 'someone replaced the ledger outside Amber; keep the blob as it is (it is evidence) and run amber verify',
        });
      }
      position = props.contentLength ?? 0;
      etag = props.etag;
    }
    if (bytes.byteLength === 0) return;
    try {
      await blob.appendBlock(bytes, bytes.byteLength, {
        conditions: { appendPosition: position, ...(etag === undefined ? {} : { ifMatch: etag }) },
        transactionalContentMD5: createHash('md5').update(bytes).digest(),
      });
    } catch (err) {
      if (isConflict(err)) throw new ConcurrentWriteError(target, { cause: err });
      throw toBlobStoreError(err, 'append to', target);
    }
  }

  /** Blob Storage has no lock Amber can rely on across killed processes: a documented no-op (see the header). */
  async lock(_name: string): Promise<() => Promise<void>> {
    return async () => {};
  }

  async exists(): Promise<boolean> {
    try {
      return await this.container.exists();
    } catch (err) {
      throw toBlobStoreError(err, 'check', this.base);
    }
  }

  // --- writing ---

  /** Stages the body in blocks while hashing it, then commits them once, only if the key is still free. */
  private async stageAndCommit(name: string, body: Readable | Uint8Array, options: PutOptions, retainUntil: Date | undefined): Promise<Committed> {
    const blob = this.container.getBlockBlobClient(name);
    const hash = createHash('sha256');
    // A nonce per put: two writers staging under one name never commit each other's blocks.
    const nonce = randomBytes(12).toString('hex');
    const ids: string[] = [];
    let size = 0;
    const stage = async (block: Buffer) => {
      if (ids.length >= MAX_BLOCKS) {
        throw new InvalidInputError(`${this.target(name)} would need more than ${MAX_BLOCKS} blocks of ${BLOCK_SIZE} bytes`, {
          hint: 'objects above 390 GiB cannot be kept in one blob by Amber; split the source',
        });
      }
      const id = Buffer.from(`${nonce}-${String(ids.length).padStart(6, '0')}`).toString('base64');
      await blob.stageBlock(id, block, block.byteLength, { transactionalContentMD5: createHash('md5').update(block).digest() });
      ids.push(id);
    };
    let buffered: Buffer[] = [];
    let bufferedSize = 0;
    const chunks: AsyncIterable<unknown> | Iterable<unknown> = body instanceof Uint8Array ? [body] : body;
    const iterator = (chunks as AsyncIterable<unknown>)[Symbol.asyncIterator]?.() ?? toAsync(chunks as Iterable<unknown>);
    let finished = false;
    try {
      for (;;) {
        let next: IteratorResult<unknown>;
        try {
          next = await iterator.next();
        } catch (err) {
          throw new BodyFailed(err);
        }
        if (next.done) break;
        let chunk = toBuffer(next.value);
        hash.update(chunk);
        size += chunk.byteLength;
        options.onProgress?.(chunk.byteLength);
        while (bufferedSize + chunk.byteLength >= BLOCK_SIZE) {
          const take = BLOCK_SIZE - bufferedSize;
          buffered.push(chunk.subarray(0, take));
          chunk = chunk.subarray(take);
          await stage(Buffer.concat(buffered));
          buffered = [];
          bufferedSize = 0;
        }
        if (chunk.byteLength > 0) {
          buffered.push(chunk);
          bufferedSize += chunk.byteLength;
        }
      }
      finished = true;
    } finally {
      // A failed stage leaves the body half read: close it so its file or socket is released.
      if (!finished) await iterator.return?.().catch(() => undefined);
    }
    if (bufferedSize > 0) await stage(Buffer.concat(buffered));
    const incoming = { size, sha256: hash.digest('hex') };
    let versionId: string | undefined;
    try {
      ({ versionId } = await blob.commitBlockList(ids, {
        conditions: { ifNoneMatch: '*' },
        blobHTTPHeaders: { blobContentType: options.mediaType ?? 'application/octet-stream' },
        metadata: { [SHA256_METADATA]: incoming.sha256 },
        ...(retainUntil === undefined ? {} : { immutabilityPolicy: { expiriesOn: retainUntil, policyMode: 'Locked' as const } }),
      }));
    } catch (err) {
      if (isConflict(err)) throw new LostRace(incoming, err);
      throw err;
    }
    return { ...incoming, versionId };
  }

  /** Compares incoming bytes with what the key holds: same → created false; other → WriteOnceViolationError. */
  private async settleExisting(key: string, name: string, existing: BlobGetPropertiesResponse, incoming: Hashed): Promise<PutResult> {
    const recorded = existing.metadata?.[SHA256_METADATA];
    let existingSha = recorded !== undefined && HEX_SHA256.test(recorded) ? recorded : undefined;
    if (existingSha === undefined) {
      // Not written by Amber (no recorded hash): read and hash what is there.
      existingSha = (await hashBody(await this.get(key))).sha256;
    }
    if (existingSha !== incoming.sha256) throw new WriteOnceViolationError(key, existingSha, incoming.sha256);
    return {
      key,
      size: incoming.size,
      sha256: incoming.sha256,
      created: false,
      ...(existing.versionId === undefined ? {} : { versionId: existing.versionId }),
      ...(existing.immutabilityPolicyExpiresOn === undefined ? {} : { retainUntil: existing.immutabilityPolicyExpiresOn.toISOString() }),
    };
  }

  /** The blob's properties, or undefined when there is none under `name`. */
  private async head(name: string): Promise<BlobGetPropertiesResponse | undefined> {
    try {
      return await this.container.getBlobClient(name).getProperties();
    } catch (err) {
      if (isBlobNotFound(err)) return undefined;
      throw toBlobStoreError(err, 'check for an existing blob at', this.target(name));
    }
  }

  /** The retain-until date to request: the one asked for, when the container can hold blob-level policies. */
  private retention(caps: BlobContainerCapabilities, requested: Date | undefined): Date | undefined {
    if (!caps.immutability || requested === undefined) return undefined;
    if (Number.isNaN(requested.getTime()) || requested.getTime() <= this.now().getTime()) {
      throw new InvalidInputError(`retainUntil ${String(requested)} is not a date in the future`, {
        hint: 'pass a date after now, or leave it out to rely on the container\'s default immutability policy',
      });
    }
    return requested;
  }

  private blobName(key: string): string {
    const problem = keyProblem(key);
    if (problem !== undefined) {
      throw new InvalidInputError(`invalid store key ${JSON.stringify(key)}: ${problem}`, { hint: 'use a relative path with / separators and no empty, . or .. segments' });
    }
    const name = this.prefix + key;
    if (name.length > 1024) {
      throw new InvalidInputError(`the blob name ${name.slice(0, 80)}... is ${name.length} characters; Azure allows 1024`, { hint: 'use a shorter case name or path' });
    }
    return name;
  }

  private target(name: string, versionId?: string): string {
    return `${this.base}/${name}${versionId === undefined ? '' : `?versionid=${versionId}`}`;
  }
}

// --- helpers ---

/** A commit refused because another writer created the key first; carries the hash of what we staged. */
class LostRace extends Error {
  constructor(
    readonly incoming: Hashed,
    override readonly cause: unknown,
  ) {
    super('conditional commit lost');
  }
}

/** Reading the body failed (not Azure): putImmutable rethrows the body's own error. */
class BodyFailed extends Error {
  constructor(override readonly cause: unknown) {
    super('reading the body failed');
  }
}

/** 409 (BlobAlreadyExists) or 412 (ConditionNotMet, AppendPositionConditionNotMet): another writer got in first. */
function isConflict(err: unknown): boolean {
  const { status, code } = blobErrorInfo(err);
  return status === 412 || (status === 409 && (code === 'BlobAlreadyExists' || code === ''));
}

/** SHA-256 and size of a whole body, in one pass. */
async function hashBody(body: Readable | Uint8Array, onProgress?: (bytes: number) => void): Promise<Hashed> {
  const hash = createHash('sha256');
  let size = 0;
  const chunks: AsyncIterable<unknown> | Iterable<unknown> = body instanceof Uint8Array ? [body] : body;
  for await (const raw of chunks) {
    const chunk = toBuffer(raw);
    hash.update(chunk);
    size += chunk.byteLength;
    onProgress?.(chunk.byteLength);
  }
  return { size, sha256: hash.digest('hex') };
}

function toAsync(items: Iterable<unknown>): AsyncIterator<unknown> {
  const it = items[Symbol.iterator]();
  return { next: async () => it.next() };
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw new TypeError(`expected bytes from the body stream, got ${typeof chunk}`);
}

/** Why a key cannot name a blob Amber keeps (it must read back as the same relative path), or undefined. */
export function keyProblem(key: string): string | undefined {
  if (key === '') return 'the key is empty';
  if (key.includes('\0')) return 'the key contains a NUL character';
  if (key.startsWith('/')) return 'the key starts with /';
  if (key.split('/').some((p) => p === '' || p === '.' || p === '..')) return 'the key has an empty, "." or ".." segment';
  return undefined;
}

function normalisePrefix(prefix: string): string {
  if (prefix === '') return '';
  const bare = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  const problem = keyProblem(bare);
  if (problem !== undefined) {
    throw new InvalidInputError(`invalid locker prefix '${prefix}': ${problem}`, { hint: 'write it as azblob://account/container/some/prefix' });
  }
  return `${bare}/`;
}
