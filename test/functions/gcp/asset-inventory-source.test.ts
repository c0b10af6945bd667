/**
 * The Cloud Asset Inventory source against assets.list answered at the HTTP layer (nock, documented shapes):
 * paging, throttling, a refused query and a disabled API, and every page kept byte for byte.
 */
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ASSET_QUERIES, GcpAssetInventorySource, MinuteWindow, type GcpAssetInventorySourceOptions } from '../../../functions/gcp/adapters/asset-inventory-source.ts';
import type { SourceObject, SourceProblem } from '../../../shared/ports/evidence-source.ts';
import { ESTATE_PROJECT, FakeCloudAsset, smallEstate } from '../../helpers/fake-cloud-asset.ts';
import nock from '../../helpers/nock.ts';

let fake: FakeCloudAsset;
const sleeps: number[] = [];

function source(overrides: Partial<GcpAssetInventorySourceOptions> = {}): GcpAssetInventorySource {
  return new GcpAssetInventorySource({
    scopes: [{ kind: 'project', id: ESTATE_PROJECT }],
    observedAt: new Date('2026-03-14T09:00:00.500Z'),
    tokenFor: () => async () => fake.token,
    retry: { sleep: async (ms) => void sleeps.push(ms), random: () => 0 },
    ...overrides,
  });
}

async function drain(s: GcpAssetInventorySource): Promise<{ objects: (SourceObject & { bytes: string })[]; problems: SourceProblem[] }> {
  const problems: SourceProblem[] = [];
  const objects: (SourceObject & { bytes: string })[] = [];
  for await (const o of s.list((p) => problems.push(p))) objects.push({ ...o, bytes: await text(await o.open()) });
  return { objects, problems };
}

beforeEach(() => {
  nock.disableNetConnect();
  sleeps.length = 0;
  fake = smallEstate(new FakeCloudAsset()).install();
});

afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('Class: GcpAssetInventorySource', () => {
  it('asks every query once per page, following nextPageToken, and keeps each page under its own key, byte for byte', async () => {
    // Act
    const { objects, problems } = await drain(source({ pageSize: 2 }));

    // Assess
    expect(problems).toEqual([]);
    const instances = objects.filter((o) => o.relPath.includes('/resource/compute.googleapis.com/Instance/'));
    expect(instances.map((o) => o.relPath)).toEqual([1, 2, 3].map((n) => `gcp/inventory/${ESTATE_PROJECT}/20260314T090000Z/resource/compute.googleapis.com/Instance/page-0000${n}.json`));
    // The origin names the exact request; the second page's carries the token the first page gave
    const token = (JSON.parse(instances[0]!.bytes) as { nextPageToken: string }).nextPageToken;
    expect(instances[1]!.origin).toBe(`api:gcp-inventory?parent=projects%2F${ESTATE_PROJECT}&contentType=RESOURCE&assetTypes=compute.googleapis.com%2FInstance&pageSize=2&page=2&pageToken=${token}`);
    expect(fake.requests.filter((r) => r.assetType === 'compute.googleapis.com/Instance' && r.contentType === 'RESOURCE').map((r) => r.pageToken ?? null)).toEqual([null, token, expect.any(String)]);
    // Every 200 answer is preserved as sent, and nothing else was asked for
    expect(objects.map((o) => o.bytes)).toEqual(fake.served.map((b) => b.toString('utf8')));
    const queries = new Set(fake.requests.map((r) => `${r.contentType} ${r.assetType}`));
    expect(queries.size).toBe(ASSET_QUERIES.length);
    expect(fake.requests.every((r) => r.parent === `projects/${ESTATE_PROJECT}` && r.status === 200)).toBe(true);
  });

  it('retries 429 RESOURCE_EXHAUSTED with backoff and keeps only the answer that came through', async () => {
    // Prepare
    fake.throttle(2);

    // Act
    const s = source();
    const { objects, problems } = await drain(s);

    // Assess
    expect(problems).toEqual([]);
    expect(fake.requests.slice(0, 3).map((r) => r.status)).toEqual([429, 429, 200]);
    expect(sleeps.slice(0, 2)).toEqual([1000, 2000]);
    expect(objects[0]!.bytes).toBe(fake.served[0]!.toString('utf8'));
    expect(objects).toHaveLength(ASSET_QUERIES.length);
    expect(objects.some((o) => o.bytes.includes('RESOURCE_EXHAUSTED'))).toBe(false);
  });

  it('keeps a 403 on one query as its answer, reports it as a problem of that query, and reads every other query', async () => {
    // Prepare
    fake.deny('IAM_POLICY', 'storage.googleapis.com/Bucket');

    // Act
    const s = source();
    const { objects, problems } = await drain(s);

    // Assess
    expect(problems).toHaveLength(1);
    expect(problems[0]!.origin).toBe(`api:gcp-inventory?parent=projects%2F${ESTATE_PROJECT}&contentType=IAM_POLICY&assetTypes=storage.googleapis.com%2FBucket&pageSize=1000&page=1`);
    expect(problems[0]!.reason).toMatch(/^403 PERMISSION_DENIED: IAM_POLICY storage\.googleapis\.com\/Bucket in projects\/acme-prod-1, page 1: HTTP 403 PERMISSION_DENIED: The caller does not have permission .*grant roles\/cloudasset\.viewer/);
    expect(s.problems).toEqual([expect.objectContaining({ contentType: 'IAM_POLICY', assetType: 'storage.googleapis.com/Bucket', code: '403 PERMISSION_DENIED' })]);
    const refused = objects.find((o) => o.relPath.endsWith('/iam-policy/storage.googleapis.com/Bucket/page-00001.json'));
    expect(JSON.parse(refused!.bytes)).toMatchObject({ error: { code: 403, status: 'PERMISSION_DENIED' } });
    expect(objects).toHaveLength(ASSET_QUERIES.length);
    expect(objects.filter((o) => !o.bytes.includes('PERMISSION_DENIED'))).toHaveLength(ASSET_QUERIES.length - 1);
  });

  it('says to enable the Cloud Asset API when the project has it disabled, for every query, without stopping', async () => {
    // Prepare
    fake.disable();

    // Act
    const s = source({ queries: ASSET_QUERIES.slice(0, 3) });
    const { objects, problems } = await drain(s);

    // Assess
    expect(objects).toHaveLength(3);
    expect(problems).toHaveLength(3);
    expect(problems.every((p) => /the Cloud Asset API is not enabled: enable cloudasset\.googleapis\.com \(gcloud services enable cloudasset\.googleapis\.com --project acme-prod-1\)/.test(p.reason))).toBe(true);
  });

  it('stops asking for a project whose token is refused (401), keeping that answer and naming the queries not asked', async () => {
    // Prepare
    fake.token = 'rotated';

    // Act
    const s = source({ scopes: [{ kind: 'project', id: ESTATE_PROJECT }, { kind: 'project', id: 'acme-data-2' }], tokenFor: (scope) => async () => (scope.id === ESTATE_PROJECT ? 'expired' : 'rotated') });
    const { objects, problems } = await drain(s);

    // Assess: one refused page for the first project, then every query of the second
    expect(objects[0]!.relPath).toBe(`gcp/inventory/${ESTATE_PROJECT}/20260314T090000Z/resource/cloudresourcemanager.googleapis.com/Project/page-00001.json`);
    expect(JSON.parse(objects[0]!.bytes)).toMatchObject({ error: { code: 401, status: 'UNAUTHENTICATED' } });
    expect(objects).toHaveLength(1 + ASSET_QUERIES.length);
    expect(s.problems.map((p) => p.code)).toEqual(['401 UNAUTHENTICATED', 'NotAsked']);
    expect(problems[0]!.reason).toMatch(/the access token was refused \(expired\?\)/);
    expect(problems[1]!.reason).toMatch(new RegExp(`^NotAsked: the other ${ASSET_QUERIES.length - 1} queries of projects/${ESTATE_PROJECT} were not asked`));
    expect(fake.requests.filter((r) => r.parent === `projects/${ESTATE_PROJECT}`)).toHaveLength(1);
  });

  it('refuses a project name or an organization that is not a number, naming the flag', () => {
    // Assess
    expect(() => source({ scopes: [{ kind: 'project', id: 'Acme Prod' }] })).toThrow(/--project "Acme Prod" is not a Google Cloud project id/);
    expect(() => source({ scopes: [{ kind: 'organization', id: 'acme.example' }] })).toThrow(/--organization "acme.example" is not an organization number/);
    expect(() => source({ scopes: [] })).toThrow(/no project or organization/);
  });
});

describe('Class: MinuteWindow', () => {
  it('lets `limit` requests through at once, then waits until the oldest is a minute old', async () => {
    // Prepare
    let clock = 0;
    const waits: number[] = [];
    const window = new MinuteWindow(3, () => clock, async (ms) => {
      waits.push(ms);
      clock += ms;
    });

    // Act
    for (let i = 0; i < 5; i += 1) {
      await window.take();
      clock += 1000;
    }

    // Assess: requests at 0, 1 and 2 s; the fourth waits for 60 s; by then the second is a minute old too
    expect(waits).toEqual([57_000]);
    expect(clock).toBe(62_000);
  });
});
