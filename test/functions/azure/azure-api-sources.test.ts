/**
 * The Azure API sources against a fake of the documented APIs on 127.0.0.1: paging, throttling with
 * Retry-After, a token that expires mid-run, a page failing twice then succeeding, a damaged page, resuming,
 * the Management Activity API's 24-hour slices and 7-day reach, and IoT Hub twin continuation.
 */
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { activityLogSource } from '../../../functions/azure/adapters/activity-log-source.ts';
import type { AzureApiSource } from '../../../functions/azure/adapters/azure-api-source.ts';
import { credentialTokens, fixedToken } from '../../../functions/azure/adapters/azure-auth.ts';
import { AzureHttp, retryAfterMs } from '../../../functions/azure/adapters/azure-http.ts';
import type { PreservedPages } from '../../../functions/azure/adapters/azure-pages.ts';
import { graphStateSource, graphWindowSource, SIGNINS_SPEC, TRANSPORT_RULES_NOTE } from '../../../functions/azure/adapters/graph-source.ts';
import { iotTwinsSource } from '../../../functions/azure/adapters/iot-twins-source.ts';
import { managementActivitySource } from '../../../functions/azure/adapters/management-activity-source.ts';
import type { SourceProblem } from '../../../shared/ports/evidence-source.ts';
import { FakeAzure } from '../../helpers/fake-azure.ts';

const HOUR = 3_600_000;
const TENANT = '11111111-2222-4333-8444-555555555555';
const SUB = '99999999-8888-4777-8666-555555555555';
const SINCE = new Date('2026-03-10T00:00:00Z');
const UNTIL = new Date('2026-03-11T00:00:00Z');

interface Got {
  objects: Array<{ origin: string; relPath: string; bytes: Buffer }>;
  problems: SourceProblem[];
}

async function drain(source: AzureApiSource): Promise<Got> {
  const got: Got = { objects: [], problems: [] };
  for await (const o of source.list((p) => got.problems.push(p))) {
    const chunks: Buffer[] = [];
    for await (const c of await o.open()) chunks.push(c as Buffer);
    got.objects.push({ origin: o.origin, relPath: o.relPath, bytes: Buffer.concat(chunks) });
  }
  return got;
}

/** A locker stand-in holding what a first run yielded, for resuming. */
function lockerOf(got: Got): PreservedPages {
  const map = new Map(got.objects.map((o) => [o.relPath, o.bytes]));
  return {
    list: (prefix) => Promise.resolve([...map.keys()].filter((k) => k.startsWith(prefix))),
    read: (rel) => Promise.resolve(map.get(rel)!),
  };
}

function signIn(i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: `si-${i}`,
    createdDateTime: new Date(SINCE.getTime() + (i + 1) * 60_000).toISOString().replace('.000Z', 'Z'),
    userPrincipalName: `user${i}@contoso.example`,
    userId: `0000000${i}-0000-4000-8000-000000000000`,
    appDisplayName: 'OfficeHome',
    ipAddress: '203.0.113.9',
    isInteractive: true,
    riskLevelDuringSignIn: 'none',
    riskState: 'none',
    status: { errorCode: 0 },
    ...extra,
  };
}

let fake: FakeAzure;
let sleeps: number[];
let http: AzureHttp;

beforeEach(async () => {
  fake = await new FakeAzure().start();
  sleeps = [];
  http = new AzureHttp({ tokens: fixedToken('tok-1'), sleep: (ms) => (sleeps.push(ms), Promise.resolve()) });
});

afterEach(async () => {
  await fake.stop();
});

const signIns = (preserved?: PreservedPages, h = http): AzureApiSource => graphWindowSource(SIGNINS_SPEC, { graphUrl: fake.url, tenant: TENANT, since: SINCE, until: UNTIL, http: h, ...(preserved ? { preserved } : {}) });

