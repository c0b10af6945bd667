/**
 * A SnapshotProvider fake at the port level, for the core use cases. Written behaviour:
 * - `instances` holds what describeInstance returns (7 metadata records; the console output can be changed
 *   between calls to stand for a second capture seeing a different screen);
 * - createSnapshots returns the set already made for the same request tags, else makes one snapshot per volume;
 * - getSnapshots advances each pending snapshot one step per call: pending → completed after `stepsToComplete`
 *   looks; a snapshot of a volume listed in `failingVolumes` turns to `error` with that reason instead;
 * - shareAndCopy: snapshots whose `encryptedWith` is not the evidence key first get re-encrypted copies in their
 *   own account (stage `source`); otherwise copies in the evidence account (stage `evidence`); copies already
 *   made for a source snapshot are returned again;
 * - isolate records the call and answers what an isolation changed.
 */
import type {
  CreateSnapshotsOptions,
  InstanceMetadata,
  InstanceTarget,
  IsolateOptions,
  IsolationOutcome,
  ShareAndCopyOptions,
  ShareAndCopyResult,
  SnapshotProvider,
  SnapshotRef,
  SnapshotSetResult,
  SnapshotStatus,
} from '../../shared/ports/snapshot-provider.ts';

interface FakeSnapshot {
  ref: SnapshotRef;
  tags: Record<string, string>;
  looks: number;
  encryptedWith?: string;
  copyOf?: string;
}

export const FAKE_INSTANCE: InstanceTarget = { accountId: '111122223333', region: 'eu-west-1', instanceId: 'i-0123456789abcdef0' };

export class FakeSnapshotProvider implements SnapshotProvider {
  stepsToComplete = 2;
  readonly failingVolumes = new Map<string, string>();
  /** Volume id → key it is encrypted with (absent: unencrypted). */
  readonly volumeKeys = new Map<string, string>();
  readonly snapshots = new Map<string, FakeSnapshot>();
  readonly calls: { method: string; args: unknown[] }[] = [];
  consoleText = 'login: ';
  volumeIds = ['vol-0aaa', 'vol-0bbb'];
  private next = 1;

  count(method: string): number {
    return this.calls.filter((c) => c.method === method).length;
  }

  async describeInstance(target: InstanceTarget): Promise<InstanceMetadata> {
    this.calls.push({ method: 'describeInstance', args: [target] });
    const q = `account=${target.accountId}&region=${target.region}`;
    const json = (name: string, value: unknown) => ({ name, origin: `api:fake:${name}?${q}`, kind: 'json' as const, value });
    return {
      instanceId: target.instanceId,
      volumeIds: this.volumeIds,
      networkId: 'vpc-0123',
      pathPrefix: `aws/ec2/${target.accountId}/${target.region}/${target.instanceId}`,
      documents: [
        json('instance.json', { InstanceId: target.instanceId, State: 'running' }),
        json('volumes.json', this.volumeIds.map((VolumeId) => ({ VolumeId }))),
        json('network-interfaces.json', [{ NetworkInterfaceId: 'eni-1' }]),
        json('security-groups.json', [{ GroupId: 'sg-web' }]),
        json('instance-profile.json', { Arn: 'arn:aws:iam::111122223333:instance-profile/web' }),
        json('tags.json', { Name: 'web-1' }),
        { name: 'console-output.txt', origin: `api:fake:console?${q}`, kind: 'text', text: this.consoleText },
      ],
    };
  }

  async createSnapshots(target: InstanceTarget, options: CreateSnapshotsOptions): Promise<SnapshotSetResult> {
    this.calls.push({ method: 'createSnapshots', args: [target, options] });
    const mine = [...this.snapshots.values()].filter((s) => s.tags['amber:request-id'] === options.requestId && s.tags['amber:instance-id'] === target.instanceId);
    if (mine.length > 0) return { snapshots: mine.map((s) => s.ref), reused: true };
    const refs = this.volumeIds.map((volumeId) => {
      const ref = { snapshotId: `snap-${String(this.next++).padStart(4, '0')}`, volumeId, accountId: target.accountId, region: target.region };
      const key = this.volumeKeys.get(volumeId);
      this.snapshots.set(ref.snapshotId, { ref, tags: { ...options.tags, ...options.tagsFor?.(volumeId) }, looks: 0, ...(key ? { encryptedWith: key } : {}) });
      return ref;
    });
    return { snapshots: refs, reused: false };
  }

  async getSnapshots(refs: readonly SnapshotRef[]): Promise<SnapshotStatus[]> {
    this.calls.push({ method: 'getSnapshots', args: [refs] });
    return refs.map((r) => {
      const s = this.snapshots.get(r.snapshotId);
      if (!s) return { ...r, state: 'missing', reason: `snapshot ${r.snapshotId} does not exist` };
      s.looks += 1;
      const failing = this.failingVolumes.get(s.ref.volumeId);
      if (failing && !s.copyOf) return { ...s.ref, state: 'error', reason: `snapshot ${r.snapshotId} of volume ${s.ref.volumeId} failed: ${failing}` };
      const done = s.looks >= this.stepsToComplete;
      return { ...s.ref, state: done ? 'completed' : 'pending', progress: done ? '100%' : `${Math.round((100 * s.looks) / this.stepsToComplete)}%`, encrypted: s.encryptedWith !== undefined, ...(s.encryptedWith ? { kmsKeyId: s.encryptedWith } : {}) };
    });
  }

  async shareAndCopy(refs: readonly SnapshotRef[], options: ShareAndCopyOptions): Promise<ShareAndCopyResult> {
    this.calls.push({ method: 'shareAndCopy', args: [refs, options] });
    const reused: string[] = [];
    const copy = (source: FakeSnapshot, place: { accountId: string; region: string }, tags: Record<string, string>): SnapshotRef => {
      const found = [...this.snapshots.values()].find((s) => s.copyOf === source.ref.snapshotId && s.ref.accountId === place.accountId);
      if (found) {
        reused.push(source.ref.snapshotId);
        return found.ref;
      }
      const ref = { snapshotId: `snap-${String(this.next++).padStart(4, '0')}`, volumeId: source.ref.volumeId, ...place };
      this.snapshots.set(ref.snapshotId, { ref, tags, looks: 0, encryptedWith: options.kmsKeyArn, copyOf: source.ref.snapshotId });
      return ref;
    };
    const sources = refs.map((r) => this.snapshots.get(r.snapshotId)!);
    if (sources.some((s) => s.encryptedWith !== undefined && s.encryptedWith !== options.kmsKeyArn)) {
      return {
        stage: 'source',
        snapshots: sources.map((s) => (s.encryptedWith !== undefined && s.encryptedWith !== options.kmsKeyArn ? copy(s, { accountId: s.ref.accountId, region: s.ref.region }, { ...options.tags }) : s.ref)),
        reused,
      };
    }
    return {
      stage: 'evidence',
      snapshots: sources.map((s) => copy(s, { accountId: options.evidenceAccountId, region: options.evidenceRegion }, { ...options.tags, ...options.tagsFor?.(s.ref) })),
      reused,
    };
  }

  async isolate(target: InstanceTarget, options: IsolateOptions): Promise<IsolationOutcome> {
    this.calls.push({ method: 'isolate', args: [target, options] });
    return { quarantineGroupId: 'sg-quarantine', previousGroups: { 'eni-1': ['sg-web'] }, terminationProtection: true, detachedFrom: 'web-asg' };
  }
}
