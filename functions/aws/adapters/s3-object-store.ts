/**
 * The ObjectStore port on S3: the evidence bucket, with Object Lock in COMPLIANCE mode when the bucket has
 * it. Amber hashes every byte itself as it passes (S3-compatible servers such as Ceph do not check
 * x-amz-checksum-sha256), sends that hash as the object's checksum, and keeps write-once semantics on top of
 * S3's versioning: a key that already holds other bytes is refused, whatever S3 itself would allow.
 *
 * Retries (throttling, 5xx) come from the SDK's retry strategy configured in createS3Client; what outlives
 * them becomes a StoreError naming the bucket and key.
 */
import { createHash } from 'node:crypto';
import { pipeline, Readable, Transform } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  PutObjectCommand,
  type HeadObjectCommandOutput,
  type ObjectVersion,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import {
  AcquisitionError,
  ConcurrentWriteError,
  IntegrityError,
  InvalidInputError,
  NotImplementedError,
  ObjectNotFoundError,
  StoreError,
  WriteOnceViolationError,
} from '../../../shared/errors.ts';
import type {
  CopySource,
  ObjectStore,
  PutOptions,
  PutResult,
  StoredObject,
} from '../../../shared/ports/object-store.ts';
import { createS3Client, s3ConfigFromEnv } from './s3-client.ts';
import { isNotFound, isPreconditionFailed, s3ErrorInfo, s3Hint, toStoreError } from './s3-errors.ts';
import { assertBucketName, checkObjectKey } from './s3-source.ts';

const MiB = 1024 * 1024;
/** Bodies up to this size are buffered and sent in one PutObject carrying Amber's SHA-256 (and metadata). */
export const SINGLE_PUT_LIMIT = 8 * MiB;
/** Multipart part size: 4 parts in flight stay at 32 MiB of memory. */
const PART_SIZE = 8 * MiB;
const MAX_PARTS = 10_000;
const MAX_PART_SIZE = 5 * 1024 * MiB;
/** CopyObject's limit; larger objects need UploadPartCopy. */
export const COPY_OBJECT_LIMIT = 5 * 1024 * MiB;
/** Object metadata key holding the hex SHA-256 Amber computed (immutable per object version). */
export const SHA256_METADATA = 'amber-sha256';
const HEX_SHA256 = /^[0-9a-f]{64}$/;

export interface S3ObjectStoreOptions {
  /** The evidence bucket. */
  readonly bucket: string;
  /**
   * The S3 client.
   * @default createS3Client(s3ConfigFromEnv()), built only when none is given
   */
  readonly client?: S3Client;
  /**
   * Key prefix every store key lives under (e.g. `amber/`); a trailing `/` is added when missing.
   * @default '' (keys at the bucket root)
   */
  readonly prefix?: string;
  /**
   * Clock for retain-until dates computed from the bucket's default retention.
   * @default () => new Date()
   */
  readonly now?: () => Date;
}

/** What the bucket offers, detected once. */
export interface S3BucketCapabilities {
  /** Object Lock enabled on the bucket (only possible at creation, with versioning). */
  readonly objectLock: boolean;
  /** The bucket's default retention rule, when it has one. */
  readonly defaultRetention?: { readonly mode: string; readonly days?: number; readonly years?: number };
  /** Bucket versioning status; a bucket that was ever versioned can hold versions under delete markers. */
  readonly versioning: 'Enabled' | 'Suspended' | 'Disabled';
}

/** The current object under a key, or the newest real version hidden under a delete marker. */
interface ExistingObject {
  readonly versionId: string | undefined;
  readonly head: HeadObjectCommandOutput;
  /** True when a delete marker is on top and this version is only reachable by its id. */
  readonly hidden: boolean;
}

interface Hashed {
  readonly size: number;
  readonly sha256: string;
}

/** Precondition of a write that replaces an object (the ledger's compare-and-swap). */
type WriteCondition = { readonly IfMatch?: string; readonly IfNoneMatch?: string };

/** S3 (with Object Lock when the bucket has it) as Amber's write-once evidence store. */
export class S3ObjectStore implements ObjectStore {
  readonly uri: string;
  readonly bucket: string;
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly now: () => Date;
  private capabilitiesPromise: Promise<S3BucketCapabilities> | undefined;
  /** False once the endpoint was seen refusing an If-Match that matched (older Ceph RGW): appends go unconditional. */
  private conditionalAppends = true;

  constructor(options: S3ObjectStoreOptions) {
    assertBucketName(options.bucket, `s3://${options.bucket}`);
    this.bucket = options.bucket;
    this.prefix = normalisePrefix(options.prefix ?? '');
    this.uri = this.prefix === '' ? `s3://${this.bucket}` : `s3://${this.bucket}/${this.prefix.slice(0, -1)}`;
    this.client = options.client ?? createS3Client(s3ConfigFromEnv());
    this.now = options.now ?? (() => new Date());
  }

