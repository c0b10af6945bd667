/** AWS wiring for the CLI, loaded only when an s3:// locker or source is used (keeps local start-up fast). */
import { S3ObjectStore } from '../../functions/aws/adapters/s3-object-store.ts';
import { S3EvidenceSource, parseS3Uri } from '../../functions/aws/adapters/s3-source.ts';
import { createS3Client, s3ConfigFromEnv } from '../../functions/aws/adapters/s3-client.ts';
import type { S3Client } from '@aws-sdk/client-s3';
import { InvalidInputError } from '../../shared/errors.ts';
import type { EvidenceSource } from '../../shared/ports/evidence-source.ts';
import type { ObjectStore } from '../../shared/ports/object-store.ts';
import type { Io } from './io.ts';

/** Opens an S3 locker with the default credential chain (AWS_ENDPOINT_URL_S3 for S3-compatible servers). */
export async function openS3Locker(uri: string, io: Io): Promise<ObjectStore> {
  const { bucket, prefix } = parseS3Uri(uri);
  const client = createS3Client(s3ConfigFromEnv(io.env));
  await checkAwsSetup(client, uri, io);
  return S3ObjectStore.open({ bucket, client, ...(prefix ? { prefix } : {}) });
}

/** Opens an S3 prefix as a source with the default credential chain. */
export async function openS3Source(uri: string, io: Io): Promise<EvidenceSource> {
  const client = createS3Client(s3ConfigFromEnv(io.env));
  await checkAwsSetup(client, uri, io);
  return new S3EvidenceSource({ uri, client });
}

const CHAIN = 'environment variables, the AWS_PROFILE profile in ~/.aws/config and ~/.aws/credentials, SSO, a container or instance role';

/**
 * Resolves the region and the credentials before the first S3 call, so that a machine without either gets
 * one error naming what is missing and how to provide it, instead of the SDK's "Region is missing" or
 * "Could not load credentials from any providers" from deep inside the first request.
 */
export async function checkAwsSetup(client: S3Client, uri: string, io: Io): Promise<void> {
  const profile = io.env.AWS_PROFILE ? `the profile ${io.env.AWS_PROFILE} (AWS_PROFILE)` : 'the default profile';
  try {
    const region = await client.config.region();
    if (!region) throw new Error('empty region');
  } catch (cause) {
    throw new InvalidInputError(`no AWS region is set for ${uri}: neither AWS_REGION nor ${profile} names one`, {
      hint: 'set AWS_REGION to the bucket\'s region (e.g. export AWS_REGION=eu-west-1), or add "region = ..." to the profile in ~/.aws/config',
      cause,
    });
  }
  try {
    await client.config.credentials();
  } catch (cause) {
    const said = cause instanceof Error ? cause.message.split('\n')[0]!.trim() : '';
    const generic = said === '' || /could not load credentials from any providers/i.test(said);
    throw new InvalidInputError(
      generic
        ? `no AWS credentials for ${uri}: the default credential chain (${CHAIN}) found none${io.env.AWS_PROFILE ? ` (AWS_PROFILE is ${io.env.AWS_PROFILE}: is that profile in ~/.aws/config, with credentials?)` : ''}`
        : `the AWS credentials for ${uri} could not be loaded from ${profile}: ${said}`,
      {
        hint: 'set AWS_PROFILE to a profile in ~/.aws/config (for an SSO profile run `aws sso login --profile NAME` first), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where a role is attached',
        cause,
      },
    );
  }
}
