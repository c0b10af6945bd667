import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../shared/evidence/hashing.ts';
import {
  captureInstance,
  checkSnapshots,
  copySnapshotsToEvidence,
  createInstanceSnapshots,
  isolateInstance,
  snapshotEvidenceId,
  snapshotInstance,
} from '../../../shared/preservation/snapshot-instance.ts';
import { SnapshotError } from '../../../shared/preservation/errors.ts';
import type { InstanceTask } from '../../../shared/preservation/request.ts';
import { FAKE_INSTANCE, FakeSnapshotProvider } from '../../helpers/fake-snapshot-provider.ts';
import { MemoryObjectStore } from '../../helpers/memory-store.ts';

const ACTOR = { principal: 'arn:aws:lambda:eu-west-1:999988887777:function:amber-capture-instance', tool: 'amber/test' };
const TASK: InstanceTask = { case: 'INC-7', ...FAKE_INSTANCE, requestId: 'req-1', isolate: false };
const EVIDENCE = { accountId: '999988887777', region: 'eu-west-1', kmsKeyArn: 'arn:aws:kms:eu-west-1:999988887777:key/evidence' };
const NOW = new Date('2026-03-01T12:00:00.000Z');

describe('Function: captureInstance', () => {
  it('preserves every metadata record under the case and request, with its hash and origin', async () => {
    // Prepare
    const provider = new FakeSnapshotProvider();
    const store = new MemoryObjectStore();

    // Act
    const captured = await captureInstance({ provider, store, actor: ACTOR, clock: () => NOW }, TASK);

    // Assess
    const folder = 'cases/INC-7/aws/ec2/111122223333/eu-west-1/i-0123456789abcdef0/req-1/';
    expect(captured.evidenceKeys.map((k) => k.replace(folder, ''))).toEqual([
      'instance.json',
      'volumes.json',
      'network-interfaces.json',
      'security-groups.json',
      'instance-profile.json',
      'tags.json',
      'console-output.txt',
    ]);
    expect(captured.volumeIds).toEqual(['vol-0aaa', 'vol-0bbb']);
    const instance = captured.items[0]!;
    expect(instance).toMatchObject({ case: 'INC-7', origin: 'api:fake:instance.json?account=111122223333&region=eu-west-1', acquiredBy: ACTOR.principal, acquiredAt: NOW.toISOString(), mediaType: 'application/json' });
    expect(instance.sha256).toBe(sha256Hex(store.objects.get(instance.key)!));
    expect(JSON.parse(store.text(instance.key)!)).toEqual({ InstanceId: 'i-0123456789abcdef0', State: 'running' });
  });

  it('keeps the first capture when a retry sees different bytes (one set of evidence items per request)', async () => {
    // Prepare
    const provider = new FakeSnapshotProvider();
    const store = new MemoryObjectStore();
    const first = await captureInstance({ provider, store, actor: ACTOR }, TASK);
    provider.consoleText = 'login: root\n'; // the screen changed between the two attempts

    // Act
    const second = await captureInstance({ provider, store, actor: ACTOR }, TASK);

    // Assess
    expect(second.items.map((i) => [i.key, i.sha256])).toEqual(first.items.map((i) => [i.key, i.sha256]));
    expect(store.text(first.evidenceKeys[6]!)).toBe('login: ');
  });
});

describe('Function: createInstanceSnapshots', () => {
  it('tags the set with case, request and instance, and each snapshot with its evidence id', async () => {
    // Prepare
    const provider = new FakeSnapshotProvider();

    // Act
    const created = await createInstanceSnapshots({ provider }, { ...TASK, volumeIds: ['vol-0aaa', 'vol-0bbb'] });

    // Assess
    expect(created.reused).toBe(false);
    const snap = provider.snapshots.get(created.snapshots[0]!.snapshotId)!;
    expect(snap.tags).toEqual({
      'amber:case': 'INC-7',
      'amber:request-id': 'req-1',
      'amber:instance-id': 'i-0123456789abcdef0',
      'amber:evidence-id': snapshotEvidenceId('INC-7', 'req-1', 'vol-0aaa', 'source'),
    });
  });

  it('yields one snapshot set for the same request twice', async () => {
    // Prepare
    const provider = new FakeSnapshotProvider();
    const first = await createInstanceSnapshots({ provider }, { ...TASK, volumeIds: ['vol-0aaa', 'vol-0bbb'] });

    // Act
    const second = await createInstanceSnapshots({ provider }, { ...TASK, volumeIds: ['vol-0aaa', 'vol-0bbb'] });

    // Assess
    expect(second).toMatchObject({ reused: true, snapshots: first.snapshots });
    expect(provider.snapshots.size).toBe(2);
  });

  it('names captured volumes the set does not cover', async () => {
    // Prepare
    const provider = new FakeSnapshotProvider();

    // Act
    const created = await createInstanceSnapshots({ provider }, { ...TASK, volumeIds: ['vol-0aaa', 'vol-0bbb', 'vol-0ccc'] });

    // Assess
    expect(created.uncoveredVolumes).toEqual(['vol-0ccc']);
  });
});

