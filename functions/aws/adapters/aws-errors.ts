/**
 * SDK errors of the non-S3 services turned into Amber errors that name the call, the account and region, and
 * say whether running the step again may help.
 */
import { isAmberError, type AmberError } from '../../../shared/errors.ts';
import { CloudCallError } from '../../../shared/preservation/errors.ts';
import { s3ErrorInfo } from './s3-errors.ts';

/** Name, message, HTTP status, attempts and network code of any thrown value (the SDK's shape is shared by all services). */
export const awsErrorInfo = s3ErrorInfo;

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'SlowDown',
]);
/** Limits that clear as work in progress finishes (concurrent snapshot copies, snapshot rate per volume). */
const CLEARS_LATER = new Set(['ResourceLimitExceeded', 'SnapshotCreationPerVolumeRateExceeded', 'ConcurrentSnapshotLimitExceeded', 'IncorrectState']);
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH']);

/** True when the same call may succeed later. */
export function isRetryable(err: unknown): boolean {
  const info = awsErrorInfo(err);
  if (THROTTLING.has(info.name) || CLEARS_LATER.has(info.name)) return true;
  if (info.status !== undefined && (info.status >= 500 || info.status === 429)) return true;
  return (info.networkCode !== undefined && UNREACHABLE.has(info.networkCode)) || info.name === 'TimeoutError';
}

/** How to fix a failed call. */
export function awsHint(err: unknown, call: string, where: string): string {
  const info = awsErrorInfo(err);
  const after = info.attempts === undefined ? '' : ` after ${info.attempts} attempt${info.attempts === 1 ? '' : 's'}`;
  if (info.name === 'CredentialsProviderError') return 'no AWS credentials were found: set AWS_PROFILE, or run where a role is available';
  if (info.name === 'AccessDenied' || info.name === 'AccessDeniedException' || info.name === 'UnauthorizedOperation' || info.status === 403) {
    return `the role in use may not call ${call} in ${where}: check its IAM policy (and, across accounts, the collector role's trust policy and external id)`;
  }
  if (THROTTLING.has(info.name) || info.status === 429) return `AWS kept throttling ${call}${after}: the step is retried; if it keeps failing, lower the concurrency`;
  if (CLEARS_LATER.has(info.name)) return `${call} hit a limit that clears as work in progress finishes: run the step again later`;
  if (info.status !== undefined && info.status >= 500) return `AWS kept failing${after} with HTTP ${info.status}: run the step again`;
  return 'see the cause for the AWS answer';
}

/** Wraps an SDK error as a CloudCallError naming the call and where; Amber's own errors pass through. */
export function toCloudCallError(err: unknown, call: string, where: string): AmberError {
  if (isAmberError(err)) return err;
  const info = awsErrorInfo(err);
  return new CloudCallError(`${call} failed in ${where}: ${info.name}${info.status === undefined ? '' : ` (HTTP ${info.status})`}: ${info.message}`, call, isRetryable(err), {
    hint: awsHint(err, call, where),
    cause: err,
  });
}
