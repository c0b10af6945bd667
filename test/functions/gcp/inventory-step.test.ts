/**
 * The inventory step as Cloud Functions serves it: the Functions Framework's test server on 127.0.0.1 receives the
 * instance workflow's call (or a responder's); Cloud Asset's assets.list answers through nock (documented shapes);
 * the evidence locker is a bucket of the Cloud Storage fake.
 */
import * as ff from '@google-cloud/functions-framework';
import type { CloudEvent } from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GcsObjectStore } from '../../../functions/gcp/adapters/gcs-object-store.ts';
import { inventoryProjectHandler, inventoryRequestedHandler, type InventoryStepDeps } from '../../../functions/gcp/handlers/inventory-step.ts';
import { createLogger } from '../../../functions/gcp/runtime.ts';
import { sha256Hex } from '../../../shared/evidence/hashing.ts';
import { CustodyLedger } from '../../../shared/evidence/ledger.ts';
import { ESTATE_PROJECT, FakeCloudAsset, smallEstate } from '../../helpers/fake-cloud-asset.ts';
import { FakeGcs } from '../../helpers/fake-gcs.ts';
import nock from '../../helpers/nock.ts';

const actor = { principal: 'serviceAccount:amber-steps@amber-evidence.iam.gserviceaccount.com', tool: 'amber/test' };
const logs: Record<string, unknown>[] = [];
let gcs: FakeGcs;
let asset: FakeCloudAsset;
let url = '';
let caseNumber = 0;
let deps: InventoryStepDeps;
let clock = Date.parse('2026-03-14T09:00:00Z');
const tokensAskedFor: string[] = [];

function freshDeps(): InventoryStepDeps {
  return {
    store: new GcsObjectStore({ bucket: 'evidence', baseUrl: gcs.url, token: async () => gcs.token }),
    actor,
    logger: createLogger('inventoryProject', (line) => logs.push(JSON.parse(line) as Record<string, unknown>)),
    tokenFor: (project) => {
      tokensAskedFor.push(project);
      return async () => asset.token;
    },
    retry: { sleep: async () => {}, random: () => 0 },
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
  };
}

