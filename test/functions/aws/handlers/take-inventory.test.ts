/**
 * take-inventory: a member account's inventory through its collector role, against the fake estate on 127.0.0.1
 * (real SDK clients, endpoints from AWS_ENDPOINT_URL_<SERVICE>), kept in an evidence store, then recorded from its
 * work object as record-custody does. The answers it reads are exactly the calls the collector role is granted.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { INVENTORY_CALLS } from '../../../../functions/aws/adapters/inventory-source.ts';
import type { InventoryTaken } from '../../../../functions/aws/handlers/contracts.ts';
import type { LambdaContext } from '../../../../functions/aws/runtime.ts';
import { LocalObjectStore } from '../../../../shared/evidence/local-object-store.ts';
import { CustodyLedger } from '../../../../shared/evidence/ledger.ts';
import { verifyCase } from '../../../../shared/evidence/verify.ts';
import { requestFromKey } from '../../../../shared/sources/inventory/index.ts';
import { recordCustody } from '../../../../shared/preservation/custody.ts';
import { readInventoryBatch } from '../../../../shared/preservation/take-inventory.ts';
import { ESTATE_ACCOUNT, FakeAwsEstate } from '../../../helpers/fake-aws-estate.ts';
import { LAMBDA_ENV, lambdaContext, stubLambdaEnv } from '../../../helpers/lambda.ts';
import { tempDir } from '../../../helpers/tmp.ts';

type Handler = (event: unknown, context?: LambdaContext) => Promise<InventoryTaken>;
let makeHandler: (deps: { store: LocalObjectStore; collectorRoleName: string; externalId: string; retentionDays: number; clientConfig?: object }) => Handler;
let fake: FakeAwsEstate;
let store: LocalObjectStore;
let handler: Handler;
const actor = { principal: 'arn:aws:sts::999988887777:assumed-role/amber-record-custody/x', tool: 'amber-test' };

beforeAll(async () => {
  stubLambdaEnv();
  makeHandler = (await import('../../../../functions/aws/handlers/take-inventory.ts')).takeInventoryHandler as unknown as typeof makeHandler;
});

afterAll(() => vi.unstubAllEnvs());

beforeEach(async () => {
  fake = await new FakeAwsEstate().start();
  for (const [k, v] of Object.entries(fake.env())) vi.stubEnv(k, v);
  store = await LocalObjectStore.open(await tempDir());
  handler = makeHandler({ store, collectorRoleName: LAMBDA_ENV.COLLECTOR_ROLE_NAME!, externalId: LAMBDA_ENV.COLLECTOR_EXTERNAL_ID!, retentionDays: 365, clientConfig: { maxAttempts: 3, retryBaseDelayMs: 1 } });
});

afterEach(async () => {
  await fake.stop();
  stubLambdaEnv();
});

const EVENT = {
  version: '0',
  id: '7bf73129-1428-4cd3-a780-95db273d1602',
  'detail-type': 'Inventory Requested',
  source: 'amber',
  account: '999988887777',
  time: '2026-03-14T09:00:00Z',
  region: 'eu-west-1',
  resources: [],
  detail: { case: 'INV-L1', accountId: ESTATE_ACCOUNT, regions: ['eu-west-1'] },
};

describe('take-inventory handler', () => {
  it('reads the member account as its collector role, keeps every answer and records them from the work object', async () => {
    // Act
    const out = await handler(EVENT, lambdaContext('take-inventory'));
    const batches = await readInventoryBatch(store, out.inventory.itemsObject.key);
    await recordCustody({ store, actor }, { case: 'INV-L1', requestId: out.requestId, step: 'take-inventory', action: 'acquired', batches, seal: true });
    const report = await verifyCase({ store, caseName: 'INV-L1', actor, record: false });

    // Assess: the request came from the event (its id, its time as the stamp)
    expect(out).toMatchObject({ case: 'INV-L1', requestId: EVENT.id, accountId: ESTATE_ACCOUNT, regions: ['eu-west-1'], inventory: { stamp: '20260314T090000Z', prefix: `cases/INV-L1/aws/inventory/${ESTATE_ACCOUNT}/20260314T090000Z/` } });
    // Every call went out with the collector role's credentials, assumed once with the external id
    expect(fake.assumed).toEqual([{ roleArn: `arn:aws:iam::${ESTATE_ACCOUNT}:role/${LAMBDA_ENV.COLLECTOR_ROLE_NAME}`, externalId: LAMBDA_ENV.COLLECTOR_EXTERNAL_ID }]);
    for (const [service, keys] of Object.entries(fake.signers)) if (service !== 'sts') expect([...keys], service).toEqual(['ASIACOLLECTOR']);
    // Items: one per answer plus the run record, each in the ledger once, the case intact
    const ledgerItems = [...(await CustodyLedger.open(store, 'INV-L1')).items().values()];
    expect(ledgerItems).toHaveLength(out.inventory.items);
    expect(ledgerItems.filter((i) => i.key.endsWith('/run.json'))).toHaveLength(1);
    expect(batches.filter((b) => b.items).every((b) => b.items!.length <= 100)).toBe(true);
    expect(report.intact, JSON.stringify(report.failures)).toBe(true);
    expect(out.inventory.problems).toBe(0);
    // The calls it made are exactly those the collector role is granted (INVENTORY_CALLS), no more, no fewer
    const made = new Set(ledgerItems.map((i) => requestFromKey(i.key)).filter((r) => r !== undefined).map((r) => `${r.service}:${r.operation}`));
    expect([...made].sort()).toEqual(Object.keys(INVENTORY_CALLS).sort());
  });

  it('resumes on a retry with the same stamp: nothing asked again, the same items', async () => {
    // Prepare
    const task = { case: 'INV-L2', accountId: ESTATE_ACCOUNT, region: 'eu-west-1', instanceId: 'i-0123456789abcdef0', requestId: 'req-1', isolate: false, observedAt: '2026-03-14T10:00:00.123Z' };
    const first = await handler(task);
    const asked = Object.entries(fake.calls).filter(([s]) => s !== 'sts').reduce((a, [, n]) => a + n, 0);

    // Act
    const retry = await handler(task);

    // Assess
    expect(Object.entries(fake.calls).filter(([s]) => s !== 'sts').reduce((a, [, n]) => a + n, 0)).toBe(asked);
    expect(Object.values(retry.inventory.resumed).reduce((a, b) => a + b, 0)).toBe(Object.values(first.inventory.answers).reduce((a, b) => a + b, 0));
    const keys = async (o: InventoryTaken) => (await readInventoryBatch(store, o.inventory.itemsObject.key)).flatMap((b) => b.items ?? []).map((i) => `${i.key} ${i.sha256}`);
    expect(await keys(retry)).toEqual(await keys(first));
  });

  it('refuses a request without a region or with a bad account, naming the field', async () => {
    // Act / Assess
    await expect(handler({ case: 'INV-L3', accountId: ESTATE_ACCOUNT, requestId: 'r' })).rejects.toThrow(/regions must name at least one region/);
    await expect(handler({ case: 'INV-L3', accountId: '12', regions: ['eu-west-1'], requestId: 'r' })).rejects.toThrow(/accountId "12" is not valid/);
    expect(fake.calls).toEqual({});
  });
});
