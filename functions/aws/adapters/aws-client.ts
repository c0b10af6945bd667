/**
 * Configuration shared by every AWS SDK client Amber builds (EC2, Auto Scaling, STS, Athena, Step Functions,
 * SNS, Security Hub, EventBridge): region, retries sized for evidence work, credentials and, for tests, an
 * HTTP handler. S3 has its own (s3-client.ts) because of path style and checksum modes.
 */
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, RetryStrategyV2 } from '@smithy/types';
import { InvalidInputError } from '../../../shared/errors.ts';

/** Attempts per request when the caller does not say (throttling and 5xx are retried with jittered backoff). */
export const DEFAULT_MAX_ATTEMPTS = 6;
const MAX_RETRY_DELAY_MS = 20_000;

export interface AwsClientConfig {
  /**
   * Region of the calls.
   * @default the SDK's region chain (AWS_REGION, then the profile)
   */
  readonly region?: string;
  /**
   * Attempts per request, first try included; throttling and 5xx answers are retried.
   * @default DEFAULT_MAX_ATTEMPTS (6)
   */
  readonly maxAttempts?: number;
  /**
   * Base of the jittered exponential backoff, in milliseconds (tests use 1).
   * @default the SDK's standard strategy
   */
  readonly retryBaseDelayMs?: number;
  /**
   * Credentials or a provider of them (an assumed role's, for a member account).
   * @default the SDK's default chain
   */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /**
   * HTTP handler; tests pass a fake one so the SDK's real middleware (retries) runs without a network.
   * @default the SDK's Node HTTP handler
   */
  // The handler types differ per client package version; any object with `handle` will do.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly requestHandler?: any;
}

/** The config object every SDK v3 client constructor accepts. */
export interface SdkClientConfig {
  region?: string;
  maxAttempts: number;
  retryStrategy?: RetryStrategyV2;
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  requestHandler?: any;
}

/** Turns Amber's client config into an SDK client config (validated). */
export function sdkClientConfig(config: AwsClientConfig = {}): SdkClientConfig {
  const maxAttempts = config.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new InvalidInputError(`maxAttempts must be a whole number of at least 1, got ${String(maxAttempts)}`, {
      hint: `leave it out for the default of ${DEFAULT_MAX_ATTEMPTS}`,
    });
  }
  const out: SdkClientConfig = { maxAttempts };
  if (config.region) out.region = config.region;
  if (config.retryBaseDelayMs !== undefined) {
    const base = config.retryBaseDelayMs;
    out.retryStrategy = new ConfiguredRetryStrategy(maxAttempts, (attempt) => Math.floor(Math.random() * Math.min(base * 2 ** attempt, MAX_RETRY_DELAY_MS)));
  }
  if (config.credentials !== undefined) out.credentials = config.credentials;
  if (config.requestHandler !== undefined) out.requestHandler = config.requestHandler;
  return out;
}

/** The AWS partition of a region (`aws`, `aws-cn`, `aws-us-gov`), for ARNs. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  return 'aws';
}
