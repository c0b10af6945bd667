/**
 * The GCP functions as Cloud Functions serves them: the Functions Framework's test server on 127.0.0.1 receives
 * CloudEvents (Pub/Sub, binary mode) and HTTP calls; Google APIs answer at the HTTP layer (nock); evidence goes to
 * the local write-once locker.
 */
import * as ff from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ComputeSnapshotProvider } from '../../../functions/gcp/adapters/compute-snapshot-provider.ts';
import { GoogleRest } from '../../../functions/gcp/adapters/google-rest.ts';
import { WorkflowsStarter } from '../../../functions/gcp/adapters/workflows-starter.ts';
import { captureInstanceHandler, createSnapshotsHandler } from '../../../functions/gcp/handlers/instance-steps.ts';
import { preservationRequestedHandler, preserveHttpHandler, sccFindingHandler } from '../../../functions/gcp/handlers/start-preservation.ts';
import { createLogger } from '../../../functions/gcp/runtime.ts';
import { CustodyLedger } from '../../../shared/evidence/ledger.ts';
import { LocalObjectStore } from '../../../shared/evidence/local-object-store.ts';
import { INSTANCE, PROJECT, ZONE, fakeGce } from '../../helpers/fake-gce.ts';
import { fakeWorkflows } from '../../helpers/fake-workflows.ts';
import nock from '../../helpers/nock.ts';
import { tempDir } from '../../helpers/tmp.ts';

const rest = new GoogleRest({ token: async () => 'test-token', sleep: async () => {} });
const workflows = { instance: `projects/${PROJECT}/locations/europe-west1/workflows/amber-instance`, logs: `projects/${PROJECT}/locations/europe-west1/workflows/amber-logs` };
const logs: Record<string, unknown>[] = [];
const logger = (name: string): ReturnType<typeof createLogger> => createLogger(name, (line) => logs.push(JSON.parse(line) as Record<string, unknown>));
const startDeps = { starter: new WorkflowsStarter({ workflows, rest }), logger: logger('start'), config: { sccMinSeverity: 'HIGH' as const, defaultWindowHours: 24 } };
const actor = { principal: 'serviceAccount:amber-steps@amber-evidence.iam.gserviceaccount.com', tool: 'amber/test' };

let store: LocalObjectStore;
const servers = new Map<string, string>();

async function serve(name: string): Promise<string> {
  const server: Server = getTestServer(name);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  servers.set(name, url);
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return url;
}

const request = (detail: Record<string, unknown>): string => Buffer.from(JSON.stringify({ source: 'amber', 'detail-type': 'Preservation Requested', detail })).toString('base64');

/** Delivers a Pub/Sub message as a binary-mode CloudEvent. */
async function deliver(name: string, data: string, messageId: string): Promise<Response> {
  return fetch(servers.get(name)!, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'ce-id': messageId, 'ce-specversion': '1.0', 'ce-type': 'google.cloud.pubsub.topic.v1.messagePublished', 'ce-source': `//pubsub.googleapis.com/projects/${PROJECT}/topics/amber-preservation` },
    body: JSON.stringify({ message: { data, messageId, publishTime: '2026-03-14T10:00:00Z' }, subscription: `projects/${PROJECT}/subscriptions/amber` }),
  });
}

