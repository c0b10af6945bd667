/**
 * The Azure inventory source against a fake of the documented APIs on 127.0.0.1: Resource Graph `$skipToken`
 * paging, 429 with Retry-After, a 403 on one query kept and reported while the rest is read, Graph
 * `@odata.nextLink` paging and the signInActivity fallback, every page kept byte for byte.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixedToken } from '../../../functions/azure/adapters/azure-auth.ts';
import { AzureHttp } from '../../../functions/azure/adapters/azure-http.ts';
import { AzureInventorySource, RESOURCE_GRAPH_QUERIES } from '../../../functions/azure/adapters/inventory-source.ts';
import type { SourceObject, SourceProblem } from '../../../shared/ports/evidence-source.ts';
import { FakeAzure } from '../../helpers/fake-azure.ts';
import { ESTATE_SUBSCRIPTION, ESTATE_TENANT, seedAzureEstate } from '../../helpers/fake-azure-estate.ts';

let fake: FakeAzure;

beforeEach(async () => {
  fake = await new FakeAzure().start();
  seedAzureEstate(fake);
});

afterEach(async () => {
  await fake.stop();
});

interface Run {
  readonly objects: Array<{ origin: string; relPath: string; bytes: Buffer }>;
  readonly problems: SourceProblem[];
  readonly source: AzureInventorySource;
  /** Every response body the API sent, in order, with its status. */
  readonly sent: Array<{ status: number; bytes: Buffer }>;
  readonly waits: number[];
}

async function run(options: { tenant?: string } = {}): Promise<Run> {
  const sent: Run['sent'] = [];
  const waits: number[] = [];
  const recording: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    const bytes = Buffer.from(await response.clone().arrayBuffer());
    sent.push({ status: response.status, bytes });
    return response;
  };
  const http = new AzureHttp({ tokens: fixedToken('tok-1'), fetch: recording, sleep: (ms) => { waits.push(ms); return Promise.resolve(); } });
  const source = new AzureInventorySource({ subscriptions: [ESTATE_SUBSCRIPTION], ...options, observedAt: new Date('2026-03-14T09:00:00.400Z'), armUrl: fake.url, graphUrl: fake.url, http });
  const objects: Run['objects'] = [];
  const problems: SourceProblem[] = [];
  for await (const o of source.list((p) => problems.push(p))) objects.push({ origin: o.origin, relPath: o.relPath, bytes: await bytesOf(o) });
  return { objects, problems, source, sent, waits };
}

async function bytesOf(o: SourceObject): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await o.open()) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const ROOT = `azure/inventory/${ESTATE_SUBSCRIPTION}/20260314T090000Z`;

