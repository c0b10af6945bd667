/**
 * The EvidenceSource port on a whole S3 bucket (`--all-versions`): every object version and delete marker under
 * `s3://bucket/prefix` (ListObjectVersions, paged with KeyMarker / VersionIdMarker), the listing pages as S3 sent
 * them, and the bucket's configuration at the moment of collection. Keys, relative to the case:
 *
 *   aws/s3/<bucket>/versions/<versionId>/<key>                          each object version, its bytes as stored
 *   aws/s3/<bucket>/delete-markers/<versionId>/<key>.delete-marker.json each delete marker, described (see below)
 *   aws/s3/<bucket>/listings/<time>-<prefix hash>/page-00001.xml        each ListObjectVersions page, byte for byte
 *   aws/s3/<bucket>/configuration/<time>/<name>.xml|.json               each configuration as S3 sent it, or its absence
 *
 * The version id comes before the key so the preserved file keeps the key's own name and extension (media type
 * and log-source recognition read it), and two versions of one key never share a path. A version's origin is
 * `s3://bucket/key?versionId=V`.
 *
 * Delete markers have no bytes to preserve. Each becomes an evidence item: a small JSON document of the marker's
 * immutable facts (key, version id, time, owner), so it is hashed, listed in the manifest and verified like any
 * other item, and sits under the key it deleted. Whether it was the latest version is not in it, because that
 * changes when the key is written again (the document must stay byte-identical across runs to be re-preserved);
 * the listing pages, kept as S3 sent them, hold IsLatest as seen at the time.
 *
 * Configuration and listings are states at a moment, not immutable objects: they go under the time of the run,
 * so a later run records the later state beside the earlier one. An absent configuration (NoSuchBucketPolicy ...)
 * is recorded as `"state": "none"`, a refusal as `"access-denied"`, any other error as `"error"`; none is fatal.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  GetBucketAclCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketLoggingCommand,
  GetBucketNotificationConfigurationCommand,
  GetBucketPolicyCommand,
  GetBucketReplicationCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  GetPublicAccessBlockCommand,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { AcquisitionError } from '../../../shared/errors.ts';
import type { EvidenceSource, SourceObject, SourceProblem } from '../../../shared/ports/evidence-source.ts';
import { compactTime } from './cloudtrail-lookup-source.ts';
import { createS3Client, s3ConfigFromEnv } from './s3-client.ts';
import { isNotFound, s3ErrorInfo, s3Hint } from './s3-errors.ts';
import { objectKeyProblem, parseS3Uri } from './s3-source.ts';

/** One bucket configuration Amber preserves: the API call, and the error codes S3 uses for "there is none". */
interface ConfigurationCall {
  readonly name: string;
  readonly request: string;
  /** The body is JSON (the bucket policy), not XML. */
  readonly json?: boolean;
  readonly none: readonly string[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly command: (bucket: string) => any;
}

/** The bucket configurations preserved, in the order they are read. */
export const BUCKET_CONFIGURATIONS: readonly ConfigurationCall[] = [
  { name: 'policy', request: 'GetBucketPolicy', json: true, none: ['NoSuchBucketPolicy'], command: (b) => new GetBucketPolicyCommand({ Bucket: b }) },
  { name: 'acl', request: 'GetBucketAcl', none: [], command: (b) => new GetBucketAclCommand({ Bucket: b }) },
  { name: 'public-access-block', request: 'GetPublicAccessBlock', none: ['NoSuchPublicAccessBlockConfiguration'], command: (b) => new GetPublicAccessBlockCommand({ Bucket: b }) },
  { name: 'versioning', request: 'GetBucketVersioning', none: [], command: (b) => new GetBucketVersioningCommand({ Bucket: b }) },
  { name: 'object-lock', request: 'GetObjectLockConfiguration', none: ['ObjectLockConfigurationNotFoundError'], command: (b) => new GetObjectLockConfigurationCommand({ Bucket: b }) },
  { name: 'lifecycle', request: 'GetBucketLifecycleConfiguration', none: ['NoSuchLifecycleConfiguration'], command: (b) => new GetBucketLifecycleConfigurationCommand({ Bucket: b }) },
  { name: 'logging', request: 'GetBucketLogging', none: [], command: (b) => new GetBucketLoggingCommand({ Bucket: b }) },
  { name: 'replication', request: 'GetBucketReplication', none: ['ReplicationConfigurationNotFoundError'], command: (b) => new GetBucketReplicationCommand({ Bucket: b }) },
  { name: 'encryption', request: 'GetBucketEncryption', none: ['ServerSideEncryptionConfigurationNotFoundError'], command: (b) => new GetBucketEncryptionCommand({ Bucket: b }) },
  { name: 'notification', request: 'GetBucketNotificationConfiguration', none: [], command: (b) => new GetBucketNotificationConfigurationCommand({ Bucket: b }) },
];

/** Largest page ListObjectVersions returns (its documented maximum of MaxKeys). */
export const VERSIONS_PAGE_SIZE = 1000;

/** Listing pages are numbered with five digits, so keys sort in page order. */
const MAX_PAGES = 99_999;

/**
 * A version id as one path segment. AWS version ids are URL-safe already; anything else (a `/`, `.` or `..`
 * from an S3-compatible server) is percent-encoded so it can neither add a folder nor climb out of one.
 */
export function versionSegment(versionId: string): string {
  const encoded = encodeURIComponent(versionId);
  return encoded === '.' || encoded === '..' || encoded === '' ? encoded.replace(/\./g, '%2E') || '%00' : encoded;
}

export interface S3VersionsSourceOptions {
  /** `s3://bucket/prefix`, as the user wrote it. */
  readonly uri: string;
  /**
   * The S3 client.
   * @default createS3Client(s3ConfigFromEnv()), built only when none is given
   */
  readonly client?: S3Client;
  /**
   * Time of the run, naming the configuration and listing folders.
   * @default () => new Date()
   */
  readonly now?: () => Date;
  /**
   * Keys asked for per listing page (tests use small pages).
   * @default VERSIONS_PAGE_SIZE
   */
  readonly pageSize?: number;
}

/** What one raw call gave: the status and body S3 sent, and the SDK's error when it failed. */
interface RawAnswer<T> {
  readonly status: number | undefined;
  readonly body: Uint8Array | undefined;
  readonly output?: T;
  readonly error?: unknown;
}

/** Every version, delete marker and configuration of an S3 bucket (or of the versions under a prefix). */
export class S3VersionsSource implements EvidenceSource {
  readonly spec: string;
  readonly bucket: string;
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly now: () => Date;
  private readonly pageSize: number;

