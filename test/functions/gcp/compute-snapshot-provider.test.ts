/**
 * The Compute Engine SnapshotProvider against Compute's REST API answered at the HTTP layer (test/helpers/fake-gce.ts).
 */
import nock from '../../helpers/nock.ts';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ComputeSnapshotProvider, snapshotName } from '../../../functions/gcp/adapters/compute-snapshot-provider.ts';
import { GoogleCallError, GoogleRest } from '../../../functions/gcp/adapters/google-rest.ts';
import { InstanceNotFoundError } from '../../../shared/preservation/errors.ts';
import { FAKE_INSTANCE, INSTANCE, PROJECT, ZONE, fakeGce } from '../../helpers/fake-gce.ts';

const target = { accountId: PROJECT, region: ZONE, instanceId: INSTANCE };
const provider = (): ComputeSnapshotProvider => new ComputeSnapshotProvider({ rest: new GoogleRest({ token: async () => 'test-token', sleep: async () => {} }) });
const snapshotOptions = { requestId: 'req-1', tags: { 'amber:case': 'Case-7', 'amber:request-id': 'req-1' }, tagsFor: (v: string) => ({ 'amber:evidence-id': `ev-${v}` }), description: 'Amber case Case-7' };

describe('Class: ComputeSnapshotProvider', () => {
  beforeAll(() => {
    nock.disableNetConnect();
  });

  afterEach(() => {
    nock.cleanAll();
  });

  describe('Method: describeInstance', () => {
    it('captures instance, disks, interfaces, the firewall rules that apply, service account, labels and serial output', async () => {
      // Prepare
      fakeGce();

      // Act
      const metadata = await provider().describeInstance(target);

      // Assess
      expect(metadata.volumeIds).toEqual(['web-1', 'web-1-data']);
      expect(metadata.pathPrefix).toBe(`gcp/gce/${PROJECT}/${ZONE}/${INSTANCE}`);
      const doc = (name: string): unknown => metadata.documents.find((d) => d.name === name);
      expect(metadata.documents.map((d) => d.name)).toEqual(['instance.json', 'disks.json', 'network-interfaces.json', 'firewall-rules.json', 'service-accounts.json', 'labels.json', 'serial-port-output.txt']);
      expect((doc('instance.json') as { value: { id: string } }).value.id).toBe(FAKE_INSTANCE.id);
      // The tagged rule for http-server and the untagged internal rule apply; the db-tagged rule does not.
      expect((doc('firewall-rules.json') as { value: { name: string }[] }).value.map((r) => r.name)).toEqual(['default-allow-http', 'default-allow-internal']);
      expect((doc('service-accounts.json') as { value: { email: string }[] }).value[0]?.email).toMatch(/compute@developer/);
      expect((doc('serial-port-output.txt') as { text: string }).text).toContain('web-1 login:');
      expect(metadata.documents.every((d) => d.origin.startsWith('api:gce:') && d.origin.includes(`project=${PROJECT}`))).toBe(true);
    });

    it('retries 429 and 503 answers and then succeeds', async () => {
      // Prepare
      const gce = fakeGce({ throttleFirst: 2 });

      // Act
      const metadata = await provider().describeInstance(target);

      // Assess
      expect(metadata.volumeIds).toHaveLength(2);
      expect(gce.calls.filter((c) => c.startsWith(`GET /compute/v1/projects/${PROJECT}/zones/${ZONE}/instances/${INSTANCE}?`) || c === `GET /compute/v1/projects/${PROJECT}/zones/${ZONE}/instances/${INSTANCE}`)).toHaveLength(3);
    });

    it('throws InstanceNotFoundError naming the instance, project and zone for an unknown instance', async () => {
      // Prepare
      fakeGce();

      // Act / Assess
      await expect(provider().describeInstance({ ...target, instanceId: 'ghost-9' })).rejects.toThrow(InstanceNotFoundError);
      await expect(provider().describeInstance({ ...target, instanceId: 'ghost-9' })).rejects.toThrow(`instance ghost-9 was not found in account ${PROJECT}, region ${ZONE}`);
    });

    it('names the missing permission when Compute answers 403, without retrying', async () => {
      // Prepare
      const gce = fakeGce({ denied: 'compute.instances.get' });

      // Act
      const error = await provider().describeInstance(target).catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(GoogleCallError);
      expect((error as GoogleCallError).hint).toContain('compute.instances.get');
      expect((error as GoogleCallError).retryable).toBe(false);
      expect(gce.calls).toHaveLength(1);
    });
  });

  describe('Option: collectors', () => {
    it('calls a member project as its collector service account, with a token minted by generateAccessToken', async () => {
      // Prepare
      const gce = fakeGce();
      const minted: string[] = [];
      nock('https://iamcredentials.googleapis.com')
        .post(`/v1/projects/-/serviceAccounts/amber-collector@${PROJECT}.iam.gserviceaccount.com:generateAccessToken`)
        .reply(((req: Request) => {
          minted.push(req.headers.get('authorization') ?? '');
          return [200, { accessToken: 'collector-token', expireTime: '2099-01-01T00:00:00Z' }];
        }) as never);
      const member = new ComputeSnapshotProvider({ token: async () => 'function-token', sleep: async () => {}, collectors: { [PROJECT]: `amber-collector@${PROJECT}.iam.gserviceaccount.com` } });

      // Act
      await member.describeInstance(target);

      // Assess
      expect(minted).toEqual(['Bearer function-token']);
      expect(new Set(gce.auth)).toEqual(new Set(['Bearer collector-token']));
    });
  });

  describe('Method: createSnapshots', () => {
    it('snapshots every attached disk, labelled with case, request and evidence id', async () => {
      // Prepare
      const gce = fakeGce();

      // Act
      const result = await provider().createSnapshots(target, snapshotOptions);

      // Assess
      expect(result.reused).toBe(false);
      expect(result.snapshots.map((s) => s.volumeId)).toEqual(['web-1', 'web-1-data']);
      const made = [...gce.snapshots.values()];
      expect(made).toHaveLength(2);
      expect(made[1]?.labels).toEqual({ 'amber-case': 'case-7', 'amber-request-id': 'req-1', 'amber-evidence-id': 'ev-web-1-data' });
      expect(made[1]?.sourceDisk).toMatch(/\/disks\/web-1-data$/);
    });

    it('returns the same set, creating nothing, when the same request comes twice', async () => {
      // Prepare
      const gce = fakeGce();
      const first = await provider().createSnapshots(target, snapshotOptions);

      // Act
      const second = await provider().createSnapshots(target, snapshotOptions);

      // Assess
      expect(second.reused).toBe(true);
      expect(second.snapshots).toEqual(first.snapshots);
      expect(gce.snapshots.size).toBe(2);
    });

    it('still snapshots the other disks when one disk\'s snapshot is refused', async () => {
      // Prepare
      const gce = fakeGce({ failingDisks: ['web-1-data'] });

      // Act
      const result = await provider().createSnapshots(target, snapshotOptions);

      // Assess
      expect(result.snapshots.map((s) => s.volumeId)).toEqual(['web-1']);
      expect([...gce.snapshots.keys()]).toEqual([snapshotName('req-1', INSTANCE, 'web-1')]);
    });
  });

  describe('Method: getSnapshots', () => {
    it('maps READY, FAILED, CREATING and a vanished snapshot to the port\'s states', async () => {
      // Prepare
      fakeGce({ snapshotStatus: (n) => (n === snapshotName('req-1', INSTANCE, 'web-1') ? 'FAILED' : 'CREATING') });
      const { snapshots } = await provider().createSnapshots(target, snapshotOptions);

      // Act
      const states = await provider().getSnapshots([...snapshots, { snapshotId: 'amber-gone', volumeId: 'x', accountId: PROJECT, region: ZONE }]);

      // Assess
      expect(states.map((s) => s.state)).toEqual(['error', 'pending', 'missing']);
      expect(states[0]?.reason).toContain('failed');
    });
  });

  describe('Method: isolate', () => {
    it('adds deny-all ingress and egress rules by network tag, tags the instance and protects it from deletion', async () => {
      // Prepare
      const gce = fakeGce();

      // Act
      const outcome = await provider().isolate(target, { quarantineGroupName: 'amber-quarantine', tags: { 'amber:case': 'c' } });
      await provider().isolate(target, { quarantineGroupName: 'amber-quarantine', tags: { 'amber:case': 'c' } });

      // Assess
      const rules = [...gce.firewalls.values()];
      expect(rules.map((r) => r.direction)).toEqual(['INGRESS', 'EGRESS']);
      expect(rules.every((r) => r.priority === 0 && JSON.stringify(r.denied) === '[{"IPProtocol":"all"}]' && JSON.stringify(r.targetTags) === '["amber-quarantine"]')).toBe(true);
      expect(gce.tags).toEqual(['http-server', 'amber-quarantine']);
      expect(gce.deletionProtection).toBe(true);
      expect(outcome.previousGroups).toEqual({ nic0: ['http-server'] });
    });
  });
});
