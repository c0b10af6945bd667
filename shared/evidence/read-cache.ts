/**
 * A read-through cache in front of a remote locker (S3, Azure Blob, GCS), so the embedded engine can analyse a
 * case kept there without anyone copying it by hand.
 *
 * Every write (derived copies, Parquet sets, ledger appends, checkpoints) goes to the remote locker, exactly as a
 * cloud run would write it. Reads for analysis go through `fetch`: each object is downloaded once, hashed while it
 * streams, and kept under its SHA-256 (content-addressed, so cases and buckets share it) only when it matches its
 * custody record. A later run re-hashes a cached copy before trusting it and fetches it again when the copy no
 * longer matches (a damaged cache is never reported as tampered evidence).
 *
 * What the cache does not do: prove that the remote object still holds the recorded bytes once a matching copy is
 * cached. The analysis is sound either way (every byte analysed matches its custody record: VerifiedInputs hashes
 * the copy it reads); `amber verify --locker REMOTE` re-reads the remote objects themselves.
 *
 * An object the remote answers with other bytes is not cached: it is kept in a private quarantine for this run
 * only, so the integrity check that follows names it with the hash of what the locker really holds (exit 3).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ObjectNotFoundError } from '../errors.ts';
import type { ObjectStore, PutOptions, PutResult, StoredObject } from '../ports/object-store.ts';
import { forEachConcurrent } from './concurrency.ts';
import { HashingPassThrough, hashStream } from './hashing.ts';
import type { EvidenceItem } from './model.ts';

/** Progress of a fetch: objects done of total, bytes downloaded so far. */
export type FetchProgress = (done: number, total: number, downloadedBytes: number) => void;

export interface CachedLockerOptions {
  /** How many objects are downloaded at once. @default 8 */
  readonly concurrency?: number;
  readonly onProgress?: FetchProgress;
}

/** What one `fetch` did, for the terminal and tests. */
export interface FetchSummary {
  readonly objects: number;
  /** Objects found in the cache and re-hashed there. */
  readonly cached: number;
  /** Objects downloaded from the remote locker. */
  readonly downloaded: number;
  readonly downloadedBytes: number;
}

const SHA256 = /^[0-9a-f]{64}$/;

export class CachedLocker implements ObjectStore {
  /** Key → the local file its analysis reads (cache or quarantine). */
  private readonly paths = new Map<string, string>();
  private quarantine: string | undefined;
  private counter = 0;
  /** Totals of every fetch of this instance. */
  readonly totals = { objects: 0, cached: 0, downloaded: 0, downloadedBytes: 0 };

  private constructor(
    readonly remote: ObjectStore,
    readonly cacheDir: string,
    private readonly options: CachedLockerOptions,
  ) {}

  /** Wraps `remote` with a cache folder (created 0700 when absent). */
  static async open(remote: ObjectStore, cacheDir: string, options: CachedLockerOptions = {}): Promise<CachedLocker> {
    await mkdir(cacheDir, { recursive: true, mode: 0o700 });
    return new CachedLocker(remote, cacheDir, options);
  }

  get uri(): string {
    return this.remote.uri;
  }

  putImmutable(key: string, body: Readable | Uint8Array, options?: PutOptions): Promise<PutResult> {
    return this.remote.putImmutable(key, body, options);
  }

  get(key: string, versionId?: string): Promise<Readable> {
    return this.remote.get(key, versionId);
  }

  readText(key: string): Promise<string | undefined> {
    return this.remote.readText(key);
  }

  list(prefix: string): AsyncIterable<StoredObject> {
    return this.remote.list(prefix);
  }

  appendLog(key: string, text: string): Promise<void> {
    return this.remote.appendLog(key, text);
  }

  async trimLogTail(key: string, tail: string): Promise<void> {
    if (!this.remote.trimLogTail) throw new Error(`${this.remote.uri} cannot trim a log tail`);
    await this.remote.trimLogTail(key, tail);
  }

  lock(name: string): Promise<() => Promise<void>> {
    return this.remote.lock(name);
  }