  constructor(options: S3VersionsSourceOptions) {
    const { bucket, prefix } = parseS3Uri(options.uri);
    this.spec = options.uri;
    this.bucket = bucket;
    this.prefix = prefix;
    this.client = options.client ?? createS3Client(s3ConfigFromEnv());
    this.now = options.now ?? (() => new Date());
    this.pageSize = options.pageSize ?? VERSIONS_PAGE_SIZE;
  }

  /** The folder (relative to the case) of everything this source preserves. */
  folder(): string {
    return `aws/s3/${this.bucket}`;
  }

  async *list(onProblem: (problem: SourceProblem) => void): AsyncIterable<SourceObject> {
    const time = compactTime(this.now());
    for (const call of BUCKET_CONFIGURATIONS) yield await this.configuration(call, time);
    yield* this.versions(time, onProblem);
  }

  /** One configuration as S3 sent it, or a JSON record of why there is none. */
  private async configuration(call: ConfigurationCall, time: string): Promise<SourceObject> {
    const origin = `api:s3:${call.request}?${new URLSearchParams({ Bucket: this.bucket }).toString()}`;
    const folder = `${this.folder()}/configuration/${time}`;
    const answer = await this.raw(call.command(this.bucket));
    if (answer.error === undefined && answer.body !== undefined) {
      return inMemory(origin, `${folder}/${call.name}.${call.json ? 'json' : 'xml'}`, Buffer.from(answer.body));
    }
    const info = s3ErrorInfo(answer.error);
    const state = call.none.includes(info.name) ? 'none' : info.name === 'AccessDenied' || info.status === 403 ? 'access-denied' : 'error';
    const record = {
      bucket: this.bucket,
      configuration: call.name,
      request: call.request,
      state,
      errorCode: info.name,
      ...(info.status === undefined ? {} : { httpStatus: info.status }),
      ...(state === 'none' ? {} : { message: info.message }),
    };
    return inMemory(origin, `${folder}/${call.name}.${state}.json`, Buffer.from(`${JSON.stringify(record, null, 2)}\n`));
  }

