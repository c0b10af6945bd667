/**
 * Log preservation by the Azure preservation handlers: a request with a window preserves the subscription's
 * Activity Log (and, with a tenant, Entra sign-ins and audits and the Microsoft 365 audit log) into the case.
 * Handlers invoked directly; ARM answered by the FakeArm (nock), the log APIs by the FakeAzure on 127.0.0.1;
 * evidence in a local write-once locker.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { HttpRequest, InvocationContext, type EventGridEvent } from '@azure/functions';
import '../../helpers/promise-with-resolvers.ts';
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixedToken } from '../../../functions/azure/adapters/azure-auth.ts';
import { AzureHttp } from '../../../functions/azure/adapters/azure-http.ts';
import { ManagedDiskSnapshotProvider } from '../../../functions/azure/adapters/managed-disk-snapshot-provider.ts';
import { parseVmRef } from '../../../functions/azure/adapters/arm.ts';
import { defenderAlertHttpHandler, eventGridHandler, preserveHttpHandler, RetryablePreservationError, type PreservationDeps } from '../../../functions/azure/handlers/preservation.ts';
import type { LogStreamStatus } from '../../../functions/azure/preserve-logs.ts';
import { CustodyLedger } from '../../../shared/evidence/ledger.ts';
import { LocalObjectStore } from '../../../shared/evidence/local-object-store.ts';
import { FakeArm, LOC, SUB, fakeCredential } from '../../helpers/fake-arm.ts';
import { FakeAzure } from '../../helpers/fake-azure.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { azureStateSource } from '../../../shared/sources/azure-state/index.ts';
import { entraRiskSource } from '../../../shared/sources/entra-risk/index.ts';
import { detectSource } from '../../../shared/sources/registry.ts';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const TENANT = '99999999-8888-4777-8666-555555555555';
const WINDOW = { since: '2026-12-07T00:00:00Z', until: '2026-12-07T06:00:00Z' };
const NOW = new Date('2026-12-08T00:00:00Z');

let arm: FakeArm;
let fake: FakeAzure;
let store: LocalObjectStore;
let deps: PreservationDeps;
let logs: string[];

function context(): InvocationContext {
  return new InvocationContext({ invocationId: 'inv-1', functionName: 'preservation-event', logHandler: (_level, ...args) => logs.push(args.map(String).join(' ')) });
}

function event(data: Record<string, unknown>, id = 'evt-1'): EventGridEvent {
  return { id, eventType: 'Amber.PreservationRequested', subject: 'amber/preserve', eventTime: '2026-12-07T06:30:00Z', dataVersion: '1.0', metadataVersion: '1', topic: `/subscriptions/${SUB}/resourceGroups/rg-amber/providers/Microsoft.EventGrid/topics/amber`, data };
}

const request = { case: 'INC-7', instanceIds: ['rg-web:vm-web-1'], accountId: SUB, region: LOC, isolate: false, requestId: 'req-7', window: WINDOW };

function activityEvent(i: number): Record<string, unknown> {
  return {
    eventDataId: `ev-${i}`,
    eventTimestamp: `2026-12-07T0${i}:10:00.0000000Z`,
    operationName: { value: 'Microsoft.Compute/virtualMachines/write', localizedValue: 'Create or Update Virtual Machine' },
    caller: 'mallory@contoso.example',
    status: { value: 'Succeeded' },
    resourceId: `/subscriptions/${SUB}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/vm-web-${i}`,
    subscriptionId: SUB,
  };
}

function withLogs(settings: { tenant?: string; budgetMs?: number; risk?: boolean; state?: boolean }, now?: () => number): PreservationDeps {
  return {
    ...deps,
    logs: {
      http: new AzureHttp({ tokens: fixedToken('tok-1'), sleep: () => Promise.resolve() }),
      settings: { armUrl: fake.url, graphUrl: fake.url, m365Url: fake.url, budgetMs: settings.budgetMs ?? 600_000, ...(settings.tenant ? { tenant: settings.tenant } : {}), ...(settings.risk ? { risk: true } : {}), ...(settings.state ? { state: true } : {}) },
      ...(now ? { now } : {}),
    },
  };
}

function logStep(l: CustodyLedger): Array<{ status: string; streams: LogStreamStatus[]; failures?: Array<{ origin: string; reason: string }> }> {
  // The step's own entries (its seal carries the step name too).
  return l.entries.filter((e) => e.action === 'accessed').map((e) => e.detail as Record<string, unknown> | undefined).filter((d) => d?.step === 'preserve-logs') as never;
}

beforeEach(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect((host) => host.startsWith('127.0.0.1'));
  arm = new FakeArm();
  arm.install();
  arm.addVm({ resourceGroup: 'rg-web', name: 'vm-web-1', dataDisks: 1 });
  fake = await new FakeAzure().start();
  fake.activity.set(SUB, [1, 2, 3, 4, 5].map(activityEvent));
  store = await LocalObjectStore.open(await tempDir('amber-azure-logs-'), { create: true });
  logs = [];
  const provider = new ManagedDiskSnapshotProvider({ credential: fakeCredential, snapshotResourceGroup: 'rg-evidence', pollIntervalMs: 1 });
  deps = {
    provider,
    store,
    actor: { principal: 'azure-mi:test', tool: 'amber/test' },
    clock: () => NOW,
    triggers: { defenderMinSeverity: 'Medium', defaultWindowHours: 24, locate: (s, vm) => provider.locationOf(s, parseVmRef(vm)) },
  };
});

afterEach(async () => {
  await fake.stop();
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('Azure preservation: the log window of a request', () => {
  it('preserves every Activity Log page of the subscription byte for byte, hashed, beside the VM, and records the step as complete', async () => {
    const result = await eventGridHandler(async () => withLogs({}))(event(request), context());

    const out = result.requests[0]!;
    expect(out.vms[0]!.status).toBe('preserved');
    expect(out.logs).toMatchObject({ status: 'complete', window: WINDOW, retryable: false });
    const l = await CustodyLedger.open(store, 'INC-7');
    const pages = [...l.items().values()].filter((i) => i.key.includes('/azure/activity-log/'));
    // 5 events, 2 a page: 3 pages, each exactly what the API answered, its SHA-256 computed as stored.
    expect(pages).toHaveLength(3);
    const served = fake.requests.filter((r) => r.target.includes('/eventtypes/management/values')).map((r) => fake.served.get(`GET ${r.target}`)!);
    for (const [n, item] of pages.sort((a, b) => a.key.localeCompare(b.key)).entries()) {
      const bytes = await readFile(store.pathOf(item.key));
      expect(bytes.equals(served[n]!)).toBe(true);
      expect(item.sha256).toBe(sha256(bytes));
      expect(item.origin).toMatch(/^api:azure-activity\?method=GET&url=/);
    }
    const ids = served.flatMap((b) => (JSON.parse(b.toString('utf8')) as { value: Array<{ eventDataId: string }> }).value.map((v) => v.eventDataId));
    expect(ids).toEqual(['ev-1', 'ev-2', 'ev-3', 'ev-4', 'ev-5']);
    const step = logStep(l);
    expect(step).toHaveLength(1);
    expect(step[0]!.status).toBe('complete');
    expect(step[0]!.streams.map((s) => [s.source, s.status, s.preserved])).toEqual([['api:azure-activity', 'complete', 3]]);
  });

  it('a re-delivered event stores no page twice and records nothing twice', async () => {
    const handler = eventGridHandler(async () => withLogs({ tenant: TENANT }));
    fake.graph.set('auditLogs/signIns', [{ id: 'si-1', createdDateTime: '2026-12-07T01:00:00Z', userPrincipalName: 'a@contoso.example' }]);
    await handler(event(request), context());
    const first = await CustodyLedger.open(store, 'INC-7');
    const asked = fake.requests.length;
    const second = await handler(event(request), context());

    expect(second.requests[0]!.logs?.status).toBe('already complete');
    const again = await CustodyLedger.open(store, 'INC-7');
    expect(again.entries).toHaveLength(first.entries.length);
    expect([...again.items().keys()]).toEqual([...first.items().keys()]);
    // The second delivery asked the log APIs for nothing.
    expect(fake.requests.length).toBe(asked);
  });

  it('with a tenant, also preserves Entra sign-ins and audits and the Microsoft 365 audit log', async () => {
    fake.graph.set('auditLogs/signIns', [{ id: 'si-1', createdDateTime: '2026-12-07T01:00:00Z', userPrincipalName: 'a@contoso.example' }]);
    fake.graph.set('auditLogs/directoryAudits', [{ id: 'da-1', activityDateTime: '2026-12-07T02:00:00Z', activityDisplayName: 'Add member to role' }]);
    fake.blobs.set('Audit.Exchange', [{ contentId: 'blob-1', created: new Date('2026-12-07T03:00:00Z'), records: [{ Id: 'r1', Operation: 'New-InboxRule', CreationTime: '2026-12-07T02:59:00' }] }]);
    const result = await eventGridHandler(async () => withLogs({ tenant: TENANT }))(event(request), context());

    expect(result.requests[0]!.logs?.streams.map((s) => [s.source, s.status])).toEqual([
      ['api:azure-activity', 'complete'],
      ['api:entra-signins', 'complete'],
      ['api:entra-audits', 'complete'],
      ['api:m365-audit', 'complete'],
    ]);
    const l = await CustodyLedger.open(store, 'INC-7');
    const texts = await Promise.all([...l.items().values()].map(async (i) => (await readFile(store.pathOf(i.key))).toString('utf8')));
    expect(texts.some((t) => t.includes('"si-1"'))).toBe(true);
    expect(texts.some((t) => t.includes('"da-1"'))).toBe(true);
    expect(texts.some((t) => t.includes('New-InboxRule'))).toBe(true);
    const m365 = result.requests[0]!.logs!.streams.find((s) => s.source === 'api:m365-audit')!;
    expect(m365.slices?.every((s) => s.complete)).toBe(true);
  });

  it('when configured, also preserves Entra ID Protection risk of the window and a state snapshot, which Amber\'s parsers read', async () => {
    fake.graph.set('identityProtection/riskDetections', [
      { id: 'rd-1', riskEventType: 'leakedCredentials', riskLevel: 'high', riskState: 'atRisk', detectedDateTime: '2026-12-07T01:30:00Z', userId: 'u1', userPrincipalName: 'a@contoso.example' },
      { id: 'rd-late', riskEventType: 'unfamiliarFeatures', riskLevel: 'low', riskState: 'atRisk', detectedDateTime: '2026-12-07T09:00:00Z', userId: 'u1' },
    ]);
    fake.graph.set('identityProtection/riskyUsers', [{ id: 'u1', riskLevel: 'high', riskState: 'atRisk', riskLastUpdatedDateTime: '2026-12-07T01:31:00Z', userPrincipalName: 'a@contoso.example' }]);
    fake.graph.set('oauth2PermissionGrants', [{ id: 'g-1', clientId: 'sp-1', consentType: 'AllPrincipals', resourceId: 'sp-graph', scope: 'Mail.Read' }]);
    fake.graph.set('users', [{ id: 'u1', userPrincipalName: 'a@contoso.example' }]);
    fake.graph.set('users/u1/mailFolders/inbox/messageRules', [{ id: 'rule-1', displayName: '.', isEnabled: true, actions: { forwardTo: [{ emailAddress: { address: 'x@mail.example.net' } }] } }]);

    const result = await eventGridHandler(async () => withLogs({ tenant: TENANT, risk: true, state: true }))(event(request), context());

    const streams = result.requests[0]!.logs!.streams;
    expect(streams.find((s) => s.source === 'api:entra-risk')?.status).toBe('complete');
    expect(streams.find((s) => s.source === 'api:azure-state')?.status).toBe('complete');
    const l = await CustodyLedger.open(store, 'INC-7');
    const pages = await Promise.all([...l.items().values()].map(async (i) => ({ key: i.key, origin: i.origin, text: (await readFile(store.pathOf(i.key))).toString('utf8') })));
    // Risk: only the window's detections were asked for; each page parsed by entra-risk.
    const risk = pages.filter((p) => p.origin.startsWith('api:entra-risk'));
    expect(risk.length).toBeGreaterThanOrEqual(2);
    expect(risk.some((p) => p.text.includes('"rd-1"'))).toBe(true);
    expect(risk.some((p) => p.text.includes('"rd-late"'))).toBe(false);
    for (const p of risk) expect(detectSource(p.text, p.key).source?.id, p.key).toBe('entra-risk');
    const riskRows = risk.flatMap((p) => entraRiskSource.parse(p.text, p.key).rows.map((r) => r.row));
    expect(riskRows.map((r) => [r.record_type, r.id, r.risk_level])).toEqual(expect.arrayContaining([['risk-detection', 'rd-1', 'high'], ['risky-user', 'u1', 'high']]));
    // State: a snapshot at the handling time, the inbox rule read with its mailbox and forwarding target.
    const state = pages.filter((p) => p.origin.startsWith('api:azure-state'));
    expect(state.some((p) => p.key.includes(`/azure/state/${TENANT}/20261208T000000Z/oauth2-permission-grants/`))).toBe(true);
    const rules = state.filter((p) => p.key.includes('/mailboxes/u1/inbox-rules/'));
    expect(rules).toHaveLength(1);
    expect(detectSource(rules[0]!.text, rules[0]!.key).source?.id).toBe('azure-state');
    expect(azureStateSource.parse(rules[0]!.text, rules[0]!.key).rows[0]!.row).toMatchObject({ kind: 'inbox-rule', mailbox: 'u1', forwards_to: 'x@mail.example.net', observed_at: '2026-12-08T00:00:00Z' });
  });

  it('without the risk and state settings, neither is read', async () => {
    const result = await eventGridHandler(async () => withLogs({ tenant: TENANT }))(event(request), context());

    expect(result.requests[0]!.logs!.streams.map((s) => s.source)).not.toContain('api:entra-risk');
    expect(result.requests[0]!.logs!.streams.map((s) => s.source)).not.toContain('api:azure-state');
    expect(fake.requests.some((r) => r.target.includes('identityProtection') || r.target.includes('oauth2PermissionGrants'))).toBe(false);
  });

  it('names the Graph permissions risk and state need when Graph answers 403', async () => {
    fake.fault('/v1.0/identityProtection/riskDetections', 403);
    fake.fault('/v1.0/oauth2PermissionGrants', 403);
    const result = await eventGridHandler(async () => withLogs({ tenant: TENANT, risk: true, state: true }))(event(request), context());

    const streams = result.requests[0]!.logs!.streams;
    expect(streams.find((s) => s.source === 'api:entra-risk')?.reasons?.join(' ')).toContain('IdentityRiskEvent.Read.All');
    expect(streams.find((s) => s.source === 'api:azure-state')?.reasons?.join(' ')).toContain('Directory.Read.All');
  });

  it('a 403 is a failed log step naming the missing permission, while the VM preservation still completes', async () => {
    fake.fault('/eventtypes/management/values', 403);
    fake.fault('/v1.0/auditLogs/directoryAudits', 403);
    const result = await eventGridHandler(async () => withLogs({ tenant: TENANT }))(event(request), context());

    const out = result.requests[0]!;
    expect(out.vms[0]!.status).toBe('preserved');
    expect(out.logs?.status).toBe('failed');
    expect(out.logs?.retryable).toBe(false);
    const l = await CustodyLedger.open(store, 'INC-7');
    const step = logStep(l)[0]!;
    expect(step.status).toBe('failed');
    const activity = step.failures!.find((f) => f.reason.includes('eventtypes/management/values') || f.origin.includes('azure-activity'))!;
    expect(activity.reason).toContain('HTTP 403');
    expect(activity.reason).toContain('Microsoft.Insights/eventtypes/values/read');
    const audits = step.failures!.find((f) => f.origin.includes('entra-audits'))!;
    expect(audits.reason).toContain('AuditLog.Read.All');
    // The other streams were preserved, and the VM's steps are all in the ledger.
    expect(step.streams.find((s) => s.source === 'api:entra-signins')?.status).toBe('complete');
    const steps = l.entries.map((e) => (e.detail as { step?: string } | undefined)?.step);
    expect(steps).toContain('instance-preserved');
  });

  it('stops asking for pages when the budget is spent, says what is incomplete, and the redelivery resumes without storing a page twice', async () => {
    fake.activity.set(SUB, [1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => activityEvent(i % 6)).map((e, i) => ({ ...e, eventDataId: `ev-${i}` })));
    // The budget's clock advances one second per request the log API answered: 2.5 s is 3 pages.
    const clock = (): number => fake.requests.length * 1000;
    const handler = eventGridHandler(async () => withLogs({ budgetMs: 2500 }, clock));
    const first = await handler(event(request), context()).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(first).toBeInstanceOf(RetryablePreservationError);
    const partial = (first as RetryablePreservationError).result.requests[0]!;
    expect(partial.vms[0]!.status).toBe('preserved');
    expect(partial.logs).toMatchObject({ status: 'incomplete', retryable: true });
    expect(partial.logs!.streams[0]).toMatchObject({ source: 'api:azure-activity', status: 'incomplete', preserved: 3 });
    expect(partial.logs!.streams[0]!.reasons?.join(' ')).toContain('AMBER_LOG_BUDGET_SECONDS');

    const redelivered = await handler(event(request), context());
    expect(redelivered.requests[0]!.logs).toMatchObject({ status: 'complete', created: 2 });
    const l = await CustodyLedger.open(store, 'INC-7');
    const pages = [...l.items().values()].filter((i) => i.key.includes('/azure/activity-log/'));
    expect(pages).toHaveLength(5);
    // Every page was asked for once: none again after the resume.
    const targets = fake.requests.filter((r) => r.target.includes('/eventtypes/')).map((r) => r.target);
    expect(new Set(targets).size).toBe(targets.length);
    expect(logStep(l).map((s) => s.status)).toEqual(['incomplete', 'complete']);
  });

  it('the HTTP trigger answers the logs outcome with the VMs', async () => {
    const response = await preserveHttpHandler(async () => withLogs({}))(new HttpRequest({ method: 'POST', url: 'https://func.example/api/preserve', body: { string: JSON.stringify(request) }, headers: { 'content-type': 'application/json' } }), context());
    expect(response.status).toBe(200);
    expect((response.jsonBody as { requests: Array<{ logs: { status: string } }> }).requests[0]!.logs.status).toBe('complete');
  });

  it('notes in the ledger when the window ended too recently for every record to have arrived', async () => {
    const recent = { ...request, window: { since: '2026-12-07T23:00:00Z', until: '2026-12-07T23:55:00Z' } };
    const result = await eventGridHandler(async () => withLogs({}))(event(recent), context());
    expect(result.requests[0]!.logs?.notes?.join(' ')).toMatch(/less than 15 minutes/);
    const step = logStep(await CustodyLedger.open(store, 'INC-7'))[0] as unknown as { notes?: string[] };
    expect(step.notes?.join(' ')).toMatch(/less than 15 minutes/);
  });

  it('a Defender alert preserves the Activity Log of the default window before the alert, in the alert\'s case', async () => {
    const alert = {
      SystemAlertId: '2517538088322968242_d4e5f6',
      AlertType: 'VM_SuspiciousCommandLine',
      Severity: 'High',
      StartTimeUtc: '2026-12-07T05:30:00.000Z',
      ResourceIdentifiers: [{ $id: '2', AzureResourceId: `/subscriptions/${SUB}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/vm-web-1`, Type: 'AzureResource' }],
    };
    fake.activity.set(SUB, [1, 2, 3, 4, 5, 6].map(activityEvent));
    const response = await defenderAlertHttpHandler(async () => withLogs({}))(new HttpRequest({ method: 'POST', url: 'https://func.example/api/defender-alert', body: { string: JSON.stringify(alert) }, headers: { 'content-type': 'application/json' } }), context());

    expect(response.status).toBe(200);
    const out = (response.jsonBody as { requests: Array<{ case: string; logs: { status: string; window: { since: string; until: string } } }> }).requests[0]!;
    // 24 hours (defaultWindowHours) up to the alert's start.
    expect(out.logs).toMatchObject({ status: 'complete', window: { since: '2026-12-06T05:30:00Z', until: '2026-12-07T05:30:00Z' } });
    const l = await CustodyLedger.open(store, out.case);
    const texts = await Promise.all([...l.items().values()].filter((i) => i.key.includes('/azure/activity-log/')).map(async (i) => (await readFile(store.pathOf(i.key))).toString('utf8')));
    const ids = texts.flatMap((t) => (JSON.parse(t) as { value: Array<{ eventDataId: string }> }).value.map((v) => v.eventDataId));
    // Events at 01:10 to 05:10 are inside the window; none after the alert.
    expect(ids).toEqual(['ev-1', 'ev-2', 'ev-3', 'ev-4', 'ev-5']);
  });

  it('without log settings, a window is only noted and nothing is read', async () => {
    const result = await eventGridHandler(async () => deps)(event(request), context());
    expect(result.requests[0]!.logs).toBeUndefined();
    expect(fake.requests).toHaveLength(0);
    expect(logs.join('\n')).toContain('log preservation is not configured');
  });
});