  /** Creates a store and detects the bucket's Object Lock and versioning before returning it. */
  static async open(options: S3ObjectStoreOptions): Promise<S3ObjectStore> {
    const store = new S3ObjectStore(options);
    await store.capabilities();
    return store;
  }

  /** Object Lock, default retention and versioning of the bucket (detected on first use, then cached). */
  capabilities(): Promise<S3BucketCapabilities> {
    if (this.capabilitiesPromise === undefined) {
      this.capabilitiesPromise = this.detectCapabilities();
      // A transient failure must not poison the store for its whole life.
      this.capabilitiesPromise.catch(() => {
        this.capabilitiesPromise = undefined;
      });
    }
    return this.capabilitiesPromise;
  }

  async putImmutable(key: string, body: Readable | Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    const fullKey = this.fullKey(key);
    const target = this.target(fullKey);
    const caps = await this.capabilities();

    const existing = await this.findExisting(fullKey, caps);
    if (existing !== undefined) {
      // Re-acquisition: hash what arrives (nothing is uploaded) and compare with what the key holds.
      const incoming = await hashBody(body, options.onProgress);
      return this.settleExisting(key, fullKey, existing, incoming);
    }

    const retainUntil = this.retention(caps, options.retainUntil);
    const probe = await bufferUpTo(body, SINGLE_PUT_LIMIT, options.onProgress);
    let stored: Hashed & { versionId: string | undefined };
    try {
      stored = probe.complete
        ? await this.putSmall(fullKey, Buffer.concat(probe.chunks), options.mediaType, retainUntil)
        : await this.putMultipart(fullKey, probe, options, retainUntil);
    } catch (err) {
      // A body that failed to read is the caller's problem (its origin), not the store's.
      if (err instanceof BodyFailed) throw err.cause;
      if (err instanceof LostRace) {
        // Another writer created the key between our HeadObject and our write (S3 conditional write).
        const winner = await this.findExisting(fullKey, caps);
        if (winner !== undefined) return this.settleExisting(key, fullKey, winner, err.incoming);
      }
      throw toStoreError(err instanceof LostRace ? err.cause : err, 'upload', target);
    }
    return {
      key,
      size: stored.size,
      sha256: stored.sha256,
      created: true,
      versionId: stored.versionId,
      retainUntil: retainUntil?.toISOString(),
    };
  }

  async get(key: string, versionId?: string): Promise<Readable> {
    const fullKey = this.fullKey(key);
    try {
      return await this.openObject(fullKey, versionId);
    } catch (err) {
      if (isNotFound(err) && s3ErrorInfo(err).name !== 'NoSuchBucket') {
        throw new ObjectNotFoundError(key, {
          hint:
            versionId === undefined
              ? `nothing readable at ${this.target(fullKey)}; if a delete marker hides it, list the case (deleteMarkerOnTop) and read it by its versionId`
              : `version ${versionId} of ${this.target(fullKey)} does not exist; list the case to see the versions kept`,
          cause: err,
        });
      }
      throw toStoreError(err, 'read', this.target(fullKey, versionId));
    }
  }

  async readText(key: string): Promise<string | undefined> {
    const bytes = await this.readBytes(this.fullKey(key));
    return bytes?.toString('utf8');
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    const listPrefix = this.prefix + prefix;
    // ListObjectVersions rather than ListObjectsV2, so a key whose latest version is a delete marker is
    // still listed (with its newest real version): in an evidence store nothing may disappear from view.
    const pending = new Map<string, { newest?: ObjectVersion; markerOnTop: boolean }>();
    const entry = (k: string) => {
      let e = pending.get(k);
      if (e === undefined) pending.set(k, (e = { markerOnTop: false }));
      return e;
    };
    for await (const page of this.versionPages(listPrefix, 'list')) {
      // Within a key S3 returns versions and delete markers newest first: the first version seen is the
      // newest real one; IsLatest says which entry (version or marker) is on top.
      for (const v of page.Versions ?? []) {
        if (v.Key === undefined) continue;
        const e = entry(v.Key);
        e.newest ??= v;
      }
      for (const m of page.DeleteMarkers ?? []) {
        if (m.Key !== undefined && m.IsLatest) entry(m.Key).markerOnTop = true;
      }
      const truncated = page.IsTruncated === true;
      // The key the next page resumes in may have more versions there: hold it back until then.
      const keep = truncated ? page.NextKeyMarker : undefined;
      for (const k of [...pending.keys()].sort(compareKeys)) {
        if (k === keep) continue;
        const e = pending.get(k)!;
        pending.delete(k);
        if (e.newest === undefined) continue; // only delete markers: no bytes left to list
        yield {
          key: k.slice(this.prefix.length),
          size: e.newest.Size ?? 0,
          versionId: realVersionId(e.newest.VersionId),
          deleteMarkerOnTop: e.markerOnTop,
        };
      }
    }
  }

