/** AWS wiring for the CLI, loaded only when an s3:// locker or source is used (keeps local start-up fast). */
import { S3ObjectStore } from '../../functions/aws/adapters/s3-object-store.ts';
import { S3EvidenceSource, parseS3Uri } from '../../functions/aws/adapters/s3-source.ts';
import { createS3Client, s3ConfigFromEnv } from '../../functions/aws/adapters/s3-client.ts';
import type { S3Client } from '@aws-sdk/client-s3';
import type { EvidenceSource } from '../../shared/ports/evidence-source.ts';
import type { ObjectStore } from '../../shared/ports/object-store.ts';
import { noCredentialsError, noRegionError } from './aws-setup.ts';
import type { Io } from './io.ts';

/** Opens an S3 locker with the default credential chain (AWS_ENDPOINT_URL_S3 for S3-compatible servers). */
export async function openS3Locker(uri: string, io: Io): Promise<ObjectStore> {
  const { bucket, prefix } = parseS3Uri(uri);
  const client = createS3Client(s3ConfigFromEnv(io.env));
  await checkAwsSetup(client, uri, io);
  return S3ObjectStore.open({ bucket, client, ...(prefix ? { prefix } : {}) });
}

/** Opens an S3 prefix as a source with the default credential chain; `allVersions`: every version, delete marker and the bucket's configuration. */
export async function openS3Source(uri: string, io: Io, options: { readonly allVersions?: boolean } = {}): Promise<EvidenceSource> {
  const client = createS3Client(s3ConfigFromEnv(io.env));
  await checkAwsSetup(client, uri, io);
  if (options.allVersions) {
    const { S3VersionsSource } = await import('../../functions/aws/adapters/s3-versions-source.ts');
    return new S3VersionsSource({ uri, client });
  }
  return new S3EvidenceSource({ uri, client });
}

/**
 * Resolves the region and the credentials before the first S3 call, so that a machine without either gets
 * one error naming what is missing and how to provide it, instead of the SDK's "Region is missing" or
 * "Could not load credentials from any providers" from deep inside the first request.
 */
export async function checkAwsSetup(client: S3Client, uri: string, io: Io): Promise<void> {
  try {
    const region = await client.config.region();
    if (!region) throw new Error('empty region');
  } catch (cause) {
    throw noRegionError(uri, io.env, cause);
  }
  try {
    await client.config.credentials();
  } catch (cause) {
    throw noCredentialsError(uri, io.env, cause);
  }
}
