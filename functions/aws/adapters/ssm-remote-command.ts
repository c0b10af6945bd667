/**
 * RemoteCommandRunner over AWS Systems Manager Run Command: SendCommand with `AWS-RunShellScript` (Linux) or
 * `AWS-RunPowerShellScript` (Windows), output to S3, and GetCommandInvocation to watch it. Throttling and 5xx
 * answers are retried by the SDK's retry strategy (sdkClientConfig); refusals become RemoteCommandRefusedError
 * with a reason the custody ledger records.
 */
import { GetCommandInvocationCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { CloudCallError, RemoteCommandRefusedError } from '../../../shared/preservation/errors.ts';
import {
  INVOCATION_STATES,
  type InvocationState,
  type InvocationStatus,
  type OutputLocation,
  type RemoteCommandRequest,
  type RemoteCommandRunner,
  type SentCommand,
} from '../../../shared/ports/remote-command.ts';
import { sdkClientConfig, type AwsClientConfig } from './aws-client.ts';
import { awsErrorInfo, toCloudCallError } from './aws-errors.ts';

const DOCUMENTS = { linux: 'AWS-RunShellScript', windows: 'AWS-RunPowerShellScript' } as const;
/** The folder SSM names after the document's plugin (`aws:runShellScript` without its colon), step 0. */
const PLUGIN_FOLDERS = { linux: 'awsrunShellScript/0.awsrunShellScript', windows: 'awsrunPowerShellScript/0.awsrunPowerShellScript' } as const;
const INSTANCE_ID = /^(i|mi)-[0-9a-f]{8,17}$/;

export interface SsmRemoteCommandOptions {
  /** @default new SSMClient(sdkClientConfig(clientConfig)) */
  readonly client?: SSMClient;
  readonly clientConfig?: AwsClientConfig;
  /** Where the calls go, for messages (`account 1234, eu-west-1`). @default 'the configured region' */
  readonly where?: string;
}

/** Checks an EC2 instance or managed-node id before it reaches the service. */
export function checkInstanceId(id: string): string {
  if (!INSTANCE_ID.test(id)) {
    throw new RemoteCommandRefusedError(`${JSON.stringify(id)} is not an instance id`, id, 'invalid-request', { hint: 'write it like i-0123456789abcdef0 (an EC2 instance) or mi-0123456789abcdef0 (a hybrid node)' });
  }
  return id;
}

/** Runs scripts through SSM Run Command. */
export class SsmRemoteCommand implements RemoteCommandRunner {
  private readonly client: SSMClient;
  private readonly where: string;
  private readonly platforms = new Map<string, RemoteCommandRequest['platform']>();

  constructor(options: SsmRemoteCommandOptions = {}) {
    this.client = options.client ?? new SSMClient(sdkClientConfig(options.clientConfig));
    this.where = options.where ?? 'the configured region';
  }

  /** Sends the script; refusals name the instance and the reason. */
  async send(request: RemoteCommandRequest): Promise<SentCommand> {
    checkInstanceId(request.instanceId);
    const prefix = request.outputPrefix.replace(/\/+$/, '');
    let commandId: string | undefined;
    try {
      const out = await this.client.send(
        new SendCommandCommand({
          DocumentName: DOCUMENTS[request.platform],
          InstanceIds: [request.instanceId],
          Parameters: { commands: [request.script], executionTimeout: [String(request.executionTimeoutSeconds)] },
          OutputS3BucketName: request.outputBucket,
          OutputS3KeyPrefix: prefix,
          TimeoutSeconds: 600,
          Comment: request.comment.slice(0, 100),
        }),
      );
      commandId = out.Command?.CommandId;
    } catch (err) {
      throw this.refusal(err, request.instanceId, 'ssm:SendCommand');
    }
    if (!commandId) throw new CloudCallError(`ssm:SendCommand in ${this.where} answered without a command id`, 'ssm:SendCommand', true);
    this.platforms.set(commandId, request.platform);
    const folder = `${prefix}/${commandId}/${request.instanceId}/${PLUGIN_FOLDERS[request.platform]}`;
    const outputs: OutputLocation[] = (['stdout', 'stderr'] as const).map((stream) => ({ stream, bucket: request.outputBucket, key: `${folder}/${stream}` }));
    return { commandId, instanceId: request.instanceId, outputs };
  }

  /** One GetCommandInvocation. Right after SendCommand the service may not know the invocation yet: that reads as Pending. */
  async invocation(command: SentCommand): Promise<InvocationStatus> {
    try {
      const out = await this.client.send(new GetCommandInvocationCommand({ CommandId: command.commandId, InstanceId: command.instanceId }));
      const status = String(out.Status ?? 'Pending');
      const state: InvocationState = (INVOCATION_STATES as readonly string[]).includes(status) ? (status as InvocationState) : 'Pending';
      return { state, detail: out.StatusDetails ?? status, responseCode: out.ResponseCode ?? -1 };
    } catch (err) {
      // Documented: the invocation may not exist yet just after SendCommand (eventual consistency).
      if (awsErrorInfo(err).name === 'InvocationDoesNotExist') return { state: 'Pending', detail: 'InvocationDoesNotExist', responseCode: -1 };
      throw this.refusal(err, command.instanceId, 'ssm:GetCommandInvocation');
    }
  }

  private refusal(err: unknown, instanceId: string, call: string): Error {
    const info = awsErrorInfo(err);
    if (info.name === 'InvalidInstanceId') {
      return new RemoteCommandRefusedError(`${instanceId} cannot take commands: it is not a managed instance (no running SSM agent, no instance profile allowing Systems Manager, or not in ${this.where}): ${info.message}`, instanceId, 'no-agent', {
        hint: 'check Fleet Manager for the instance; without an agent, preserve its disks (amber preserve) instead',
        cause: err,
      });
    }
    if (info.name === 'AccessDeniedException' || info.status === 403) {
      return new RemoteCommandRefusedError(`${call} on ${instanceId} was refused: access denied: ${info.message}`, instanceId, 'access-denied', {
        hint: `the role in use needs ${call} on the instance and the document (see infra); check its IAM policy`,
        cause: err,
      });
    }
    if (info.name === 'InvalidDocument' || info.name === 'InvalidParameters' || info.name === 'InvalidOutputFolder' || info.name === 'InvalidOutputLocation') {
      return new RemoteCommandRefusedError(`${call} on ${instanceId} was refused: ${info.name}: ${info.message}`, instanceId, 'invalid-request', { hint: 'check the evidence bucket name and the document', cause: err });
    }
    return toCloudCallError(err, call, this.where);
  }
}