  private async *versions(time: string, onProblem: (problem: SourceProblem) => void): AsyncGenerator<SourceObject> {
    const listings = `${this.folder()}/listings/${time}-${createHash('sha256').update(this.prefix).digest('hex').slice(0, 8)}`;
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (let page = 1; ; page += 1) {
      const input = {
        Bucket: this.bucket,
        MaxKeys: this.pageSize,
        ...(this.prefix === '' ? {} : { Prefix: this.prefix }),
        ...(keyMarker === undefined ? {} : { KeyMarker: keyMarker }),
        ...(versionIdMarker === undefined ? {} : { VersionIdMarker: versionIdMarker }),
      };
      const origin = `api:s3:ListObjectVersions?${new URLSearchParams(Object.entries(input).map(([k, v]): [string, string] => [k, String(v)])).toString()}`;
      const answer = await this.raw<ListObjectVersionsCommandOutput>(new ListObjectVersionsCommand(input));
      if (answer.error !== undefined || answer.output === undefined || answer.body === undefined) {
        // The configuration and the pages already listed are kept; what follows this page is not listed.
        const info = s3ErrorInfo(answer.error);
        onProblem({
          origin,
          reason: `cannot list the versions of s3://${this.bucket}/${this.prefix}${page > 1 ? ` after page ${page - 1} (key ${keyMarker}, version ${versionIdMarker})` : ''}: ${info.name}${info.status === undefined ? '' : ` (HTTP ${info.status})`}; ${s3Hint(answer.error, 'list object versions (s3:ListBucketVersions)', this.spec)}`,
        });
        return;
      }
      yield inMemory(origin, `${listings}/page-${String(page).padStart(5, '0')}.xml`, Buffer.from(answer.body));
      const out = answer.output;
      for (const v of out.Versions ?? []) {
        const object = this.version(v.Key, v.VersionId, v.Size, onProblem);
        if (object) yield object;
      }
      for (const m of out.DeleteMarkers ?? []) {
        const marker = this.deleteMarker(m.Key, m.VersionId, m.LastModified, m.Owner, onProblem);
        if (marker) yield marker;
      }
      if (!out.IsTruncated) return;
      if (out.NextKeyMarker === undefined || (out.NextKeyMarker === keyMarker && out.NextVersionIdMarker === versionIdMarker)) {
        onProblem({
          origin,
          reason: `S3 said page ${page} of s3://${this.bucket}/${this.prefix} was truncated but gave ${out.NextKeyMarker === undefined ? 'no NextKeyMarker' : 'the markers it was asked with'}, so listing on would never end; the versions after key ${out.NextKeyMarker ?? keyMarker} are not listed (collect them with a narrower prefix)`,
        });
        return;
      }
      if (page >= MAX_PAGES) {
        onProblem({ origin, reason: `more than ${MAX_PAGES} listing pages under s3://${this.bucket}/${this.prefix}: the versions after key ${out.NextKeyMarker} are not listed (collect them with narrower prefixes)` });
        return;
      }
      keyMarker = out.NextKeyMarker;
      versionIdMarker = out.NextVersionIdMarker;
    }
  }

