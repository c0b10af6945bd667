import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import type { StartPreservationOutput } from '../../../../functions/aws/handlers/contracts.ts';
import type { LambdaContext } from '../../../../functions/aws/runtime.ts';
import { CloudCallError } from '../../../../shared/preservation/errors.ts';
import { LAMBDA_ENV, lambdaContext, stubLambdaEnv } from '../../../helpers/lambda.ts';
import { customEvent, guardDutyEvent, securityHubEvent } from '../../../helpers/preservation-events.ts';

const sfnMock = mockClient(SFNClient);
let handler: (event: unknown, context?: LambdaContext) => Promise<StartPreservationOutput>;
const context = lambdaContext('start-preservation');

/** Step Functions' behaviour for names: a name used before answers ExecutionAlreadyExists. */
function stepFunctions(): Map<string, { stateMachineArn: string; input: unknown }> {
  const executions = new Map<string, { stateMachineArn: string; input: unknown }>();
  sfnMock.on(StartExecutionCommand).callsFake(async (input: { stateMachineArn: string; name: string; input: string }) => {
    if (executions.has(input.name)) throw new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: { httpStatusCode: 400 } });
    executions.set(input.name, { stateMachineArn: input.stateMachineArn, input: JSON.parse(input.input) });
    return { executionArn: `${input.stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.name}`, startDate: new Date() };
  });
  return executions;
}

beforeAll(async () => {
  stubLambdaEnv();
  handler = (await import('../../../../functions/aws/handlers/start-preservation.ts')).handler;
});
afterAll(() => vi.unstubAllEnvs());
afterEach(() => sfnMock.reset());

describe('Handler: start-preservation', () => {
  it('starts the instance state machine per instance and the log state machine for the window', async () => {
    // Prepare
    const executions = stepFunctions();

    // Act
    const out = await handler(customEvent(), context);

    // Assess
    expect(out.requests).toHaveLength(1);
    expect(out.requests[0]!.executions.map((e) => [e.kind, e.started])).toEqual([['instance', true], ['logs', true]]);
    const [instance, logs] = [...executions.values()];
    expect(instance).toEqual({
      stateMachineArn: LAMBDA_ENV.INSTANCE_STATE_MACHINE_ARN,
      input: { case: 'INC-7', accountId: '111122223333', region: 'eu-west-1', instanceId: 'i-0123456789abcdef0', requestId: 'req-cli-1', isolate: true },
    });
    expect(logs).toEqual({
      stateMachineArn: LAMBDA_ENV.LOG_STATE_MACHINE_ARN,
      input: { case: 'INC-7', requestId: 'req-cli-1', accounts: ['111122223333'], regions: ['eu-west-1'], since: '2026-03-01T00:00:00Z', until: '2026-03-01T12:00:00Z' },
    });
  });

  it('starts nothing new for a duplicated event: the deterministic names already exist, which is success', async () => {
    // Prepare
    const executions = stepFunctions();
    const first = await handler(customEvent(), context);

    // Act
    const second = await handler(customEvent(), context);

    // Assess
    expect(executions.size).toBe(2);
    expect(second.requests[0]!.executions.map((e) => e.started)).toEqual([false, false]);
    expect(second.requests[0]!.executions.map((e) => e.executionArn)).toEqual(first.requests[0]!.executions.map((e) => e.executionArn));
  });

  it('ignores a GuardDuty finding below the threshold without starting anything', async () => {
    // Prepare
    const executions = stepFunctions();

    // Act
    const out = await handler(guardDutyEvent({ severity: 4 }), context);

    // Assess
    expect(out).toEqual({ requests: [], ignored: [{ id: '5ec3b1a2c4e5f60718293a4b5c6d7e8f', reason: 'severity 4 is below the threshold 7' }] });
    expect(executions.size).toBe(0);
  });

  it('preserves a GuardDuty finding at the threshold, with the default log window', async () => {
    // Prepare
    const executions = stepFunctions();

    // Act
    const out = await handler(guardDutyEvent({ severity: 7 }), context);

    // Assess
    expect(out.requests[0]).toMatchObject({ case: 'gd-5ec3b1a2c4e5f60718293a4b5c6d7e8f', trigger: 'guardduty' });
    expect([...executions.values()].map((e) => e.stateMachineArn)).toEqual([LAMBDA_ENV.INSTANCE_STATE_MACHINE_ARN, LAMBDA_ENV.LOG_STATE_MACHINE_ARN]);
  });

  it('starts one instance execution for each of the two instances a Security Hub action names', async () => {
    // Prepare
    const executions = stepFunctions();

    // Act
    const out = await handler(securityHubEvent(), context);

    // Assess
    const instances = [...executions.values()].filter((e) => e.stateMachineArn === LAMBDA_ENV.INSTANCE_STATE_MACHINE_ARN).map((e) => (e.input as { instanceId: string }).instanceId);
    expect(instances).toEqual(['i-0123456789abcdef0', 'i-0fedcba9876543210']);
    expect(out.requests[0]!.executions.every((e) => /^[A-Za-z0-9_-]{1,80}$/.test(e.name))).toBe(true);
  });

  it('fails, naming the state machine, when Step Functions refuses (so EventBridge retries the event)', async () => {
    // Prepare
    sfnMock.on(StartExecutionCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400, attempts: 6 } }));

    // Act
    const starting = handler(customEvent(), context);

    // Assess
    await expect(starting).rejects.toThrow(CloudCallError);
    await expect(starting).rejects.toThrow(/states:StartExecution failed in arn:aws:states:eu-west-1:999988887777:stateMachine:amber-instance: ThrottlingException/);
  });
});
