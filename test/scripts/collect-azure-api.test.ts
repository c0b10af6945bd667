/**
 * `amber collect --from api:entra-signins|m365-audit|azure-state|...` end to end: the CLI with AMBER_AZURE_TOKEN
 * and the AMBER_*_URL base URLs pointing at a fake of the documented APIs on 127.0.0.1, then `amber detect` over
 * the preserved pages, a re-run that resumes, and `amber verify`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkAzureWindow } from '../../scripts/cli/azure-api.ts';
import { UsageError } from '../../shared/errors.ts';
import { FakeAzure } from '../helpers/fake-azure.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const MINUTE = 60_000;
const TENANT = '11111111-2222-4333-8444-555555555555';
// A closed window ending an hour ago, 30 hours long: two Management Activity slices.
const UNTIL = new Date(Math.floor((Date.now() - 60 * MINUTE) / MINUTE) * MINUTE);
const SINCE = new Date(UNTIL.getTime() - 30 * 60 * MINUTE);
const iso = (d: Date): string => d.toISOString().replace('.000Z', 'Z');
const at = (minutesAfterSince: number): string => iso(new Date(SINCE.getTime() + minutesAfterSince * MINUTE));

let fake: FakeAzure;
let env: Record<string, string>;

beforeEach(async () => {
  fake = await new FakeAzure().start();
  env = { AMBER_AZURE_TOKEN: 'tok-1', AMBER_GRAPH_URL: fake.url, AMBER_ARM_URL: fake.url, AMBER_M365_URL: fake.url, AMBER_IOTHUB_URL: fake.url };
});

afterEach(async () => {
  await fake.stop();
});

function signIn(i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: `si-${i}`,
    createdDateTime: at(10 + i),
    userPrincipalName: `user${i}@contoso.example`,
    userId: `0000000${i}-0000-4000-8000-000000000000`,
    appId: '4765445b-32c6-49b0-83e6-1d93765276ca',
    appDisplayName: 'OfficeHome',
    ipAddress: '203.0.113.9',
    clientAppUsed: 'Browser',
    conditionalAccessStatus: 'success',
    isInteractive: true,
    riskLevelAggregated: 'none',
    riskLevelDuringSignIn: 'none',
    riskState: 'none',
    status: { errorCode: 0 },
    ...extra,
  };
}

describe('amber collect --from api:entra-signins --from api:m365-audit', () => {
  it('preserves the pages and blobs, and detect cites the page and record of a risky sign-in and of external forwarding', async () => {
    // Prepare: the risky sign-in is the 4th interactive one: page 2, record 1. The forwarding rule is record 1 of blob fwd-1.
    const cwd = await tempDir();
    fake.graph.set('auditLogs/signIns', [0, 1, 2, 3, 4].map((i) => (i === 3 ? signIn(i, { riskLevelDuringSignIn: 'high', riskState: 'atRisk', ipAddress: '198.51.100.66' }) : signIn(i))));
    fake.blobs.set('Audit.Exchange', [{
      contentId: 'fwd-1',
      created: new Date(SINCE.getTime() + 26 * 60 * MINUTE),
      records: [
        { CreationTime: at(26 * 60).slice(0, 19), Id: 'r0', Operation: 'MailItemsAccessed', OrganizationId: TENANT, RecordType: 50, ResultStatus: 'Succeeded', UserId: 'bob@contoso.example', Workload: 'Exchange' },
        { CreationTime: at(26 * 60 + 1).slice(0, 19), Id: 'r1', Operation: 'New-InboxRule', OrganizationId: TENANT, RecordType: 1, ResultStatus: 'True', UserId: 'bob@contoso.example', Workload: 'Exchange', ClientIP: '198.51.100.66:5555', ObjectId: 'bob\\fwd', Parameters: [{ Name: 'Name', Value: 'fwd' }, { Name: 'ForwardTo', Value: 'drop@evil.example' }] },
      ],
    }]);
    const args = ['collect', '--case', 'INC-7', '--from', 'api:entra-signins', '--from', 'api:m365-audit', '--tenant', TENANT, '--since', iso(SINCE), '--until', iso(UNTIL), '--locker', 'ev'];

    // Act
    const collected = await runCli(args, { cwd, env });
    const detected = await runCli(['detect', '--case', 'INC-7', '--locker', 'ev', '--json'], { cwd, env });

    // Assess
    expect(collected.stderr).toBe('');
    expect(collected.code).toBe(0);
    expect(collected.stdout).toContain('Slices: 8 of 8 complete');
    expect(collected.stdout).toMatch(/complete +api:m365-audit Audit\.Exchange .*: 1 listing page\(s\), 1 content blob\(s\)/);
    expect(detected.code).toBe(0);
    const { findings } = JSON.parse(detected.stdout) as { findings: Array<{ detection: string; evidence_key: string; evidence_record: number; actor: string }> };
    expect(findings.find((f) => f.detection === 'entra-risky-sign-in')).toMatchObject({
      actor: 'user3@contoso.example',
      evidence_key: expect.stringMatching(new RegExp(`^cases/INC-7/azure/entra/${TENANT}/signins/interactiveUser/\\d{8}T\\d{6}Z_\\d{8}T\\d{6}Z/page-00002\\.json$`)),
      evidence_record: 1,
    });
    expect(findings.find((f) => f.detection === 'm365-mail-forwarding-external')).toMatchObject({
      evidence_key: expect.stringMatching(new RegExp(`^cases/INC-7/m365/management-activity/${TENANT}/Audit\\.Exchange/\\d{8}T\\d{6}Z_\\d{8}T\\d{6}Z/content/fwd-1\\.json$`)),
      evidence_record: 1,
    });
  });

  it('run again: nothing preserved is asked for or stored twice, and the case verifies', async () => {
    // Prepare
    const cwd = await tempDir();
    fake.graph.set('auditLogs/signIns', [0, 1, 2].map((i) => signIn(i)));
    fake.blobs.set('Audit.General', [{ contentId: 'g-1', created: new Date(SINCE.getTime() + 60 * MINUTE), records: [{ CreationTime: at(60).slice(0, 19), Id: 'g', Operation: 'Test', OrganizationId: TENANT, RecordType: 1, UserId: 'a@contoso.example', Workload: 'AzureActiveDirectory' }] }]);
    const args = ['collect', '--case', 'INC-8', '--from', 'api:entra-signins', '--from', 'api:m365-audit', '--tenant', TENANT, '--since', iso(SINCE), '--until', iso(UNTIL), '--locker', 'ev', '--json'];
    const first = await runCli(args, { cwd, env });
    const asked = fake.requests.length;

    // Act
    const second = await runCli(args, { cwd, env });
    const verified = await runCli(['verify', '--case', 'INC-8', '--locker', 'ev'], { cwd, env });

    // Assess
    expect(first.code).toBe(0);
    const firstSummary = JSON.parse(first.stdout) as { items: number; slices: Array<{ complete: boolean }> };
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ created: 0, reacquired: firstSummary.items, failures: [] });
    expect(fake.requests.slice(asked).filter((r) => r.method === 'GET')).toEqual([]); // only the subscriptions are started again
    expect(firstSummary.slices).toHaveLength(8);
    expect(verified.code).toBe(0);
  });

  it('reports a damaged page by name in --json, keeps it, and exits 1', async () => {
    const cwd = await tempDir();
    fake.graph.set('auditLogs/signIns', [0, 1, 2].map((i) => signIn(i)));
    fake.damage('skiptoken=2');

    const run = await runCli(['collect', '--case', 'C', '--from', 'api:entra-signins', '--tenant', TENANT, '--since', iso(SINCE), '--until', iso(UNTIL), '--locker', 'ev', '--json'], { cwd, env });

    expect(run.code).toBe(1);
    const summary = JSON.parse(run.stdout) as { failures: Array<{ origin: string; reason: string }>; created: number };
    expect(summary.failures).toHaveLength(1);
    expect(summary.failures[0]!.reason).toMatch(/page 2 of interactive user sign-ins \(v1\.0\) is not JSON .*preserved as received/);
    expect(summary.failures[0]!.origin).toMatch(/&page=2$/);
    expect(existsSync(join(cwd, 'ev', 'cases', 'C', 'azure', 'entra', TENANT, 'signins', 'interactiveUser'))).toBe(true);
  });
});

describe('amber collect --from api:azure-activity', () => {
  it('pages the Activity Log by nextLink and detect reads the pages: a mass deletion cites its first page and record', async () => {
    // Prepare: 12 virtual machines deleted by one caller within one clock hour, in the documented REST shape
    const cwd = await tempDir();
    const SUB = '99999999-8888-4777-8666-555555555555';
    const hour = new Date(Math.floor((SINCE.getTime() + 2 * 60 * MINUTE) / (60 * MINUTE)) * 60 * MINUTE);
    fake.activity.set(SUB, Array.from({ length: 12 }, (_, i) => ({
      authorization: { action: 'Microsoft.Compute/virtualMachines/delete', scope: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm${i}` },
      caller: 'eve@contoso.example',
      claims: { ipaddr: '198.51.100.66' },
      correlationId: `c${i}`,
      eventDataId: `e${i}`,
      eventName: { value: 'EndRequest', localizedValue: 'End request' },
      category: { value: 'Administrative', localizedValue: 'Administrative' },
      eventTimestamp: new Date(hour.getTime() + (i + 1) * MINUTE).toISOString(),
      id: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm${i}/events/e${i}/ticks/1`,
      level: 'Informational',
      operationName: { value: 'Microsoft.Compute/virtualMachines/delete', localizedValue: 'Delete Virtual Machine' },
      resourceGroupName: 'rg',
      resourceId: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm${i}`,
      status: { value: 'Succeeded', localizedValue: 'Succeeded' },
      submissionTimestamp: new Date(hour.getTime() + (i + 2) * MINUTE).toISOString(),
      subscriptionId: SUB,
    })));

    // Act
    const collected = await runCli(['collect', '--case', 'AZ', '--from', 'api:azure-activity', '--subscription', SUB, '--since', iso(SINCE), '--until', iso(UNTIL), '--locker', 'ev', '--json'], { cwd, env });
    const detected = await runCli(['detect', '--case', 'AZ', '--locker', 'ev', '--json'], { cwd, env });

    // Assess
    expect(collected.code).toBe(0);
    expect(JSON.parse(collected.stdout)).toMatchObject({ items: 6, sources: { 'azure-activity': 6 } });
    const { findings } = JSON.parse(detected.stdout) as { findings: Array<{ detection: string; evidence_key: string; evidence_record: number }> };
    expect(findings.find((f) => f.detection === 'azure-mass-resource-deletion')).toMatchObject({
      evidence_key: expect.stringMatching(new RegExp(`^cases/AZ/azure/activity-log/${SUB}/\\d{8}T\\d{6}Z_\\d{8}T\\d{6}Z/page-00001\\.json$`)),
      evidence_record: 0,
    });
  });
});

describe('amber collect --from api:azure-state', () => {
  it('says in --json that transport rules are not collected, and keeps the named mailbox\'s rules', async () => {
    const cwd = await tempDir();
    fake.graph.set('users/bob@contoso.example/mailFolders/inbox/messageRules', [{ id: 'r1', displayName: 'fwd', actions: { forwardTo: [{ emailAddress: { address: 'drop@evil.example' } }] } }]);
    fake.resources.set('users/bob@contoso.example/mailboxSettings', { automaticRepliesSetting: { status: 'disabled' } });

    const run = await runCli(['collect', '--case', 'S', '--from', 'api:azure-state', '--tenant', TENANT, '--user', 'bob@contoso.example', '--locker', 'ev', '--json'], { cwd, env });

    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as { items: number; notes: string[] };
    expect(summary.items).toBe(7);
    expect(summary.notes).toEqual([expect.stringContaining('Exchange transport (mail flow) rules are not collected: Microsoft Graph has no API for them')]);
  });
});

describe('amber collect --from api:azure-iot-twins', () => {
  it('preserves the twin pages and the shadow detections read them: a desired value the device never reported', async () => {
    // Prepare: pump-7 was told to open its valve three hours ago and reports it closed since; two twins a page
    const cwd = await tempDir();
    const t = (h: number): string => new Date(UNTIL.getTime() - h * 60 * MINUTE).toISOString();
    fake.twins = [
      { deviceId: 'fan-1', version: 3, properties: { desired: { speed: 2, $metadata: { $lastUpdated: t(5), speed: { $lastUpdated: t(5) } }, $version: 2 }, reported: { speed: 2, $metadata: { $lastUpdated: t(4.9), speed: { $lastUpdated: t(4.9) } }, $version: 5 } } },
      { deviceId: 'fan-2', version: 1, properties: { desired: { $metadata: { $lastUpdated: t(6) }, $version: 1 }, reported: { $metadata: { $lastUpdated: t(6) }, $version: 1 } } },
      { deviceId: 'pump-7', version: 12, properties: { desired: { valve: 'open', $metadata: { $lastUpdated: t(3), valve: { $lastUpdated: t(3) } }, $version: 4 }, reported: { valve: 'closed', $metadata: { $lastUpdated: t(1), valve: { $lastUpdated: t(1) } }, $version: 9 } } },
    ];

    // Act
    const collected = await runCli(['collect', '--case', 'IOT', '--from', 'api:azure-iot-twins', '--hub', 'plant-hub', '--locker', 'ev', '--json'], { cwd, env });
    const detected = await runCli(['detect', '--case', 'IOT', '--locker', 'ev', '--json'], { cwd, env });

    // Assess
    expect(collected.code).toBe(0);
    expect(JSON.parse(collected.stdout)).toMatchObject({ items: 4, sources: { 'iot-shadow': 2 } });
    const { findings } = JSON.parse(detected.stdout) as { findings: Array<{ detection: string; evidence_key: string; evidence_record: number; target: string }> };
    expect(findings.filter((f) => f.detection === 'iot-shadow-command-not-executed')).toEqual([
      expect.objectContaining({ evidence_key: expect.stringMatching(/^cases\/IOT\/azure\/iot-hub\/plant-hub\/twins\/\d{8}T\d{6}(\.\d{3})?Z\/page-00002\.json$/), evidence_record: 0 }),
    ]);
  });
});

describe('amber collect api: Azure usage', () => {
  it.each([
    ['a Graph source without a tenant', ['--from', 'api:entra-audits', '--since', iso(SINCE), '--until', iso(UNTIL)], 'needs the tenant: --tenant ID'],
    ['the Management Activity API with a domain for tenant', ['--from', 'api:m365-audit', '--tenant', 'contoso.onmicrosoft.com', '--since', iso(SINCE), '--until', iso(UNTIL)], 'takes no domain name'],
    ['the Activity Log without a subscription', ['--from', 'api:azure-activity', '--since', iso(SINCE), '--until', iso(UNTIL)], 'needs a subscription'],
    ['--hub without the twins source', ['--from', 'api:azure-state', '--tenant', TENANT, '--hub', 'h1'], '--hub applies only to api:azure-iot-twins'],
    ['a window on a state source', ['--from', 'api:azure-state', '--tenant', TENANT, '--since', iso(SINCE), '--until', iso(UNTIL)], 'reads current state, so --since/--until do not apply'],
    ['--tenant with CloudTrail alone', ['--from', 'api:aws-cloudtrail', '--tenant', TENANT, '--since', iso(SINCE), '--until', iso(UNTIL)], '--tenant applies only to the Azure api: sources'],
    ['an API source nobody knows', ['--from', 'api:entra-signin', '--since', iso(SINCE), '--until', iso(UNTIL)], 'api:entra-signins'],
  ])('refuses %s before any request, storing nothing', async (_what, extra, message) => {
    const cwd = await tempDir();

    const run = await runCli(['collect', '--case', 'C', ...extra], { cwd, env });

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(fake.requests).toEqual([]);
    expect(existsSync(join(cwd, 'evidence'))).toBe(false);
  });
});

describe('Function: checkAzureWindow', () => {
  const now = new Date('2026-06-01T12:00:00Z');

  it('warns when the window starts before the days the API serves, and refuses one wholly older', () => {
    expect(checkAzureWindow('api:entra-signins', '2026-04-01T00:00:00Z', '2026-05-31T00:00:00Z', now, 30).warnings).toEqual([expect.stringContaining('serves only records after 2026-05-02T12:00:00.000Z')]);
    expect(() => checkAzureWindow('api:entra-signins', '2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z', now, 30)).toThrow(UsageError);
    expect(checkAzureWindow('api:m365-audit', '2026-05-01T00:00:00Z', '2026-05-02T00:00:00Z', now, 7).warnings).toEqual([expect.stringContaining('the slices before that are reported incomplete')]);
  });

  it('refuses a window still open', () => {
    expect(() => checkAzureWindow('api:entra-audits', '2026-06-01T00:00:00Z', '2026-06-01T11:55:00Z', now, 30)).toThrow(/less than 15 minutes ago/);
  });
});
