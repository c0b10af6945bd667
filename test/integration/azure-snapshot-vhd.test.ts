/**
 * A snapshot exported as a hashed VHD into an Azure Blob locker (Azurite): ARM's beginGetAccess and endGetAccess
 * answered at the HTTP layer (nock) with their documented shapes (202 with Azure-AsyncOperation and Location; the
 * operation status; the Location result `{"accessSAS": ...}`), the SAS URL served by a local HTTP server on
 * 127.0.0.1. The VHD is stored byte for byte with Amber's SHA-256, recorded in the ledger under an origin without
 * the SAS, and endGetAccess is called whether the copy worked or not.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BlobServiceClient } from '@azure/storage-blob';
import { ArmRest } from '../../functions/azure/adapters/arm-rest.ts';
import { BlobObjectStore } from '../../functions/azure/adapters/blob-object-store.ts';
import { exportSnapshotVhd } from '../../functions/azure/snapshot-vhd-export.ts';
import { CustodyLedger } from '../../shared/evidence/ledger.ts';
import { verifyCase } from '../../shared/evidence/verify.ts';
import { ARM, SUB, fakeCredential } from '../helpers/fake-arm.ts';
import nock from '../helpers/nock.ts';

const connection = process.env.AMBER_AZURITE === '1' ? process.env.AZURE_STORAGE_CONNECTION_STRING : undefined;
if (!connection) console.warn('[azure-snapshot-vhd] skipped: no Azurite (set -a; . /work/azurite/env; set +a, or bash scripts/azurite.sh start .azurite)');

const SNAPSHOT = `/subscriptions/${SUB}/resourceGroups/rg-evidence/providers/Microsoft.Compute/snapshots/amber-inc-9-osdisk`;
const ACTOR = { principal: 'azure-mi:test', tool: 'amber/test' };
// A small "VHD": data, then the 512-byte footer a fixed VHD ends with ("conectix" cookie).
const VHD = Buffer.concat([randomBytes(3 * 1024 * 1024 + 17), Buffer.from('conectix'), Buffer.alloc(504)]);
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

let server: Server;
let sasBase = '';
let served: { url: string; truncated: boolean }[] = [];
let truncate = false;

beforeAll(async () => {
  server = createServer((req, res) => {
    served.push({ url: req.url ?? '', truncated: truncate });
    if (!/sig=secret-signature/.test(req.url ?? '')) {
      res.writeHead(403).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(VHD.length), 'x-ms-blob-type': 'PageBlob' });
    if (truncate) {
      res.write(VHD.subarray(0, 1024));
      res.destroy();
      return;
    }
    res.end(VHD);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  sasBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

let calls: string[];
beforeEach(() => {
  served = [];
  truncate = false;
  calls = [];
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

/** ARM's answers: beginGetAccess as a long-running operation (Azure-AsyncOperation polled, result at Location), endGetAccess the same. */
function armAnswers(options: { beginStatus?: number } = {}): void {
  const op = (name: string) => `${ARM}/subscriptions/${SUB}/providers/Microsoft.Compute/locations/westeurope/operations/${name}?api-version=2025-01-02`;
  const scope = nock(ARM);
  // nock 15 hands a reply function the request (a fetch Request).
  scope.post(`${SNAPSHOT}/beginGetAccess`).query(true).reply(async (request: Request) => {
    calls.push(`begin ${JSON.stringify(await request.json())}`);
    if (options.beginStatus) return [options.beginStatus, { error: { code: 'AuthorizationFailed', message: 'The client does not have authorization to perform action Microsoft.Compute/snapshots/beginGetAccess/action' } }];
    return [202, '', { 'Azure-AsyncOperation': op('begin-1'), Location: `${op('begin-1')}&monitor=true`, 'Retry-After': '0' }];
  });
  scope.get('/subscriptions/' + SUB + '/providers/Microsoft.Compute/locations/westeurope/operations/begin-1').query((q) => q.monitor === undefined).times(2).reply(() => {
    calls.push('begin status');
    return [200, { name: 'begin-1', status: calls.filter((c) => c === 'begin status').length < 2 ? 'InProgress' : 'Succeeded', startTime: '2026-12-08T00:00:00Z' }];
  });
  scope.get('/subscriptions/' + SUB + '/providers/Microsoft.Compute/locations/westeurope/operations/begin-1').query((q) => q.monitor === 'true').reply(200, { accessSAS: `${sasBase}/md-abc/abcd?sv=2018-03-28&sr=b&si=x&sig=secret-signature` });
  scope.post(`${SNAPSHOT}/endGetAccess`).query(true).reply(() => {
    calls.push('end');
    return [202, '', { Location: op('end-1'), 'Retry-After': '0' }];
  });
  scope.get('/subscriptions/' + SUB + '/providers/Microsoft.Compute/locations/westeurope/operations/end-1').query(true).reply(200);
}