describe('Graph sign-ins', () => {
  it('preserves every page byte for byte, interactive from v1.0 and the other types from beta with their filter', async () => {
    // Prepare: 5 interactive sign-ins (3 pages of 2), one non-interactive, one outside the window
    fake.graph.set('auditLogs/signIns', [0, 1, 2, 3, 4].map((i) => signIn(i)).concat([{ ...signIn(9), createdDateTime: '2026-03-12T00:00:00Z' }]));
    fake.graph.set('auditLogs/signIns#nonInteractiveUser', [signIn(7, { isInteractive: false })]);

    // Act
    const got = await drain(signIns());

    // Assess
    expect(got.problems).toEqual([]);
    const interactive = got.objects.filter((o) => o.relPath.includes('/interactiveUser/'));
    expect(interactive.map((o) => o.relPath)).toEqual([1, 2, 3].map((n) => `azure/entra/${TENANT}/signins/interactiveUser/20260310T000000Z_20260311T000000Z/page-0000${n}.json`));
    const bodies = fake.requests.filter((r) => r.status === 200 && r.target.startsWith('/v1.0/auditLogs/signIns')).map((r) => fake.served.get(`${r.method} ${r.target}`)!);
    expect(interactive.map((o) => o.bytes)).toEqual(bodies);
    expect(interactive.flatMap((o) => (JSON.parse(o.bytes.toString()) as { value: Array<{ id: string }> }).value.map((v) => v.id))).toEqual(['si-0', 'si-1', 'si-2', 'si-3', 'si-4']);
    expect(interactive[1]!.origin).toMatch(/^api:entra-signins\?method=GET&url=.*v1\.0%2FauditLogs%2FsignIns.*skiptoken.*&page=2$/);
    const beta = got.objects.find((o) => o.relPath.includes('/nonInteractiveUser/'))!;
    expect(decodeURIComponent(decodeURIComponent(beta.origin))).toContain("beta/auditLogs/signIns?$filter=createdDateTime ge 2026-03-10T00:00:00Z and createdDateTime le 2026-03-11T00:00:00Z and signInEventTypes/any(t: t eq 'nonInteractiveUser')");
    expect(got.objects.filter((o) => /servicePrincipal|managedIdentity/.test(o.relPath))).toHaveLength(2); // an empty page each: asked, and kept
  });

  it('waits what Retry-After asks on 429 and 503, then preserves the page', async () => {
    fake.graph.set('auditLogs/signIns', [signIn(0)]);
    fake.fault('/v1.0/auditLogs/signIns', 429, 1, { 'Retry-After': '7' }).fault('/v1.0/auditLogs/signIns', 503, 1, { 'Retry-After': '2' });

    const got = await drain(signIns());

    expect(got.problems).toEqual([]);
    expect(sleeps).toEqual([7000, 2000]);
    expect(got.objects.filter((o) => o.relPath.includes('/interactiveUser/'))).toHaveLength(1);
  });

  it('does not wait out a Retry-After longer than 300 s: the page is reported with the wait asked for', async () => {
    fake.graph.set('auditLogs/signIns', [signIn(0)]);
    fake.fault('/v1.0/auditLogs/signIns', 429, 1, { 'Retry-After': '3600' });

    const got = await drain(signIns());

    expect(sleeps).toEqual([]);
    expect(got.problems).toEqual([expect.objectContaining({ origin: expect.stringMatching(/v1\.0%2FauditLogs%2FsignIns.*&page=1$/), reason: expect.stringMatching(/asked to wait 3600 s \(Retry-After\), longer than the 300 s Amber waits/) })]);
  });

  it('keeps a page that fails twice and then succeeds, and reports one that never does by its page number', async () => {
    // Prepare: page 2 fails twice (500) then answers; the beta non-interactive stream fails every time
    fake.graph.set('auditLogs/signIns', [0, 1, 2].map((i) => signIn(i)));
    fake.fault('/v1.0/auditLogs/signIns?%24filter', 500, 0).fault('skiptoken=2', 500, 2).fault("nonInteractiveUser", 503, 99);

    const got = await drain(signIns());

    expect(got.objects.filter((o) => o.relPath.includes('/interactiveUser/')).map((o) => o.relPath.slice(-15))).toEqual(['page-00001.json', 'page-00002.json']);
    expect(got.problems).toHaveLength(1);
    expect(got.problems[0]!.origin).toMatch(/nonInteractiveUser.*&page=1$/);
    expect(got.problems[0]!.reason).toMatch(/still HTTP 503 after 4 attempts.*run the same command again later/);
    expect(got.objects.filter((o) => o.relPath.includes('/servicePrincipal/'))).toHaveLength(1); // the others went on
  });

  it('asks the credential for a new token once when the API says the token expired, and reads on', async () => {
    // Prepare: the first token expires after the first page
    fake.graph.set('auditLogs/signIns', [0, 1, 2].map((i) => signIn(i)));
    const issued: string[] = [];
    const credential: TokenCredential = {
      getToken: () => {
        const token = `tok-${issued.length + 1}`;
        issued.push(token);
        return Promise.resolve({ token, expiresOnTimestamp: Date.now() + HOUR } satisfies AccessToken);
      },
    };
    const renewing = new AzureHttp({ tokens: credentialTokens(credential, 'test credential'), sleep: () => Promise.resolve() });
    const source = signIns(undefined, renewing);
    const objects: string[] = [];
    const problems: SourceProblem[] = [];
    for await (const o of source.list((p) => problems.push(p))) {
      objects.push(o.relPath);
      if (objects.length === 1) fake.expired.add('tok-1');
    }

    expect(problems).toEqual([]);
    expect(issued).toEqual(['tok-1', 'tok-2']);
    expect(objects.filter((r) => r.includes('/interactiveUser/'))).toHaveLength(2);
    expect(fake.requests.filter((r) => r.status === 401)).toHaveLength(1);
  });

  it('with a fixed token that expired, reports the page and says to set a new token', async () => {
    fake.expired.add('tok-1');
    fake.graph.set('auditLogs/signIns', [signIn(0)]);

    const got = await drain(signIns());

    expect(got.objects).toEqual([]);
    expect(got.problems[0]!.reason).toMatch(/HTTP 401 InvalidAuthenticationToken.*AMBER_AZURE_TOKEN is a fixed token/);
  });

  it('preserves a damaged page as received, names it and where it breaks, and asks for nothing after it', async () => {
    fake.graph.set('auditLogs/signIns', [0, 1, 2, 3, 4].map((i) => signIn(i)));
    fake.damage('skiptoken=2');

    const got = await drain(signIns());

    const pages = got.objects.filter((o) => o.relPath.includes('/interactiveUser/'));
    expect(pages.map((o) => o.relPath.slice(-15))).toEqual(['page-00001.json', 'page-00002.json']);
    expect(pages[1]!.bytes.toString()).toContain('proxy error');
    expect(got.problems).toHaveLength(1);
    expect(got.problems[0]!.reason).toMatch(/page 2 of interactive user sign-ins \(v1\.0\) is not JSON \(.*position \d+.*\): it is preserved as received \(azure\/entra\/.*page-00002\.json\)/);
    expect(fake.requests.some((r) => r.target.includes('skiptoken=4'))).toBe(false);
  });

  it('resumes after the last preserved page: nothing preserved is asked for again, nothing is yielded twice', async () => {
    // Prepare: a first run stops after page 2 (page 3 keeps failing)
    fake.graph.set('auditLogs/signIns', [0, 1, 2, 3, 4].map((i) => signIn(i)));
    fake.fault('skiptoken=4', 503, 4);
    const first = await drain(signIns());
    expect(first.problems).toHaveLength(1);
    const asked = fake.requests.length;

    // Act
    const second = await drain(signIns(lockerOf(first)));

    // Assess
    const newRequests = fake.requests.slice(asked).map((r) => r.target);
    expect(newRequests.filter((t) => t.startsWith('/v1.0/'))).toEqual([expect.stringContaining('skiptoken=4')]);
    const paths = second.objects.map((o) => o.relPath);
    expect(new Set(paths).size).toBe(paths.length);
    const interactive = second.objects.filter((o) => o.relPath.includes('/interactiveUser/'));
    expect(interactive.slice(0, 2).map((o) => o.bytes)).toEqual(first.objects.filter((o) => o.relPath.includes('/interactiveUser/')).map((o) => o.bytes));
    expect(interactive).toHaveLength(3);
  });

  it('keeps a record delivered on two pages as delivered: both pages, unchanged', async () => {
    // Prepare: the API sends si-1 at the end of page 1 and again at the start of page 2
    fake.graph.set('auditLogs/signIns', [signIn(0), signIn(1), signIn(1), signIn(2)]);

    const got = await drain(signIns());

    const ids = got.objects.filter((o) => o.relPath.includes('/interactiveUser/')).map((o) => (JSON.parse(o.bytes.toString()) as { value: Array<{ id: string }> }).value.map((v) => v.id));
    expect(ids).toEqual([['si-0', 'si-1'], ['si-1', 'si-2']]);
  });

  it('refuses a next link to another host, so the token is not sent there', async () => {
    fake.resources.set('oauth2PermissionGrants', { value: [], '@odata.nextLink': 'https://attacker.example/v1.0/oauth2PermissionGrants?$skiptoken=1' });

    const got = await drain(graphStateSource({ graphUrl: fake.url, tenant: TENANT, at: SINCE, users: ['alice@contoso.example'], http }));

    expect(got.problems.find((p) => p.reason.includes('attacker.example'))?.reason).toMatch(/not followed, so the token is not sent there/);
    expect(fake.requests.every((r) => !r.target.includes('attacker'))).toBe(true);
  });
});

