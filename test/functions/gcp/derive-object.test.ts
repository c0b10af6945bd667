/**
 * The derive function as Cloud Functions serves it: the Functions Framework's test server on 127.0.0.1 receives
 * Eventarc's Cloud Storage "object finalized" CloudEvents (binary mode); the evidence locker is a bucket of the
 * Cloud Storage fake, holding objects preserved and recorded as the preservation steps do.
 */
import * as ff from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GcsObjectStore } from '../../../functions/gcp/adapters/gcs-object-store.ts';
import { deriveObjectHandler, type DeriveObjectDeps } from '../../../functions/gcp/handlers/derive-object.ts';
import { createLogger } from '../../../functions/gcp/runtime.ts';
import { itemId } from '../../../shared/evidence/collect.ts';
import { sha256Hex } from '../../../shared/evidence/hashing.ts';
import { CustodyLedger } from '../../../shared/evidence/ledger.ts';
import type { EvidenceItem } from '../../../shared/evidence/model.ts';
import { recordCustody } from '../../../shared/preservation/custody.ts';
import { FakeGcs } from '../../helpers/fake-gcs.ts';
import nock from '../../helpers/nock.ts';

const actor = { principal: 'serviceAccount:amber-derive@amber-evidence.iam.gserviceaccount.com', tool: 'amber/test' };
const logs: Record<string, unknown>[] = [];
const NOW = Date.parse('2026-03-15T00:00:00Z');

let gcs: FakeGcs;
let url = '';
let store: GcsObjectStore;
let caseNumber = 0;

/** One Cloud Audit Log entry (LogEntry JSON, as Cloud Logging returns it). */
function entry(project: string, time: string, method: string, insertId: string): Record<string, unknown> {
  return {
    protoPayload: {
      '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
      status: {},
      authenticationInfo: { principalEmail: 'mallory@example.com' },
      requestMetadata: { callerIp: '203.0.113.7' },
      serviceName: 'iam.googleapis.com',
      methodName: method,
      resourceName: `projects/${project}/serviceAccounts/sa@${project}.iam.gserviceaccount.com`,
    },
    insertId,
    resource: { type: 'service_account', labels: { project_id: project } },
    timestamp: time,
    severity: 'NOTICE',
    logName: `projects/${project}/logs/cloudaudit.googleapis.com%2Factivity`,
    receiveTimestamp: time,
  };
}

/** An entries.list response page (`{entries, nextPageToken}`), as log preservation keeps it. */
const page = (entries: Record<string, unknown>[]): string => `${JSON.stringify({ entries })}\n`;

/** Preserves bytes into a case and records them as acquired, as the preservation steps do. */
async function preserve(caseName: string, relPath: string, body: string): Promise<EvidenceItem> {
  const key = `cases/${caseName}/${relPath}`;
  const stored = await store.putImmutable(key, Buffer.from(body), { mediaType: 'application/json' });
  const item: EvidenceItem = { id: itemId(key), case: caseName, origin: `api:gcp-logging?test=${relPath}`, key, size: stored.size, sha256: stored.sha256, acquiredAt: '2026-03-14T12:00:00.000Z', acquiredBy: actor.principal, retainUntil: null, mediaType: 'application/json', ...(stored.versionId ? { versionId: stored.versionId } : {}) };
  await recordCustody({ store, actor }, { case: caseName, requestId: `r-${relPath}`, step: 'preserve-logs', action: 'acquired', batches: [{ items: [item] }] });
  return item;
}

/** Delivers a Cloud Storage "object finalized" event (binary-mode CloudEvent, StorageObjectData body). */
async function finalized(name: string, timeCreated = '2026-03-14T12:00:00.000Z', bucket = 'evidence'): Promise<number> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'ce-id': `evt-${name}`,
      'ce-specversion': '1.0',
      'ce-type': 'google.cloud.storage.object.v1.finalized',
      'ce-source': `//storage.googleapis.com/projects/_/buckets/${bucket}`,
      'ce-subject': `objects/${name}`,
    },
    body: JSON.stringify({ kind: 'storage#object', bucket, name, generation: '1', metageneration: '1', contentType: 'application/json', timeCreated, size: '1' }),
  });
  await res.arrayBuffer();
  return res.status;
}

const freshCase = (): string => `Case-Derive-${++caseNumber}`;
const derivedUnder = (prefix: string): string[] => gcs.names('evidence').filter((n) => n.startsWith(prefix)).sort();