  /**
   * Appends by reading the current object and writing a new version holding the old bytes plus `text`.
   * In a bucket with Object Lock every version written here is retained (bucket default retention, or
   * COMPLIANCE until the default's end), so no earlier state of the ledger can be deleted or altered: the
   * ledger's history is immutable in S3 even though the key's latest version moves on. The cost is one
   * whole copy per append (fine for a ledger; not for bulk data).
   *
   * The write is conditional (compare-and-swap): `If-Match` the ETag that was read, or `If-None-Match: *`
   * when the log is new. When another writer appended in between, S3 refuses (412) and this throws
   * ConcurrentWriteError with nothing written, so two appenders can never drop each other's entries; the
   * caller re-reads the ledger and appends again. An engine that refuses an If-Match although the object did
   * not change (Ceph RGW on versioned buckets) is detected once, and appends there go unconditional: one writer
   * per case, as before conditions existed.
   */
  async appendLog(key: string, text: string): Promise<void> {
    const fullKey = this.fullKey(key);
    const target = this.target(fullKey);
    const caps = await this.capabilities();
    const read = await this.readWithEtag(fullKey);
    let current: Buffer;
    let condition: WriteCondition;
    if (read === undefined) {
      const hidden = caps.versioning === 'Disabled' ? undefined : await this.newestVersion(fullKey);
      if (hidden !== undefined) {
        // Starting a fresh log here would silently fork the custody chain.
        const v = realVersionId(hidden.VersionId) ?? 'null';
        throw new IntegrityError(`the log ${target} is hidden by a delete marker; its newest version ${v} is still kept`, {
          hint: `someone deleted the log; restore it by copying version ${v} over the key (aws s3api copy-object --bucket ${this.bucket} --key ${fullKey} --copy-source '${copySourceOf(this.bucket, fullKey, v)}') and run amber verify`,
        });
      }
      current = Buffer.alloc(0);
      condition = { IfNoneMatch: '*' };
    } else {
      current = read.bytes;
      condition = read.etag === undefined || !this.conditionalAppends ? {} : { IfMatch: read.etag };
    }
    const next = Buffer.concat([current, Buffer.from(text, 'utf8')]);
    const put = (when: WriteCondition) => this.putSmall(fullKey, next, 'text/plain; charset=utf-8', this.retention(caps, undefined), false, when);
    try {
      await put(condition);
    } catch (err) {
      const conflict = isPreconditionFailed(err) || s3ErrorInfo(err).name === 'ConditionalRequestConflict' || s3ErrorInfo(err).status === 409;
      if (!conflict) throw toStoreError(err, 'append to', target);
      if (condition.IfMatch !== undefined && (await this.readWithEtag(fullKey))?.etag === condition.IfMatch) {
        // The object did not change, yet the endpoint refused the If-Match (Ceph RGW does on versioned buckets):
        // it cannot do compare-and-swap. Append as before conditions existed: one writer per case there.
        this.conditionalAppends = false;
        try {
          await put({});
          return;
        } catch (retryErr) {
          throw toStoreError(retryErr, 'append to', target);
        }
      }
      throw new ConcurrentWriteError(target, { cause: err });
    }
  }

  /**
   * S3 has no lock primitive, so this is a documented no-op. Write-once keys stay safe regardless (a
   * conflicting put is refused), and appendLog is a compare-and-swap: a concurrent append fails with
   * ConcurrentWriteError instead of dropping the other writer's entries.
   */
  async lock(_name: string): Promise<() => Promise<void>> {
    return async () => {};
  }

