/** AWS wiring of `amber preserve`, loaded only by that command (keeps other commands' start-up fast). */
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { EventBridgePreservationRequests } from '../../functions/aws/adapters/eventbridge-preservation-requests.ts';
import { awsErrorInfo, toCloudCallError } from '../../functions/aws/adapters/aws-errors.ts';
import { noCredentialsError } from './aws-setup.ts';
import type { PreservationRequestDetail } from '../../shared/ports/preservation-requests.ts';
import type { Io } from './io.ts';

function envRegion(io: Io): string | undefined {
  return io.env.AWS_REGION || io.env.AWS_DEFAULT_REGION || undefined;
}

/** The region of the default configuration (AWS_REGION, else the profile's), or undefined when none is set. */
export async function defaultRegion(io: Io): Promise<string | undefined> {
  const fromEnv = envRegion(io);
  if (fromEnv) return fromEnv;
  try {
    return await new STSClient({}).config.region();
  } catch {
    return undefined;
  }
}

/** The account of the default credentials (sts:GetCallerIdentity). */
export async function callerAccount(io: Io): Promise<string> {
  const region = envRegion(io);
  try {
    const out = await new STSClient(region ? { region } : {}).send(new GetCallerIdentityCommand({}));
    if (!out.Account) throw new Error('GetCallerIdentity returned no account');
    return out.Account;
  } catch (err) {
    if (awsErrorInfo(err).name === 'CredentialsProviderError') throw noCredentialsError('sts:GetCallerIdentity (the account to preserve in)', io.env, err);
    throw toCloudCallError(err, 'sts:GetCallerIdentity', 'the default credentials\' account');
  }
}

/** Puts the preservation event on the bus with the default credentials; returns its event id. */
export async function submitPreservation(detail: PreservationRequestDetail, eventBusName: string, io: Io): Promise<{ eventId: string }> {
  const region = envRegion(io);
  return new EventBridgePreservationRequests({ eventBusName, clientConfig: region ? { region } : {} }).submit(detail);
}
