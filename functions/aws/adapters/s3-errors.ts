/**
 * Reading S3 SDK errors and turning the ones that outlived the SDK's retries into Amber errors that name the
 * bucket and key and say what to do.
 */
import { isAmberError, StoreError, type AmberError } from '../../../shared/errors.ts';

/** What Amber needs from an SDK error: its S3 code, HTTP status and how many attempts the SDK made. */
export interface S3ErrorInfo {
  readonly name: string;
  readonly message: string;
  readonly status: number | undefined;
  readonly attempts: number | undefined;
  /** Node's network code (ECONNREFUSED, ENOTFOUND ...) when the request never got an answer. */
  readonly networkCode: string | undefined;
}

/** Reads the S3 code, HTTP status, attempt count and network code of any thrown value. */
export function s3ErrorInfo(err: unknown): S3ErrorInfo {
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    name?: unknown;
    message?: unknown;
    code?: unknown;
    $metadata?: { httpStatusCode?: number; attempts?: number };
  };
  return {
    name: typeof e.name === 'string' ? e.name : 'Error',
    message: typeof e.message === 'string' ? e.message : String(err),
    status: e.$metadata?.httpStatusCode,
    attempts: e.$metadata?.attempts,
    networkCode: typeof e.code === 'string' ? e.code : undefined,
  };
}

const NOT_FOUND = new Set(['NotFound', 'NoSuchKey', 'NoSuchVersion', 'NoSuchBucket']);

/** True for "the key, version or bucket is not there" (GET answers NoSuchKey, HEAD only a bare 404). */
export function isNotFound(err: unknown): boolean {
  const { name, status } = s3ErrorInfo(err);
  return NOT_FOUND.has(name) || status === 404;
}

/** True when a conditional write (If-None-Match: *) lost: another writer created the key first. */
export function isPreconditionFailed(err: unknown): boolean {
  const { name, status } = s3ErrorInfo(err);
  return name === 'PreconditionFailed' || status === 412;
}

const THROTTLING = new Set(['SlowDown', 'ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded']);
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH']);

/** How to fix a failed S3 call, from its code and status. */
export function s3Hint(err: unknown, action: string, target: string): string {
  const info = s3ErrorInfo(err);
  const after = info.attempts === undefined ? '' : ` after ${info.attempts} attempt${info.attempts === 1 ? '' : 's'}`;
  if (info.name === 'CredentialsProviderError') {
    return 'no AWS credentials were found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY';
  }
  if (info.name === 'ConditionalRequestConflict' || info.status === 409) {
    return `another writer was writing ${target} at the same moment: run again (the write-once check then settles it)`;
  }
  if (info.name === 'NoSuchBucket') {
    return `the bucket in ${target} does not exist (or is in another region): check the name and AWS_REGION`;
  }
  if (info.name === 'AccessDenied' || info.status === 403) {
    return `the credentials in use may not ${action} ${target}: check the IAM policy, the bucket policy and any KMS key policy`;
  }
  if (THROTTLING.has(info.name) || info.status === 429 || info.status === 503) {
    return `S3 kept throttling${after}: run again later (already preserved items are kept), or raise maxAttempts in createS3Client`;
  }
  if (info.status !== undefined && info.status >= 500) {
    return `S3 kept failing${after} with HTTP ${info.status}: run again later (already preserved items are kept)`;
  }
  if ((info.networkCode && UNREACHABLE.has(info.networkCode)) || info.name === 'TimeoutError') {
    return 'the S3 endpoint could not be reached: check the network and AWS_ENDPOINT_URL_S3 (for the local test server: bash scripts/s3-server.sh start .s3-server)';
  }
  return 'see the cause for the S3 answer';
}

/** Wraps an SDK error as a StoreError naming the action and `s3://bucket/key`; Amber's own errors pass through. */
export function toStoreError(err: unknown, action: string, target: string): AmberError {
  if (isAmberError(err)) return err;
  const info = s3ErrorInfo(err);
  const status = info.status === undefined ? '' : ` (HTTP ${info.status})`;
  return new StoreError(`S3 ${action} failed for ${target}: ${info.name}${status}: ${info.message}`, {
    hint: s3Hint(err, action, target),
    cause: err,
  });
}