async function post(body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** The instance workflow's task, as the start function gives it. */
const workflowTask = (): Record<string, unknown> => ({ case: `Case-GCP-Inv-${++caseNumber}`, requestId: `req-${caseNumber}`, accountId: ESTATE_PROJECT, region: 'europe-west1-b', instanceId: 'vm-01', isolate: false });

beforeAll(async () => {
  gcs = await new FakeGcs().start();
  gcs.bucket('evidence');
});

afterAll(async () => {
  await gcs.stop();
});

describe('Function: inventoryProject', () => {
  beforeAll(async () => {
    ff.http('testInventoryProject', (req, res) => inventoryProjectHandler(deps)(req, res));
    const server: Server = getTestServer('testInventoryProject');
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  });

  beforeEach(() => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    asset = smallEstate(new FakeCloudAsset()).install();
    deps = freshDeps();
    tokensAskedFor.length = 0;
  });

  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
    logs.length = 0;
  });

  it('preserves the project\'s inventory as its collector, page by page, and hands the workflow its task back', async () => {
    // Prepare
    const body = workflowTask();

    // Act
    const res = await post(body);

    // Assess
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json).toMatchObject({ ...body, inventory: { taken: [ESTATE_PROJECT], alreadyTaken: [], preserved: asset.served.length, problems: [] } });
    expect(tokensAskedFor).toEqual([ESTATE_PROJECT]);
    const ledger = await CustodyLedger.open(deps.store, String(body.case));
    const pages = [...ledger.items().values()].filter((i) => i.key.includes(`/gcp/inventory/${ESTATE_PROJECT}/20260314T090000Z/`));
    expect(pages).toHaveLength(asset.served.length);
    for (const item of pages) {
      const bytes = gcs.read('evidence', item.key)!;
      expect(item.sha256).toBe(sha256Hex(bytes));
      expect(asset.served.some((s) => s.equals(bytes))).toBe(true);
    }
  });

  it('reads a project once per case when the step is retried or a second instance asks, and again when told to', async () => {
    // Prepare
    const body = workflowTask();
    await post(body);
    const asked = asset.requests.length;

    // Act
    const retried = await post(body);
    clock += 60_000;
    const again = await post({ case: body.case, requestId: 'later', projects: [ESTATE_PROJECT], again: true });

    // Assess
    expect(retried.status).toBe(200);
    expect(retried.json.inventory).toMatchObject({ taken: [], alreadyTaken: [ESTATE_PROJECT], preserved: 0 });
    expect(again.json.inventory).toMatchObject({ taken: [ESTATE_PROJECT], preserved: asked });
    expect(asset.requests).toHaveLength(asked * 2);
    const ledger = await CustodyLedger.open(deps.store, String(body.case));
    const stamps = new Set([...ledger.items().keys()].map((k) => /\/gcp\/inventory\/[^/]+\/([^/]+)\//.exec(k)?.[1]).filter(Boolean));
    expect(stamps.size).toBe(2);
  });

  it('answers 200 with a refused query listed, its answer preserved and recorded in the manifest', async () => {
    // Prepare
    asset.deny('RESOURCE', 'iam.googleapis.com/ServiceAccountKey');
    const body = workflowTask();

    // Act
    const res = await post(body);

    // Assess
    expect(res.status).toBe(200);
    const outcome = res.json.inventory as { problems: { assetType: string; code: string }[]; manifest: { key: string } };
    expect(outcome.problems).toEqual([expect.objectContaining({ assetType: 'iam.googleapis.com/ServiceAccountKey', code: '403 PERMISSION_DENIED' })]);
    expect(outcome.manifest.key, JSON.stringify(outcome.manifest)).toMatch(/manifest/);
    const manifest = JSON.parse(gcs.read('evidence', outcome.manifest.key)!.toString('utf8')) as { failures: { origin: string; reason: string }[] };
    expect(manifest.failures.map((f) => f.origin)).toEqual([`api:gcp-inventory?parent=projects%2F${ESTATE_PROJECT}&contentType=RESOURCE&assetTypes=iam.googleapis.com%2FServiceAccountKey&pageSize=1000&page=1`]);
    const ledger = await CustodyLedger.open(deps.store, String(body.case));
    const refused = [...ledger.items().keys()].filter((k) => k.endsWith('/resource/iam.googleapis.com/ServiceAccountKey/page-00001.json'));
    expect(refused).toHaveLength(1);
    expect(gcs.read('evidence', refused[0]!)!.toString('utf8')).toContain('PERMISSION_DENIED');
  });

  it('refuses a body without a usable case, request or project with 400, naming each problem', async () => {
    // Act
    const res = await post({ case: 'bad case!', projects: ['Not A Project'] });

    // Assess
    expect(res.status).toBe(400);
    expect(String(res.json.error)).toMatch(/the inventory task cannot be used: .*requestId is missing; --project "Not A Project" is not a Google Cloud project id/);
    expect(asset.requests).toEqual([]);
  });
});

describe('Function: inventoryRequested', () => {
  beforeEach(() => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    asset = smallEstate(new FakeCloudAsset()).install();
    deps = freshDeps();
  });

  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it('takes the inventory a Pub/Sub message asks for, and acknowledges a message that is not a task', async () => {
    // Prepare
    const caseName = `Case-GCP-Inv-${++caseNumber}`;
    const event = (data: unknown): CloudEvent<{ message: { data: string; messageId: string } }> =>
      ({ id: 'e1', source: 's', specversion: '1.0', type: 'google.cloud.pubsub.topic.v1.messagePublished', data: { message: { data: Buffer.from(JSON.stringify(data)).toString('base64'), messageId: 'm1' } } }) as CloudEvent<{ message: { data: string; messageId: string } }>;

    // Act
    await inventoryRequestedHandler(deps)(event({ case: caseName, requestId: 'r1', projects: [ESTATE_PROJECT] }));
    await inventoryRequestedHandler(deps)(event({ hello: 'world' }));

    // Assess
    const ledger = await CustodyLedger.open(deps.store, caseName);
    expect([...ledger.items().keys()].filter((k) => k.includes('/gcp/inventory/'))).toHaveLength(asset.served.length);
    expect(asset.requests.length).toBe(asset.served.length);
  });
});