  async exists(): Promise<boolean> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw toStoreError(err, 'check', `s3://${this.bucket}`);
    }
  }

  /**
   * Server-side copy from another bucket with a SHA-256 checksum, then Amber reads the copy back by its
   * version id and hashes it itself, comparing with the checksum S3 computed for the copy and with the
   * source's own checksum or recorded hash when it has them.
   */
  async copyFrom(source: CopySource, key: string, options: PutOptions = {}): Promise<PutResult> {
    const fullKey = this.fullKey(key);
    const target = this.target(fullKey);
    const origin = `s3://${source.bucket}/${source.key}${source.versionId === undefined ? '' : `?versionId=${source.versionId}`}`;
    const caps = await this.capabilities();

    let sourceHead: HeadObjectCommandOutput;
    try {
      sourceHead = await this.client.send(
        new HeadObjectCommand({ Bucket: source.bucket, Key: source.key, VersionId: source.versionId, ChecksumMode: 'ENABLED' }),
      );
    } catch (err) {
      throw sourceError(err, origin, 'read');
    }
    const size = sourceHead.ContentLength ?? 0;
    if (size > COPY_OBJECT_LIMIT) {
      throw new NotImplementedError(
        `${origin} is ${size} bytes (${(size / 1024 ** 3).toFixed(1)} GiB): a server-side copy over 5 GiB needs UploadPartCopy, which Amber does not implement yet`,
        { hint: 'preserve it by streaming instead (the store reads and hashes it in one pass with putImmutable)' },
      );
    }
    // Pin the version just inspected so a concurrent overwrite of the source cannot slip in between.
    const sourceVersion = source.versionId ?? realVersionId(sourceHead.VersionId);
    const pinned: CopySource = { bucket: source.bucket, key: source.key, versionId: sourceVersion };

    const existing = await this.findExisting(fullKey, caps);
    if (existing !== undefined) {
      return this.settleExisting(key, fullKey, existing, await this.sourceHash(pinned, sourceHead, origin));
    }

    const retainUntil = this.retention(caps, options.retainUntil);
    let copied;
    try {
      copied = await this.client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: fullKey,
          CopySource: copySourceOf(source.bucket, source.key, sourceVersion),
          ChecksumAlgorithm: 'SHA256',
          MetadataDirective: 'COPY',
          IfNoneMatch: '*',
          ...lockHeaders(retainUntil),
        }),
      );
    } catch (err) {
      if (isPreconditionFailed(err)) {
        const winner = await this.findExisting(fullKey, caps);
        if (winner !== undefined) {
          return this.settleExisting(key, fullKey, winner, await this.sourceHash(pinned, sourceHead, origin));
        }
      }
      if (s3ErrorInfo(err).name === 'NoSuchKey' || s3ErrorInfo(err).name === 'NoSuchVersion') {
        throw sourceError(err, origin, 'copy');
      }
      throw toStoreError(err, 'copy', `${origin} to ${target}`);
    }

    let versionId = realVersionId(copied.VersionId);
    let readBack: Hashed;
    try {
      if (versionId === undefined && caps.versioning === 'Enabled') {
        // Some engines (Ceph) omit x-amz-version-id on CopyObject: take the version now on top; the
        // read-back hash below still proves it holds the source's bytes.
        const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: fullKey }));
        versionId = realVersionId(head.VersionId);
      }
      readBack = await hashBody(await this.openObject(fullKey, versionId), options.onProgress);
    } catch (err) {
      throw toStoreError(err, 'read back the copy at', this.target(fullKey, versionId));
    }
    const expected: Array<[string, string | undefined]> = [
      ['the SHA-256 S3 computed for the copy', fullObjectSha256(copied.CopyObjectResult?.ChecksumSHA256, copied.CopyObjectResult?.ChecksumType)],
      ['the SHA-256 checksum of the source', fullObjectSha256(sourceHead.ChecksumSHA256, sourceHead.ChecksumType)],
      [`the ${SHA256_METADATA} metadata of the source`, recordedMetadataSha256(sourceHead)],
    ];
    const mismatches = expected
      .filter(([, sha]) => sha !== undefined && sha !== readBack.sha256)
      .map(([what, sha]) => `${what} is ${sha}`);
    if (readBack.size !== size) mismatches.push(`the source is ${size} bytes but the copy is ${readBack.size}`);
    if (mismatches.length > 0) {
      const fate = await this.discard(fullKey, versionId);
      throw new IntegrityError(
        `the copy of ${origin} at ${this.target(fullKey, versionId)} hashes to ${readBack.sha256}, but ${mismatches.join('; ')}`,
        { hint: `${fate}; do not rely on this copy: check the source object and collect it again` },
      );
    }
    return {
      key,
      size: readBack.size,
      sha256: readBack.sha256,
      created: true,
      versionId,
      retainUntil: retainUntil?.toISOString(),
    };
  }

  // --- writes ---

  /** One PutObject carrying Amber's SHA-256 as the checksum and as metadata. */
  private async putSmall(
    fullKey: string,
    bytes: Buffer,
    mediaType: string | undefined,
    retainUntil: Date | undefined,
    writeOnce = true,
    condition: WriteCondition = {},
  ): Promise<Hashed & { versionId: string | undefined }> {
    const digest = createHash('sha256').update(bytes).digest();
    const sha256 = digest.toString('hex');
    try {
      const out = await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: fullKey,
          Body: bytes,
          ContentLength: bytes.byteLength,
          ContentType: mediaType,
          // S3 checks the bytes against this hash and refuses the write on mismatch (BadDigest). Setting the
          // algorithm too sends x-amz-sdk-checksum-algorithm, which Object Lock writes require.
          ChecksumAlgorithm: 'SHA256',
          ChecksumSHA256: digest.toString('base64'),
          Metadata: { [SHA256_METADATA]: sha256 },
          // Conditional write: S3 refuses (412) if another writer created the key since our HeadObject.
          ...(writeOnce ? { IfNoneMatch: '*' } : condition),
          ...lockHeaders(retainUntil),
        }),
      );
      return { size: bytes.byteLength, sha256, versionId: realVersionId(out.VersionId) };
    } catch (err) {
      if (writeOnce && isPreconditionFailed(err)) throw new LostRace({ size: bytes.byteLength, sha256 }, err);
      throw err;
    }
  }

  /**
   * Multipart upload of a body larger than SINGLE_PUT_LIMIT: the bytes pass through a hashing Transform
   * on their way to the uploader, so the SHA-256 and size are Amber's own, from the storing pass. Each part
   * carries its SHA-256 (S3 checks it); when S3 answers with the composite checksum of the parts, Amber
   * compares it with the part hashes it computed. A failed upload is aborted by lib-storage
   * (AbortMultipartUpload), so no object appears under the key; if even the abort fails the parts stay
   * invisible until the bucket's AbortIncompleteMultipartUpload lifecycle rule removes them.
   */
  private async putMultipart(
    fullKey: string,
    probe: Probe,
    options: PutOptions,
    retainUntil: Date | undefined,
  ): Promise<Hashed & { versionId: string | undefined }> {
    const partSize = Math.min(
      MAX_PART_SIZE,
      Math.max(PART_SIZE, Math.ceil((options.sizeHint ?? 0) / MAX_PARTS)),
    );
    const whole = createHash('sha256');
    const parts = new PartHasher(partSize);
    let size = 0;
    let reported = probe.size;
    const onProgress = options.onProgress;
    const hasher = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        whole.update(chunk);
        parts.update(chunk);
        size += chunk.byteLength;
        // The buffered head was already reported while it was read: report only bytes beyond it.
        if (onProgress !== undefined && size > reported) {
          onProgress(size - reported);
          reported = size;
        }
        callback(null, chunk);
      },
    });
    const source = Readable.from(replay(probe.chunks, probe.rest));
    let bodyError: unknown;
    pipeline(source, hasher, (err) => {
      if (err) bodyError ??= err;
    });
    const upload = new Upload({
      client: this.client,
      partSize,
      queueSize: 4,
      leavePartsOnError: false,
      params: {
        Bucket: this.bucket,
        Key: fullKey,
        Body: hasher,
        ContentType: options.mediaType,
        ChecksumAlgorithm: 'SHA256',
        // lib-storage passes this to CompleteMultipartUpload: 412 if another writer created the key meanwhile.
        IfNoneMatch: '*',
        ...lockHeaders(retainUntil),
      },
    });
    let out;
    try {
      out = await upload.done();
    } catch (err) {
      hasher.destroy();
      source.destroy();
      if (bodyError !== undefined && !isPrematureClose(bodyError)) throw new BodyFailed(bodyError);
      if (isPreconditionFailed(err)) {
        throw new LostRace({ size, sha256: whole.digest('hex') }, err);
      }
      throw err;
    }
    const sha256 = whole.digest('hex');
    const versionId = realVersionId(out.VersionId);
    const returned = out.ChecksumSHA256;
    if (returned !== undefined && returned !== '') {
      const composite = parts.composite();
      const ours = returned.includes('-') || out.ChecksumType === 'COMPOSITE' ? composite : Buffer.from(sha256, 'hex').toString('base64');
      if (returned.replace(/-\d+$/, '') !== ours.replace(/-\d+$/, '')) {
        const fate = await this.discard(fullKey, versionId);
        throw new IntegrityError(
          `S3 reports checksum ${returned} for ${this.target(fullKey, versionId)}, but the parts Amber sent hash to ${ours}`,
          { hint: `${fate}; collect the object again` },
        );
      }
    }
    return { size, sha256, versionId };
  }

  /** Best-effort removal of a copy that failed verification; says what happened, for the error's hint. */
  private async discard(fullKey: string, versionId: string | undefined): Promise<string> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: fullKey, VersionId: versionId }));
      return `the bad copy ${this.target(fullKey, versionId)} was deleted`;
    } catch (err) {
      return `the bad copy ${this.target(fullKey, versionId)} could not be deleted (${s3ErrorInfo(err).name}; Object Lock retains it)`;
    }
  }

  // --- reads ---

  private async openObject(fullKey: string, versionId: string | undefined, bucket = this.bucket): Promise<Readable> {
    const out = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: fullKey, VersionId: versionId }));
    return asReadable(out.Body, `s3://${bucket}/${fullKey}`);
  }

  /** The whole current object, or undefined when nothing is readable under the key. */
  private async readBytes(fullKey: string): Promise<Buffer | undefined> {
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of await this.openObject(fullKey, undefined)) chunks.push(toBuffer(chunk));
      return Buffer.concat(chunks);
    } catch (err) {
      if (isNotFound(err) && s3ErrorInfo(err).name !== 'NoSuchBucket') return undefined;
      throw toStoreError(err, 'read', this.target(fullKey));
    }
  }

  /** The whole current object and its ETag (for a conditional write back), or undefined when nothing is readable. */
  private async readWithEtag(fullKey: string): Promise<{ bytes: Buffer; etag: string | undefined } | undefined> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: fullKey }));
      const chunks: Buffer[] = [];
      for await (const chunk of asReadable(out.Body, `s3://${this.bucket}/${fullKey}`)) chunks.push(toBuffer(chunk));
      return { bytes: Buffer.concat(chunks), etag: out.ETag };
    } catch (err) {
      if (isNotFound(err) && s3ErrorInfo(err).name !== 'NoSuchBucket') return undefined;
      throw toStoreError(err, 'read', this.target(fullKey));
    }
  }

  /**
   * The object a write to `fullKey` would collide with: the current version, or, in a bucket that was
   * ever versioned, the newest real version under a delete marker. A hidden version still counts: writing
   * other bytes on top would make the key look as if it had always held them.
   */
  private async findExisting(fullKey: string, caps: S3BucketCapabilities): Promise<ExistingObject | undefined> {
    const target = this.target(fullKey);
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: fullKey, ChecksumMode: 'ENABLED' }),
      );
      return { versionId: realVersionId(head.VersionId), head, hidden: false };
    } catch (err) {
      if (!isNotFound(err) || s3ErrorInfo(err).name === 'NoSuchBucket') {
        throw toStoreError(err, 'check for an existing object at', target);
      }
    }
    // HEAD cannot tell "never written" from "delete marker on top" on every engine (Ceph omits
    // x-amz-delete-marker), so a versioned bucket is asked directly.
    if (caps.versioning === 'Disabled') return undefined;
    const newest = await this.newestVersion(fullKey);
    if (newest === undefined) return undefined;
    const versionId = realVersionId(newest.VersionId);
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: fullKey, VersionId: versionId, ChecksumMode: 'ENABLED' }),
      );
      return { versionId, head, hidden: true };
    } catch (err) {
      throw toStoreError(err, 'check for an existing object at', this.target(fullKey, versionId));
    }
  }

  /** The newest real (non delete marker) version of exactly `fullKey`, if any. */
  private async newestVersion(fullKey: string): Promise<ObjectVersion | undefined> {
    for await (const page of this.versionPages(fullKey, 'list the versions of', 100)) {
      const found = page.Versions?.find((v) => v.Key === fullKey);
      if (found !== undefined) return found;
      // `fullKey` sorts before every longer key with that prefix: once another key shows, it is done.
      const keys = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((e) => e.Key);
      if (keys.some((k) => k !== fullKey)) return undefined;
    }
    return undefined;
  }

  /** Every page of ListObjectVersions under a prefix; a truncated page without a marker is an error, not an end. */
  private async *versionPages(prefix: string, action: string, maxKeys?: number): AsyncGenerator<ListObjectVersionsCommandOutput> {
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (;;) {
      let page: ListObjectVersionsCommandOutput;
      try {
        page = await this.client.send(
          new ListObjectVersionsCommand({ Bucket: this.bucket, Prefix: prefix, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker, ...(maxKeys ? { MaxKeys: maxKeys } : {}) }),
        );
      } catch (err) {
        throw toStoreError(err, action, this.target(prefix));
      }
      yield page;
      if (page.IsTruncated !== true) return;
      if (page.NextKeyMarker === undefined) {
        throw new StoreError(`S3 listing of ${this.target(prefix)} was truncated without a NextKeyMarker`, {
          hint: 'the S3 endpoint answered an incomplete page; run again, and report it if it persists',
        });
      }
      keyMarker = page.NextKeyMarker;
      versionIdMarker = page.NextVersionIdMarker;
    }
  }

  /** Compares incoming bytes with what the key holds: same → created false; other → WriteOnceViolationError. */
  private async settleExisting(key: string, fullKey: string, existing: ExistingObject, incoming: Hashed): Promise<PutResult> {
    const existingSha = await this.existingSha256(fullKey, existing);
    if (existingSha !== incoming.sha256) {
      // Keep the error's own hint unless the preserved version is hidden, which deserves saying.
      const options = existing.hidden
        ? {
            hint: `a delete marker hides version ${existing.versionId ?? 'null'} of ${this.target(fullKey)}, but that version is preserved evidence; collect the new content into another case or under another path`,
          }
        : {};
      throw new WriteOnceViolationError(key, existingSha, incoming.sha256, options);
    }
    return {
      key,
      size: incoming.size,
      sha256: incoming.sha256,
      created: false,
      versionId: existing.versionId,
      retainUntil: existing.head.ObjectLockRetainUntilDate?.toISOString(),
    };
  }

  /** The hash the existing version was stored with: Amber's metadata, else S3's full-object checksum, else read and hashed. */
  private async existingSha256(fullKey: string, existing: ExistingObject): Promise<string> {
    const recorded = recordedMetadataSha256(existing.head) ?? fullObjectSha256(existing.head.ChecksumSHA256, existing.head.ChecksumType);
    if (recorded !== undefined) return recorded;
    try {
      return (await hashBody(await this.openObject(fullKey, existing.versionId))).sha256;
    } catch (err) {
      throw toStoreError(err, 'read', this.target(fullKey, existing.versionId));
    }
  }

  /** The source's SHA-256 from S3's own full-object checksum, or by reading it (its metadata is not trusted here). */
  private async sourceHash(source: CopySource, head: HeadObjectCommandOutput, origin: string): Promise<Hashed> {
    const size = head.ContentLength ?? 0;
    const checksum = fullObjectSha256(head.ChecksumSHA256, head.ChecksumType);
    if (checksum !== undefined) return { size, sha256: checksum };
    try {
      return await hashBody(await this.openObject(source.key, source.versionId, source.bucket));
    } catch (err) {
      throw sourceError(err, origin, 'read');
    }
  }

  // --- configuration ---

  private async detectCapabilities(): Promise<S3BucketCapabilities> {
    const bucketUri = `s3://${this.bucket}`;
    let objectLock = false;
    let defaultRetention: S3BucketCapabilities['defaultRetention'];
    try {
      const out = await this.client.send(new GetObjectLockConfigurationCommand({ Bucket: this.bucket }));
      objectLock = out.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled';
      const rule = out.ObjectLockConfiguration?.Rule?.DefaultRetention;
      if (objectLock && rule?.Mode !== undefined && (rule.Days !== undefined || rule.Years !== undefined)) {
        defaultRetention = { mode: rule.Mode, days: rule.Days, years: rule.Years };
      }
    } catch (err) {
      const { name, status } = s3ErrorInfo(err);
      if (name === 'NoSuchBucket') {
        throw new StoreError(`the evidence bucket ${bucketUri} does not exist`, {
          hint: `create it with Object Lock (aws s3api create-bucket --bucket ${this.bucket} --object-lock-enabled-for-bucket) or check the name and AWS_REGION`,
          cause: err,
        });
      }
      // No configuration (or an engine without Object Lock): the store works, without retention.
      if (name !== 'ObjectLockConfigurationNotFoundError' && status !== 404 && status !== 501) {
        throw toStoreError(err, 'read the Object Lock configuration of', bucketUri);
      }
    }
    let versioning: S3BucketCapabilities['versioning'];
    try {
      const out = await this.client.send(new GetBucketVersioningCommand({ Bucket: this.bucket }));
      versioning = out.Status === 'Enabled' || out.Status === 'Suspended' ? out.Status : 'Disabled';
    } catch (err) {
      throw toStoreError(err, 'read the versioning status of', bucketUri);
    }
    return { objectLock, defaultRetention, versioning };
  }

  /** The retain-until date to set: the one asked for, else the bucket default's end; none without Object Lock. */
  private retention(caps: S3BucketCapabilities, requested: Date | undefined): Date | undefined {
    if (!caps.objectLock) return undefined;
    const now = this.now();
    if (requested !== undefined) {
      if (Number.isNaN(requested.getTime()) || requested.getTime() <= now.getTime()) {
        throw new InvalidInputError(`retainUntil ${String(requested)} is not a date in the future`, {
          hint: 'pass a date after now, or leave it out to apply the bucket default retention',
        });
      }
      return requested;
    }
    const rule = caps.defaultRetention;
    if (rule === undefined) return undefined;
    // Explicit headers rather than relying on the default silently, so the result can say when it ends.
    const until = new Date(now.getTime());
    if (rule.days !== undefined) until.setUTCDate(until.getUTCDate() + rule.days);
    if (rule.years !== undefined) until.setUTCFullYear(until.getUTCFullYear() + rule.years);
    return until;
  }

  private fullKey(key: string): string {
    checkObjectKey(key, 'store key');
    const full = this.prefix + key;
    if (Buffer.byteLength(full) > 1024) {
      throw new InvalidInputError(`the S3 key ${full.slice(0, 80)}... is ${Buffer.byteLength(full)} bytes; S3 allows 1024`, {
        hint: 'use a shorter case name or path',
      });
    }
    return full;
  }

  private target(fullKey: string, versionId?: string): string {
    return `s3://${this.bucket}/${fullKey}${versionId === undefined ? '' : `?versionId=${versionId}`}`;
  }
}

