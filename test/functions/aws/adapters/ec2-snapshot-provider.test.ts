import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { Ec2SnapshotProvider, PREVIOUS_GROUPS_TAG } from '../../../../functions/aws/adapters/ec2-snapshot-provider.ts';
import { CloudCallError, InstanceNotFoundError } from '../../../../shared/preservation/errors.ts';
import { DEFAULT_EBS_KEY, FakeEc2 } from '../../../helpers/fake-ec2.ts';
import { TEST_CREDENTIALS } from '../../../helpers/s3.ts';

const ec2Mock = mockClient(EC2Client);
const asgMock = mockClient(AutoScalingClient);
const stsMock = mockClient(STSClient);

const MEMBER = '111122223333';
const EVIDENCE = '999988887777';
const TARGET = { accountId: MEMBER, region: 'eu-west-1', instanceId: 'i-0123456789abcdef0' };
const EVIDENCE_KEY = 'arn:aws:kms:eu-west-1:999988887777:key/evidence';
const TAGS = { 'amber:case': 'INC-7', 'amber:request-id': 'req-1', 'amber:instance-id': TARGET.instanceId };
let fake: FakeEc2;

function provider(): Ec2SnapshotProvider {
  return new Ec2SnapshotProvider({
    collectorRoleName: 'AmberCollector',
    externalId: 'ext-123',
    clientConfig: { credentials: TEST_CREDENTIALS },
    stsClient: new STSClient({ region: 'eu-west-1', credentials: TEST_CREDENTIALS }),
  });
}

beforeEach(() => {
  fake = new FakeEc2();
  fake.ownAccount = EVIDENCE;
  fake.addInstance({
    ...TARGET,
    vpcId: 'vpc-1',
    volumes: [{ volumeId: 'vol-0aaa', sizeGiB: 8, tags: { team: 'web' } }, { volumeId: 'vol-0bbb', sizeGiB: 100 }],
    enis: [{ eniId: 'eni-1', groups: ['sg-web', 'sg-ssh'] }, { eniId: 'eni-2', groups: ['sg-db'] }],
    autoScalingGroup: 'web-asg',
    profileArn: 'arn:aws:iam::111122223333:instance-profile/web',
    tags: { Name: 'web-1', env: 'prod' },
    consoleOutput: 'Ubuntu 24.04 web-1 ttyS0\n',
  });
  fake.install({ ec2: ec2Mock, autoScaling: asgMock, sts: stsMock });
});

afterEach(() => {
  ec2Mock.reset();
  asgMock.reset();
  stsMock.reset();
});

