import { afterEach, describe, expect, it } from 'vitest';
import { SFNClient, StartExecutionCommand, ExecutionAlreadyExists } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { SfnWorkflowStarter } from '../../../../functions/aws/adapters/sfn-workflow-starter.ts';
import { CloudCallError } from '../../../../shared/preservation/errors.ts';

const sfnMock = mockClient(SFNClient);
afterEach(() => sfnMock.reset());

const MACHINES = { instance: 'arn:aws:states:eu-west-1:999988887777:stateMachine:amber-instance', logs: 'arn:aws:states:eu-west-1:999988887777:stateMachine:amber-logs' };
const starter = () => new SfnWorkflowStarter({ stateMachines: MACHINES, client: new SFNClient({ region: 'eu-west-1' }) });

describe('Class: SfnWorkflowStarter', () => {
  describe('Method: start', () => {
    it('starts the kind\'s state machine with the name and the input as JSON', async () => {
      // Prepare
      sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:aws:states:eu-west-1:999988887777:execution:amber-instance:n1' });

      // Act
      const started = await starter().start({ kind: 'instance', name: 'n1', input: { case: 'C' } });

      // Assess
      expect(started).toEqual({ kind: 'instance', name: 'n1', id: 'arn:aws:states:eu-west-1:999988887777:execution:amber-instance:n1', started: true });
      expect(sfnMock.commandCalls(StartExecutionCommand)[0]!.args[0].input).toEqual({ stateMachineArn: MACHINES.instance, name: 'n1', input: '{"case":"C"}' });
    });

    it('treats ExecutionAlreadyExists as success: the same request was started before', async () => {
      // Prepare
      sfnMock.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: { httpStatusCode: 400 } }));

      // Act
      const started = await starter().start({ kind: 'logs', name: 'n2', input: {} });

      // Assess
      expect(started).toEqual({ kind: 'logs', name: 'n2', id: 'arn:aws:states:eu-west-1:999988887777:execution:amber-logs:n2', started: false });
    });

    it('throws CloudCallError for any other failure', async () => {
      // Prepare
      sfnMock.on(StartExecutionCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }));

      // Act / Assess
      await expect(starter().start({ kind: 'logs', name: 'n3', input: {} })).rejects.toThrow(CloudCallError);
    });

    it('refuses a name Step Functions would refuse, before calling it', async () => {
      await expect(starter().start({ kind: 'logs', name: 'has space', input: {} })).rejects.toThrow(/not a valid Step Functions name/);
      expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
    });
  });
});