describe('Azure state (Graph)', () => {
  it('reads directory state, the named mailbox\'s rules and settings, and says transport rules have no Graph API', async () => {
    fake.graph.set('applications', [{ id: 'app1', appId: 'a1', displayName: 'Payroll', passwordCredentials: [{ keyId: 'k1', displayName: 'added by attacker', endDateTime: '2028-01-01T00:00:00Z', hint: 'abc', secretText: null }] }]);
    fake.graph.set('users/alice@contoso.example/mailFolders/inbox/messageRules', [{ id: 'r1', displayName: 'x', actions: { forwardTo: [{ emailAddress: { address: 'drop@evil.example' } }] } }]);
    fake.resources.set('users/alice@contoso.example/mailboxSettings', { automaticRepliesSetting: { status: 'disabled' } });
    const source = graphStateSource({ graphUrl: fake.url, tenant: TENANT, at: new Date('2026-03-12T10:00:00Z'), users: ['alice@contoso.example'], http });

    const got = await drain(source);

    expect(got.problems).toEqual([]);
    const root = `azure/state/${TENANT}/20260312T100000Z`;
    expect(got.objects.map((o) => o.relPath)).toEqual([
      `${root}/oauth2-permission-grants/page-00001.json`,
      `${root}/applications/page-00001.json`,
      `${root}/service-principals/page-00001.json`,
      `${root}/conditional-access-policies/page-00001.json`,
      `${root}/authentication-methods-registration/page-00001.json`,
      `${root}/mailboxes/alice@contoso.example/inbox-rules/page-00001.json`,
      `${root}/mailboxes/alice@contoso.example/mailbox-settings/page-00001.json`,
    ]);
    expect(got.objects[1]!.bytes.toString()).toContain('added by attacker');
    expect(got.objects[5]!.bytes.toString()).toContain('drop@evil.example');
    expect(source.notes).toEqual([TRANSPORT_RULES_NOTE]);
  });

  it('lists every user when none is named, and notes users without a mailbox instead of failing', async () => {
    fake.graph.set('users', [{ id: 'u1', userPrincipalName: 'a@contoso.example' }, { id: 'u2', userPrincipalName: 'b@contoso.example' }]);
    fake.graph.set('users/u1/mailFolders/inbox/messageRules', []);
    fake.resources.set('users/u1/mailboxSettings', { timeZone: 'UTC' });
    const source = graphStateSource({ graphUrl: fake.url, tenant: TENANT, at: SINCE, users: [], http });

    const got = await drain(source);

    expect(got.problems).toEqual([]);
    expect(got.objects.filter((o) => o.relPath.includes('/mailboxes/')).map((o) => o.relPath.split('/').slice(-3, -1).join('/'))).toEqual(['u1/inbox-rules', 'u1/mailbox-settings']);
    expect(source.notes).toContain('u2: no inbox rules to read (HTTP 404: no Exchange Online mailbox)');
  });
});