describe('Function: checkSnapshots', () => {
  it('reports pending, then completed', async () => {
    // Prepare
    const provider = new FakeSnapshotProvider();
    const { snapshots } = await createInstanceSnapshots({ provider }, { ...TASK, volumeIds: [] });

    // Act
    const first = await checkSnapshots({ provider }, snapshots);
    const second = await checkSnapshots({ provider }, snapshots);

    // Assess
    expect(first.status).toBe('pending');
    expect(second.status).toBe('completed');
  });

  it('reports error with the reason when a volume fails', async () => {
    // Prepare
    const provider = new FakeSnapshotProvider();
    provider.failingVolumes.set('vol-0bbb', 'the volume is impaired');
    const { snapshots } = await createInstanceSnapshots({ provider }, { ...TASK, volumeIds: [] });

    // Act
    const checked = await checkSnapshots({ provider }, snapshots);

    // Assess
    expect(checked.status).toBe('error');
    expect(checked.failed).toEqual([{ snapshotId: snapshots[1]!.snapshotId, reason: expect.stringContaining('the volume is impaired') }]);
  });

  it('reports a snapshot that no longer exists as an error', async () => {
    // Prepare
    const provider = new FakeSnapshotProvider();

    // Act
    const checked = await checkSnapshots({ provider }, [{ snapshotId: 'snap-gone', volumeId: 'vol-1', accountId: '111122223333', region: 'eu-west-1' }]);

    // Assess
    expect(checked).toMatchObject({ status: 'error', failed: [{ snapshotId: 'snap-gone', reason: expect.stringContaining('does not exist') }] });
  });
});

describe('Function: copySnapshotsToEvidence', () => {
  it('copies nothing when the instance lives in the evidence account', async () => {
    // Prepare
    const provider = new FakeSnapshotProvider();
    const snapshots = [{ snapshotId: 'snap-1', volumeId: 'vol-1', accountId: EVIDENCE.accountId, region: 'eu-west-1' }];

    // Act
    const copied = await copySnapshotsToEvidence({ provider }, { ...TASK, accountId: EVIDENCE.accountId, snapshots }, EVIDENCE);

    // Assess
    expect(copied).toEqual({ stage: 'evidence', snapshots, reused: [] });
    expect(provider.count('shareAndCopy')).toBe(0);
  });

  it('copies a member account\'s set into the evidence account with evidence ids', async () => {
    // Prepare
    const provider = new FakeSnapshotProvider();
    const { snapshots } = await createInstanceSnapshots({ provider }, { ...TASK, volumeIds: [] });

    // Act
    const copied = await copySnapshotsToEvidence({ provider }, { ...TASK, snapshots }, EVIDENCE);

    // Assess
    expect(copied.stage).toBe('evidence');
    expect(copied.snapshots.every((s) => s.accountId === EVIDENCE.accountId)).toBe(true);
    expect(provider.snapshots.get(copied.snapshots[0]!.snapshotId)!.tags['amber:evidence-id']).toBe(snapshotEvidenceId('INC-7', 'req-1', 'vol-0aaa', 'evidence'));
  });
});

describe('Function: isolateInstance', () => {
  it('changes nothing when isolation was not asked for', async () => {
    // Prepare
    const provider = new FakeSnapshotProvider();

    // Act
    const result = await isolateInstance({ provider }, TASK);

    // Assess
    expect(result).toEqual({ applied: false, reason: 'isolation was not requested' });
    expect(provider.count('isolate')).toBe(0);
  });

  it('isolates when asked, with the quarantine group name', async () => {
    // Prepare
    const provider = new FakeSnapshotProvider();

    // Act
    const result = await isolateInstance({ provider }, { ...TASK, isolate: true });

    // Assess
    expect(result).toMatchObject({ applied: true, outcome: { quarantineGroupId: 'sg-quarantine', terminationProtection: true } });
    expect(provider.calls.find((c) => c.method === 'isolate')!.args[1]).toMatchObject({ quarantineGroupName: 'amber-quarantine' });
  });
});

describe('Function: snapshotInstance', () => {
  it('captures, snapshots, waits, re-encrypts a foreign-key set, copies to the evidence account, and isolates only when asked', async () => {
    // Prepare
    const provider = new FakeSnapshotProvider();
    provider.volumeKeys.set('vol-0aaa', 'arn:aws:kms:eu-west-1:111122223333:alias/aws/ebs');
    const store = new MemoryObjectStore();
    const slept: number[] = [];

    // Act
    const done = await snapshotInstance({ provider, store, actor: ACTOR, evidence: EVIDENCE, sleep: async (ms) => void slept.push(ms), pollIntervalMs: 5 }, TASK);

    // Assess
    expect(done.captured.items).toHaveLength(7);
    expect(done.source.map((s) => s.state)).toEqual(['completed', 'completed']);
    expect(done.evidence!.every((s) => s.accountId === EVIDENCE.accountId && s.state === 'completed')).toBe(true);
    expect(provider.count('shareAndCopy')).toBe(2); // once to re-encrypt in the member account, once to copy
    expect(done.isolation.applied).toBe(false);
    expect(slept.every((ms) => ms === 5)).toBe(true);
  });

  it('fails naming the snapshot and the reason when a volume fails', async () => {
    // Prepare
    const provider = new FakeSnapshotProvider();
    provider.failingVolumes.set('vol-0aaa', 'internal error');

    // Act
    const running = snapshotInstance({ provider, store: new MemoryObjectStore(), actor: ACTOR, sleep: async () => undefined }, TASK);

    // Assess
    await expect(running).rejects.toThrow(SnapshotError);
    await expect(running).rejects.toThrow(/vol-0aaa failed: internal error/);
  });
});