async function newStore(): Promise<BlobObjectStore> {
  const service = BlobServiceClient.fromConnectionString(connection!);
  const container = `amber-vhd-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  await service.getContainerClient(container).create();
  return BlobObjectStore.open({ service, account: 'devstoreaccount1', container });
}

const arm = (): ArmRest => new ArmRest({ credential: fakeCredential, pollIntervalMs: 1, sleep: () => Promise.resolve() });

describe.skipIf(!connection)('Azure snapshot exported as a hashed VHD (Azurite)', () => {
  it('stores the VHD byte for byte with its SHA-256, records it without the SAS, and ends the access', async () => {
    armAnswers();
    const store = await newStore();

    const out = await exportSnapshotVhd({ arm: arm(), store, actor: ACTOR }, { case: 'INC-9', requestId: 'req-9', snapshotId: SNAPSHOT, durationSeconds: 3600 });

    expect(calls[0]).toBe('begin {"access":"Read","durationInSeconds":3600}');
    expect(calls.at(-1)).toBe('end');
    expect(out.item).toMatchObject({ key: 'cases/INC-9/azure/snapshots/' + SUB + '/rg-evidence/amber-inc-9-osdisk.vhd', size: VHD.length, sha256: sha(VHD), origin: `azure-snapshot:${SNAPSHOT}`, mediaType: 'application/x-vhd' });
    const chunks: Buffer[] = [];
    for await (const c of await store.get(out.item.key)) chunks.push(Buffer.from(c as Buffer));
    expect(sha(Buffer.concat(chunks))).toBe(sha(VHD));
    const ledger = await CustodyLedger.open(store, 'INC-9');
    expect(ledger.items().get(out.item.key)?.sha256).toBe(sha(VHD));
    expect(JSON.stringify(ledger.entries)).not.toContain('secret-signature');
    expect((await verifyCase({ store, caseName: 'INC-9', actor: ACTOR, record: false })).failures).toEqual([]);
  });

  it('ends the access and records nothing when the copy breaks off', async () => {
    armAnswers();
    truncate = true;
    const store = await newStore();

    await expect(exportSnapshotVhd({ arm: arm(), store, actor: ACTOR }, { case: 'INC-9', requestId: 'req-9', snapshotId: SNAPSHOT })).rejects.toThrow();

    expect(calls.at(-1)).toBe('end');
    const ledger = await CustodyLedger.open(store, 'INC-9').catch(() => undefined);
    expect([...(ledger?.items().keys() ?? [])].filter((k) => k.endsWith('.vhd'))).toEqual([]);
  });

  it('a refused beginGetAccess names the action, and endGetAccess is still called', async () => {
    armAnswers({ beginStatus: 403 });
    const store = await newStore();

    await expect(exportSnapshotVhd({ arm: arm(), store, actor: ACTOR }, { case: 'INC-9', requestId: 'req-9', snapshotId: SNAPSHOT })).rejects.toMatchObject({ code: 'CLOUD_CALL_FAILED', retryable: false, message: expect.stringContaining('beginGetAccess/action') as unknown });
    expect(calls).toContain('end');
    expect(served).toEqual([]);
  });
});

describe('exportSnapshotVhd input', () => {
  it('refuses what is not a snapshot id before any call', async () => {
    await expect(exportSnapshotVhd({ arm: arm(), store: undefined as never, actor: ACTOR }, { case: 'C', requestId: 'r', snapshotId: '/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/disks/d' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