describe('Azure Activity Log', () => {
  it('pages by nextLink within the window, one folder per subscription', async () => {
    const event = (i: number): Record<string, unknown> => ({ eventTimestamp: new Date(SINCE.getTime() + i * HOUR).toISOString(), operationName: { value: 'Microsoft.Compute/virtualMachines/delete' }, eventDataId: `e${i}`, caller: 'eve@contoso.example' });
    fake.activity.set(SUB, [1, 2, 3].map(event));

    const got = await drain(activityLogSource({ armUrl: fake.url, subscriptions: [SUB], since: SINCE, until: UNTIL, http }));

    expect(got.problems).toEqual([]);
    expect(got.objects.map((o) => o.relPath)).toEqual([`azure/activity-log/${SUB}/20260310T000000Z_20260311T000000Z/page-00001.json`, `azure/activity-log/${SUB}/20260310T000000Z_20260311T000000Z/page-00002.json`]);
    expect(decodeURIComponent(decodeURIComponent(got.objects[0]!.origin))).toContain("api-version=2015-04-01&$filter=eventTimestamp ge '2026-03-10T00:00:00Z' and eventTimestamp le '2026-03-11T00:00:00Z'");
  });
});

describe('Management Activity API', () => {
  const NOW = new Date('2026-03-12T12:00:00Z');
  const blob = (contentId: string, created: string): { contentId: string; created: Date; records: Array<Record<string, unknown>> } => ({
    contentId,
    created: new Date(created),
    records: [{ CreationTime: created.slice(0, 19), Id: contentId, Operation: 'MailItemsAccessed', OrganizationId: TENANT, RecordType: 50, UserId: 'a@contoso.example', Workload: 'Exchange' }],
  });

  it('cuts a 50-hour window into 24-hour slices, lists each by NextPageUri and preserves every blob once', async () => {
    // Prepare: three Exchange blobs in the first slice (two listing pages), one in the third; the subscription is already on for SharePoint
    fake.blobs.set('Audit.Exchange', [blob('b1', '2026-03-10T01:00:00Z'), blob('b2', '2026-03-10T02:00:00Z'), blob('b3', '2026-03-10T03:00:00Z'), blob('b4', '2026-03-12T01:00:00Z')]);
    const since = new Date('2026-03-10T00:00:00Z');
    const until = new Date('2026-03-12T02:00:00Z');
    const options = { m365Url: fake.url, tenant: TENANT, contentTypes: ['Audit.Exchange', 'Audit.SharePoint'], since, until, now: NOW, http };
    await drain(managementActivitySource({ ...options, contentTypes: ['Audit.SharePoint'], since: until, until: new Date(until.getTime() + HOUR) })); // starts SharePoint

    // Act
    const source = managementActivitySource(options);
    const got = await drain(source);

    // Assess: the fake refuses any listing over 24 hours, so a problem-free run proves the slicing
    expect(got.problems).toEqual([]);
    const exchange = source.slices.filter((s) => s.contentType === 'Audit.Exchange');
    expect(exchange.map((s) => [s.start, s.end, s.complete, s.listingPages, s.blobs])).toEqual([
      ['2026-03-10T00:00:00.000Z', '2026-03-11T00:00:00.000Z', true, 2, 3],
      ['2026-03-11T00:00:00.000Z', '2026-03-12T00:00:00.000Z', true, 1, 0],
      ['2026-03-12T00:00:00.000Z', '2026-03-12T02:00:00.000Z', true, 1, 1],
    ]);
    const folder = `m365/management-activity/${TENANT}/Audit.Exchange/20260310T000000Z_20260311T000000Z`;
    expect(got.objects.filter((o) => o.relPath.startsWith(folder)).map((o) => o.relPath.slice(folder.length + 1))).toEqual([
      'page-00001.json', 'page-00001.next.json', 'page-00002.json', 'page-00002.next.json', 'content/b1.json', 'content/b2.json', 'content/b3.json',
    ]);
    expect(JSON.parse(got.objects.find((o) => o.relPath.endsWith('content/b2.json'))!.bytes.toString())).toEqual([expect.objectContaining({ Id: 'b2' })]);
    expect(source.slices.filter((s) => s.contentType === 'Audit.SharePoint').every((s) => s.complete)).toBe(true);
  });

  it('resumes a slice: listing pages and blobs already preserved are not asked for again', async () => {
    fake.blobs.set('Audit.Exchange', [blob('b1', '2026-03-10T01:00:00Z'), blob('b2', '2026-03-10T02:00:00Z'), blob('b3', '2026-03-10T03:00:00Z')]);
    fake.fault('/audit/b3', 500, 4);
    const options = { m365Url: fake.url, tenant: TENANT, contentTypes: ['Audit.Exchange'], since: SINCE, until: UNTIL, now: NOW, http };
    const firstSource = managementActivitySource(options);
    const first = await drain(firstSource);
    expect(firstSource.slices[0]).toMatchObject({ complete: false, blobs: 2, reason: expect.stringContaining('content b3 not fetched') });
    expect(first.problems[0]!.origin).toContain('contentId=b3');
    const asked = fake.requests.length;

    const again = managementActivitySource({ ...options, preserved: lockerOf(first) });
    const second = await drain(again);

    expect(fake.requests.slice(asked).filter((r) => r.method === 'GET').map((r) => r.target)).toEqual([expect.stringContaining('/audit/b3')]);
    expect(again.slices[0]).toMatchObject({ complete: true, listingPages: 2, blobs: 3 });
    expect(second.objects.filter((o) => o.relPath.includes('/content/'))).toHaveLength(3);
  });

  it('reports slices beyond the 7 days the API serves as incomplete, without asking for them', async () => {
    const source = managementActivitySource({ m365Url: fake.url, tenant: TENANT, contentTypes: ['Audit.General'], since: new Date('2026-03-01T00:00:00Z'), until: new Date('2026-03-06T06:00:00Z'), now: NOW, http });

    await drain(source);

    expect(source.slices.map((s) => s.complete)).toEqual([false, false, false, false, false, true]);
    expect(source.slices[0]!.reason).toMatch(/not asked for: the Management Activity API serves only the last 7 days/);
    expect(source.slices[4]!.reason).toMatch(/asked from 2026-03-05T12:10:00.000Z only/);
    expect(fake.requests.filter((r) => r.target.includes('subscriptions/content')).map((r) => decodeURIComponent(r.target))).toEqual([expect.stringContaining('startTime=2026-03-05T12:10:00&endTime=2026-03-06T00:00:00'), expect.stringContaining('startTime=2026-03-06T00:00:00&endTime=2026-03-06T06:00:00')]);
  });
});

