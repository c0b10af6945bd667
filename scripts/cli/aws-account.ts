/**
 * Where AWS API acquisition runs: the home region, the account the credentials belong to, the regions enabled
 * for it. Shared by the api: sources that read an account (CloudTrail event history, inventory); loaded only
 * with them, so the AWS SDK stays out of the CLI's start-up. `spec` names the source in every error.
 */
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { DescribeRegionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { AcquisitionError, InvalidInputError, UsageError } from '../../shared/errors.ts';
import { noCredentialsError, noRegionError } from './aws-setup.ts';
import type { Io } from './io.ts';

/** An AWS region name (eu-west-1, us-gov-west-1). */
export const AWS_REGION_NAME = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** Refuses a --region value that is not a region name. */
export function checkRegionNames(regions: readonly string[]): void {
  for (const region of regions) {
    if (!AWS_REGION_NAME.test(region)) throw new UsageError(`--region ${JSON.stringify(region)} is not an AWS region name`, { hint: 'write it like eu-west-1 or us-east-1' });
  }
}

/** The region of the SDK's configuration (AWS_REGION, the profile's region), or a clear error naming how to set one. */
export async function homeRegion(spec: string, io: Io): Promise<string> {
  try {
    const region = await new CloudTrailClient({}).config.region();
    if (!region) throw new Error('empty region');
    return region;
  } catch (cause) {
    throw noRegionError(spec, io.env, cause);
  }
}

/** The account of the credentials, named in the keys so two accounts' pages never collide in one case. */
export async function callerAccount(spec: string, region: string, io: Io): Promise<string> {
  let out;
  try {
    out = await new STSClient({ region }).send(new GetCallerIdentityCommand({}));
  } catch (err) {
    if ((err as Error).name === 'CredentialsProviderError') throw noCredentialsError(spec, io.env, err);
    throw new AcquisitionError(`cannot tell which account the credentials belong to (sts:GetCallerIdentity): ${(err as Error).name}: ${(err as Error).message}`, spec, {
      hint: 'check the credentials (aws sts get-caller-identity) and run again',
      cause: err,
    });
  }
  if (!out.Account || !/^\d{12}$/.test(out.Account)) {
    throw new AcquisitionError(`sts:GetCallerIdentity returned no account id (got ${JSON.stringify(out.Account)})`, spec, { hint: 'check the credentials (aws sts get-caller-identity) and run again' });
  }
  return out.Account;
}

/** The regions enabled for the account (EC2 DescribeRegions without opt-in regions not opted into), sorted. */
export async function enabledRegions(spec: string, home: string): Promise<string[]> {
  let out;
  try {
    out = await new EC2Client({ region: home }).send(new DescribeRegionsCommand({ AllRegions: false }));
  } catch (err) {
    throw new AcquisitionError(`cannot list the enabled regions (ec2:DescribeRegions): ${(err as Error).name}: ${(err as Error).message}`, spec, {
      hint: 'grant ec2:DescribeRegions, or name the regions with --region R (repeat it)',
      cause: err,
    });
  }
  const names = (out.Regions ?? []).map((r) => r.RegionName).filter((n): n is string => typeof n === 'string' && AWS_REGION_NAME.test(n));
  if (names.length === 0) throw new InvalidInputError('ec2:DescribeRegions listed no enabled region', { hint: 'name the regions with --region R (repeat it)' });
  return names.sort();
}
