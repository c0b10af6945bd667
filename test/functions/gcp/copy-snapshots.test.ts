/**
 * Copying a completed snapshot set into the evidence project, as Cloud Workflows calls it: the copySnapshots step
 * and then checkSnapshots on the copies (Functions Framework test server on 127.0.0.1), Compute Engine answered at
 * the HTTP layer (nock) with the compute/v1 shapes of Policy, Image and Operation.
 */
import * as ff from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ComputeSnapshotProvider, evidenceImageName } from '../../../functions/gcp/adapters/compute-snapshot-provider.ts';
import { GoogleRest } from '../../../functions/gcp/adapters/google-rest.ts';
import { checkSnapshotsHandler, copySnapshotsHandler } from '../../../functions/gcp/handlers/instance-steps.ts';
import { createLogger } from '../../../functions/gcp/runtime.ts';
import { CustodyLedger } from '../../../shared/evidence/ledger.ts';
import { LocalObjectStore } from '../../../shared/evidence/local-object-store.ts';
import nock from '../../helpers/nock.ts';
import { tempDir } from '../../helpers/tmp.ts';

const MEMBER = 'amber-demo-prod';
const EVIDENCE = 'amber-evidence-prj';
const ZONE = 'europe-west1-b';
const STEPS = 'amber-fn-steps@amber-evidence-prj.iam.gserviceaccount.com';
const actor = { principal: `serviceAccount:${STEPS}`, tool: 'amber/test' };
const rest = new GoogleRest({ token: async () => 'test-token', sleep: async () => {} });
const sources = [
  { snapshotId: 'amber-aaaa1111', volumeId: 'web-1', accountId: MEMBER, region: ZONE },
  { snapshotId: 'amber-bbbb2222', volumeId: 'web-1-data', accountId: MEMBER, region: ZONE },
];

interface FakeCopies {
  readonly policies: Map<string, { version: number; etag: string; bindings: { role: string; members: string[] }[] }>;
  readonly images: Map<string, { name: string; sourceSnapshot: string; labels: Record<string, string>; status: string }>;
  readonly setPolicyBodies: unknown[];
  readonly calls: string[];
}

/**
 * A fake of the Compute calls an evidence copy makes. Behaviour: getIamPolicy answers the snapshot's Policy (one
 * owner binding at first, etag changing on every set); setIamPolicy replaces it when the etag matches (412
 * conditionNotMet otherwise); images.insert answers an Operation and creates a PENDING image, 409 alreadyExists
 * for a name that exists, 403 PERMISSION_DENIED when `deniedUse` names the source snapshot (the evidence identity
 * lacks compute.snapshots.useReadOnly); images.get answers the image with `imageStatus` (READY by default).
 */