async function post(name: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(servers.get(name)!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('GCP functions', () => {
  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    store = await LocalObjectStore.open(await tempDir('amber-gcp-locker-'));
    const provider = new ComputeSnapshotProvider({ rest });
    ff.cloudEvent('testPreservationRequested', preservationRequestedHandler(startDeps));
    ff.cloudEvent('testSccFinding', sccFindingHandler(startDeps));
    ff.cloudEvent('testSccFindingSink', sccFindingHandler({ ...startDeps, config: { ...startDeps.config, logSink: 'gs://audit-sink/cloudaudit.googleapis.com/' } }));
    ff.http('testPreserveHttp', preserveHttpHandler(startDeps));
    ff.http('testCaptureInstance', captureInstanceHandler({ provider, store, actor, logger: logger('capture') }));
    ff.http('testCreateSnapshots', createSnapshotsHandler({ provider, store, actor, logger: logger('snapshots') }));
    for (const name of ['testPreservationRequested', 'testSccFinding', 'testSccFindingSink', 'testPreserveHttp', 'testCaptureInstance', 'testCreateSnapshots']) await serve(name);
  });

  afterEach(() => {
    nock.cleanAll();
    logs.length = 0;
  });

  describe('Function: preservationRequested', () => {
    it('starts one instance workflow per instance and one log workflow, once for a message delivered twice', async () => {
      // Prepare
      const executions = fakeWorkflows();
      const data = request({ case: 'Case-GCP-1', accountId: PROJECT, region: ZONE, instanceIds: [INSTANCE], window: { since: '2026-03-14T00:00:00Z', until: '2026-03-14T10:00:00Z' } });

      // Act
      const first = await deliver('testPreservationRequested', data, 'm-100');
      const second = await deliver('testPreservationRequested', data, 'm-100');

      // Assess
      expect([first.status, second.status]).toEqual([204, 204]);
      expect(executions.map((e) => e.workflow)).toEqual([workflows.instance, workflows.logs]);
      expect(executions[0]?.argument).toMatchObject({ case: 'Case-GCP-1', accountId: PROJECT, region: ZONE, instanceId: INSTANCE, requestId: 'm-100', isolate: false });
      expect(logs.map((l) => l.message)).toEqual(['preservation started', 'preservation already started (duplicate message)']);
    });

    it('refuses a message that is not JSON, naming the message and the position, and starts nothing', async () => {
      // Prepare
      const executions = fakeWorkflows();

      // Act
      const res = await deliver('testPreservationRequested', Buffer.from('{"source": "amber", oops}').toString('base64'), 'm-bad');

      // Assess
      expect(res.status).toBe(204);
      expect(executions).toEqual([]);
      expect(logs[0]).toMatchObject({ severity: 'ERROR', message: 'message refused', messageId: 'm-bad', code: 'INVALID_INPUT' });
      expect(String(logs[0]?.error)).toMatch(/Pub\/Sub message m-bad is not JSON \(at character \d+\)/);
    });

    it('passes a log sink the message names to the log workflow, and only to it', async () => {
      // Prepare
      const executions = fakeWorkflows();
      const logSink = 'gs://audit-sink/cloudaudit.googleapis.com/';

      // Act
      await deliver('testPreservationRequested', request({ case: 'Case-GCP-Sink', accountId: PROJECT, region: ZONE, instanceIds: [INSTANCE], window: { since: '2026-03-14T00:00:00Z', until: '2026-03-14T10:00:00Z' }, logSink }), 'm-sink');

      // Assess
      expect(executions.map((e) => e.workflow)).toEqual([workflows.instance, workflows.logs]);
      expect(executions[1]?.argument).toMatchObject({ case: 'Case-GCP-Sink', accounts: [PROJECT], logSink });
      expect(executions[0]?.argument).not.toHaveProperty('logSink');
    });

    it('refuses a log sink that is not a Cloud Storage location, or that comes without a window, and starts nothing', async () => {
      // Prepare
      const executions = fakeWorkflows();

      // Act
      await deliver('testPreservationRequested', request({ case: 'c1', accountId: PROJECT, region: ZONE, instanceIds: [INSTANCE], window: { since: '2026-03-14T00:00:00Z', until: '2026-03-14T10:00:00Z' }, logSink: 's3://audit-sink' }), 'm-sink-s3');
      await deliver('testPreservationRequested', request({ case: 'c1', accountId: PROJECT, region: ZONE, instanceIds: [INSTANCE], logSink: 'gs://audit-sink' }), 'm-sink-nowindow');

      // Assess
      expect(executions).toEqual([]);
      expect(logs.map((l) => l.messageId)).toEqual(['m-sink-s3', 'm-sink-nowindow']);
      expect(String(logs[0]?.error)).toContain('logSink: "s3://audit-sink" is not a Cloud Storage location');
      expect(String(logs[1]?.error)).toContain('logSink needs a window');
    });

    it('refuses a request with a bad zone or instance name, naming each', async () => {
      // Prepare
      const executions = fakeWorkflows();

      // Act
      await deliver('testPreservationRequested', request({ case: 'c1', accountId: PROJECT, region: 'mars-1', instanceIds: ['Web_1'] }), 'm-ids');

      // Assess
      expect(executions).toEqual([]);
      expect(String(logs[0]?.error)).toContain('not a Compute Engine zone: "mars-1"');
      expect(String(logs[0]?.error)).toContain('not a Compute Engine instance name or id: "Web_1"');
    });
  });

  describe('Function: sccFinding', () => {
    const finding = (severity: string): string => Buffer.from(JSON.stringify({
      notificationConfigName: 'organizations/123456789012/notificationConfigs/amber',
      finding: { name: 'organizations/123456789012/sources/5678/findings/f0a1b2c3', parent: 'organizations/123456789012/sources/5678', resourceName: `//compute.googleapis.com/projects/${PROJECT}/zones/${ZONE}/instances/4567890123456789012`, state: 'ACTIVE', category: 'Execution: Cryptocurrency Mining Hash Match', severity, eventTime: '2026-03-14T09:30:00Z', createTime: '2026-03-14T09:31:00Z' },
    })).toString('base64');

    it('preserves the instance of a finding at or above the threshold, with the 24 hours before it', async () => {
      // Prepare
      const executions = fakeWorkflows();

      // Act
      await deliver('testSccFinding', finding('CRITICAL'), 'm-scc-1');

      // Assess
      expect(executions[0]?.argument).toMatchObject({ case: 'scc-f0a1b2c3', instanceId: '4567890123456789012', requestId: 'scc-f0a1b2c3' });
      expect(executions[1]?.argument).toMatchObject({ since: '2026-03-13T09:30:00Z', until: '2026-03-14T09:30:00Z' });
    });

    it('preserves the log sink the deployment names with a finding\'s window', async () => {
      // Prepare
      const executions = fakeWorkflows();

      // Act
      await deliver('testSccFindingSink', finding('HIGH'), 'm-scc-sink');

      // Assess
      expect(executions[1]?.argument).toMatchObject({ since: '2026-03-13T09:30:00Z', until: '2026-03-14T09:30:00Z', logSink: 'gs://audit-sink/cloudaudit.googleapis.com/' });
    });

    it('ignores a finding below the threshold, saying why', async () => {
      // Prepare
      const executions = fakeWorkflows();

      // Act
      await deliver('testSccFinding', finding('MEDIUM'), 'm-scc-2');

      // Assess
      expect(executions).toEqual([]);
      expect(logs[0]).toMatchObject({ message: 'finding ignored', reason: 'severity MEDIUM is below the threshold HIGH' });
    });
  });

  describe('Function: preserveHttp', () => {
    it('answers 400 naming the problem for a request without a case', async () => {
      // Prepare
      fakeWorkflows();

      // Act
      const res = await post('testPreserveHttp', { source: 'amber', 'detail-type': 'Preservation Requested', detail: { accountId: PROJECT, region: ZONE, instanceIds: [INSTANCE], requestId: 'r1' } });

      // Assess
      expect(res.status).toBe(400);
      expect(String(res.json.error)).toMatch(/invalid preservation request r1: .*case/);
    });
  });

  describe('Functions: captureInstance, createSnapshots', () => {
    const task = { case: 'Case-GCP-2', accountId: PROJECT, region: ZONE, instanceId: INSTANCE, requestId: 'req-77', isolate: false };

    it('preserves the metadata once and records it once when the step runs twice', async () => {
      // Prepare
      fakeGce();

      // Act
      const first = await post('testCaptureInstance', task);
      const second = await post('testCaptureInstance', task);

      // Assess
      expect([first.status, second.status]).toEqual([200, 200]);
      expect(second.json.evidenceKeys).toEqual(first.json.evidenceKeys);
      const ledger = await CustodyLedger.open(store, 'Case-GCP-2');
      const acquired = ledger.entries.filter((e) => e.action === 'acquired');
      expect(acquired).toHaveLength(1);
      expect(acquired[0]?.items).toHaveLength(7);
      for (const item of acquired[0]?.items ?? []) expect(item.sha256).toMatch(/^[0-9a-f]{64}$/);
    });

    it('records a failed step in the ledger naming an unknown instance, and answers 400', async () => {
      // Prepare
      fakeGce();

      // Act
      const res = await post('testCaptureInstance', { ...task, case: 'Case-GCP-3', instanceId: 'ghost-1' });

      // Assess
      expect(res.status).toBe(400);
      expect(res.json.code).toBe('INSTANCE_NOT_FOUND');
      const ledger = await CustodyLedger.open(store, 'Case-GCP-3');
      expect(JSON.stringify(ledger.entries)).toContain(`instance ghost-1 was not found in account ${PROJECT}, region ${ZONE}`);
      expect(ledger.entries.some((e) => (e.detail as { status?: string } | undefined)?.status === 'failed')).toBe(true);
    });

    it('records a failed step naming the missing permission', async () => {
      // Prepare
      fakeGce({ denied: 'compute.instances.get' });

      // Act
      const res = await post('testCaptureInstance', { ...task, case: 'Case-GCP-4' });

      // Assess
      expect(res.status).toBe(400);
      expect(String(res.json.hint)).toContain('compute.instances.get');
      const ledger = await CustodyLedger.open(store, 'Case-GCP-4');
      expect(JSON.stringify(ledger.entries)).toContain("Required 'compute.instances.get' permission");
    });

    it('snapshots the disks once for a step run twice, and records the disk whose snapshot was refused', async () => {
      // Prepare
      const gce = fakeGce({ failingDisks: ['web-1-data'] });
      const body = { ...task, case: 'Case-GCP-5', volumeIds: ['web-1', 'web-1-data'] };

      // Act
      const first = await post('testCreateSnapshots', body);
      const second = await post('testCreateSnapshots', body);

      // Assess
      expect(first.json.uncoveredVolumes).toEqual(['web-1-data']);
      expect(second.json.reused).toBe(true);
      expect(gce.snapshots.size).toBe(1);
      const ledger = await CustodyLedger.open(store, 'Case-GCP-5');
      expect(JSON.stringify(ledger.entries)).toContain('disk web-1-data of web-1 could not be snapshotted');
      expect(JSON.stringify(ledger.entries).split('could not be snapshotted')).toHaveLength(2);
    });
  });
});
