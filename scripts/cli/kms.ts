/**
 * `--signing-key kms:<key>` for the CLI: an AWS KMS Ed25519 key signs seals and checkpoints, as the deployment's
 * functions do. Loaded only when such a key is named (keeps local start-up fast).
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { sdkClientConfig } from '../../functions/aws/adapters/aws-client.ts';
import { KmsSigner, regionOfArn } from '../../functions/aws/adapters/kms-signer.ts';
import { noCredentialsError, noRegionError } from './aws-setup.ts';
import type { Io } from './io.ts';

/**
 * Opens the KMS key `keyId` (key id, key ARN, alias/name or alias ARN): region from the ARN, else AWS_REGION
 * or the profile; a machine without a region or credentials gets one error saying which and how to fix it.
 */
export async function openKmsSigner(keyId: string, io: Io): Promise<KmsSigner> {
  const region = regionOfArn(keyId) ?? (io.env.AWS_REGION || io.env.AWS_DEFAULT_REGION || undefined);
  const client = new KMSClient(sdkClientConfig(region ? { region } : {}));
  const target = `the KMS key ${keyId}`;
  try {
    if (!(await client.config.region())) throw new Error('empty region');
  } catch (cause) {
    throw noRegionError(target, io.env, cause);
  }
  try {
    await client.config.credentials();
  } catch (cause) {
    throw noCredentialsError(target, io.env, cause);
  }
  return KmsSigner.open({ keyId, client });
}