  private version(key: string | undefined, versionId: string | undefined, size: number | undefined, onProblem: (p: SourceProblem) => void): SourceObject | undefined {
    if (key === undefined) return undefined;
    const vid = versionId ?? 'null';
    const origin = `s3://${this.bucket}/${key}?versionId=${vid}`;
    const problem = objectKeyProblem(key);
    if (problem !== undefined) {
      onProblem({ origin, reason: `${problem}; this version was not collected (copy it by hand under a clean key)` });
      return undefined;
    }
    return {
      origin,
      relPath: `${this.folder()}/versions/${versionSegment(vid)}/${key}`,
      ...(size === undefined ? {} : { size }),
      s3: { bucket: this.bucket, key, versionId: vid },
      open: () => this.open(key, vid, origin),
    };
  }

  private deleteMarker(
    key: string | undefined,
    versionId: string | undefined,
    lastModified: Date | undefined,
    owner: { ID?: string; DisplayName?: string } | undefined,
    onProblem: (p: SourceProblem) => void,
  ): SourceObject | undefined {
    if (key === undefined) return undefined;
    const vid = versionId ?? 'null';
    const origin = `s3://${this.bucket}/${key}?versionId=${vid}`;
    const problem = objectKeyProblem(key);
    if (problem !== undefined) {
      onProblem({ origin, reason: `${problem}; this delete marker was not recorded` });
      return undefined;
    }
    const record = {
      deleteMarker: true,
      bucket: this.bucket,
      key,
      versionId: vid,
      lastModified: lastModified?.toISOString() ?? null,
      owner: owner?.ID === undefined ? null : { id: owner.ID, ...(owner.DisplayName === undefined ? {} : { displayName: owner.DisplayName }) },
    };
    return inMemory(origin, `${this.folder()}/delete-markers/${versionSegment(vid)}/${key}.delete-marker.json`, Buffer.from(`${JSON.stringify(record, null, 2)}\n`));
  }

  private async open(key: string, versionId: string, origin: string): Promise<Readable> {
    let body: unknown;
    try {
      body = (await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, VersionId: versionId }))).Body;
    } catch (err) {
      const info = s3ErrorInfo(err);
      throw new AcquisitionError(`cannot read ${origin}: ${info.name}${info.status === undefined ? '' : ` (HTTP ${info.status})`}`, origin, {
        hint: isNotFound(err) && info.name !== 'NoSuchBucket'
          ? 'the version was deleted (permanently) after it was listed; list the bucket again'
          : s3Hint(err, 'read object versions (s3:GetObjectVersion)', origin),
        cause: err,
      });
    }
    if (!(body instanceof Readable)) {
      throw new AcquisitionError(`S3 returned no readable body for ${origin}`, origin, {
        hint: 'the S3 endpoint answered without a body stream; run again, and report it if it persists',
      });
    }
    return body;
  }

  /**
   * Sends a command and keeps the HTTP body exactly as S3 sent it: a middleware inside the SDK's deserializer
   * reads the body, keeps a copy and hands the same bytes on, so what the SDK parses is what is preserved.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private async raw<T>(command: any): Promise<RawAnswer<T>> {
    let status: number | undefined;
    let body: Uint8Array | undefined;
    command.middlewareStack.add(
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      (next: any) => async (args: any) => {
        const out = await next(args);
        const response = out.response as { statusCode?: number; body?: unknown };
        const bytes = await readBody(response.body);
        response.body = bytes;
        status = response.statusCode;
        body = response.statusCode !== undefined && response.statusCode >= 200 && response.statusCode < 300 ? bytes : undefined;
        return out;
      },
      // 'low' within the deserialize step runs inside the SDK's deserializer: it sees the raw response.
      { step: 'deserialize', priority: 'low', name: 'amberRawBodyCapture' },
    );
    try {
      const output = (await this.client.send(command)) as T;
      return { status, body, output };
    } catch (error) {
      return { status, body: undefined, error };
    }
  }
}

function inMemory(origin: string, relPath: string, bytes: Buffer): SourceObject {
  return { origin, relPath, size: bytes.length, open: () => Promise.resolve(Readable.from([bytes])) };
}

async function readBody(body: unknown): Promise<Uint8Array> {
  if (body === undefined || body === null) return new Uint8Array();
  if (body instanceof Uint8Array) return body;
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer | string>) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}
