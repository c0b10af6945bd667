/**
 * The EvidenceSource port on S3: every object under `s3://bucket/prefix`, listed lazily page by page
 * (ListObjectsV2), each kept under its full key so Athena partition projection works on the preserved copy.
 */
import { Readable } from 'node:stream';
import { GetObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { AcquisitionError, InvalidInputError } from '../../../shared/errors.ts';
import type { EvidenceSource, SourceObject, SourceProblem } from '../../../shared/ports/evidence-source.ts';
import { createS3Client, s3ConfigFromEnv } from './s3-client.ts';
import { isNotFound, s3ErrorInfo, s3Hint } from './s3-errors.ts';

/** A parsed `s3://bucket/prefix`. */
export interface S3Location {
  readonly bucket: string;
  /** Key prefix as written (S3 semantics: `logs` also matches `logs-old/...`); '' for the whole bucket. */
  readonly prefix: string;
}

const URI_HINT = 'write it as s3://bucket/prefix, e.g. s3://my-trail-bucket/AWSLogs/';

/** Parses `s3://bucket[/prefix]`; throws InvalidInputError naming the URI when it is malformed. */
export function parseS3Uri(uri: string): S3Location {
  if (!uri.startsWith('s3://')) {
    throw new InvalidInputError(`not an S3 URI: '${uri}' (it must start with s3://)`, { hint: URI_HINT });
  }
  const rest = uri.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const prefix = slash < 0 ? '' : rest.slice(slash + 1);
  assertBucketName(bucket, uri);
  if (prefix.startsWith('/')) {
    throw new InvalidInputError(`the prefix in '${uri}' starts with '/', which no S3 key Amber can preserve does`, {
      hint: `drop the extra slash: s3://${bucket}/${prefix.replace(/^\/+/, '')}`,
    });
  }
  return { bucket, prefix };
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Throws InvalidInputError unless `bucket` follows S3's bucket naming rules. */
export function assertBucketName(bucket: string, uri: string): void {
  if (bucket === '') {
    throw new InvalidInputError(`no bucket name in '${uri}'`, { hint: URI_HINT });
  }
  if (!BUCKET_NAME.test(bucket) || bucket.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(bucket)) {
    throw new InvalidInputError(`'${bucket}' in '${uri}' is not a valid S3 bucket name`, {
      hint: 'bucket names are 3-63 characters of lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit',
    });
  }
}

/** Why an S3 key cannot be kept as a relative path under a case, or undefined when it can. */
export function objectKeyProblem(key: string): string | undefined {
  if (key === '') return 'the key is empty';
  if (key.includes('\0')) return 'the key contains a NUL character';
  if (key.startsWith('/')) return 'the key starts with /, so it cannot be kept as a relative path';
  if (key.endsWith('/')) return 'the key ends with / (a folder placeholder), so it cannot be kept as a file';
  const segments = key.split('/');
  if (segments.includes('..')) return 'the key has a .. segment, which would leave the case folder';
  if (segments.includes('.')) return 'the key has a . segment, which is ambiguous as a path';
  if (segments.includes('')) return 'the key has an empty segment (//), which is ambiguous as a path';
  return undefined;
}

/** Throws InvalidInputError naming the key when it cannot be used as a relative path. */
export function checkObjectKey(key: string, what: string): void {
  const problem = objectKeyProblem(key);
  if (problem !== undefined) {
    throw new InvalidInputError(`invalid ${what} '${key}': ${problem}`, {
      hint: 'use a relative path with / separators and no empty, . or .. segments',
    });
  }
}

export interface S3EvidenceSourceOptions {
  /** `s3://bucket/prefix`, as the user wrote it. */
  readonly uri: string;
  /**
   * The S3 client.
   * @default createS3Client(s3ConfigFromEnv()), built only when none is given
   */
  readonly client?: S3Client;
}

/** Every object under an S3 prefix, listed lazily; objects carry `s3` so an S3 store can copy them server-side. */
export class S3EvidenceSource implements EvidenceSource {
  readonly spec: string;
  readonly bucket: string;
  readonly prefix: string;
  private readonly client: S3Client;

  constructor(options: S3EvidenceSourceOptions) {
    const { bucket, prefix } = parseS3Uri(options.uri);
    this.spec = options.uri;
    this.bucket = bucket;
    this.prefix = prefix;
    this.client = options.client ?? createS3Client(s3ConfigFromEnv());
  }

  async *list(onProblem: (problem: SourceProblem) => void): AsyncIterable<SourceObject> {
    const pages = paginateListObjectsV2(
      { client: this.client },
      { Bucket: this.bucket, Prefix: this.prefix === '' ? undefined : this.prefix },
    );
    const iterator = pages[Symbol.asyncIterator]();
    for (;;) {
      let page;
      try {
        page = await iterator.next();
      } catch (err) {
        // Without a listing nothing can be collected: stop with the reason rather than report 0 objects.
        const info = s3ErrorInfo(err);
        throw new AcquisitionError(`cannot list ${this.spec}: ${info.name}${info.status === undefined ? '' : ` (HTTP ${info.status})`}`, this.spec, {
          hint: s3Hint(err, 'list (s3:ListBucket)', this.spec),
          cause: err,
        });
      }
      if (page.done) return;
      for (const object of page.value.Contents ?? []) {
        const key = object.Key;
        if (key === undefined) continue;
        const origin = `s3://${this.bucket}/${key}`;
        const problem = objectKeyProblem(key);
        if (problem !== undefined) {
          onProblem({ origin, reason: `${problem}; it was not collected (copy it by hand under a clean key)` });
          continue;
        }
        yield {
          origin,
          relPath: key,
          size: object.Size,
          s3: { bucket: this.bucket, key },
          open: () => this.open(key, origin),
        };
      }
    }
  }

  private async open(key: string, origin: string): Promise<Readable> {
    let body: unknown;
    try {
      body = (await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }))).Body;
    } catch (err) {
      const info = s3ErrorInfo(err);
      throw new AcquisitionError(`cannot read ${origin}: ${info.name}${info.status === undefined ? '' : ` (HTTP ${info.status})`}`, origin, {
        hint: isNotFound(err) && info.name !== 'NoSuchBucket'
          ? 'the object was deleted after it was listed; list the source again'
          : s3Hint(err, 'read (s3:GetObject)', origin),
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
}