function fakeCopies(options: { deniedUse?: string; imageStatus?: (name: string) => string } = {}): FakeCopies {
  const state: FakeCopies = { policies: new Map(), images: new Map(), setPolicyBodies: [], calls: [] };
  const error = (code: number, status: string, message: string, reason: string): [number, unknown] => [code, { error: { code, message, status, errors: [{ message, domain: 'global', reason }] } }];
  const policyOf = (snap: string) => {
    let p = state.policies.get(snap);
    if (!p) state.policies.set(snap, (p = { version: 1, etag: 'BwXhqDuLOA0=', bindings: [{ role: 'roles/owner', members: ['user:owner@example.com'] }] }));
    return p;
  };
  const scope = nock('https://compute.googleapis.com').persist();
  scope.get(/.*/).reply(((req: Request) => {
    const url = new URL(req.url);
    state.calls.push(`GET ${url.pathname}`);
    const pol = new RegExp(`^/compute/v1/projects/${MEMBER}/global/snapshots/([a-z0-9-]+)/getIamPolicy$`).exec(url.pathname);
    if (pol) return [200, policyOf(pol[1]!)];
    const img = new RegExp(`^/compute/v1/projects/${EVIDENCE}/global/images/([a-z0-9-]+)$`).exec(url.pathname);
    if (img) {
      const image = state.images.get(img[1]!);
      if (!image) return error(404, 'NOT_FOUND', `The resource 'projects/${EVIDENCE}/global/images/${img[1]}' was not found`, 'notFound');
      return [200, { kind: 'compute#image', name: image.name, sourceSnapshot: `https://www.googleapis.com/compute/v1/${image.sourceSnapshot}`, labels: image.labels, status: options.imageStatus?.(image.name) ?? 'READY', diskSizeGb: '10', creationTimestamp: '2026-03-14T11:00:00.000-07:00' }];
    }
    return error(404, 'NOT_FOUND', `no fake for GET ${url.pathname}`, 'notFound');
  }) as never);
  scope.post(/.*/).reply((async (req: Request) => {
    const url = new URL(req.url);
    state.calls.push(`POST ${url.pathname}`);
    const body = JSON.parse((await req.text()) || '{}') as Record<string, unknown>;
    const set = new RegExp(`^/compute/v1/projects/${MEMBER}/global/snapshots/([a-z0-9-]+)/setIamPolicy$`).exec(url.pathname);
    if (set) {
      state.setPolicyBodies.push(body);
      const current = policyOf(set[1]!);
      const next = body.policy as { etag?: string; bindings: { role: string; members: string[] }[] };
      if (next.etag !== current.etag) return error(412, 'FAILED_PRECONDITION', 'etag mismatch', 'conditionNotMet');
      const updated = { version: 1, etag: `${current.etag}x`, bindings: next.bindings };
      state.policies.set(set[1]!, updated);
      return [200, updated];
    }
    if (url.pathname === `/compute/v1/projects/${EVIDENCE}/global/images`) {
      const name = String(body.name);
      const snap = String(body.sourceSnapshot).split('/').pop()!;
      if (options.deniedUse === snap) return error(403, 'PERMISSION_DENIED', `Required 'compute.snapshots.useReadOnly' permission for 'projects/${MEMBER}/global/snapshots/${snap}'`, 'forbidden');
      if (state.images.has(name)) return error(409, 'ALREADY_EXISTS', `The resource 'projects/${EVIDENCE}/global/images/${name}' already exists`, 'alreadyExists');
      state.images.set(name, { name, sourceSnapshot: String(body.sourceSnapshot), labels: body.labels as Record<string, string>, status: 'PENDING' });
      return [200, { kind: 'compute#operation', id: '987', name: `operation-insert-${name}`, operationType: 'insert', targetLink: `https://www.googleapis.com/compute/v1/projects/${EVIDENCE}/global/images/${name}`, status: 'RUNNING', progress: 0 }];
    }
    return error(404, 'NOT_FOUND', `no fake for POST ${url.pathname}`, 'notFound');
  }) as never);
  return state;
}

let store: LocalObjectStore;
const urls = new Map<string, string>();
let caseNumber = 0;
const task = (): Record<string, unknown> => ({ case: `Case-Copy-${++caseNumber}`, accountId: MEMBER, region: ZONE, instanceId: 'web-1', requestId: `req-copy-${caseNumber}`, isolate: false });

