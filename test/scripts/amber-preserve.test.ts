import { afterEach, describe, expect, it } from 'vitest';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { runCli } from '../helpers/cli.ts';

const ebMock = mockClient(EventBridgeClient);
const stsMock = mockClient(STSClient);
afterEach(() => {
  ebMock.reset();
  stsMock.reset();
});

const ENV = { AWS_REGION: 'eu-west-1' };
const put = () => ebMock.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0]!);

describe('CLI: amber preserve', () => {
  it('puts the preservation event with the case, instances, window and a request id, and prints the event id', async () => {
    // Prepare
    ebMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'ev-42' }] });

    // Act
    const run = await runCli(
      ['preserve', '--instance', 'i-0123456789abcdef0', '--instance', 'i-0fedcba9876543210', '--case', 'INC-7', '--isolate', '--account', '111122223333', '--region', 'eu-west-1', '--since', '2026-03-01T00:00:00Z', '--until', '2026-03-01T12:00:00.000Z', '--json'],
      { cwd: process.cwd(), env: ENV },
    );

    // Assess
    expect(run.code).toBe(0);
    const [entry] = put();
    expect(entry).toMatchObject({ Source: 'amber', DetailType: 'Preservation Requested', EventBusName: 'default' });
    const detail = JSON.parse(entry!.Detail!);
    expect(detail).toEqual({
      case: 'INC-7',
      instanceIds: ['i-0123456789abcdef0', 'i-0fedcba9876543210'],
      accountId: '111122223333',
      region: 'eu-west-1',
      window: { since: '2026-03-01T00:00:00Z', until: '2026-03-01T12:00:00Z' },
      isolate: true,
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(JSON.parse(run.stdout)).toMatchObject({ eventId: 'ev-42', eventBus: 'default', requestId: detail.requestId });
  });

  it('defaults the account to the credentials\' account and the region to AWS_REGION, without isolation or logs', async () => {
    // Prepare
    stsMock.on(GetCallerIdentityCommand).resolves({ Account: '999988887777' });
    ebMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'ev-1' }] });

    // Act
    const run = await runCli(['preserve', '--instance', 'i-0123456789abcdef0', '--case', 'INC-8'], { cwd: process.cwd(), env: ENV });

    // Assess
    expect(run.code).toBe(0);
    expect(JSON.parse(put()[0]!.Detail!)).toMatchObject({ accountId: '999988887777', region: 'eu-west-1', isolate: false });
    expect(JSON.parse(put()[0]!.Detail!)).not.toHaveProperty('window');
    expect(run.stdout).toMatch(/Preservation requested for case INC-8: i-0123456789abcdef0 in account 999988887777, eu-west-1\n/);
    expect(run.stdout).toMatch(/event:\s+ev-1 on bus default/);
  });

  it.each([
    [['--case', 'INC-7'], /missing --instance/],
    [['--instance', 'i-0123456789abcdef0'], /missing --case/],
    [['--instance', 'i-123', '--case', 'INC-7'], /not an EC2 instance id: "i-123"/],
    [['--instance', 'i-0123456789abcdef0', '--case', '../x'], /invalid case name/],
    [['--instance', 'i-0123456789abcdef0', '--case', 'C', '--account', '12'], /--account must be a 12-digit account id/],
    [['--instance', 'i-0123456789abcdef0', '--case', 'C', '--since', '2026-03-01T00:00:00Z'], /--since and --until go together/],
    [['--instance', 'i-0123456789abcdef0', '--case', 'C', '--since', 'yesterday', '--until', '2026-03-01T00:00:00Z'], /--since is not a time: "yesterday"/],
    [['--instance', 'i-0123456789abcdef0', '--case', 'C', '--since', '2026-03-02T00:00:00Z', '--until', '2026-03-01T00:00:00Z'], /must be before window.until/],
    [['--instance', 'i-0123456789abcdef0', '--case', 'C', '--bogus'], /amber preserve has no option --bogus/],
  ])('exits 2 on bad input %j, naming the problem, and puts nothing', async (args, message) => {
    // Act
    const run = await runCli(['preserve', ...args], { cwd: process.cwd(), env: ENV });

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(put()).toHaveLength(0);
  });

  it('exits 1 naming EventBridge\'s reason when the event is refused', async () => {
    // Prepare
    ebMock.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'AccessDeniedException', ErrorMessage: 'not authorized' }] });

    // Act
    const run = await runCli(['preserve', '--instance', 'i-0123456789abcdef0', '--case', 'C', '--account', '111122223333'], { cwd: process.cwd(), env: ENV });

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/EventBridge refused the preservation request on bus default: AccessDeniedException/);
    expect(run.stderr).toMatch(/fix: the credentials in use may not events:PutEvents on default/);
  });

  it('is listed in amber --help', async () => {
    const run = await runCli(['--help'], { cwd: process.cwd() });
    expect(run.stdout).toMatch(/preserve\s+ask a deployment \(AWS, Azure or Google Cloud\) to snapshot instances/);
  });
});