describe('IoT Hub twins', () => {
  it('pages the device query by x-ms-continuation and keeps the header beside each page', async () => {
    fake.twins = [1, 2, 3].map((i) => ({ deviceId: `dev-${i}`, version: i, properties: { desired: { $version: 2 }, reported: { $version: 3 } } }));

    const got = await drain(iotTwinsSource({ hub: 'plant-hub', hubUrl: fake.url, at: SINCE, http }));

    expect(got.problems).toEqual([]);
    expect(got.objects.map((o) => o.relPath.split('/').pop())).toEqual(['page-00001.json', 'page-00001.next.json', 'page-00002.json', 'page-00002.next.json']);
    expect(JSON.parse(got.objects[1]!.bytes.toString())).toEqual({ header: 'x-ms-continuation', value: '2' });
    const queries = fake.requests.filter((r) => r.target.startsWith('/devices/query?api-version=2021-04-12'));
    expect(queries.map((r) => r.headers['x-ms-continuation'])).toEqual([undefined, '2']);
    expect(got.objects[2]!.origin).toContain('header.x-ms-continuation=2');
    expect(got.objects[1]!.origin).toMatch(/&page=1&hub=plant-hub&responseHeader=x-ms-continuation$/);
  });
});

describe('Function: retryAfterMs', () => {
  it('reads delay-seconds and HTTP dates, and nothing else', () => {
    const now = Date.parse('2026-03-10T00:00:00Z');
    expect(retryAfterMs('30', now)).toBe(30_000);
    expect(retryAfterMs('Tue, 10 Mar 2026 00:00:05 GMT', now)).toBe(5_000);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});