async function post(name: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(urls.get(name)!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('Functions: copySnapshots, checkSnapshots (evidence copies)', () => {
  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    store = await LocalObjectStore.open(await tempDir('amber-gcp-copy-'));
    const provider = new ComputeSnapshotProvider({ rest, evidenceMember: `serviceAccount:${STEPS}` });
    const deps = { provider, store, actor, logger: createLogger('copy', () => {}), evidenceProject: EVIDENCE };
    ff.http('testCopySnapshots', copySnapshotsHandler(deps));
    ff.http('testCheckCopies', checkSnapshotsHandler(deps));
    for (const name of ['testCopySnapshots', 'testCheckCopies']) {
      const server: Server = getTestServer(name);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      urls.set(name, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
    }
  });

  afterEach(() => {
    nock.cleanAll();
  });

  it('grants the evidence identity read-only use of each snapshot, then makes one image of it in the evidence project, recorded as copied', async () => {
    // Prepare
    const fake = fakeCopies();
    const t = task();

    // Act
    const res = await post('testCopySnapshots', { ...t, snapshots: sources });

    // Assess
    expect(res.status).toBe(200);
    const role = `projects/${MEMBER}/roles/amber_snapshot_reader`;
    expect(fake.policies.get('amber-aaaa1111')?.bindings).toEqual([{ role: 'roles/owner', members: ['user:owner@example.com'] }, { role, members: [`serviceAccount:${STEPS}`] }]);
    expect(fake.setPolicyBodies[0]).toMatchObject({ policy: { etag: 'BwXhqDuLOA0=' } });
    const image = evidenceImageName(MEMBER, 'amber-aaaa1111');
    expect(fake.images.get(image)).toMatchObject({ sourceSnapshot: `projects/${MEMBER}/global/snapshots/amber-aaaa1111`, labels: { 'amber-case': String(t.case).toLowerCase(), 'amber-source-project': MEMBER, 'amber-source-snapshot': 'amber-aaaa1111' } });
    expect(res.json.snapshots).toEqual([
      { snapshotId: `images/${image}`, volumeId: 'web-1', accountId: EVIDENCE, region: 'global' },
      { snapshotId: `images/${evidenceImageName(MEMBER, 'amber-bbbb2222')}`, volumeId: 'web-1-data', accountId: EVIDENCE, region: 'global' },
    ]);
    // Every grant precedes the copy that needs it.
    expect(fake.calls.indexOf(`POST /compute/v1/projects/${MEMBER}/global/snapshots/amber-aaaa1111/setIamPolicy`)).toBeLessThan(fake.calls.indexOf(`POST /compute/v1/projects/${EVIDENCE}/global/images`));
    const copied = (await CustodyLedger.open(store, String(t.case))).entries.filter((e) => e.action === 'copied');
    expect(copied).toHaveLength(1);
    expect(copied[0]?.detail).toMatchObject({ step: 'copy-snapshots', evidenceProject: EVIDENCE, copies: [{ source: `projects/${MEMBER}/global/snapshots/amber-aaaa1111`, volumeId: 'web-1', copy: `projects/${EVIDENCE}/global/images/${image}` }, expect.objectContaining({ volumeId: 'web-1-data' })] });
  });

  it('makes nothing twice when the step runs again: the grant is found in place, the images are reused, one ledger entry', async () => {
    // Prepare
    const fake = fakeCopies();
    const t = task();

    // Act
    const first = await post('testCopySnapshots', { ...t, snapshots: sources });
    const second = await post('testCopySnapshots', { ...t, snapshots: sources });

    // Assess
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.json.reused).toEqual(['amber-aaaa1111', 'amber-bbbb2222']);
    expect(second.json.snapshots).toEqual(first.json.snapshots);
    expect(fake.setPolicyBodies).toHaveLength(2); // one per snapshot, from the first run only
    expect(fake.images.size).toBe(2);
    expect((await CustodyLedger.open(store, String(t.case))).entries.filter((e) => e.action === 'copied')).toHaveLength(1);
  });

  it('waits on the copies through checkSnapshots, and reports a copy that failed', async () => {
    // Prepare
    const statuses = new Map<string, string>();
    fakeCopies({ imageStatus: (name) => statuses.get(name) ?? 'PENDING' });
    const t = task();
    const copies = (await post('testCopySnapshots', { ...t, snapshots: sources })).json.snapshots as { snapshotId: string }[];

    // Act
    const pending = await post('testCheckCopies', { ...t, snapshots: copies });
    statuses.set(copies[0]!.snapshotId.slice('images/'.length), 'READY');
    statuses.set(copies[1]!.snapshotId.slice('images/'.length), 'FAILED');
    const done = await post('testCheckCopies', { ...t, snapshots: copies });

    // Assess
    expect(pending.json.status).toBe('pending');
    expect(done.json.status).toBe('error');
    expect(done.json.failed).toEqual([{ snapshotId: copies[1]!.snapshotId, reason: expect.stringContaining('failed (status FAILED)') }]);
  });

  it('records a refused copy as a failed step naming the permission, with no copied entry, and answers 400', async () => {
    // Prepare
    fakeCopies({ deniedUse: 'amber-aaaa1111' });
    const t = task();

    // Act
    const res = await post('testCopySnapshots', { ...t, snapshots: sources });

    // Assess
    expect(res.status).toBe(400);
    expect(res.json.retryable).toBe(false);
    const ledger = await CustodyLedger.open(store, String(t.case));
    expect(ledger.entries.filter((e) => e.action === 'copied')).toEqual([]);
    const failed = ledger.entries.filter((e) => e.detail?.status === 'failed');
    expect(failed).toHaveLength(1);
    expect(JSON.stringify(failed[0]?.detail)).toContain('compute.snapshots.useReadOnly');
  });

  it('refuses to run without an evidence project, saying which variable to set', async () => {
    // Prepare
    fakeCopies();
    const provider = new ComputeSnapshotProvider({ rest, evidenceMember: `serviceAccount:${STEPS}` });
    ff.http('testCopyNoProject', copySnapshotsHandler({ provider, store, actor, logger: createLogger('copy', () => {}) }));
    const server: Server = getTestServer('testCopyNoProject');
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    urls.set('testCopyNoProject', `http://127.0.0.1:${(server.address() as AddressInfo).port}`);

    // Act
    const res = await post('testCopyNoProject', { ...task(), snapshots: sources });
    await new Promise<void>((resolve) => server.close(() => resolve()));

    // Assess
    expect(res.status).toBe(400);
    expect(String(res.json.hint)).toContain('EVIDENCE_PROJECT');
  });
});
