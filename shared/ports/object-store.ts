/**
 * The ObjectStore port: where preserved evidence is kept. Two adapters: the local write-once locker
 * (shared/evidence/local-object-store.ts) and S3 with Object Lock (functions/aws/adapters/s3-object-store.ts).
 *
 * Contract every adapter keeps:
 * - `putImmutable` is write-once. Same key and same bytes: idempotent (`created: false`). Same key, other
 *   bytes: throws WriteOnceViolationError and the stored bytes stay as they were.
 * - The SHA-256 and size returned by `putImmutable` are computed by Amber while the bytes pass through it,
 *   in the single pass that stores them; an adapter never re-reads what it just wrote to hash it.
 * - A failed put leaves nothing that looks preserved (no half-written object under the key).
 * - `appendLog` is the one mutable operation, for the custody ledger; history stays detectable (the ledger is
 *   hash-chained and anchored by write-once checkpoints). It is all-or-nothing: when it throws, the log is as
 *   it was before the call (local: the partial tail is truncated away before the error is reported; S3: the
 *   whole object is replaced in one put). An adapter without a lock makes it a compare-and-swap and throws
 *   ConcurrentWriteError, writing nothing, when another writer appended in between.
 * - `trimLogTail` (optional) removes a torn partial last line a crash left, only when the log ends with exactly
 *   those bytes; the caller records them in the ledger. Stores whose appends cannot tear do not implement it.
 * - `lock`: local, it cannot be held by two live writers at once, and a lock left by a dead process is taken
 *   over; S3 has no lock primitive (a documented no-op), and the compare-and-swap `appendLog` keeps the ledger
 *   from forking there.
 */
import type { Readable } from 'node:stream';

export interface PutOptions {
  /** Retention to apply (Object Lock COMPLIANCE in S3; recorded locally). */
  readonly retainUntil?: Date;
  /** MIME type stored with the object. */
  readonly mediaType?: string;
  /** Size when known in advance (lets S3 choose single-part upload); never trusted for the record. */
  readonly sizeHint?: number;
  /** Called with the byte count as data flows, for progress bars. */
  readonly onProgress?: (bytes: number) => void;
}

export interface PutResult {
  readonly key: string;
  readonly size: number;
  /** Lowercase hex SHA-256 of the bytes stored, computed by Amber in the storing pass. */
  readonly sha256: string;
  /** False when the key already held these exact bytes (idempotent re-acquisition). */
  readonly created: boolean;
  /** S3 version id of the stored object (undefined for the local locker). */
  readonly versionId?: string;
  /** Retention actually applied, ISO-8601 UTC (undefined when the store applies none). */
  readonly retainUntil?: string;
}

export interface StoredObject {
  readonly key: string;
  readonly size: number;
  readonly versionId?: string;
  /** True when a delete marker is the latest version of this key (S3 only): reads by key alone fail. */
  readonly deleteMarkerOnTop?: boolean;
}

export interface CopySource {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
}

export interface ObjectStore {
  /** Where the store lives: `file:///abs/dir` or `s3://bucket`. */
  readonly uri: string;
  /** Write-once store of a stream, hashing and sizing it in the same pass. */
  putImmutable(key: string, body: Readable | Uint8Array, options?: PutOptions): Promise<PutResult>;
  /** Reads an object (a given version in S3). Throws ObjectNotFoundError when absent. */
  get(key: string, versionId?: string): Promise<Readable>;
  /** Reads a small object whole (ledger, manifests); undefined when absent. */
  readText(key: string): Promise<string | undefined>;
  /** Every object under a prefix (for S3, every current key, including keys hidden by a delete marker). */
  list(prefix: string): AsyncIterable<StoredObject>;
  /** Appends text to a log object, creating it when absent (custody ledger only); ConcurrentWriteError when another writer got in first. */
  appendLog(key: string, text: string): Promise<void>;
  /** Removes `tail` from the end of a log that ends with exactly it (a torn line left by a crash). */
  trimLogTail?(key: string, tail: string): Promise<void>;
  /**
   * Takes an exclusive lock for one writer of a case (local: an O_EXCL lock file naming pid and process start
   * time; S3: a documented no-op). Returns the release function.
   */
  lock(name: string): Promise<() => Promise<void>>;
  /** True when the store exists (the locker directory or the bucket). */
  exists(): Promise<boolean>;
  /**
   * Server-side copy from another bucket of the same kind, with a SHA-256 checksum, and the copy hashed by
   * Amber too. Only stores that can copy server-side implement it.
   */
  copyFrom?(source: CopySource, key: string, options?: PutOptions): Promise<PutResult>;
}
