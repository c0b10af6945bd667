/**
 * The WorkflowStarter port on Step Functions: StartExecution with a deterministic name. A name already used
 * (ExecutionAlreadyExists: a duplicated event, or a retried start) is success, reported as `started: false`.
 */
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { InvalidInputError } from '../../../shared/errors.ts';
import type { WorkflowKind, WorkflowStart, WorkflowStarted, WorkflowStarter } from '../../../shared/ports/workflow-starter.ts';
import { sdkClientConfig, type AwsClientConfig } from './aws-client.ts';
import { awsErrorInfo, toCloudCallError } from './aws-errors.ts';

export interface SfnWorkflowStarterOptions {
  /** State machine ARN per workflow kind. */
  readonly stateMachines: Readonly<Record<WorkflowKind, string>>;
  /**
   * The Step Functions client.
   * @default new SFNClient(sdkClientConfig(clientConfig)), built only when none is given
   */
  readonly client?: SFNClient;
  readonly clientConfig?: AwsClientConfig;
}

/** Step Functions as the WorkflowStarter. */
export class SfnWorkflowStarter implements WorkflowStarter {
  private readonly client: SFNClient;

  constructor(private readonly options: SfnWorkflowStarterOptions) {
    this.client = options.client ?? new SFNClient(sdkClientConfig(options.clientConfig));
  }

  async start(request: WorkflowStart): Promise<WorkflowStarted> {
    const arn = this.options.stateMachines[request.kind];
    if (!arn || !/^arn:[\w-]+:states:[\w-]+:\d{12}:stateMachine:[\w-]+$/.test(arn)) {
      throw new InvalidInputError(`no valid state machine ARN for ${request.kind} preservation: ${JSON.stringify(arn)}`, {
        hint: 'set INSTANCE_STATE_MACHINE_ARN and LOG_STATE_MACHINE_ARN to the state machines\' ARNs',
      });
    }
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(request.name)) {
      throw new InvalidInputError(`execution name ${JSON.stringify(request.name)} is not a valid Step Functions name`, { hint: 'use executionName() to build it' });
    }
    const executionArn = `${arn.replace(':stateMachine:', ':execution:')}:${request.name}`;
    try {
      const out = await this.client.send(new StartExecutionCommand({ stateMachineArn: arn, name: request.name, input: JSON.stringify(request.input) }));
      return { kind: request.kind, name: request.name, id: out.executionArn ?? executionArn, started: true };
    } catch (err) {
      // Same name: this request already started it (running, or finished within the last 90 days).
      if (awsErrorInfo(err).name === 'ExecutionAlreadyExists') return { kind: request.kind, name: request.name, id: executionArn, started: false };
      throw toCloudCallError(err, 'states:StartExecution', arn);
    }
  }
}
