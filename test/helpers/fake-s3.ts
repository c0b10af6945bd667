/**
 * A stateful fake of S3 behind aws-sdk-client-mock, for handler tests that go through S3ObjectStore,
 * S3EvidenceSource and the Map-results reader. Written behaviour (what S3 does, as far as Amber relies on it):
 * - buckets are created with `addBucket` (Object Lock default retention in days, versioning);
 * - PutObject checks `ChecksumSHA256` (BadDigest), honours `IfNoneMatch: *` and `IfMatch: <etag>` (412
 *   PreconditionFailed), and adds a version (or replaces the only one when the bucket is not versioned);
 * - CopyObject reads `CopySource` (`bucket/key[?versionId=]`), honours `IfNoneMatch: *`, copies metadata and
 *   answers the copy's full-object SHA-256;
 * - HeadObject/GetObject answer the latest version (or a given one), 404 NotFound / NoSuchKey otherwise;
 * - ListObjectsV2 and ListObjectVersions list everything under the prefix in one page (keys sorted);
 * - `failNext(command, error, times)` makes the next calls of a command throw `error`.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/core/serde';
import type { AwsStub } from 'aws-sdk-client-mock';
import { noSuchKey, notFound, s3Error } from './s3.ts';

interface Version {
  readonly versionId: string;
  readonly body: Buffer;
  readonly etag: string;
  readonly checksum: string;
  readonly metadata: Record<string, string>;
  readonly contentType: string | undefined;
  readonly retainUntil: Date | undefined;
}

interface Bucket {
  readonly lockDays: number | undefined;
  readonly versioned: boolean;
  readonly keys: Map<string, Version[]>;
}

const COMMANDS = {
  GetObjectLockConfigurationCommand,
  GetBucketVersioningCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  CopyObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  DeleteObjectCommand,
} as const;
type CommandName = keyof typeof COMMANDS;

export class FakeS3 {
  readonly buckets = new Map<string, Bucket>();
  readonly calls: { command: CommandName; input: Record<string, unknown> }[] = [];
  private readonly failures = new Map<CommandName, { error: Error; times: number }>();
  private nextVersion = 1;

  addBucket(name: string, options: { lockDays?: number; versioned?: boolean } = {}): this {
    this.buckets.set(name, { lockDays: options.lockDays, versioned: options.versioned ?? options.lockDays !== undefined, keys: new Map() });
    return this;
  }

  /** Puts an object directly (a trail bucket's log file). */
  put(bucket: string, key: string, body: string | Buffer): void {
    this.write(this.bucket(bucket), key, Buffer.from(body), {}, undefined, undefined);
  }

  /** The latest bytes under a key, or undefined. */
  object(bucket: string, key: string): Buffer | undefined {
    return this.buckets.get(bucket)?.keys.get(key)?.at(-1)?.body;
  }

  text(bucket: string, key: string): string | undefined {
    return this.object(bucket, key)?.toString('utf8');
  }

  keys(bucket: string, prefix = ''): string[] {
    return [...(this.buckets.get(bucket)?.keys.keys() ?? [])].filter((k) => k.startsWith(prefix)).sort();
  }

  count(command: CommandName): number {
    return this.calls.filter((c) => c.command === command).length;
  }

  failNext(command: CommandName, error: Error, times = 1): void {
    this.failures.set(command, { error, times });
  }

  /** Routes the mocked client's commands to this fake. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  install(mock: AwsStub<any, any, any>): this {
    for (const [name, command] of Object.entries(COMMANDS) as [CommandName, (typeof COMMANDS)[CommandName]][]) {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      mock.on(command as any).callsFake(async (input: Record<string, unknown>) => this.handle(name, input));
    }
    return this;
  }

  private async handle(name: CommandName, input: Record<string, unknown>): Promise<unknown> {
    this.calls.push({ command: name, input });
    const failure = this.failures.get(name);
    if (failure && failure.times > 0) {
      failure.times -= 1;
      throw failure.error;
    }
    const bucketName = String(input.Bucket);
    switch (name) {
      case 'GetObjectLockConfigurationCommand': {
        const b = this.bucket(bucketName);
        if (b.lockDays === undefined) throw s3Error('ObjectLockConfigurationNotFoundError', 404);
        return { ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: b.lockDays } } } };
      }
      case 'GetBucketVersioningCommand':
        return this.bucket(bucketName).versioned ? { Status: 'Enabled' } : {};
      case 'HeadBucketCommand':
        this.bucket(bucketName);
        return {};
      case 'HeadObjectCommand': {
        const v = this.version(bucketName, String(input.Key), input.VersionId as string | undefined);
        if (!v) throw notFound();
        return this.head(v, this.bucket(bucketName).versioned);
      }
      case 'GetObjectCommand': {
        const v = this.version(bucketName, String(input.Key), input.VersionId as string | undefined);
        if (!v) throw noSuchKey();
        return { ...this.head(v, this.bucket(bucketName).versioned), Body: sdkStreamMixin(Readable.from([v.body])) };
      }
      case 'PutObjectCommand': {
        const b = this.bucket(bucketName);
        const key = String(input.Key);
        const body = Buffer.from(input.Body as Uint8Array);
        const latest = b.keys.get(key)?.at(-1);
        if (input.IfNoneMatch === '*' && latest) throw s3Error('PreconditionFailed', 412);
        if (typeof input.IfMatch === 'string' && latest?.etag !== input.IfMatch) throw s3Error('PreconditionFailed', 412);
        const checksum = createHash('sha256').update(body).digest('base64');
        if (typeof input.ChecksumSHA256 === 'string' && input.ChecksumSHA256 !== checksum) throw s3Error('BadDigest', 400);
        const v = this.write(b, key, body, (input.Metadata as Record<string, string>) ?? {}, input.ContentType as string | undefined, input.ObjectLockRetainUntilDate as Date | undefined);
        return { VersionId: b.versioned ? v.versionId : undefined, ETag: v.etag, ChecksumSHA256: checksum };
      }
      case 'CopyObjectCommand': {
        const m = /^([^/]+)\/([^?]+)(?:\?versionId=(.+))?$/.exec(String(input.CopySource));
        if (!m) throw s3Error('InvalidArgument', 400);
        const sourceKey = m[2]!.split('/').map(decodeURIComponent).join('/');
        const source = this.version(m[1]!, sourceKey, m[3] ? decodeURIComponent(m[3]) : undefined);
        if (!source) throw noSuchKey();
        const b = this.bucket(bucketName);
        const key = String(input.Key);
        if (input.IfNoneMatch === '*' && b.keys.get(key)?.length) throw s3Error('PreconditionFailed', 412);
        const v = this.write(b, key, source.body, source.metadata, source.contentType, input.ObjectLockRetainUntilDate as Date | undefined);
        return { VersionId: b.versioned ? v.versionId : undefined, CopyObjectResult: { ETag: v.etag, ChecksumSHA256: v.checksum, ChecksumType: 'FULL_OBJECT' } };
      }
      case 'ListObjectsV2Command': {
        const prefix = String(input.Prefix ?? '');
        const b = this.bucket(bucketName);
        return { IsTruncated: false, Contents: this.keys(bucketName, prefix).map((Key) => ({ Key, Size: b.keys.get(Key)!.at(-1)!.body.byteLength })) };
      }
      case 'ListObjectVersionsCommand': {
        const prefix = String(input.Prefix ?? '');
        const b = this.bucket(bucketName);
        const versions = this.keys(bucketName, prefix).flatMap((Key) =>
          [...b.keys.get(Key)!].reverse().map((v, i) => ({ Key, VersionId: b.versioned ? v.versionId : 'null', IsLatest: i === 0, Size: v.body.byteLength })),
        );
        return { IsTruncated: false, Versions: versions, DeleteMarkers: [] };
      }
      case 'DeleteObjectCommand': {
        const b = this.bucket(bucketName);
        const list = b.keys.get(String(input.Key)) ?? [];
        b.keys.set(String(input.Key), list.filter((v) => v.versionId !== input.VersionId));
        return {};
      }
    }
  }

  private bucket(name: string): Bucket {
    const b = this.buckets.get(name);
    if (!b) throw s3Error('NoSuchBucket', 404);
    return b;
  }

  private version(bucket: string, key: string, versionId: string | undefined): Version | undefined {
    const list = this.bucket(bucket).keys.get(key) ?? [];
    return versionId === undefined ? list.at(-1) : list.find((v) => v.versionId === versionId);
  }

  private head(v: Version, versioned: boolean) {
    return {
      ContentLength: v.body.byteLength,
      ETag: v.etag,
      VersionId: versioned ? v.versionId : undefined,
      Metadata: v.metadata,
      ContentType: v.contentType,
      ChecksumSHA256: v.checksum,
      ChecksumType: 'FULL_OBJECT',
      ...(v.retainUntil ? { ObjectLockRetainUntilDate: v.retainUntil, ObjectLockMode: 'COMPLIANCE' } : {}),
    };
  }

  private write(b: Bucket, key: string, body: Buffer, metadata: Record<string, string>, contentType: string | undefined, retainUntil: Date | undefined): Version {
    const v: Version = {
      versionId: `v${this.nextVersion++}`,
      body,
      etag: `"${createHash('md5').update(body).digest('hex')}"`,
      checksum: createHash('sha256').update(body).digest('base64'),
      metadata,
      contentType,
      retainUntil,
    };
    b.keys.set(key, b.versioned ? [...(b.keys.get(key) ?? []), v] : [v]);
    return v;
  }
}