// --- helpers ---

/** Signals a conditional write lost to another writer; carries the hash of what we tried to write. */
class LostRace extends Error {
  constructor(
    readonly incoming: Hashed,
    override readonly cause: unknown,
  ) {
    super('conditional write lost');
  }
}

/** Signals that reading the body failed (not S3): putImmutable rethrows the body's own error. */
class BodyFailed extends Error {
  constructor(override readonly cause: unknown) {
    super('reading the body failed');
  }
}

/** Collects the SHA-256 of each part, for S3's composite multipart checksum (sha256 of the part digests). */
class PartHasher {
  private readonly digests: Buffer[] = [];
  private current = createHash('sha256');
  private filled = 0;

  constructor(private readonly partSize: number) {}

  update(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.byteLength) {
      const take = Math.min(this.partSize - this.filled, chunk.byteLength - offset);
      this.current.update(chunk.subarray(offset, offset + take));
      this.filled += take;
      offset += take;
      if (this.filled === this.partSize) {
        this.digests.push(this.current.digest());
        this.current = createHash('sha256');
        this.filled = 0;
      }
    }
  }

  /** `base64(sha256(d1 || d2 || ...))-N`, as S3 reports for a multipart object. */
  composite(): string {
    const digests = this.filled > 0 || this.digests.length === 0 ? [...this.digests, this.current.digest()] : this.digests;
    return `${createHash('sha256').update(Buffer.concat(digests)).digest('base64')}-${digests.length}`;
  }
}

