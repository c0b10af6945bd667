import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConcurrentWriteError } from '../../../shared/errors.ts';
import { CustodyLedger } from '../../../shared/evidence/ledger.ts';
import { LocalObjectStore } from '../../../shared/evidence/local-object-store.ts';
import type { EvidenceItem } from '../../../shared/evidence/model.ts';
import { verifyCase } from '../../../shared/evidence/verify.ts';
import { recordCustody } from '../../../shared/preservation/custody.ts';
import { captureInstance } from '../../../shared/preservation/snapshot-instance.ts';
import { FAKE_INSTANCE, FakeSnapshotProvider } from '../../helpers/fake-snapshot-provider.ts';
import { MemoryObjectStore } from '../../helpers/memory-store.ts';

const ACTOR = { principal: 'arn:aws:lambda:eu-west-1:999988887777:function:amber-record-custody', tool: 'amber/test' };
const noWait = async (): Promise<void> => undefined;

function item(key: string, sha = 'a'.repeat(64)): EvidenceItem {
  return { id: `ev-${key.length}`, case: 'INC-7', origin: `s3://trail/${key}`, key: `cases/INC-7/${key}`, size: 1, sha256: sha, acquiredAt: '2026-03-01T12:00:00.000Z', acquiredBy: 'x', retainUntil: null, mediaType: 'application/gzip' };
}

describe('Function: recordCustody', () => {
  it('appends one entry per batch, in order, with the step, request and an idempotency key', async () => {
    // Prepare
    const store = new MemoryObjectStore();

    // Act
    const recorded = await recordCustody({ store, actor: ACTOR }, {
      case: 'INC-7',
      requestId: 'req-1',
      step: 'copy-log-objects',
      action: 'copied',
      batches: [{ items: [item('a'), item('b')] }, { items: [item('c')], failures: [{ origin: 's3://trail/d', reason: 'gone' }] }],
    });

    // Assess
    const ledger = await CustodyLedger.open(store, 'INC-7');
    expect(recorded).toMatchObject({ appended: 2, alreadyRecorded: 0, items: 3, failures: 1, attempts: 1 });
    expect(ledger.entries.map((e) => [e.action, e.items?.length, e.detail?.step, e.detail?.requestId])).toEqual([
      ['copied', 2, 'copy-log-objects', 'req-1'],
      ['copied', 1, 'copy-log-objects', 'req-1'],
    ]);
    expect(ledger.entries[1]!.detail).toMatchObject({ failures: [{ origin: 's3://trail/d', reason: 'gone' }], idempotencyKey: expect.stringMatching(/^[0-9a-f]{32}$/) });
  });

  it('records nothing twice when the step is retried, and seals once', async () => {
    // Prepare
    const store = new MemoryObjectStore();
    const record = { case: 'INC-7', requestId: 'req-1', step: 'copy-log-objects', action: 'copied' as const, batches: [{ items: [item('a')] }], seal: true };
    const first = await recordCustody({ store, actor: ACTOR }, record);

    // Act
    const second = await recordCustody({ store, actor: ACTOR }, record);

    // Assess
    expect(first.sealed?.key).toBe('cases/INC-7/_amber/manifests/0000000002.json');
    expect(second).toMatchObject({ appended: 0, alreadyRecorded: 2 });
    expect((await CustodyLedger.open(store, 'INC-7')).entries.map((e) => e.action)).toEqual(['copied', 'sealed']);
  });

  it('re-reads the ledger and appends after another writer\'s entry when its append conflicts', async () => {
    // Prepare
    const store = new MemoryObjectStore();
    await recordCustody({ store, actor: ACTOR }, { case: 'INC-7', requestId: 'req-0', step: 'capture-instance', action: 'acquired', batches: [{ items: [item('meta')] }] });
    // Another writer (run-detections) appends a valid entry chained to the head just before our append lands.
    const head = (await CustodyLedger.open(store, 'INC-7')).head;
    const otherText = `${JSON.stringify({ seq: head.seq + 1, prev: head.sha256, at: '2026-03-01T12:00:01.000Z', action: 'accessed', actor: 'other', tool: 'amber/test', case: 'INC-7' })}\n`;
    store.interloper = () => otherText;
    store.conflictOnNextAppends(1);

    // Act
    const recorded = await recordCustody({ store, actor: ACTOR, sleep: noWait }, { case: 'INC-7', requestId: 'req-1', step: 'isolate-instance', action: 'accessed', batches: [{ detail: { isolated: true } }] });

    // Assess
    const ledger = await CustodyLedger.open(store, 'INC-7');
    expect(recorded.attempts).toBe(2);
    expect(ledger.entries.map((e) => [e.seq, e.action])).toEqual([
      [1, 'acquired'],
      [2, 'accessed'],
      [3, 'accessed'],
    ]);
    expect(ledger.entries[2]!.detail).toMatchObject({ isolated: true, step: 'isolate-instance' });
  });

  it('gives up with ConcurrentWriteError after its attempts', async () => {
    // Prepare
    const store = new MemoryObjectStore();
    store.conflictOnNextAppends(10);

    // Act / Assess
    await expect(recordCustody({ store, actor: ACTOR, sleep: noWait, maxAttempts: 3 }, { case: 'INC-7', requestId: 'r', step: 's', action: 'accessed', batches: [{}] })).rejects.toThrow(ConcurrentWriteError);
    expect(store.calls.appendLog).toBe(3);
  });

  it('leaves a case that verify finds intact: captured items recorded, sealed, checkpointed', async () => {
    // Prepare
    const store = await LocalObjectStore.open(await mkdtemp(join(tmpdir(), 'amber-custody-')), { create: true });
    const captured = await captureInstance({ provider: new FakeSnapshotProvider(), store, actor: ACTOR }, { case: 'INC-7', ...FAKE_INSTANCE, requestId: 'req-1', isolate: false });

    // Act
    await recordCustody({ store, actor: ACTOR }, { case: 'INC-7', requestId: 'req-1', step: 'capture-instance', action: 'acquired', batches: [{ items: captured.items }], seal: true });
    const report = await verifyCase({ store, caseName: 'INC-7', actor: ACTOR, record: false });

    // Assess
    expect(report.failures).toEqual([]);
    expect(report.intact).toBe(true);
    expect(report.items).toHaveLength(7);
  });
});