describe('Class: AzureInventorySource', () => {
  it('follows Resource Graph $skipToken page by page, keeping each answer byte for byte under a key naming the query', async () => {
    // Prepare: 3 VMs, 2 a page
    fake.pageSize = 2;

    // Act
    const { objects, problems, sent } = await run();

    // Assess
    expect(problems).toEqual([]);
    const vms = objects.filter((o) => o.relPath.startsWith(`${ROOT}/resource-graph/virtual-machines/`));
    expect(vms.map((o) => o.relPath)).toEqual([`${ROOT}/resource-graph/virtual-machines/page-00001.json`, `${ROOT}/resource-graph/virtual-machines/page-00002.json`]);
    const first = JSON.parse(vms[0]!.bytes.toString('utf8')) as { totalRecords: number; count: number; data: Array<{ name: string }>; $skipToken?: string };
    expect(first).toMatchObject({ totalRecords: 3, count: 2 });
    expect(first.$skipToken).toEqual(expect.any(String));
    // The second request repeats the query with the first answer's $skipToken, as the origin records
    const second = new URLSearchParams(vms[1]!.origin.split('?').slice(1).join('?'));
    expect(JSON.parse(second.get('body')!)).toEqual({ subscriptions: [ESTATE_SUBSCRIPTION], query: RESOURCE_GRAPH_QUERIES['virtual-machines'], options: { resultFormat: 'objectArray', $top: 1000, $skipToken: first.$skipToken } });
    expect(JSON.parse(vms[1]!.bytes.toString('utf8')).data.map((r: { name: string }) => r.name)).toEqual(['vm-db']);
    // Every object is exactly a body the API sent, in the order sent
    expect(objects.map((o) => o.bytes.toString('base64'))).toEqual(sent.map((s) => s.bytes.toString('base64')));
    // Every query of the subscription, the diagnostic settings, then Entra through Graph for the tenant Resource Graph named
    const folders = [...new Set(objects.map((o) => o.relPath.split('/').slice(2, 6).join('/')))];
    expect(folders).toEqual([
      ...Object.keys(RESOURCE_GRAPH_QUERIES).map((q) => `${ESTATE_SUBSCRIPTION}/20260314T090000Z/resource-graph/${q}`),
      `${ESTATE_SUBSCRIPTION}/20260314T090000Z/arm/diagnostic-settings`,
      ...['users', 'user-registration-details', 'service-principals', 'applications'].map((q) => `${ESTATE_TENANT}/20260314T090000Z/graph/${q}`),
    ]);
  });

  it('waits out a 429 for the seconds Retry-After asks and keeps only the answer that came after it', async () => {
    // Prepare
    fake.fault('microsoft.storage/storageaccounts', 429, 2, { 'Retry-After': '7' });

    // Act
    const { objects, problems, waits, sent } = await run();

    // Assess
    expect(problems).toEqual([]);
    expect(waits).toEqual([7000, 7000]);
    expect(sent.filter((s) => s.status === 429)).toHaveLength(2);
    const storage = objects.filter((o) => o.relPath.includes('/resource-graph/storage-accounts/'));
    expect(storage).toHaveLength(1);
    expect(JSON.parse(storage[0]!.bytes.toString('utf8')).data.map((r: { name: string }) => r.name)).toEqual(['stpublicsite', 'stprivate']);
  });

  it('keeps a 403 on one query as its answer, reports it, and reads every other query', async () => {
    // Prepare
    fake.fault('microsoft.authorization/roleassignments', 403, 1);

    // Act
    const { objects, problems, source } = await run();

    // Assess
    const denied = objects.filter((o) => o.relPath.includes('/resource-graph/role-assignments/'));
    expect(denied).toHaveLength(1);
    expect(JSON.parse(denied[0]!.bytes.toString('utf8'))).toMatchObject({ error: { code: 'AuthorizationFailed' } });
    expect(source.problems).toEqual([expect.objectContaining({ scope: ESTATE_SUBSCRIPTION, api: 'resource-graph', query: 'role-assignments', code: 'AuthorizationFailed' })]);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.origin).toBe(`api:azure-inventory?scope=${ESTATE_SUBSCRIPTION}&api=resource-graph&query=role-assignments`);
    expect(problems[0]!.reason).toMatch(/^AuthorizationFailed: .*Microsoft\.ResourceGraph\/resources\/read.*its answer is preserved/);
    // The queries after it were read
    expect(objects.some((o) => o.relPath.includes('/resource-graph/role-definitions/page-00001.json'))).toBe(true);
    expect(objects.some((o) => o.relPath.includes('/graph/applications/page-00001.json'))).toBe(true);
  });

  it('follows Graph @odata.nextLink, and reads users without signInActivity when the tenant refuses it', async () => {
    // Prepare: 4 users, 2 a page; the query with signInActivity is refused (no Entra ID P1/P2)
    fake.pageSize = 2;
    fake.fault('signInActivity', 403, 1);

    // Act
    const { objects, source } = await run({ tenant: ESTATE_TENANT });

    // Assess
    const graph = (q: string): Run['objects'] => objects.filter((o) => o.relPath.startsWith(`azure/inventory/${ESTATE_TENANT}/20260314T090000Z/graph/${q}/`));
    expect(graph('users')).toHaveLength(1);
    expect(JSON.parse(graph('users')[0]!.bytes.toString('utf8'))).toMatchObject({ error: { code: 'Authorization_RequestDenied' } });
    const basic = graph('users-basic');
    expect(basic.map((o) => o.relPath.split('/').pop())).toEqual(['page-00001.json', 'page-00002.json']);
    const link = JSON.parse(basic[0]!.bytes.toString('utf8'))['@odata.nextLink'] as string;
    expect(new URLSearchParams(basic[1]!.origin.split('?').slice(1).join('?')).get('url')).toBe(link);
    expect(link).not.toContain('signInActivity');
    expect(graph('user-registration-details').length).toBe(2);
    expect(source.problems.map((p) => `${p.api} ${p.query} ${p.code}`)).toEqual(['graph users Authorization_RequestDenied']);
  });

  it('reports a query the API never answered and goes on with the next', async () => {
    // Prepare: the disks query fails on every attempt
    fake.fault('microsoft.compute/disks', 503, 10);

    // Act
    const { objects, source } = await run();

    // Assess
    expect(objects.some((o) => o.relPath.includes('/resource-graph/disks/'))).toBe(false);
    expect(objects.some((o) => o.relPath.includes('/resource-graph/snapshots/page-00001.json'))).toBe(true);
    expect(source.problems).toEqual([expect.objectContaining({ api: 'resource-graph', query: 'disks', code: 'NotAnswered' })]);
    expect(source.problems[0]!.message).toMatch(/still HTTP 503 after 4 attempts/);
  });
});
