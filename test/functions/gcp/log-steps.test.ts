/**
 * The logs workflow's step as Cloud Functions serves it: the Functions Framework's test server on 127.0.0.1
 * receives the workflow's calls; Cloud Logging is the entries.list fake, the evidence locker and a log sink are
 * buckets of the Cloud Storage fake, the IAM Credentials API answers through nock.
 */
import * as ff from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GcsObjectStore } from '../../../functions/gcp/adapters/gcs-object-store.ts';
import { collectorTokens, preserveLogsHandler, type LogStepDeps } from '../../../functions/gcp/handlers/log-steps.ts';
import { createLogger } from '../../../functions/gcp/runtime.ts';
import { sha256Hex } from '../../../shared/evidence/hashing.ts';
import { CustodyLedger } from '../../../shared/evidence/ledger.ts';
import { FAKE_PROJECT, FakeGcpLogging } from '../../helpers/fake-gcp-logging.ts';
import { FakeGcs } from '../../helpers/fake-gcs.ts';
import nock from '../../helpers/nock.ts';

const actor = { principal: 'serviceAccount:amber-steps@amber-evidence.iam.gserviceaccount.com', tool: 'amber/test' };
const window = { since: '2026-03-14T00:00:00Z', until: '2026-03-14T10:00:00Z' };
const logs: Record<string, unknown>[] = [];

let logging: FakeGcpLogging;
let gcs: FakeGcs;
let url = '';
let caseNumber = 0;
/** What the registered function uses; each test sets its own. */
let deps: LogStepDeps;

function freshDeps(overrides: Partial<LogStepDeps> = {}): LogStepDeps {
  let clock = Date.parse('2026-03-15T00:00:00Z');
  return {
    store: new GcsObjectStore({ bucket: 'evidence', baseUrl: gcs.url, token: async () => gcs.token }),
    actor,
    logger: createLogger('preserveLogs', (line) => logs.push(JSON.parse(line) as Record<string, unknown>)),
    tokenFor: () => async () => logging.token,
    loggingUrl: logging.url,
    storageUrl: gcs.url,
    pageSize: 2,
    maxObjectsPerCall: 2,
    retry: { sleep: async () => {}, random: () => 0 },
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
    ...overrides,
  };
}

async function post(body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const task = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ case: `Case-GCP-Logs-${++caseNumber}`, requestId: `req-${caseNumber}`, accounts: [FAKE_PROJECT], regions: ['europe-west1'], ...window, ...extra });

/** Calls the step as the workflow does: again with the same body while it answers done: false. */
async function runWorkflow(body: Record<string, unknown>): Promise<{ calls: number; last: { status: number; json: Record<string, unknown> } }> {
  for (let calls = 1; calls <= 20; calls += 1) {
    const last = await post(body);
    if (last.status !== 200 || last.json.done === true) return { calls, last };
  }
  throw new Error('the step never answered done');
}

async function ledgerOf(caseName: string): Promise<CustodyLedger> {
  return CustodyLedger.open(deps.store, caseName);
}

