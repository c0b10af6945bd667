/**
 * What capture-volatile and capture-memory decide before sending anything: whether SSM manages the instance,
 * whether its agent is online, and what platform to script for; and the one custody entry a run becomes.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { DescribeInstanceInformationCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { managedInstance, notSent, resultOf, waitBudgetMs } from '../../../../functions/aws/adapters/remote-capture-task.ts';

const ID = 'i-0123456789abcdef0';
const ssmMock = mockClient(SSMClient);
const ssm = new SSMClient({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 's' } });

describe('managedInstance', () => {
  beforeEach(() => ssmMock.reset());

  it('asks for exactly the instance and scripts Linux and Windows by the platform SSM reports', async () => {
    ssmMock.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [{ InstanceId: ID, PingStatus: 'Online', PlatformType: 'Windows' }] });
    expect(await managedInstance(ssm, ID, 'account 1, region eu-west-1')).toEqual({ platform: 'windows' });
    expect(ssmMock.commandCalls(DescribeInstanceInformationCommand)[0]!.args[0].input).toEqual({ Filters: [{ Key: 'InstanceIds', Values: [ID] }] });
    ssmMock.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [{ InstanceId: ID, PingStatus: 'Online', PlatformType: 'Linux' }] });
    expect(await managedInstance(ssm, ID, 'here')).toEqual({ platform: 'linux' });
  });

  it('answers no-agent, agent-offline and unsupported-platform as reasons, not errors', async () => {
    ssmMock.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
    expect(await managedInstance(ssm, ID, 'account 1, region eu-west-1')).toMatchObject({ reason: 'no-agent', message: expect.stringContaining('not a managed instance in account 1, region eu-west-1') });
    ssmMock.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [{ InstanceId: ID, PingStatus: 'ConnectionLost', PlatformType: 'Linux' }] });
    expect(await managedInstance(ssm, ID, 'here')).toMatchObject({ reason: 'agent-offline', message: expect.stringContaining('ConnectionLost') });
    ssmMock.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [{ InstanceId: ID, PingStatus: 'Online', PlatformType: 'MacOS' }] });
    expect(await managedInstance(ssm, ID, 'here')).toMatchObject({ reason: 'unsupported-platform' });
  });

  it('lets a refusal of the call itself through as an error naming the call (the state machine catches it)', async () => {
    ssmMock.on(DescribeInstanceInformationCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }));
    await expect(managedInstance(ssm, ID, 'here')).rejects.toThrow(/ssm:DescribeInstanceInformation/);
  });
});

describe('the custody entry of a capture', () => {
  it('records a capture that sent nothing as a failure naming the instance and the reason', () => {
    expect(notSent(ID, 'no-agent', 'not managed')).toEqual({
      outcome: 'failed',
      reason: 'no-agent',
      message: 'not managed',
      items: [],
      failures: [{ origin: `ssm:${ID}`, reason: 'no-agent: not managed' }],
      detail: { instanceId: ID, outcome: 'failed', reason: 'no-agent' },
    });
  });

  it('flattens every batch\'s items and failures and keeps each batch\'s facts', () => {
    const item = { id: 'x', case: 'c', origin: 'o', key: 'cases/c/k', size: 1, sha256: 'a'.repeat(64), acquiredAt: 't', acquiredBy: 'p', retainUntil: null, mediaType: 'text/plain' };
    const r = resultOf({ instanceId: ID, outcome: 'failed', reason: 'TimedOut', items: [item] }, 'linux', [
      { items: [item], detail: { purpose: 'scripts' } },
      { failures: [{ origin: 'ssm:x', reason: 'TimedOut' }], detail: { instanceId: ID } },
    ]);
    expect(r).toMatchObject({ outcome: 'failed', reason: 'TimedOut', platform: 'linux', items: [item], failures: [{ origin: 'ssm:x', reason: 'TimedOut' }], detail: { platform: 'linux', batches: [{ purpose: 'scripts' }, { instanceId: ID }] } });
  });

  it('waits for the command only as long as the function has left, less the time to store its output', () => {
    expect(waitBudgetMs(undefined, 600_000)).toBe(600_000);
    expect(waitBudgetMs(900_000, 600_000)).toBe(600_000);
    expect(waitBudgetMs(400_000, 600_000)).toBe(220_000);
    expect(waitBudgetMs(60_000, 600_000)).toBe(0);
  });
});
