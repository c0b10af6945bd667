/**
 * Credentials of the collector role in a member account: STS AssumeRole with the external id the member
 * stack's trust policy requires, cached until five minutes before they expire.
 */
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { InvalidInputError } from '../../../shared/errors.ts';
import { toCloudCallError } from './aws-errors.ts';

const REFRESH_BEFORE_MS = 5 * 60_000;

export interface AssumeRoleOptions {
  readonly sts: STSClient;
  readonly roleArn: string;
  readonly externalId: string;
  /** Shown in the member account's CloudTrail as the session name. */
  readonly sessionName: string;
  /** @default 3600 */
  readonly durationSeconds?: number;
  /** @default () => Date.now() */
  readonly now?: () => number;
}

/** The collector role's ARN in an account. */
export function collectorRoleArn(partition: string, accountId: string, roleName: string): string {
  if (!/^\d{12}$/.test(accountId)) throw new InvalidInputError(`account id must be 12 digits, got ${JSON.stringify(accountId)}`);
  if (!/^[\w+=,.@/-]{1,64}$/.test(roleName)) {
    throw new InvalidInputError(`COLLECTOR_ROLE_NAME ${JSON.stringify(roleName)} is not an IAM role name`, { hint: 'set it to the name (not the ARN) of the member stack\'s collector role' });
  }
  return `arn:${partition}:iam::${accountId}:role/${roleName}`;
}

/** A credential provider that assumes the role, caching its credentials until shortly before they expire. */
export function assumedRoleCredentials(options: AssumeRoleOptions): AwsCredentialIdentityProvider {
  const now = options.now ?? (() => Date.now());
  let cached: Promise<AwsCredentialIdentity> | undefined;
  let expires = 0;
  const sessionName = options.sessionName.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
  return () => {
    if (cached === undefined || now() >= expires - REFRESH_BEFORE_MS) {
      expires = Number.POSITIVE_INFINITY;
      cached = options.sts
        .send(
          new AssumeRoleCommand({
            RoleArn: options.roleArn,
            RoleSessionName: sessionName,
            ExternalId: options.externalId,
            DurationSeconds: options.durationSeconds ?? 3600,
          }),
        )
        .then((out) => {
          const c = out.Credentials;
          if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`AssumeRole of ${options.roleArn} returned no credentials`);
          expires = c.Expiration ? c.Expiration.getTime() : now() + 15 * 60_000;
          return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
        })
        .catch((err: unknown) => {
          cached = undefined;
          expires = 0;
          throw toCloudCallError(err, 'sts:AssumeRole', options.roleArn);
        });
    }
    return cached;
  };
}