interface Probe {
  readonly chunks: Buffer[];
  readonly size: number;
  /** True when the whole body fits in SINGLE_PUT_LIMIT and has been read. */
  readonly complete: boolean;
  /** The unread rest of a stream body. */
  readonly rest: AsyncIterator<unknown> | undefined;
}

/** Reads a body until it ends or passes `limit`, keeping the chunks (nothing is hashed yet). */
async function bufferUpTo(body: Readable | Uint8Array, limit: number, onProgress?: (bytes: number) => void): Promise<Probe> {
  if (body instanceof Uint8Array) {
    const chunk = toBuffer(body);
    onProgress?.(chunk.byteLength);
    return { chunks: [chunk], size: chunk.byteLength, complete: chunk.byteLength <= limit, rest: undefined };
  }
  const rest = body[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let size = 0;
  while (size <= limit) {
    const next = await rest.next();
    if (next.done) return { chunks, size, complete: true, rest: undefined };
    const chunk = toBuffer(next.value);
    chunks.push(chunk);
    size += chunk.byteLength;
    onProgress?.(chunk.byteLength);
  }
  return { chunks, size, complete: false, rest };
}

/** The buffered head of a body, then its unread rest; closes the source if the consumer stops early. */
async function* replay(chunks: Buffer[], rest: AsyncIterator<unknown> | undefined): AsyncGenerator<Buffer> {
  try {
    yield* chunks;
    if (rest === undefined) return;
    for (;;) {
      const next = await rest.next();
      if (next.done) return;
      yield toBuffer(next.value);
    }
  } finally {
    await rest?.return?.();
  }
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

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw new TypeError(`expected bytes from the body stream, got ${typeof chunk}`);
}

function asReadable(body: unknown, where: string): Readable {
  if (body instanceof Readable) return body;
  throw new StoreError(`S3 returned no readable body for ${where}`, {
    hint: 'the S3 endpoint answered without a body stream; run again, and report it if it persists',
  });
}

function isPrematureClose(err: unknown): boolean {
  return (err as { code?: unknown }).code === 'ERR_STREAM_PREMATURE_CLOSE';
}

/** Hex SHA-256 from a base64 full-object checksum; undefined for composite (multipart) or absent ones. */
function fullObjectSha256(base64: string | undefined, type: string | undefined): string | undefined {
  if (base64 === undefined || base64 === '' || base64.includes('-') || type === 'COMPOSITE') return undefined;
  const raw = Buffer.from(base64, 'base64');
  return raw.byteLength === 32 ? raw.toString('hex') : undefined;
}

function recordedMetadataSha256(head: HeadObjectCommandOutput): string | undefined {
  const value = head.Metadata?.[SHA256_METADATA];
  return value !== undefined && HEX_SHA256.test(value) ? value : undefined;
}

function lockHeaders(retainUntil: Date | undefined) {
  return retainUntil === undefined
    ? {}
    : { ObjectLockMode: 'COMPLIANCE' as const, ObjectLockRetainUntilDate: retainUntil };
}

/** S3 reports "null" as the version id of objects written while versioning was off. */
function realVersionId(versionId: string | undefined): string | undefined {
  return versionId === undefined || versionId === 'null' ? undefined : versionId;
}

/** The URL-encoded CopySource value: `bucket/key[?versionId=v]`. */
function copySourceOf(bucket: string, key: string, versionId: string | undefined): string {
  const encodedKey = key.split('/').map(encodeURIComponent).join('/');
  return `${bucket}/${encodedKey}${versionId === undefined ? '' : `?versionId=${encodeURIComponent(versionId)}`}`;
}

/** S3 lists keys in UTF-8 byte order; compare the same way. */
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function normalisePrefix(prefix: string): string {
  if (prefix === '') return '';
  checkObjectKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix, 'store prefix');
  return prefix.endsWith('/') ? prefix : `${prefix}/`;
}

function sourceError(err: unknown, origin: string, action: string): AcquisitionError {
  const info = s3ErrorInfo(err);
  const missing = isNotFound(err) && info.name !== 'NoSuchBucket';
  return new AcquisitionError(`cannot ${action} ${origin}: ${info.name}${info.status === undefined ? '' : ` (HTTP ${info.status})`}`, origin, {
    hint: missing ? 'the source object (or that version) no longer exists; list the source again' : s3Hint(err, action, origin),
    cause: err,
  });
}
