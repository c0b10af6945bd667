import { SSMClient } from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sdkClientConfig } from '../../../../functions/aws/adapters/aws-client.ts';
import { SsmRemoteCommand } from '../../../../functions/aws/adapters/ssm-remote-command.ts';
import { RemoteCommandRefusedError } from '../../../../shared/preservation/errors.ts';
import type { RemoteCommandRequest } from '../../../../shared/ports/remote-command.ts';
import { FakeSsm } from '../../../helpers/fake-ssm.ts';

const LINUX = 'i-0123456789abcdef0';
const request = (over: Partial<RemoteCommandRequest> = {}): RemoteCommandRequest => ({
  instanceId: LINUX,
  platform: 'linux',
  script: 'echo hello',
  outputBucket: 'evidence',
  outputPrefix: 'staging/ssm/',
  executionTimeoutSeconds: 300,
  comment: 'amber INC-1 triage',
  ...over,
});

describe('Class: SsmRemoteCommand', () => {
  let fake: FakeSsm;
  let runner: SsmRemoteCommand;
  const saved = process.env.AWS_ENDPOINT_URL_SSM;

  beforeEach(async () => {
    fake = new FakeSsm();
    // The real SDK resolves the endpoint from AWS_ENDPOINT_URL_SSM, as the CLI does.
    process.env.AWS_ENDPOINT_URL_SSM = await fake.start();
    runner = new SsmRemoteCommand({
      client: new SSMClient(sdkClientConfig({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' }, retryBaseDelayMs: 1 })),
      where: 'eu-west-1',
    });
  });

  afterEach(async () => {
    await fake.stop();
    if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_SSM;
    else process.env.AWS_ENDPOINT_URL_SSM = saved;
  });

  it('sends AWS-RunShellScript with output to the evidence bucket and walks Pending, InProgress, Delayed to Success', async () => {
    fake.addInstance(LINUX, { states: ['Pending', 'InProgress', 'Delayed', 'Success'], run: () => ({ stdout: 'hello\n' }) });
    const sent = await runner.send(request());
    expect(fake.sent[0]).toMatchObject({
      DocumentName: 'AWS-RunShellScript',
      InstanceIds: [LINUX],
      Parameters: { commands: ['echo hello'], executionTimeout: ['300'] },
      OutputS3BucketName: 'evidence',
      OutputS3KeyPrefix: 'staging/ssm',
    });
    expect(sent.outputs).toEqual([
      { stream: 'stdout', bucket: 'evidence', key: `staging/ssm/${sent.commandId}/${LINUX}/awsrunShellScript/0.awsrunShellScript/stdout` },
      { stream: 'stderr', bucket: 'evidence', key: `staging/ssm/${sent.commandId}/${LINUX}/awsrunShellScript/0.awsrunShellScript/stderr` },
    ]);
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push((await runner.invocation(sent)).state);
    expect(seen).toEqual(['Pending', 'InProgress', 'Delayed', 'Success']);
    expect((await runner.invocation(sent)).responseCode).toBe(0);
  });

  it('the output the agent uploads lands at the keys send() announced', async () => {
    const uploaded: string[] = [];
    fake.onOutput = (_bucket, key) => void uploaded.push(key);
    fake.addInstance(LINUX, { states: ['Success'], run: () => ({ stdout: 'x', stderr: 'warning' }) });
    const sent = await runner.send(request());
    await runner.invocation(sent);
    expect(uploaded).toEqual(sent.outputs.map((o) => o.key));
  });

  it('uses AWS-RunPowerShellScript and its plugin folder for Windows', async () => {
    fake.addInstance('i-0aaaaaaaaaaaaaaa1', { states: ['Success'] });
    const sent = await runner.send(request({ instanceId: 'i-0aaaaaaaaaaaaaaa1', platform: 'windows' }));
    expect(fake.sent[0]).toMatchObject({ DocumentName: 'AWS-RunPowerShellScript' });
    expect(sent.outputs[0]!.key).toContain('/awsrunPowerShellScript/0.awsrunPowerShellScript/stdout');
  });

  it.each(['Failed', 'TimedOut', 'Cancelled', 'Undeliverable', 'Terminated'])('reports the final state %s', async (state) => {
    fake.addInstance(LINUX, { states: ['InProgress', state] });
    const sent = await runner.send(request());
    await runner.invocation(sent);
    expect((await runner.invocation(sent)).state).toBe(state);
  });

  it('reads InvocationDoesNotExist right after SendCommand as Pending', async () => {
    fake.addInstance(LINUX, { states: ['Success'], lagging: true });
    const sent = await runner.send(request());
    expect(await runner.invocation(sent)).toEqual({ state: 'Pending', detail: 'InvocationDoesNotExist', responseCode: -1 });
    expect((await runner.invocation(sent)).state).toBe('Success');
  });

  it('throws a no-agent refusal naming the instance when it is not managed (InvalidInstanceId)', async () => {
    const error = await runner.send(request()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteCommandRefusedError);
    expect(error).toMatchObject({ reason: 'no-agent', instanceId: LINUX });
    expect((error as Error).message).toContain('not a managed instance');
  });

  it('throws an access-denied refusal when SendCommand is not allowed', async () => {
    fake.addInstance(LINUX, { states: ['Success'] }).deny();
    await expect(runner.send(request())).rejects.toMatchObject({ reason: 'access-denied', hint: expect.stringContaining('ssm:SendCommand') });
  });

  it('retries throttled calls through the SDK retry strategy', async () => {
    fake.addInstance(LINUX, { states: ['Success'] }).throttle(2);
    const sent = await runner.send(request());
    expect(sent.commandId).toMatch(/^\d{8}-/);
    expect(fake.requests.throttled).toBe(2);
    expect(fake.requests.send).toBe(1);
    expect(fake.sent).toHaveLength(1);
  });

  it('refuses an instance id that is not one before calling the service', async () => {
    await expect(runner.send(request({ instanceId: 'web-1' }))).rejects.toMatchObject({ reason: 'invalid-request' });
    expect(fake.requests.send).toBe(0);
  });
});
