/**
 * The SDK client config for a call into an account and region: the function's own credentials in its own
 * account, the member account's collector role (AssumeRole with the external id) anywhere else. The SSM, EBS and
 * CloudTrail tasks use it; EC2 has its own in Ec2SnapshotProvider.
 */
import { STSClient } from '@aws-sdk/client-sts';
import { assumedRoleCredentials, collectorRoleArn } from './assume-role.ts';
import { partitionOf, sdkClientConfig, type AwsClientConfig, type SdkClientConfig } from './aws-client.ts';

export interface CollectorAccess {
  readonly collectorRoleName: string;
  readonly externalId: string;
  /** The account this process's credentials belong to (the Lambda function's, from its ARN). */
  readonly ownAccountId: string | undefined;
  /** Session name recorded in the member account's CloudTrail. */
  readonly sessionName: string;
  readonly clientConfig?: AwsClientConfig;
}

/** Builds (and caches per account and region) the client config of a call into `accountId` / `region`. */
export class CollectorConfigs {
  private readonly cache = new Map<string, SdkClientConfig>();
  private sts: STSClient | undefined;

  constructor(private readonly access: CollectorAccess) {}

  for(accountId: string, region: string): SdkClientConfig {
    const key = `${accountId}|${region}`;
    const known = this.cache.get(key);
    if (known) return known;
    const base = { ...this.access.clientConfig, region };
    const config =
      accountId === this.access.ownAccountId
        ? sdkClientConfig(base)
        : sdkClientConfig({
            ...base,
            credentials: assumedRoleCredentials({
              sts: (this.sts ??= new STSClient(sdkClientConfig(this.access.clientConfig))),
              roleArn: collectorRoleArn(partitionOf(region), accountId, this.access.collectorRoleName),
              externalId: this.access.externalId,
              sessionName: this.access.sessionName,
            }),
          });
    this.cache.set(key, config);
    return config;
  }

  /** `account 1234, region eu-west-1`, for messages. */
  static where(accountId: string, region: string): string {
    return `account ${accountId}, region ${region}`;
  }
}
