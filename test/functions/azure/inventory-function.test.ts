/**
 * The inventory in the Azure deployment: `POST /api/inventory` on demand, and the inventory as the first step of a
 * VM preservation. Resource Graph, ARM and Graph answered by FakeAzure on 127.0.0.1; the VM's ARM calls by the
 * FakeArm (nock); evidence in a local write-once locker.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HttpRequest, InvocationContext, type EventGridEvent } from '@azure/functions';
import '../../helpers/promise-with-resolvers.ts';
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixedToken } from '../../../functions/azure/adapters/azure-auth.ts';
import { AzureHttp } from '../../../functions/azure/adapters/azure-http.ts';
import { parseVmRef } from '../../../functions/azure/adapters/arm.ts';
import { readAzureConfig } from '../../../functions/azure/config.ts';
import { inventorySettings } from '../../../functions/azure/runtime.ts';
import { ManagedDiskSnapshotProvider } from '../../../functions/azure/adapters/managed-disk-snapshot-provider.ts';
import { inventoryHttpHandler, type InventoryDeps } from '../../../functions/azure/handlers/inventory.ts';
import { eventGridHandler, type PreservationDeps } from '../../../functions/azure/handlers/preservation.ts';
import { CustodyLedger } from '../../../shared/evidence/ledger.ts';
import { LocalObjectStore } from '../../../shared/evidence/local-object-store.ts';
import { FakeArm, LOC, SUB, fakeCredential } from '../../helpers/fake-arm.ts';
import { FakeAzure } from '../../helpers/fake-azure.ts';
import { ESTATE_TENANT, seedAzureEstate } from '../../helpers/fake-azure-estate.ts';
import { tempDir } from '../../helpers/tmp.ts';

let fake: FakeAzure;
let store: LocalObjectStore;
let root: string;
let logs: string[];

const context = (id = 'inv-1'): InvocationContext => new InvocationContext({ invocationId: id, functionName: 'inventory', logHandler: (_level, ...args) => logs.push(args.map(String).join(' ')) });
const post = (body: unknown): HttpRequest => new HttpRequest({ method: 'POST', url: 'http://localhost/api/inventory', body: { string: typeof body === 'string' ? body : JSON.stringify(body) }, headers: { 'content-type': 'application/json' } });
const steps = (l: CustodyLedger): string[] => l.entries.map((e) => (e.action === 'sealed' ? 'sealed' : String((e.detail as { step?: unknown } | undefined)?.step ?? e.action)));

beforeEach(async () => {
  fake = await new FakeAzure().start();
  seedAzureEstate(fake, SUB);
  root = await tempDir('amber-azure-inventory-');
  store = await LocalObjectStore.open(root, { create: true });
  logs = [];
});

afterEach(async () => {
  nock.cleanAll();
  nock.enableNetConnect();
  await fake.stop();
});

function inventoryDeps(): InventoryDeps {
  return { store, actor: { principal: 'azure-mi:test', tool: 'amber/test' }, http: new AzureHttp({ tokens: fixedToken('tok-1') }), settings: { armUrl: fake.url, graphUrl: fake.url, tenant: ESTATE_TENANT } };
}

describe('Azure Function inventory: POST /api/inventory', () => {
  it('preserves the subscription\'s and tenant\'s answers into the case, records the step, and does not take it twice for one request', async () => {
    // Prepare
    const handler = inventoryHttpHandler(async () => inventoryDeps());

    // Act
    const first = await handler(post({ case: 'INC-7', subscriptions: [SUB.toUpperCase()], requestId: 'req-inv-1' }), context());
    const again = await handler(post({ case: 'INC-7', subscriptions: [SUB], requestId: 'req-inv-1' }), context('inv-2'));

    // Assess
    expect(first.status).toBe(200);
    const body = first.jsonBody as { status: string; subscriptions: string[]; tenant: string; answers: Record<string, number>; created: number };
    expect(body).toMatchObject({ status: 'complete', subscriptions: [SUB], tenant: ESTATE_TENANT });
    expect(body.answers).toEqual({ 'resource-graph': expect.any(Number), arm: 1, graph: expect.any(Number) });
    expect(body.created).toBe(body.answers['resource-graph']! + 1 + body.answers.graph!);
    expect((again.jsonBody as { status: string }).status).toBe('already taken');
    const ledger = await CustodyLedger.open(store, 'INC-7');
    expect(steps(ledger).filter((s) => s === 'inventory')).toHaveLength(1);
    // The preserved answer is the fake's answer byte for byte
    const key = [...ledger.items().keys()].find((k) => k.includes('/arm/diagnostic-settings/page-00001.json'))!;
    expect((await readFile(join(root, key))).toString('utf8')).toBe('{"value":[]}');
  });

  it('answers 207 naming a refused query, and 400 for a body without a case or with a subscription that is not a GUID', async () => {
    // Prepare
    fake.fault('microsoft.web/sites', 403, 1);
    const handler = inventoryHttpHandler(async () => inventoryDeps());

    // Act
    const partial = await handler(post({ case: 'INC-8', subscriptions: [SUB] }), context());
    const noCase = await handler(post({ subscriptions: [SUB] }), context());
    const badSub = await handler(post({ case: 'INC-8', subscriptions: ['prod'] }), context());
    const notJson = await handler(post('{'), context());

    // Assess
    expect(partial.status).toBe(207);
    expect((partial.jsonBody as { problems: unknown[] }).problems).toEqual([expect.objectContaining({ api: 'resource-graph', query: 'web-apps', code: 'AuthorizationFailed' })]);
    expect([noCase.status, badSub.status, notJson.status]).toEqual([400, 400, 400]);
    expect(JSON.stringify(badSub.jsonBody)).toContain('subscription ids (GUIDs)');
  });
});

describe('Azure preservation with the inventory as its first step', () => {
  it('records the inventory before the VM\'s capture, and a refused query never stops the snapshots', async () => {
    // Prepare: ARM of the VM through nock, the inventory's APIs on 127.0.0.1
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    const arm = new FakeArm();
    arm.install();
    arm.addVm({ resourceGroup: 'rg-web', name: 'vm-web-1', dataDisks: 1, withPublicIp: true });
    fake.fault('microsoft.authorization/roleassignments', 403, 1);
    const provider = new ManagedDiskSnapshotProvider({ credential: fakeCredential, snapshotResourceGroup: 'rg-evidence', pollIntervalMs: 1 });
    const deps: PreservationDeps = {
      provider,
      store,
      actor: { principal: 'azure-mi:test', tool: 'amber/test' },
      triggers: { defenderMinSeverity: 'Medium', defaultWindowHours: 24, locate: (s, vm) => provider.locationOf(s, parseVmRef(vm)) },
      inventory: { onPreserve: true, http: new AzureHttp({ tokens: fixedToken('tok-1') }), settings: { armUrl: fake.url, graphUrl: fake.url, entra: false } },
    };
    const event: EventGridEvent = { id: 'evt-1', eventType: 'Amber.PreservationRequested', subject: 'amber/preserve', eventTime: '2026-12-01T10:00:00Z', dataVersion: '1.0', metadataVersion: '1', topic: 't', data: { case: 'INC-9', instanceIds: ['rg-web:vm-web-1'], accountId: SUB, region: LOC, isolate: false, requestId: 'req-9' } };

    // Act
    const result = await eventGridHandler(async () => deps)(event, context());

    // Assess
    const request = result.requests[0]!;
    expect(request.vms[0]!.status).toBe('preserved');
    expect(request.inventory).toMatchObject({ status: 'partial', problems: [expect.objectContaining({ query: 'role-assignments', code: 'AuthorizationFailed' })] });
    expect(request.inventory!.answers.graph).toBeUndefined();
    const order = steps(await CustodyLedger.open(store, 'INC-9')).filter((s) => ['inventory', 'capture-instance', 'instance-preserved'].includes(s));
    expect(order).toEqual(['inventory', 'capture-instance', 'instance-preserved']);
    expect(logs.some((l) => l.includes('"message":"inventory partial"'))).toBe(true);
  });
});

describe('Azure settings of the inventory', () => {
  const base = { AMBER_LOCKER: '/tmp/x', AMBER_SNAPSHOT_RESOURCE_GROUP: 'rg', AMBER_RETENTION_DAYS: '1', AMBER_DEFENDER_MIN_SEVERITY: 'High', AMBER_DEFAULT_LOG_WINDOW_HOURS: '1', AMBER_DETECTION_WINDOW: 'PT1H', AMBER_PRINCIPAL: 'p' };

  it('takes the inventory on preservation unless AMBER_INVENTORY_ON_PRESERVE is false, reads Entra ID only with a tenant, and refuses any other value', () => {
    // Act
    const byDefault = readAzureConfig(base);
    const off = readAzureConfig({ ...base, AMBER_INVENTORY_ON_PRESERVE: 'false', AMBER_LOG_TENANT_ID: ESTATE_TENANT, AMBER_ARM_ENDPOINT: 'https://management.usgovcloudapi.net' });

    // Assess
    expect(byDefault.inventory).toEqual({ onPreserve: true });
    expect(inventorySettings(byDefault)).toEqual({ entra: false });
    expect(off.inventory).toEqual({ onPreserve: false });
    expect(inventorySettings(off)).toEqual({ armUrl: 'https://management.usgovcloudapi.net', tenant: ESTATE_TENANT });
    expect(() => readAzureConfig({ ...base, AMBER_INVENTORY_ON_PRESERVE: 'yes' })).toThrow(/AMBER_INVENTORY_ON_PRESERVE must be true or false, got "yes"/);
  });
});
