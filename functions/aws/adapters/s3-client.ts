/**
 * Builds the S3 client every AWS adapter shares. Configuration arrives as a typed object; the only place
 * that reads the environment is `s3ConfigFromEnv`, called once by an entry point (CLI, Lambda handler, test).
 */
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { InvalidInputError } from '../../../shared/errors.ts';

/** Attempts per request (first try included) when the caller does not say: evidence copies should ride out a burst of SlowDown / 5xx answers rather than fail a collection. */
export const DEFAULT_S3_MAX_ATTEMPTS = 6;

/** The cap of one backoff delay, as in the SDK's own strategy. */
const MAX_RETRY_DELAY_MS = 20_000;

export interface AmberS3ClientConfig {
  /**
   * AWS region of the buckets, e.g. `us-east-1`.
   * @default the SDK's region chain (AWS_REGION, then the profile in ~/.aws/config)
   */
  readonly region?: string;
  /**
   * A custom endpoint (a local Ceph RADOS Gateway, MinIO, a VPC endpoint URL).
   * @default the AWS endpoint for the region
   */
  readonly endpoint?: string;
  /**
   * Path-style addressing (`http://host/bucket/key`).
   * @default true when `endpoint` is set, false otherwise
   */
  readonly forcePathStyle?: boolean;
  /**
   * Attempts per request, first try included; throttling (SlowDown, 503) and 5xx answers are retried.
   * @default DEFAULT_S3_MAX_ATTEMPTS (6)
   */
  readonly maxAttempts?: number;
  /**
   * Base of the jittered exponential backoff between attempts, in milliseconds (tests use 1).
   * @default the SDK's standard strategy (50 ms, 1 s after throttling)
   */
  readonly retryBaseDelayMs?: number;
  /**
   * Credentials or a credential provider.
   * @default the SDK's default chain (environment, profile, SSO, container / instance role)
   */
  readonly credentials?: S3ClientConfig['credentials'];
  /**
   * HTTP handler; tests pass a fake one so the real middleware (signing, retries) runs without a network.
   * @default the SDK's Node HTTP handler
   */
  readonly requestHandler?: S3ClientConfig['requestHandler'];
}

/** Creates an S3 client from a typed config: retries sized for evidence copies, path style and checksum mode for custom endpoints. */
export function createS3Client(config: AmberS3ClientConfig): S3Client {
  const maxAttempts = config.maxAttempts ?? DEFAULT_S3_MAX_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new InvalidInputError(`maxAttempts must be a whole number of at least 1, got ${String(maxAttempts)}`, {
      hint: `leave it out for the default of ${DEFAULT_S3_MAX_ATTEMPTS}`,
    });
  }
  const custom = config.endpoint !== undefined && config.endpoint !== '';
  const clientConfig: S3ClientConfig = {
    ...(config.region ? { region: config.region } : {}),
    maxAttempts,
    forcePathStyle: config.forcePathStyle ?? custom,
  };
  if (custom) {
    clientConfig.endpoint = config.endpoint;
    // S3-compatible servers (Ceph RGW) answer 411 to the SDK's default streamed aws-chunked uploads with a
    // trailing CRC: only send checksums when an operation requires one or Amber supplies it.
    clientConfig.requestChecksumCalculation = 'WHEN_REQUIRED';
    clientConfig.responseChecksumValidation = 'WHEN_REQUIRED';
  }
  if (config.retryBaseDelayMs !== undefined) {
    const base = config.retryBaseDelayMs;
    // Full jitter, as in the SDK's strategy, but with a caller-chosen base (the SDK's fixes 1 s for throttling).
    clientConfig.retryStrategy = new ConfiguredRetryStrategy(maxAttempts, (attempt) =>
      Math.floor(Math.random() * Math.min(base * 2 ** attempt, MAX_RETRY_DELAY_MS)),
    );
  }
  if (config.credentials !== undefined) clientConfig.credentials = config.credentials;
  if (config.requestHandler !== undefined) clientConfig.requestHandler = config.requestHandler;
  return new S3Client(clientConfig);
}

/**
 * Reads the S3 client config from the environment, once, in an entry point: `AWS_REGION` (or
 * `AWS_DEFAULT_REGION`) and the optional `AWS_ENDPOINT_URL_S3`. Credentials stay with the SDK's chain.
 */
export function s3ConfigFromEnv(env: NodeJS.ProcessEnv = process.env): AmberS3ClientConfig {
  // Without one, the SDK resolves the region itself (AWS_PROFILE's config file); a local endpoint needs one.
  const found = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  const region = found ? { region: found } : env.AWS_ENDPOINT_URL_S3 ? { region: 'us-east-1' } : {};
  const endpoint = env.AWS_ENDPOINT_URL_S3;
  if (endpoint === undefined || endpoint === '') return region;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch (cause) {
    throw new InvalidInputError(`AWS_ENDPOINT_URL_S3 is not a URL: '${endpoint}'`, {
      hint: 'use a full URL such as http://127.0.0.1:17480, or unset it to use AWS',
      cause,
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidInputError(`AWS_ENDPOINT_URL_S3 must be an http or https URL, got '${endpoint}'`, {
      hint: 'use a full URL such as http://127.0.0.1:17480, or unset it to use AWS',
    });
  }
  return { ...region, endpoint };
}
