/**
 * The Azure preservation handlers end to end: invoked directly (Event Grid event, HttpRequest) with an
 * InvocationContext, ARM answered at the HTTP layer by the FakeArm (nock), evidence in a local write-once locker.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { HttpRequest, InvocationContext, type EventGridEvent } from '@azure/functions';
import '../../helpers/promise-with-resolvers.ts';
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManagedDiskSnapshotProvider } from '../../../functions/azure/adapters/managed-disk-snapshot-provider.ts';
import { parseVmRef } from '../../../functions/azure/adapters/arm.ts';
import { defenderAlertHttpHandler, eventGridHandler, preserveHttpHandler, type PreservationDeps } from '../../../functions/azure/handlers/preservation.ts';
import { CustodyLedger } from '../../../shared/evidence/ledger.ts';
import { LocalObjectStore } from '../../../shared/evidence/local-object-store.ts';
import { ledgerKey } from '../../../shared/evidence/names.ts';
import { FakeArm, LOC, SUB, fakeCredential } from '../../helpers/fake-arm.ts';
import { tempDir } from '../../helpers/tmp.ts';

const sha256 = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');

let arm: FakeArm;
let store: LocalObjectStore;
let deps: PreservationDeps;
let logs: string[];

function context(): InvocationContext {
  return new InvocationContext({ invocationId: 'inv-1', functionName: 'preservation-event', logHandler: (_level, ...args) => logs.push(args.map(String).join(' ')) });
}

function event(data: Record<string, unknown>, id = 'evt-1'): EventGridEvent {
  return { id, eventType: 'Amber.PreservationRequested', subject: 'amber/preserve', eventTime: '2026-12-01T10:00:00Z', dataVersion: '1.0', metadataVersion: '1', topic: `/subscriptions/${SUB}/resourceGroups/rg-amber/providers/Microsoft.EventGrid/topics/amber`, data };
}

async function ledger(caseName: string): Promise<CustodyLedger> {
  return CustodyLedger.open(store, caseName);
}

function steps(l: CustodyLedger): string[] {
  return l.entries.map((e) => (e.action === 'sealed' ? 'sealed' : String((e.detail as { step?: unknown } | undefined)?.step ?? e.action)));
}

beforeEach(async () => {
  nock.disableNetConnect();
  arm = new FakeArm();
  arm.install();
  store = await LocalObjectStore.open(await tempDir('amber-azure-'), { create: true });
  logs = [];
  const provider = new ManagedDiskSnapshotProvider({ credential: fakeCredential, snapshotResourceGroup: 'rg-evidence', pollIntervalMs: 1 });
  deps = {
    provider,
    store,
    actor: { principal: 'azure-mi:test', tool: 'amber/test' },
    triggers: { defenderMinSeverity: 'Medium', defaultWindowHours: 24, locate: (s, vm) => provider.locationOf(s, parseVmRef(vm)) },
  };
});

afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('Azure preservation: Event Grid "Amber.PreservationRequested"', () => {
  it('preserves the VM metadata byte for byte and starts incremental snapshots of every disk through the long-running operation', async () => {
    const vm = arm.addVm({ resourceGroup: 'rg-web', name: 'vm-web-1', dataDisks: 2, withPublicIp: true });
    const handler = eventGridHandler(async () => deps);
    const result = await handler(event({ case: 'INC-42', instanceIds: ['rg-web:vm-web-1'], accountId: SUB, region: LOC, isolate: false, requestId: 'req-1' }), context());

    expect(result.requests).toHaveLength(1);
    const out = result.requests[0]!.vms[0]!;
    expect(out.status).toBe('preserved');
    expect(out.isolation).toBe('not requested');
    // One incremental snapshot per disk, OS disk first, each a copy of its disk, tagged with case and evidence id.
    const snapshotPuts = arm.puts.filter((p) => p.path.includes('/snapshots/'));
    expect(snapshotPuts.map((p) => ((p.body.properties as { creationData: { sourceResourceId: string } }).creationData.sourceResourceId))).toEqual(vm.diskIds);
    for (const p of snapshotPuts) {
      expect(p.path).toMatch(/\/resourceGroups\/rg-evidence\/providers\/Microsoft\.Compute\/snapshots\/amber-[0-9a-f]{40}$/);
      expect(p.body.properties).toMatchObject({ incremental: true, creationData: { createOption: 'Copy' } });
      expect(p.body.tags).toMatchObject({ 'amber:case': 'INC-42', 'amber:request-id': 'req-1', 'amber:instance-id': 'rg-web:vm-web-1' });
      expect((p.body.tags as Record<string, string>)['amber:evidence-id']).toMatch(/^ev-[0-9a-f]{24}$/);
    }
    // The snapshot creation was followed through its Azure-AsyncOperation until it succeeded.
    expect(arm.calls.filter((c) => c.includes('/operations/')).length).toBeGreaterThanOrEqual(2 * 3);
    expect(out.snapshots.map((s) => s.state)).toEqual(['completed', 'completed', 'completed']);

    // The VM record is ARM's response body exactly, hashed by Amber as stored.
    const l = await ledger('INC-42');
    const items = [...l.items().values()];
    const vmItem = items.find((i) => i.key.endsWith('/vm.json'))!;
    const vmBytes = await readFile(store.pathOf(vmItem.key));
    expect(JSON.parse(vmBytes.toString('utf8'))).toEqual(arm.resources.get(vm.vmId.toLowerCase()));
    expect(vmItem.sha256).toBe(sha256(vmBytes));
    expect(vmItem.origin).toMatch(/^api:azure-arm:GET:https:\/\/management\.azure\.com\/subscriptions\/.+\/virtualMachines\/vm-web-1\?api-version=/);
    const names = items.map((i) => i.key.split('/').pop()).sort();
    expect(names).toEqual(
      ['boot-diagnostics.json', 'disk-vm-web-1_OsDisk_1.json', 'disk-vm-web-1_data_0.json', 'disk-vm-web-1_data_1.json', 'effective-security-rules-vm-web-1-nic.json', 'extensions.json', 'identity.json', 'nic-vm-web-1-nic.json', 'nsg-vm-web-1-nsg.json', 'public-ip-vm-web-1-ip.json', 'serial-console.log', 'vm.json'].sort(),
    );
    const serial = items.find((i) => i.key.endsWith('/serial-console.log'))!;
    expect(await readFile(store.pathOf(serial.key), 'utf8')).toBe(arm.serialLog);
    // SAS tokens are credentials: neither the records nor the ledger keep them.
    for (const i of items) expect(await readFile(store.pathOf(i.key), 'utf8')).not.toContain('SECRETSIG');
    expect(await readFile(store.pathOf(ledgerKey('INC-42')), 'utf8')).not.toContain('SECRETSIG');
    expect(steps(l)).toEqual(['capture-instance', 'create-snapshots', 'snapshots-checked', 'instance-preserved', 'sealed']);
    // Reads only: no NIC or NSG was changed.
    expect(arm.puts.filter((p) => !p.path.includes('/snapshots/'))).toEqual([]);
  });

  it('the same event delivered twice gives one snapshot set and no duplicate evidence item or ledger entry', async () => {
    arm.addVm({ resourceGroup: 'rg-web', name: 'vm-web-1', dataDisks: 1 });
    const handler = eventGridHandler(async () => deps);
    const e = event({ case: 'INC-42', instanceIds: ['rg-web:vm-web-1'], accountId: SUB, region: LOC, isolate: false, requestId: 'req-1' });
    await handler(e, context());
    const first = await ledger('INC-42');
    const second = await handler(e, context());

    expect(second.requests[0]!.vms[0]!.status).toBe('preserved');
    expect(arm.puts.filter((p) => p.path.includes('/snapshots/'))).toHaveLength(2);
    const again = await ledger('INC-42');
    expect(again.entries).toHaveLength(first.entries.length);
    expect([...again.items().keys()]).toEqual([...first.items().keys()]);
  });

  it('rides out ARM throttling (429 with Retry-After) on the VM read and the snapshot creation', async () => {
    arm.addVm({ resourceGroup: 'rg-web', name: 'vm-web-1' });
    arm.throttle('GET /subscriptions/' + SUB + '/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/vm-web-1', 2);
    arm.throttle('PUT /subscriptions/' + SUB + '/resourceGroups/rg-evidence', 1);
    const result = await eventGridHandler(async () => deps)(event({ case: 'INC-7', instanceIds: ['rg-web:vm-web-1'], accountId: SUB, region: LOC, requestId: 'req-7' }), context());

    expect(result.requests[0]!.vms[0]!.status).toBe('preserved');
    // Both 429s on the VM read were answered and retried (the capture reads the VM, then the snapshot step again).
    expect(arm.calls.filter((c) => c.endsWith('/virtualMachines/vm-web-1')).length).toBeGreaterThanOrEqual(2 + 2);
    expect(arm.calls.filter((c) => c.startsWith('PUT') && c.includes('/snapshots/'))).toHaveLength(2);
    expect(arm.puts.filter((p) => p.path.includes('/snapshots/'))).toHaveLength(1);
  });

  it('records a disk whose snapshot fails, keeps the others, and does not isolate', async () => {
    const vm = arm.addVm({ resourceGroup: 'rg-web', name: 'vm-web-1', dataDisks: 1 });
    arm.failDisks.add(vm.diskIds[1]!.toLowerCase());
    const result = await eventGridHandler(async () => deps)(event({ case: 'INC-9', instanceIds: ['rg-web:vm-web-1'], accountId: SUB, region: LOC, isolate: true, requestId: 'req-9' }), context());

    const out = result.requests[0]!.vms[0]!;
    expect(out.status).toBe('failed');
    expect(out.error).toMatchObject({ step: 'snapshots-checked', code: 'SNAPSHOT_FAILED' });
    expect(out.error!.message).toContain('InternalDiskManagementError');
    expect(out.snapshots.map((s) => s.state)).toEqual(['completed', 'error']);
    expect(out.isolation).toBe('not reached');
    expect(arm.puts.filter((p) => p.path.includes('networkSecurityGroups') || p.path.includes('networkInterfaces'))).toEqual([]);
    const l = await ledger('INC-9');
    expect(steps(l)).toEqual(['capture-instance', 'create-snapshots', 'snapshots-checked', 'failed', 'sealed']);
    const checked = l.entries[2]!.detail as { failures?: { origin: string; reason: string }[] };
    expect(checked.failures).toHaveLength(1);
    expect(checked.failures![0]!.reason).toContain(`copying disk vm-web-1_data_0`);
    // The metadata captured before the failure stays preserved and recorded.
    expect(l.items().size).toBeGreaterThan(0);
  });

  it('a malformed event is refused with an error naming it, recorded as a failed step, and nothing else is written', async () => {
    arm.addVm({ resourceGroup: 'rg-web', name: 'vm-web-1' });
    const result = await eventGridHandler(async () => deps)(event({ case: 'INC-5', instanceIds: ['vm without group'], accountId: SUB, region: LOC, requestId: 'req-5' }, 'evt-bad'), context());

    expect(result.requests).toEqual([]);
    expect(result.rejected?.message).toContain('"evt-bad"');
    expect(result.rejected?.message).toContain('data.instanceIds[0]');
    expect(result.rejected?.recordedIn).toBe('INC-5');
    expect(arm.calls).toEqual([]);
    const l = await ledger('INC-5');
    expect(steps(l)).toEqual(['failed']);
    expect(l.items().size).toBe(0);
    expect(logs.join('\n')).toContain('data.instanceIds[0]');
  });

  it('isolates with a deny-all network security group only when asked, recording the group it replaced', async () => {
    const vm = arm.addVm({ resourceGroup: 'rg-web', name: 'vm-web-1' });
    const result = await eventGridHandler(async () => deps)(event({ case: 'INC-3', instanceIds: [vm.vmId], region: LOC, isolate: true, requestId: 'req-3' }), context());

    expect(result.requests[0]!.vms[0]!.isolation).toBe('applied');
    const nsgPut = arm.puts.find((p) => p.path.includes('/networkSecurityGroups/amber-quarantine-westeurope'))!;
    const rules = (nsgPut.body.properties as { securityRules: { properties: Record<string, unknown> }[] }).securityRules.map((r) => r.properties);
    expect(rules).toEqual(expect.arrayContaining([expect.objectContaining({ access: 'Deny', direction: 'Inbound', priority: 100, sourceAddressPrefix: '*' }), expect.objectContaining({ access: 'Deny', direction: 'Outbound', priority: 100, destinationAddressPrefix: '*' })]));
    const nicPut = arm.puts.find((p) => p.path === vm.nicId)!;
    expect((nicPut.body.properties as { networkSecurityGroup: { id: string } }).networkSecurityGroup.id).toContain('amber-quarantine-westeurope');
    const l = await ledger('INC-3');
    const iso = l.entries.find((e) => (e.detail as { step?: string }).step === 'isolate-instance')!.detail as { previousGroups: Record<string, string[]> };
    expect(iso.previousGroups).toEqual({ [vm.nicId]: [vm.nsgId] });
  });
});

describe('Azure preservation: HTTP triggers', () => {
  const alert = (severity: string) => ({
    SystemAlertId: '2517538088322968242_a1b2c3',
    AlertType: 'VM_SuspiciousCommandLine',
    AlertDisplayName: 'Suspicious command line detected',
    Severity: severity,
    StartTimeUtc: '2026-12-01T09:30:00.000Z',
    EndTimeUtc: '2026-12-01T09:31:00.000Z',
    TimeGenerated: '2026-12-01T09:35:00.000Z',
    CompromisedEntity: 'vm-web-1',
    ResourceIdentifiers: [
      { $id: '2', AzureResourceId: `/subscriptions/${SUB}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/vm-web-1`, Type: 'AzureResource', AzureResourceTenantId: '7e7e7e7e-0000-4000-8000-000000000002' },
      { $id: '3', WorkspaceId: 'ws-1', WorkspaceSubscriptionId: SUB, WorkspaceResourceGroup: 'rg-law', AgentId: 'agent-1', Type: 'LogAnalytics' },
    ],
    VendorName: 'Microsoft',
    Status: 'New',
  });
  const post = (url: string, body: string) => new HttpRequest({ method: 'POST', url, body: { string: body }, headers: { 'content-type': 'application/json' } });

  it('a Defender alert at or above the threshold preserves the VM it names, in case mdc-<alert id>', async () => {
    arm.addVm({ resourceGroup: 'rg-web', name: 'vm-web-1' });
    const res = await defenderAlertHttpHandler(async () => deps)(post('https://amber.azurewebsites.net/api/defender-alert', JSON.stringify(alert('High'))), context());

    expect(res.status).toBe(200);
    const body = res.jsonBody as { requests: { case: string; trigger: string; vms: { status: string }[] }[] };
    expect(body.requests).toEqual([expect.objectContaining({ case: 'mdc-2517538088322968242_a1b2c3', trigger: 'defender', vms: [expect.objectContaining({ status: 'preserved' })] })]);
    // Delivered again: the same request, nothing new created.
    await defenderAlertHttpHandler(async () => deps)(post('https://amber.azurewebsites.net/api/defender-alert', JSON.stringify(alert('High'))), context());
    expect(arm.puts.filter((p) => p.path.includes('/snapshots/'))).toHaveLength(1);
  });

  it('a Defender alert below the threshold is ignored with the reason, and ARM is not called', async () => {
    const res = await defenderAlertHttpHandler(async () => deps)(post('https://amber.azurewebsites.net/api/defender-alert', JSON.stringify(alert('Low'))), context());

    expect(res.status).toBe(200);
    expect((res.jsonBody as { ignored: { reason: string }[] }).ignored[0]!.reason).toContain('below the threshold Medium');
    expect(arm.calls).toEqual([]);
  });

  it('POST /api/preserve answers 400 naming the problem for a body that is not JSON or not a valid request', async () => {
    const bad = await preserveHttpHandler(async () => deps)(post('https://amber.azurewebsites.net/api/preserve', '{"case": "INC-1",'), context());
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.jsonBody)).toContain('not JSON');

    const invalid = await preserveHttpHandler(async () => deps)(post('https://amber.azurewebsites.net/api/preserve', JSON.stringify({ case: 'INC-1', instanceIds: ['rg-web:vm-web-1'], accountId: 'not-a-guid', region: LOC })), context());
    expect(invalid.status).toBe(400);
    expect(JSON.stringify(invalid.jsonBody)).toContain('accountId must be a subscription id');
  });

  it('POST /api/preserve preserves the VMs of a valid request', async () => {
    arm.addVm({ resourceGroup: 'rg-web', name: 'vm-web-1' });
    const res = await preserveHttpHandler(async () => deps)(post('https://amber.azurewebsites.net/api/preserve', JSON.stringify({ case: 'INC-1', instanceIds: ['rg-web:vm-web-1'], accountId: SUB, region: LOC, isolate: false, requestId: 'cli-1' })), context());
    expect(res.status).toBe(200);
    expect(steps(await ledger('INC-1'))).toContain('instance-preserved');
  });
});