  exists(): Promise<boolean> {
    return this.remote.exists();
  }

  /**
   * The local file holding `key` for this run. Only keys passed to `fetch` have one; any other key is a
   * programming error (the analysis would read something it never checked).
   */
  pathOf(key: string): string {
    const path = this.paths.get(key);
    if (path === undefined) throw new Error(`${key} was read for analysis without being fetched from ${this.remote.uri} first`);
    return path;
  }

  /**
   * Makes every item readable through `pathOf`: a cached copy that still hashes to its record, else a download.
   * Never throws for one object: a missing object maps to a path that does not exist and an altered one to its
   * quarantined bytes, so the caller's integrity check names each of them together.
   */
  async fetch(items: readonly EvidenceItem[]): Promise<FetchSummary> {
    let cached = 0;
    let downloaded = 0;
    let downloadedBytes = 0;
    let done = 0;
    await forEachConcurrent(items, this.options.concurrency ?? 8, async (item) => {
      if (!SHA256.test(item.sha256)) {
        // A custody record without a well-formed hash cannot name a cache file; the check that follows reports it.
        this.paths.set(item.key, await this.download(item, undefined));
      } else {
        const target = this.cachePath(item);
        if (await this.holds(target, item)) {
          cached += 1;
          this.paths.set(item.key, target);
        } else {
          this.paths.set(item.key, await this.download(item, target, (n) => (downloadedBytes += n)));
          downloaded += 1;
        }
      }
      done += 1;
      this.options.onProgress?.(done, items.length, downloadedBytes);
    });
    this.totals.objects += items.length;
    this.totals.cached += cached;
    this.totals.downloaded += downloaded;
    this.totals.downloadedBytes += downloadedBytes;
    return { objects: items.length, cached, downloaded, downloadedBytes };
  }

  /** Removes this run's quarantine (the cache stays). */
  async close(): Promise<void> {
    if (this.quarantine) await rm(this.quarantine, { recursive: true, force: true });
    this.quarantine = undefined;
  }

  private cachePath(item: EvidenceItem): string {
    return join(this.cacheDir, item.sha256.slice(0, 2), `${item.sha256}-${item.size}`);
  }

  /** True when `path` exists and hashes to the item's record. A damaged copy is removed. */
  private async holds(path: string, item: EvidenceItem): Promise<boolean> {
    let found: { sha256: string; size: number };
    try {
      found = await hashStream(createReadStream(path));
    } catch {
      return false;
    }
    if (found.sha256 === item.sha256 && found.size === item.size) return true;
    await rm(path, { force: true });
    return false;
  }

  /**
   * Downloads the item's recorded version, hashing it. Matching bytes land at `target` (the cache); other bytes
   * in the quarantine; an absent object yields a path that does not exist. Returns the path to read.
   */
  private async download(item: EvidenceItem, target: string | undefined, onBytes?: (chunkBytes: number) => void): Promise<string> {
    const quarantine = await this.quarantineDir();
    this.counter += 1;
    const temp = join(quarantine, `d${this.counter}`);
    let body: Readable;
    try {
      body = await this.remote.get(item.key, item.versionId);
    } catch (error) {
      if (error instanceof ObjectNotFoundError) return join(quarantine, `missing-${this.counter}`);
      throw error;
    }
    const hasher = new HashingPassThrough((chunk) => onBytes?.(chunk.length));
    await pipeline(body, hasher, createWriteStream(temp, { mode: 0o600, flags: 'wx' }));
    if (target === undefined || hasher.sha256 !== item.sha256 || hasher.size !== item.size) return temp;
    await mkdir(join(target, '..'), { recursive: true, mode: 0o700 });
    await rename(temp, target);
    return target;
  }

  private async quarantineDir(): Promise<string> {
    if (!this.quarantine) {
      this.quarantine = await mkdtemp(join(this.cacheDir, '.run-'));
      await chmod(this.quarantine, 0o700);
    }
    return this.quarantine;
  }
}
