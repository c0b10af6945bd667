/**
 * VM preservation asked to export its snapshots as VHDs (`exportVhd: true` in the "Amber.PreservationRequested"
 * data): the handler invoked directly, ARM answered at the HTTP layer by the FakeArm (nock: beginGetAccess as a
 * long-running operation whose Location answer holds `accessSAS`, endGetAccess, the SAS blob serving the VHD),
 * evidence in a local write-once locker.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { HttpRequest, InvocationContext, type EventGridEvent } from '@azure/functions';
import '../../helpers/promise-with-resolvers.ts';
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArmRest } from '../../../functions/azure/adapters/arm-rest.ts';
import { ManagedDiskSnapshotProvider } from '../../../functions/azure/adapters/managed-disk-snapshot-provider.ts';
import { parseVmRef } from '../../../functions/azure/adapters/arm.ts';
import { eventGridHandler, preserveHttpHandler, RetryablePreservationError, type PreservationDeps } from '../../../functions/azure/handlers/preservation.ts';
import { CustodyLedger } from '../../../shared/evidence/ledger.ts';
import { LocalObjectStore } from '../../../shared/evidence/local-object-store.ts';
import { ledgerKey } from '../../../shared/evidence/names.ts';
import { verifyCase } from '../../../shared/evidence/verify.ts';
import { FakeArm, LOC, SUB, fakeCredential } from '../../helpers/fake-arm.ts';
import { tempDir } from '../../helpers/tmp.ts';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const ACTOR = { principal: 'azure-mi:test', tool: 'amber/test' };

let arm: FakeArm;
let store: LocalObjectStore;
let deps: PreservationDeps;

function context(): InvocationContext {
  return new InvocationContext({ invocationId: 'inv-1', functionName: 'preservation-event', logHandler: () => undefined });
}

function event(data: Record<string, unknown>, id = 'evt-1'): EventGridEvent {
  return { id, eventType: 'Amber.PreservationRequested', subject: 'amber/preserve', eventTime: '2026-12-01T10:00:00Z', dataVersion: '1.0', metadataVersion: '1', topic: `/subscriptions/${SUB}/resourceGroups/rg-amber/providers/Microsoft.EventGrid/topics/amber`, data };
}

const request = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ case: 'INC-77', instanceIds: ['rg-web:vm-web-1'], accountId: SUB, region: LOC, isolate: false, requestId: 'req-77', ...extra });

function steps(l: CustodyLedger): string[] {
  return l.entries.map((e) => (e.action === 'sealed' ? 'sealed' : String((e.detail as { step?: unknown } | undefined)?.step ?? e.action)));
}

beforeEach(async () => {
  nock.disableNetConnect();
  arm = new FakeArm();
  arm.install();
  store = await LocalObjectStore.open(await tempDir('amber-azure-vhd-'), { create: true });
  const provider = new ManagedDiskSnapshotProvider({ credential: fakeCredential, snapshotResourceGroup: 'rg-evidence', pollIntervalMs: 1 });
  deps = {
    provider,
    arm: new ArmRest({ credential: fakeCredential, pollIntervalMs: 1, sleep: () => Promise.resolve() }),
    store,
    actor: ACTOR,
    triggers: { defenderMinSeverity: 'Medium', defaultWindowHours: 24, locate: (s, vm) => provider.locationOf(s, parseVmRef(vm)) },
  };
});

afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('Azure VM preservation with exportVhd', () => {
  it('exports every snapshot after they are complete, byte for byte with its SHA-256, each a ledger step, the SAS never kept and always revoked', async () => {
    arm.addVm({ resourceGroup: 'rg-web', name: 'vm-web-1', dataDisks: 1 });
    const result = await eventGridHandler(async () => deps)(event(request({ exportVhd: true })), context());

    const vm = result.requests[0]!.vms[0]!;
    expect(vm.status).toBe('preserved');
    expect(vm.snapshots.map((s) => s.state)).toEqual(['completed', 'completed']);
    expect(vm.exports!.map((x) => [x.snapshotId, x.status])).toEqual(vm.snapshots.map((s) => [s.snapshotId, 'exported']));
    // A read SAS for each snapshot, 4 hours by default, then its revocation, one snapshot after the other.
    expect(arm.access).toEqual(vm.snapshots.flatMap((s) => [`begin ${s.snapshotId} {"access":"Read","durationInSeconds":14400}`, `end ${s.snapshotId}`]));
    // The snapshots were complete before any export started.
    const firstBegin = arm.calls.findIndex((c) => c.endsWith('/beginGetAccess'));
    const lastSnapshotRead = arm.calls.map((c, i) => (c.startsWith('GET ') && c.includes('/snapshots/') ? i : -1)).filter((i) => i >= 0).at(-1)!;
    expect(firstBegin).toBeGreaterThan(lastSnapshotRead);

    const l = await CustodyLedger.open(store, 'INC-77');
    for (const x of vm.exports!) {
      const expected = FakeArm.vhdOf(x.snapshotId);
      const name = x.snapshotId.split('/').pop()!;
      expect(x.key).toBe(`cases/INC-77/azure/snapshots/${SUB}/rg-evidence/${name}.vhd`);
      const bytes = await readFile(store.pathOf(x.key!));
      expect(bytes.equals(expected)).toBe(true);
      expect(x.sha256).toBe(sha256(expected));
      expect(l.items().get(x.key!)).toMatchObject({ sha256: sha256(expected), size: expected.length, origin: `azure-snapshot:${x.snapshotId}`, mediaType: 'application/x-vhd' });
    }
    expect(steps(l)).toEqual(['capture-instance', 'create-snapshots', 'snapshots-checked', 'export-snapshot-vhd', 'sealed', 'export-snapshot-vhd', 'sealed', 'instance-preserved', 'sealed']);
    expect(await readFile(store.pathOf(ledgerKey('INC-77')), 'utf8')).not.toContain('SECRETSIG3');
    expect((await verifyCase({ store, caseName: 'INC-77', actor: ACTOR, record: false })).failures).toEqual([]);
  });

  it('without exportVhd no access is asked for; a non-boolean exportVhd is refused naming the field', async () => {
    arm.addVm({ resourceGroup: 'rg-web', name: 'vm-web-1' });
    const plain = await eventGridHandler(async () => deps)(event(request()), context());
    expect(plain.requests[0]!.vms[0]!.status).toBe('preserved');
    expect(plain.requests[0]!.vms[0]!.exports).toBeUndefined();
    expect(arm.access).toEqual([]);
    expect(arm.vhdReads).toEqual([]);

    const bad = await eventGridHandler(async () => deps)(event(request({ case: 'INC-78', exportVhd: 'yes' }), 'evt-2'), context());
    expect(bad.rejected?.message).toContain('data.exportVhd must be true or false, got "yes"');
    expect(arm.access).toEqual([]);
  });

  it('the same event delivered again exports nothing twice: no new SAS, no new read, no new ledger entry', async () => {
    arm.addVm({ resourceGroup: 'rg-web', name: 'vm-web-1', dataDisks: 1 });
    const handler = eventGridHandler(async () => deps);
    const e = event(request({ exportVhd: true }));
    const first = await handler(e, context());
    const entries = (await CustodyLedger.open(store, 'INC-77')).entries.length;
    const access = arm.access.length;
    const reads = arm.vhdReads.length;

    const second = await handler(e, context());

    expect(second.requests[0]!.vms[0]!.exports!.map((x) => x.status)).toEqual(['already exported', 'already exported']);
    expect(second.requests[0]!.vms[0]!.exports!.map((x) => x.sha256)).toEqual(first.requests[0]!.vms[0]!.exports!.map((x) => x.sha256));
    expect(arm.access).toHaveLength(access);
    expect(arm.vhdReads).toHaveLength(reads);
    expect((await CustodyLedger.open(store, 'INC-77')).entries).toHaveLength(entries);
  });

  it('a refused export is recorded with its reason, keeps the snapshots and the other export, and a later delivery exports only what is missing', async () => {
    const { diskIds } = arm.addVm({ resourceGroup: 'rg-web', name: 'vm-web-1', dataDisks: 1 });
    const handler = eventGridHandler(async () => deps);
    const e = event(request({ exportVhd: true }));
    // The identity may not read the OS disk's snapshot (a role assignment missing on it).
    arm.denyGetAccess.add(diskIds[0]!.toLowerCase());

    const result = await handler(e, context());

    const vm = result.requests[0]!.vms[0]!;
    expect(vm.status).toBe('preserved');
    const [os, data] = vm.exports!;
    expect(os).toMatchObject({ status: 'failed', retryable: false });
    expect(os!.reason).toContain('Microsoft.Compute/snapshots/beginGetAccess/action');
    expect(data).toMatchObject({ status: 'exported' });
    // The refused one was still ended (endGetAccess), its VHD never read, and no snapshot was deleted.
    expect(arm.access).toContain(`end ${os!.snapshotId}`);
    expect(arm.vhdReads.some((p) => decodeURIComponent(p).includes(os!.snapshotId.toLowerCase()))).toBe(false);
    expect(arm.calls.filter((c) => c.startsWith('DELETE'))).toEqual([]);
    const l = await CustodyLedger.open(store, 'INC-77');
    const failure = l.entries.find((en) => (en.detail as { step?: string } | undefined)?.step === 'export-snapshot-vhd' && JSON.stringify(en).includes('beginGetAccess/action'));
    expect(failure).toBeDefined();
    expect(JSON.stringify(failure)).toContain(`azure-snapshot:${os!.snapshotId}`);
    expect(steps(l).at(-2)).toBe('instance-preserved');

    // Permission granted; the event delivered again: only the missing export is made.
    arm.denyGetAccess.clear();
    const before = arm.access.length;
    const again = await handler(e, context());

    expect(again.requests[0]!.vms[0]!.exports!.map((x) => x.status)).toEqual(['exported', 'already exported']);
    expect(arm.access.slice(before)).toEqual([`begin ${os!.snapshotId} {"access":"Read","durationInSeconds":14400}`, `end ${os!.snapshotId}`]);
    const after = await CustodyLedger.open(store, 'INC-77');
    expect(after.items().get(again.requests[0]!.vms[0]!.exports![0]!.key!)?.sha256).toBe(sha256(FakeArm.vhdOf(os!.snapshotId)));
    expect((await verifyCase({ store, caseName: 'INC-77', actor: ACTOR, record: false })).failures).toEqual([]);
  });

  it('a snapshot still copying is not exported: the failure is recorded and the invocation throws so Event Grid delivers it again', async () => {
    const { diskIds } = arm.addVm({ resourceGroup: 'rg-web', name: 'vm-web-1' });
    arm.copying.add(diskIds[0]!.toLowerCase());

    const error = await eventGridHandler(async () => deps)(event(request({ exportVhd: true })), context()).then(() => undefined, (e: unknown) => e);

    expect(error).toBeInstanceOf(RetryablePreservationError);
    const vm = (error as RetryablePreservationError).result.requests[0]!.vms[0]!;
    expect(vm.status).toBe('preserved');
    expect(vm.exports).toMatchObject([{ status: 'failed', retryable: true, reason: expect.stringContaining('not complete yet (40%)') as unknown }]);
    expect((error as Error).message).toContain(`VHD export of ${vm.snapshots[0]!.snapshotId}`);
    expect(arm.access).toEqual([]);
    const l = await CustodyLedger.open(store, 'INC-77');
    expect(steps(l)).toEqual(['capture-instance', 'create-snapshots', 'snapshots-checked', 'export-snapshot-vhd', 'instance-preserved', 'sealed']);
  });

  it('POST /api/preserve answers 502 when an asked-for export failed, with the snapshots and the export failure in the body', async () => {
    const { diskIds } = arm.addVm({ resourceGroup: 'rg-web', name: 'vm-web-1' });
    arm.denyGetAccess.add(diskIds[0]!.toLowerCase());
    const post = new HttpRequest({ method: 'POST', url: 'http://127.0.0.1/api/preserve', body: { string: JSON.stringify(request({ exportVhd: true })) }, headers: { 'content-type': 'application/json' } });

    const response = await preserveHttpHandler(async () => deps)(post, context());

    expect(response.status).toBe(502);
    const vm = (response.jsonBody as { requests: { vms: { status: string; snapshots: unknown[]; exports: { status: string; reason: string }[] }[] }[] }).requests[0]!.vms[0]!;
    expect(vm.status).toBe('preserved');
    expect(vm.snapshots).toHaveLength(1);
    expect(vm.exports).toMatchObject([{ status: 'failed', reason: expect.stringContaining('beginGetAccess/action') as unknown }]);
  });
});
