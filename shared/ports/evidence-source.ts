/**
 * The EvidenceSource port: where evidence is acquired from (a local folder, an S3 prefix, later cloud APIs).
 * A source lists objects lazily so huge buckets and folders stream instead of loading whole.
 */
import type { Readable } from 'node:stream';
import type { CopySource } from './object-store.ts';

export interface SourceObject {
  /** URI it came from: `file:///abs/path`, `s3://bucket/key`. */
  readonly origin: string;
  /** Path kept under `cases/<case>/`, with `/` separators and no `..` (the source's relative path). */
  readonly relPath: string;
  /** Size when the listing knows it (progress only; the recorded size is counted while storing). */
  readonly size?: number;
  /** Opens the bytes for reading. Errors name the origin. */
  open(): Promise<Readable>;
  /**
   * Called once after the bytes opened by `open` were stored (or failed to be): says how the object changed
   * while it was read (size, modification time), or undefined when it did not; releases what `open` held.
   * Sources that cannot tell leave it out.
   */
  afterRead?(bytesRead: number | undefined): Promise<string | undefined>;
  /** Set when the object lives in S3, so an S3 store can copy it server-side. */
  readonly s3?: CopySource;
}

/** A problem met while listing (unreadable folder, symlink leaving the root); collection goes on. */
export interface SourceProblem {
  readonly origin: string;
  readonly reason: string;
}

export interface EvidenceSource {
  /** What the user asked for, as they wrote it (`./logs`, `s3://bucket/prefix`). */
  readonly spec: string;
  /**
   * Objects of this source stored at once, when the source needs fewer than the run's (1: each object is
   * stored before the next is listed, for sources that resume from what they stored last).
   */
  readonly concurrency?: number;
  /** Lists every object; problems are reported through `onProblem`, never dropped. */
  list(onProblem: (problem: SourceProblem) => void): AsyncIterable<SourceObject>;
}