describe('Function: deriveObject', () => {
  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    gcs = await new FakeGcs().start();
    gcs.bucket('evidence', { versioning: true, objectRetention: true });
    store = new GcsObjectStore({ bucket: 'evidence', baseUrl: gcs.url, token: async () => gcs.token });
    const deps: DeriveObjectDeps = { store, bucket: 'evidence', prefix: '', actor, logger: createLogger('deriveObject', (line) => logs.push(JSON.parse(line) as Record<string, unknown>)), now: () => NOW, retainUntil: () => new Date(NOW + 365 * 86_400_000) };
    ff.cloudEvent('testDeriveObject', deriveObjectHandler(deps));
    const server: Server = getTestServer('testDeriveObject');
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    afterAll(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await gcs.stop();
    });
  });

  afterEach(() => {
    logs.length = 0;
  });

  it('writes the rows of a preserved audit log page under hive partitions (case, account, day), each citing its record', async () => {
    // Prepare
    const caseName = freshCase();
    const item = await preserve(caseName, 'gcp/logging-api/p/page-1.json', page([
      entry('amber-prod', '2026-03-14T01:00:00Z', 'google.iam.admin.v1.CreateServiceAccountKey', 'a1'),
      entry('amber-dev', '2026-03-14T02:00:00Z', 'google.iam.admin.v1.CreateServiceAccountKey', 'a2'),
      entry('amber-prod', '2026-03-15T00:30:00Z', 'SetIamPolicy', 'a3'),
    ]));

    // Act
    const status = await finalized(item.key);

    // Assess
    expect(status).toBe(204);
    const base = `derived/gcp_audit/case=${caseName}/`;
    expect(derivedUnder(base)).toEqual([
      `${base}account=amber-dev/day=2026-03-14/${item.id}.ndjson`,
      `${base}account=amber-prod/day=2026-03-14/${item.id}.ndjson`,
      `${base}account=amber-prod/day=2026-03-15/${item.id}.ndjson`,
    ]);
    const prod14 = gcs.read('evidence', `${base}account=amber-prod/day=2026-03-14/${item.id}.ndjson`)!.toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(prod14).toEqual([expect.objectContaining({ evidence_key: item.key, evidence_record: 0, project_id: 'amber-prod', insert_id: 'a1', method_name: 'google.iam.admin.v1.CreateServiceAccountKey', time: '2026-03-14T01:00:00Z' })]);
    const dev = JSON.parse(gcs.read('evidence', `${base}account=amber-dev/day=2026-03-14/${item.id}.ndjson`)!.toString('utf8')) as Record<string, unknown>;
    expect(dev).toMatchObject({ evidence_key: item.key, evidence_record: 1, insert_id: 'a2' });
    // Write-once like any evidence: each derived object is locked until the deployment's retention ends.
    expect(gcs.generations('evidence', `${base}account=amber-dev/day=2026-03-14/${item.id}.ndjson`)[0]?.retention).toEqual({ mode: 'Locked', retainUntilTime: '2027-03-15T00:00:00.000Z' });
  });

  it('records the derived objects as evidence items in one derived entry carrying the input SHA-256, once for an event delivered twice', async () => {
    // Prepare
    const caseName = freshCase();
    const body = page([entry('amber-prod', '2026-03-14T01:00:00Z', 'SetIamPolicy', 'b1'), entry('amber-prod', '2026-03-14T01:05:00Z', 'SetIamPolicy', 'b2')]);
    const item = await preserve(caseName, 'gcp/logging-api/p/page-2.json', body);

    // Act
    const first = await finalized(item.key);
    const objectsAfterFirst = derivedUnder(`derived/gcp_audit/case=${caseName}/`).map((n) => gcs.read('evidence', n)!.toString('utf8'));
    const second = await finalized(item.key);

    // Assess
    expect([first, second]).toEqual([204, 204]);
    const ledger = await CustodyLedger.open(store, caseName);
    const derived = ledger.entries.filter((e) => e.action === 'derived');
    expect(derived).toHaveLength(1);
    expect(derived[0]?.detail).toMatchObject({ from: item.key, fromSha256: sha256Hex(body), parser: 'gcp-audit', table: 'gcp_audit', rows: 2, problems: 0 });
    const [out] = derived[0]?.items ?? [];
    const key = `derived/gcp_audit/case=${caseName}/account=amber-prod/day=2026-03-14/${item.id}.ndjson`;
    expect(out).toMatchObject({ key, derivedFrom: item.id, case: caseName, mediaType: 'application/x-ndjson', sha256: sha256Hex(gcs.read('evidence', key)!) });
    expect(derivedUnder(`derived/gcp_audit/case=${caseName}/`).map((n) => gcs.read('evidence', n)!.toString('utf8'))).toEqual(objectsAfterFirst);
    expect(logs.map((l) => l.message)).toEqual(['rows derived', 'rows already derived (duplicate event)']);
  });

  it('derives nothing from an object whose bytes no longer match its custody record, and records the integrity failure', async () => {
    // Prepare
    const caseName = freshCase();
    const item = await preserve(caseName, 'gcp/logging-api/p/page-3.json', page([entry('amber-prod', '2026-03-14T01:00:00Z', 'SetIamPolicy', 'c1')]));
    gcs.tamper('evidence', item.key, page([entry('amber-prod', '2026-03-14T01:00:00Z', 'Innocent', 'c1')]));

    // Act
    const status = await finalized(item.key);

    // Assess
    expect(status).toBe(204);
    expect(derivedUnder(`derived/gcp_audit/case=${caseName}/`)).toEqual([]);
    const ledger = await CustodyLedger.open(store, caseName);
    const failed = ledger.entries.filter((e) => e.detail?.step === 'derive-rows');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ action: 'accessed', detail: { status: 'failed', codes: ['INTEGRITY'], from: item.key, fromSha256: item.sha256 } });
    expect(JSON.stringify(failed[0]?.detail)).toContain(`${item.key} has SHA-256`);
  });

  it("ignores Amber's own records and the derived rows, writing and recording nothing", async () => {
    // Prepare
    const caseName = freshCase();
    const item = await preserve(caseName, 'gcp/logging-api/p/page-4.json', page([entry('amber-prod', '2026-03-14T01:00:00Z', 'SetIamPolicy', 'd1')]));
    const ledgerBefore = (await CustodyLedger.open(store, caseName)).entries.length;
    const objectsBefore = gcs.names('evidence').length;

    // Act
    await finalized(`cases/${caseName}/custody-ledger.jsonl`, new Date(NOW).toISOString());
    await finalized(`cases/${caseName}/_amber/checkpoints/0000000001.json`, new Date(NOW).toISOString());
    await finalized(`derived/gcp_audit/case=${caseName}/account=amber-prod/day=2026-03-14/${item.id}.ndjson`);
    await finalized(item.key, undefined, 'some-other-bucket');

    // Assess
    expect(gcs.names('evidence')).toHaveLength(objectsBefore);
    expect((await CustodyLedger.open(store, caseName)).entries).toHaveLength(ledgerBefore);
    expect(logs.map((l) => l.message)).toEqual(['object ignored', 'object ignored', 'object ignored', 'object ignored']);
    expect(String(logs[0]?.reason)).toContain("Amber's own record");
    expect(String(logs[1]?.reason)).toContain("Amber's own record");
  });

  it('asks for redelivery while the custody record of a new object is not there yet, and gives up on an old unrecorded one', async () => {
    // Prepare
    const caseName = freshCase();
    const key = `cases/${caseName}/gcp/logging-api/p/page-5.json`;
    await store.putImmutable(key, Buffer.from(page([entry('amber-prod', '2026-03-14T01:00:00Z', 'SetIamPolicy', 'e1')])));

    // Act
    const fresh = await finalized(key, new Date(NOW - 60_000).toISOString());
    const old = await finalized(key, '2026-03-13T00:00:00Z');

    // Assess
    expect(fresh).toBe(500);
    expect(old).toBe(204);
    expect(logs.map((l) => l.message)).toEqual(['object not recorded yet; retried', 'object ignored']);
    expect(String(logs[1]?.reason)).toContain('is not recorded in the custody ledger');
    expect(derivedUnder(`derived/gcp_audit/case=${caseName}/`)).toEqual([]);
  });

  it('leaves an object no parser claims underived, saying why', async () => {
    // Prepare
    const caseName = freshCase();
    const item = await preserve(caseName, 'notes/readme.txt', 'not a log\n');

    // Act
    await finalized(item.key);

    // Assess
    expect(logs[0]).toMatchObject({ message: 'object not derived', key: item.key });
    expect((await CustodyLedger.open(store, caseName)).entries.filter((e) => e.action === 'derived')).toEqual([]);
  });
});