describe('Class: Ec2SnapshotProvider', () => {
  describe('Method: describeInstance', () => {
    it('captures instance, volumes, interfaces, groups, profile, tags and console output through the collector role', async () => {
      // Act
      const metadata = await provider().describeInstance(TARGET);

      // Assess
      expect(metadata.documents.map((d) => d.name)).toEqual(['instance.json', 'volumes.json', 'network-interfaces.json', 'security-groups.json', 'instance-profile.json', 'tags.json', 'console-output.json']);
      expect(metadata).toMatchObject({ volumeIds: ['vol-0aaa', 'vol-0bbb'], networkId: 'vpc-1', pathPrefix: `aws/ec2/${MEMBER}/eu-west-1/${TARGET.instanceId}` });
      const byName = Object.fromEntries(metadata.documents.map((d) => [d.name, d.kind === 'json' ? d.value : d.text]));
      expect(byName['tags.json']).toEqual({ Name: 'web-1', env: 'prod' });
      expect(byName['console-output.json']).toMatchObject({ Latest: true, Output: 'Ubuntu 24.04 web-1 ttyS0\n' });
      expect((byName['security-groups.json'] as { GroupId: string }[]).map((g) => g.GroupId).sort()).toEqual(['sg-db', 'sg-ssh', 'sg-web']);
      expect(metadata.documents[0]!.origin).toBe(`api:ec2:DescribeInstances?InstanceIds=${TARGET.instanceId}&account=${MEMBER}&region=eu-west-1`);
      const assumed = fake.calls.filter((c) => c.command === 'AssumeRole');
      expect(assumed).toHaveLength(1);
      expect(assumed[0]!.input).toMatchObject({ RoleArn: `arn:aws:iam::${MEMBER}:role/AmberCollector`, ExternalId: 'ext-123' });
      expect(fake.calls.filter((c) => c.command.startsWith('Describe')).every((c) => c.account === MEMBER)).toBe(true);
    });

    it('falls back to the plain console output on instances without the latest one', async () => {
      // Prepare
      fake.addInstance({ ...TARGET, instanceId: 'i-0000000000000000a', volumes: [], enis: [], nitro: false, consoleOutput: 'old' });

      // Act
      const metadata = await provider().describeInstance({ ...TARGET, instanceId: 'i-0000000000000000a' });

      // Assess
      const console = metadata.documents.find((d) => d.name === 'console-output.json')!;
      expect(console.kind === 'json' && console.value).toMatchObject({ Latest: false, Output: 'old' });
    });

    it('throws InstanceNotFoundError naming the instance, account and region', async () => {
      // Act
      const describing = provider().describeInstance({ ...TARGET, instanceId: 'i-0ffffffffffffffff' });

      // Assess
      await expect(describing).rejects.toThrow(InstanceNotFoundError);
      await expect(describing).rejects.toThrow(`instance i-0ffffffffffffffff was not found in account ${MEMBER}, region eu-west-1`);
    });

    it('uses its own credentials, without assuming a role, in its own account', async () => {
      // Prepare
      fake.addInstance({ ...TARGET, accountId: EVIDENCE, volumes: [], enis: [] });

      // Act
      await provider().describeInstance({ ...TARGET, accountId: EVIDENCE });

      // Assess
      expect(fake.count('AssumeRole')).toBe(0);
    });

    it('fails with the external id refused by the member account', async () => {
      // Prepare
      fake.externalId = 'another-id';

      // Act / Assess
      await expect(provider().describeInstance(TARGET)).rejects.toThrow(/sts:AssumeRole failed.*AccessDenied/);
    });
  });

  describe('Method: createSnapshots', () => {
    it('snapshots every volume in one CreateSnapshots call, tagging the set and each snapshot', async () => {
      // Act
      const set = await provider().createSnapshots(TARGET, { requestId: 'req-1', tags: TAGS, tagsFor: (v) => ({ 'amber:evidence-id': `ev-${v}` }), description: 'Amber case INC-7' });

      // Assess
      expect(set.reused).toBe(false);
      expect(set.snapshots.map((s) => [s.volumeId, s.accountId, s.region])).toEqual([
        ['vol-0aaa', MEMBER, 'eu-west-1'],
        ['vol-0bbb', MEMBER, 'eu-west-1'],
      ]);
      expect(fake.count('CreateSnapshotsCommand')).toBe(1);
      expect(fake.calls.find((c) => c.command === 'CreateSnapshotsCommand')!.input).toMatchObject({ InstanceSpecification: { InstanceId: TARGET.instanceId, ExcludeBootVolume: false }, CopyTagsFromSource: 'volume' });
      expect(fake.snapshots.get(set.snapshots[0]!.snapshotId)!.Tags).toEqual({ team: 'web', ...TAGS, 'amber:evidence-id': 'ev-vol-0aaa' });
    });

    it('finds the set already made for the request instead of making a second one', async () => {
      // Prepare
      const first = await provider().createSnapshots(TARGET, { requestId: 'req-1', tags: TAGS, description: 'd' });

      // Act: a duplicated event reaches a fresh container (a new provider)
      const second = await provider().createSnapshots(TARGET, { requestId: 'req-1', tags: TAGS, description: 'd' });

      // Assess
      expect(second).toEqual({ snapshots: first.snapshots, reused: true });
      expect(fake.count('CreateSnapshotsCommand')).toBe(1);
      expect(fake.snapshotsOf(MEMBER)).toHaveLength(2);
    });
  });

  describe('Method: getSnapshots', () => {
    it('reports progress, completion, and a failed volume\'s reason', async () => {
      // Prepare
      fake.failingVolumes.set('vol-0bbb', 'Snapshot creation failed: volume impaired');
      const p = provider();
      const { snapshots } = await p.createSnapshots(TARGET, { requestId: 'req-1', tags: TAGS, description: 'd' });

      // Act
      const first = await p.getSnapshots(snapshots);
      const second = await p.getSnapshots(snapshots);

      // Assess
      expect(first.map((s) => [s.state, s.progress])).toEqual([['pending', '50%'], ['error', '0%']]);
      expect(second[0]).toMatchObject({ state: 'completed', progress: '100%', sizeGiB: 8, encrypted: false });
      expect(second[1]).toMatchObject({ state: 'error', reason: expect.stringContaining('volume impaired') });
    });

    it('reports a deleted snapshot as missing and still describes the others', async () => {
      // Prepare
      const p = provider();
      const { snapshots } = await p.createSnapshots(TARGET, { requestId: 'req-1', tags: TAGS, description: 'd' });
      fake.snapshots.delete(snapshots[0]!.snapshotId);

      // Act
      const states = await p.getSnapshots(snapshots);

      // Assess
      expect(states.map((s) => s.state)).toEqual(['missing', 'pending']);
    });
  });

  describe('Method: shareAndCopy', () => {
    async function completedSet(p: Ec2SnapshotProvider) {
      const { snapshots } = await p.createSnapshots(TARGET, { requestId: 'req-1', tags: TAGS, description: 'd' });
      for (let i = 0; i < fake.stepsToComplete; i++) await p.getSnapshots(snapshots);
      return snapshots;
    }
    const options = { evidenceAccountId: EVIDENCE, evidenceRegion: 'eu-west-1', kmsKeyArn: EVIDENCE_KEY, tags: TAGS, description: 'copy' };

    it('shares unencrypted snapshots and copies them into the evidence account, encrypted with the evidence key', async () => {
      // Prepare
      const p = provider();
      const snapshots = await completedSet(p);

      // Act
      const copied = await p.shareAndCopy(snapshots, { ...options, tagsFor: (s) => ({ 'amber:evidence-id': `ev-${s.volumeId}` }) });

      // Assess
      expect(copied.stage).toBe('evidence');
      expect(copied.snapshots.every((s) => s.accountId === EVIDENCE)).toBe(true);
      const copy = fake.snapshots.get(copied.snapshots[0]!.snapshotId)!;
      expect(copy).toMatchObject({ OwnerId: EVIDENCE, Encrypted: true, KmsKeyId: EVIDENCE_KEY, copyOf: snapshots[0]!.snapshotId });
      expect(copy.Tags).toMatchObject({ 'amber:source-snapshot-id': snapshots[0]!.snapshotId, 'amber:evidence-id': 'ev-vol-0aaa' });
      expect(fake.snapshots.get(snapshots[0]!.snapshotId)!.sharedWith.has(EVIDENCE)).toBe(true);
    });

    it('re-encrypts a set under the AWS managed key in the member account first (it cannot be shared)', async () => {
      // Prepare
      fake.addInstance({ ...TARGET, instanceId: 'i-0000000000000000e', volumes: [{ volumeId: 'vol-0enc', kmsKeyId: DEFAULT_EBS_KEY }], enis: [] });
      const p = provider();
      const { snapshots } = await p.createSnapshots({ ...TARGET, instanceId: 'i-0000000000000000e' }, { requestId: 'req-1', tags: { ...TAGS, 'amber:instance-id': 'i-0000000000000000e' }, description: 'd' });
      for (let i = 0; i < fake.stepsToComplete; i++) await p.getSnapshots(snapshots);

      // Act
      const first = await p.shareAndCopy(snapshots, options);
      for (let i = 0; i < fake.stepsToComplete; i++) await p.getSnapshots(first.snapshots);
      const second = await p.shareAndCopy(first.snapshots, options);

      // Assess
      expect(first.stage).toBe('source');
      expect(fake.snapshots.get(first.snapshots[0]!.snapshotId)).toMatchObject({ OwnerId: MEMBER, KmsKeyId: EVIDENCE_KEY });
      expect(second.stage).toBe('evidence');
      expect(fake.snapshots.get(second.snapshots[0]!.snapshotId)).toMatchObject({ OwnerId: EVIDENCE, KmsKeyId: EVIDENCE_KEY });
    });

    it('finds the copies a previous call made instead of copying twice', async () => {
      // Prepare
      const p = provider();
      const snapshots = await completedSet(p);
      const first = await p.shareAndCopy(snapshots, options);

      // Act
      const again = await provider().shareAndCopy(snapshots, options);

      // Assess
      expect(again.snapshots).toEqual(first.snapshots);
      expect(again.reused).toEqual(snapshots.map((s) => s.snapshotId));
      expect(fake.count('CopySnapshotCommand')).toBe(2);
    });

    it('refuses to copy snapshots that are not completed', async () => {
      // Prepare
      const p = provider();
      const { snapshots } = await p.createSnapshots(TARGET, { requestId: 'req-1', tags: TAGS, description: 'd' });
      fake.stepsToComplete = 5;

      // Act / Assess
      await expect(p.shareAndCopy(snapshots, options)).rejects.toThrow(/not completed/);
      expect(fake.count('CopySnapshotCommand')).toBe(0);
    });
  });

  describe('Method: isolate', () => {
    const isolateOptions = { quarantineGroupName: 'amber-quarantine', tags: TAGS };

    it('detaches from the Auto Scaling group, protects from termination, and puts only the quarantine group on every interface', async () => {
      // Act
      const outcome = await provider().isolate(TARGET, isolateOptions);

      // Assess
      const instance = fake.instances.get(`${MEMBER}|eu-west-1|${TARGET.instanceId}`)!;
      expect(outcome).toEqual({
        quarantineGroupId: expect.stringMatching(/^sg-q/),
        previousGroups: { 'eni-1': ['sg-web', 'sg-ssh'], 'eni-2': ['sg-db'] },
        terminationProtection: true,
        detachedFrom: 'web-asg',
      });
      expect(instance.asg).toBeUndefined();
      expect(instance.terminationProtection).toBe(true);
      expect(instance.enis.map((e) => e.groups)).toEqual([[outcome.quarantineGroupId], [outcome.quarantineGroupId]]);
      expect(instance.enis[0]!.tags[PREVIOUS_GROUPS_TAG]).toBe('sg-web,sg-ssh');
      const group = [...fake.groups.values()].find((g) => g.GroupId === outcome.quarantineGroupId)!;
      expect(group).toMatchObject({ GroupName: 'amber-quarantine', VpcId: 'vpc-1', IpPermissions: [], IpPermissionsEgress: [] });
      // The Auto Scaling group is left first, so it cannot replace the instance once its health check fails.
      const order = fake.calls.map((c) => c.command);
      expect(order.indexOf('DetachInstancesCommand')).toBeLessThan(order.indexOf('ModifyNetworkInterfaceAttributeCommand'));
    });

    it('converges when run again: same group, the original groups still reported, nothing detached twice', async () => {
      // Prepare
      const first = await provider().isolate(TARGET, isolateOptions);

      // Act
      const second = await provider().isolate(TARGET, isolateOptions);

      // Assess
      expect(second).toEqual({ ...first, detachedFrom: null });
      expect(fake.count('CreateSecurityGroupCommand')).toBe(1);
      expect(fake.count('DetachInstancesCommand')).toBe(1);
      expect(fake.count('ModifyNetworkInterfaceAttributeCommand')).toBe(2);
    });
  });

  describe('Errors', () => {
    it('wraps an EC2 failure as CloudCallError naming the call, account and region', async () => {
      // Prepare
      ec2Mock.reset();
      ec2Mock.rejects(Object.assign(new Error('Rate exceeded'), { name: 'RequestLimitExceeded', $metadata: { httpStatusCode: 503, attempts: 6 } }));

      // Act
      const creating = provider().createSnapshots(TARGET, { requestId: 'req-1', tags: TAGS, description: 'd' });

      // Assess
      await expect(creating).rejects.toThrow(CloudCallError);
      await expect(creating).rejects.toMatchObject({ call: 'ec2:DescribeSnapshots', retryable: true, message: expect.stringContaining(`account ${MEMBER}, region eu-west-1`) });
    });
  });
});