describe('Function: preserveLogs', () => {
  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    logging = await new FakeGcpLogging().start();
    gcs = await new FakeGcs().start();
    gcs.bucket('evidence').bucket('audit-sink');
    logging.addEntries(5, new Date('2026-03-14T01:00:00Z'));
    ff.http('testPreserveLogs', (req, res) => preserveLogsHandler(deps)(req, res));
    const server: Server = getTestServer('testPreserveLogs');
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  });

  afterAll(async () => {
    await logging.stop();
    await gcs.stop();
  });

  beforeEach(() => {
    deps = freshDeps();
  });

  afterEach(() => {
    nock.cleanAll();
    logging.allow();
    logs.length = 0;
  });

  it('preserves every entries.list page byte for byte, a bounded number per call, until it answers done', async () => {
    // Prepare
    const body = task();
    const servedBefore = logging.served.length;

    // Act
    const { calls, last } = await runWorkflow(body);

    // Assess: 5 entries at 2 a page are 3 pages; 2 new pages per call make 2 calls.
    expect(last.status).toBe(200);
    expect(calls).toBe(2);
    const ledger = await ledgerOf(String(body.case));
    const items = [...ledger.items().values()].filter((i) => i.key.includes('/gcp/logging-api/')).sort((a, b) => a.key.localeCompare(b.key));
    expect(items.map((i) => i.key.replace(/.*\//, ''))).toEqual(['page-00001.json', 'page-00002.json', 'page-00003.json']);
    const served = logging.served.slice(servedBefore);
    for (const item of items) {
      const bytes = gcs.read('evidence', item.key)!;
      expect(item.sha256).toBe(sha256Hex(bytes));
      expect(served.some((s) => s.equals(bytes))).toBe(true);
    }
    // All four Cloud Audit Logs are asked for.
    const filter = logging.requests.at(-1)!.body.filter!;
    for (const log of ['activity', 'data_access', 'system_event', 'policy']) expect(filter).toContain(`/logs/cloudaudit.googleapis.com%2F${log}"`);
  });

  it('stores and records nothing twice when the same call is delivered again', async () => {
    // Prepare
    const body = task();
    await runWorkflow(body);
    const before = await ledgerOf(String(body.case));
    const requestsBefore = logging.requests.length;

    // Act
    const again = await post(body);

    // Assess
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ done: true, preserved: 0 });
    const after = await ledgerOf(String(body.case));
    expect(after.items().size).toBe(before.items().size);
    expect(after.entries).toHaveLength(before.entries.length);
    // The preserved pages are followed from the locker; only the token of the last page could ask for more, and it has none.
    expect(logging.requests.length).toBe(requestsBefore);
  });

  it('waits out 429 RESOURCE_EXHAUSTED and preserves the page once Logging answers', async () => {
    // Prepare
    const body = task();
    logging.throttle(2);

    // Act
    const { last } = await runWorkflow(body);

    // Assess
    expect(last.status).toBe(200);
    expect(logging.requests.filter((r) => r.status === 429)).toHaveLength(2);
    const keys = [...(await ledgerOf(String(body.case))).items().keys()].filter((k) => k.includes('/gcp/logging-api/'));
    expect(keys).toHaveLength(3);
  });

  it('records PERMISSION_DENIED as a failed step in the custody ledger, naming the project and page', async () => {
    // Prepare
    const body = task();
    logging.deny();

    // Act
    const answer = await post(body);

    // Assess
    expect(answer.status).toBe(502);
    const ledger = await ledgerOf(String(body.case));
    const failed = ledger.entries.filter((e) => (e.detail as { step?: string } | undefined)?.step === 'preserve-logs');
    expect(failed).toHaveLength(1);
    const text = JSON.stringify(failed[0]);
    expect(text).toContain(`resourceNames=projects%2F${FAKE_PROJECT}`);
    expect(text).toContain('page 1 was not read');
    expect(text).toContain('roles/logging.privateLogViewer');
  });

  it('preserves the objects of a log sink the request names, under the sink bucket, with their SHA-256', async () => {
    // Prepare
    const name = 'cloudaudit.googleapis.com/activity/2026/03/14/01:00:00_01:59:59_S0.json';
    gcs.put('audit-sink', name, '{"logName":"projects/amber-test-prod/logs/cloudaudit.googleapis.com%2Factivity"}\n');
    const body = task({ logSink: 'gs://audit-sink/cloudaudit.googleapis.com/' });

    // Act
    const { last } = await runWorkflow(body);

    // Assess
    expect(last.status).toBe(200);
    const item = [...(await ledgerOf(String(body.case))).items().values()].find((i) => i.key.endsWith(`gcp/log-sink/audit-sink/${name}`));
    expect(item?.origin).toMatch(/^gs:\/\/audit-sink\/cloudaudit\.googleapis\.com\/activity\/.*#\d+$/);
    expect(item?.sha256).toBe(sha256Hex(gcs.read('audit-sink', name)!));
  });

  it('asks the workflow to wait while the window has not settled, reading nothing', async () => {
    // Prepare
    deps = freshDeps({ now: () => Date.parse('2026-03-14T10:05:00Z') });
    const requestsBefore = logging.requests.length;

    // Act
    const answer = await post(task());

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ done: false, waitSeconds: 600 });
    expect(logging.requests.length).toBe(requestsBefore);
  });

  it('refuses a task without projects, naming what is missing', async () => {
    const answer = await post(task({ accounts: [] }));
    expect(answer.status).toBe(400);
    expect(String(answer.json.error)).toContain('accounts must list the project ids');
  });
});

describe('Function: collectorTokens', () => {
  afterEach(() => nock.cleanAll());

  it("reads a member project as its collector service account, minted through the IAM Credentials API", async () => {
    // Prepare
    const collector = `amber-collector@${FAKE_PROJECT}.iam.gserviceaccount.com`;
    const minted = nock('https://iamcredentials.googleapis.com')
      .post(`/v1/projects/-/serviceAccounts/${encodeURIComponent(collector).replace(/%40/g, '@')}:generateAccessToken`)
      .matchHeader('authorization', 'Bearer own-token')
      .reply(200, { accessToken: 'collector-token', expireTime: '2999-01-01T00:00:00Z' });
    const tokens = collectorTokens({ [FAKE_PROJECT]: collector }, async () => 'own-token', { sleep: async () => {} });

    // Act
    const member = await tokens(FAKE_PROJECT)();
    const other = await tokens('amber-evidence-1')();

    // Assess
    expect(member).toBe('collector-token');
    expect(other).toBe('own-token');
    expect(minted.isDone()).toBe(true);
  });
});
