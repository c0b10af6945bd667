/**
 * The instance-preservation handlers run in the order the state machine runs them, against stateful fakes of
 * EC2/STS/Auto Scaling and S3: capture → record → create snapshots → check (until completed) → copy to the
 * evidence account → check → isolate → record and seal.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { S3Client } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import type {
  CapturedInstance,
  CustodyInput,
  CustodyOutput,
  InstanceTaskInput,
  IsolatedInstance,
  SnapshotCheck,
  SnapshotSet,
} from '../../../../functions/aws/handlers/contracts.ts';
import type { LambdaContext } from '../../../../functions/aws/runtime.ts';
import { S3ObjectStore } from '../../../../functions/aws/adapters/s3-object-store.ts';
import { CustodyLedger } from '../../../../shared/evidence/ledger.ts';
import { verifyCase } from '../../../../shared/evidence/verify.ts';
import { DEFAULT_EBS_KEY, FakeEc2 } from '../../../helpers/fake-ec2.ts';
import { FakeKms } from '../../../helpers/fake-kms.ts';
import { FakeS3 } from '../../../helpers/fake-s3.ts';
import { EVIDENCE_ACCOUNT, EVIDENCE_BUCKET, LAMBDA_ENV, MEMBER_ACCOUNT, lambdaContext, stubLambdaEnv } from '../../../helpers/lambda.ts';
import { testClient } from '../../../helpers/s3.ts';

type Handler<I, O> = (event: I, context?: LambdaContext) => Promise<O>;
const ec2Mock = mockClient(EC2Client);
const asgMock = mockClient(AutoScalingClient);
const stsMock = mockClient(STSClient);
const s3Mock = mockClient(S3Client);
// record-custody signs with the KMS key SIGNING_KEY_ARN names: a fake that really signs.
const signing = FakeKms.forHandlers(LAMBDA_ENV.SIGNING_KEY_ARN!);

let capture: Handler<InstanceTaskInput, CapturedInstance>;
let create: Handler<CapturedInstance, SnapshotSet>;
let check: Handler<SnapshotSet, SnapshotCheck>;
let copy: Handler<SnapshotSet, SnapshotSet>;
let isolate: Handler<InstanceTaskInput, IsolatedInstance>;
let record: Handler<CustodyInput, CustodyOutput>;
let ec2: FakeEc2;
let s3: FakeS3;

const TASK: InstanceTaskInput = { case: 'INC-7', accountId: MEMBER_ACCOUNT, region: 'eu-west-1', instanceId: 'i-0123456789abcdef0', requestId: 'req-cli-1', isolate: false };

beforeAll(async () => {
  stubLambdaEnv();
  capture = (await import('../../../../functions/aws/handlers/capture-instance.ts')).handler;
  create = (await import('../../../../functions/aws/handlers/create-snapshots.ts')).handler;
  check = (await import('../../../../functions/aws/handlers/check-snapshots.ts')).handler;
  copy = (await import('../../../../functions/aws/handlers/copy-snapshots.ts')).handler;
  isolate = (await import('../../../../functions/aws/handlers/isolate-instance.ts')).handler;
  record = (await import('../../../../functions/aws/handlers/record-custody.ts')).handler;
});

afterAll(() => vi.unstubAllEnvs());

beforeEach(() => {
  ec2 = new FakeEc2();
  ec2.ownAccount = EVIDENCE_ACCOUNT;
  ec2.addInstance({
    instanceId: TASK.instanceId,
    accountId: MEMBER_ACCOUNT,
    region: 'eu-west-1',
    vpcId: 'vpc-1',
    volumes: [{ volumeId: 'vol-0aaa' }, { volumeId: 'vol-0bbb', kmsKeyId: DEFAULT_EBS_KEY }],
    enis: [{ eniId: 'eni-1', groups: ['sg-web'] }],
    autoScalingGroup: 'web-asg',
    tags: { Name: 'web-1' },
    consoleOutput: 'login:',
  });
  ec2.install({ ec2: ec2Mock, autoScaling: asgMock, sts: stsMock });
  s3 = new FakeS3().addBucket(EVIDENCE_BUCKET, { lockDays: 365 }).addBucket(LAMBDA_ENV.ANCHOR_BUCKET!, { lockDays: 365 }).install(s3Mock);
});

afterEach(() => {
  ec2Mock.reset();
  asgMock.reset();
  stsMock.reset();
  s3Mock.reset();
});

/** Calls check-snapshots until it stops answering pending, as the state machine's Wait/Choice loop does. */
async function waitFor(set: SnapshotSet): Promise<SnapshotCheck> {
  for (let i = 0; i < 10; i++) {
    const checked = await check(set, lambdaContext('check-snapshots'));
    if (checked.status !== 'pending') return checked;
  }
  throw new Error('still pending');
}

describe('Handlers: instance preservation', () => {
  it('preserves metadata and snapshots into the evidence account, records every step, and seals a case verify finds intact', async () => {
    // Act: the state machine's path
    const captured = await capture(TASK, lambdaContext('capture-instance'));
    await record({ case: TASK.case, requestId: TASK.requestId, step: 'capture-instance', items: captured.items }, lambdaContext('record-custody'));
    const created = await create(captured, lambdaContext('create-snapshots'));
    let checked = await waitFor(created);
    await record({ case: TASK.case, requestId: TASK.requestId, step: 'create-snapshots', action: 'acquired', detail: { snapshots: checked.states } }, lambdaContext('record-custody'));
    let set: SnapshotSet = checked;
    while (set.stage !== 'evidence') {
      set = await copy(set, lambdaContext('copy-snapshots'));
      checked = await waitFor(set);
      set = checked;
    }
    const isolated = await isolate(TASK, lambdaContext('isolate-instance'));
    const sealed = await record({ case: TASK.case, requestId: TASK.requestId, step: 'copy-snapshots', action: 'copied', detail: { snapshots: checked.states, isolation: isolated.isolation }, seal: true }, lambdaContext('record-custody'));

    // Assess
    expect(captured.evidenceKeys).toHaveLength(7);
    expect(created.snapshots).toHaveLength(2);
    expect(checked).toMatchObject({ status: 'completed', stage: 'evidence' });
    expect(checked.snapshots.every((s) => s.accountId === EVIDENCE_ACCOUNT)).toBe(true);
    expect(ec2.snapshotsOf(EVIDENCE_ACCOUNT).every((s) => s.KmsKeyId === LAMBDA_ENV.EVIDENCE_KMS_KEY_ARN)).toBe(true);
    expect(isolated.isolation).toEqual({ applied: false, reason: 'isolation was not requested' });
    expect(ec2.count('ModifyNetworkInterfaceAttributeCommand') + ec2.count('ModifyInstanceAttributeCommand') + ec2.count('DetachInstancesCommand')).toBe(0);
    expect(sealed.sealed).toMatchObject({ items: 7 });
    const store = new S3ObjectStore({ bucket: EVIDENCE_BUCKET, client: testClient() });
    const ledger = await CustodyLedger.open(store, TASK.case);
    expect(ledger.entries.map((e) => [e.action, e.detail?.step])).toEqual([
      ['keyed', undefined],
      ['acquired', 'capture-instance'],
      ['acquired', 'create-snapshots'],
      ['copied', 'copy-snapshots'],
      ['sealed', 'copy-snapshots'],
    ]);
    expect(ledger.entries[0]!.actor).toBe(`arn:aws:lambda:eu-west-1:${EVIDENCE_ACCOUNT}:function:amber-record-custody`);
    expect(ledger.entries[0]!.detail).toMatchObject({ fingerprint: FakeKms.fingerprint(signing.key), keyLocation: LAMBDA_ENV.SIGNING_KEY_ARN });
    expect(ledger.entries[1]!.items![0]!.acquiredBy).toBe(`arn:aws:lambda:eu-west-1:${EVIDENCE_ACCOUNT}:function:amber-capture-instance`);
    const report = await verifyCase({ store, caseName: TASK.case, actor: { principal: 'test', tool: 'amber/test' }, record: false });
    expect(report.failures).toEqual([]);
    // Every seal and checkpoint the cloud wrote is signed by the deployment's KMS key.
    expect(report.signing?.fingerprint).toBe(FakeKms.fingerprint(signing.key));
    expect(report.signing?.signatures.filter((s) => s.signed.includes('/_amber/manifests/'))).toEqual([expect.objectContaining({ ok: true })]);
    expect(report.signing?.signatures.filter((s) => s.signed.includes('/_amber/checkpoints/')).length).toBeGreaterThanOrEqual(3);
    expect(report.signing?.signatures.every((s) => s.ok)).toBe(true);
  });

  it('yields one snapshot set and one set of evidence items when the same event is delivered twice', async () => {
    // Prepare
    const first = await capture(TASK, lambdaContext('capture-instance'));
    const firstSet = await create(first, lambdaContext('create-snapshots'));

    // Act: the duplicate execution runs the same steps
    const second = await capture(TASK, lambdaContext('capture-instance'));
    const secondSet = await create(second, lambdaContext('create-snapshots'));
    await record({ case: TASK.case, requestId: TASK.requestId, step: 'capture-instance', items: first.items }, lambdaContext('record-custody'));
    const again = await record({ case: TASK.case, requestId: TASK.requestId, step: 'capture-instance', items: second.items }, lambdaContext('record-custody'));

    // Assess
    expect(secondSet.snapshots).toEqual(firstSet.snapshots);
    expect(secondSet.reused).toBe(true);
    expect(ec2.count('CreateSnapshotsCommand')).toBe(1);
    expect(ec2.snapshotsOf(MEMBER_ACCOUNT)).toHaveLength(2);
    expect(second.items.map((i) => [i.key, i.sha256])).toEqual(first.items.map((i) => [i.key, i.sha256]));
    expect(again).toMatchObject({ appended: 0, alreadyRecorded: 1 });
    expect(s3.keys(EVIDENCE_BUCKET, 'cases/INC-7/aws/')).toHaveLength(7);
  });

  it('reports error with the reason when a volume\'s snapshot fails', async () => {
    // Prepare
    ec2.failingVolumes.set('vol-0bbb', 'Volume vol-0bbb is impaired');
    const created = await create({ ...(await capture(TASK, lambdaContext('capture-instance'))) }, lambdaContext('create-snapshots'));

    // Act
    const checked = await waitFor(created);

    // Assess
    expect(checked.status).toBe('error');
    expect(checked.failed).toEqual([{ snapshotId: created.snapshots[1]!.snapshotId, reason: expect.stringContaining('Volume vol-0bbb is impaired') }]);
    expect(checked.states.map((s) => s.state)).toEqual(['pending', 'error']); // an error ends the wait at once
  });

  it('isolates only when asked: quarantine group, termination protection, out of the Auto Scaling group', async () => {
    // Act
    const isolated = await isolate({ ...TASK, isolate: true }, lambdaContext('isolate-instance'));

    // Assess
    expect(isolated.isolation).toMatchObject({ applied: true, previousGroups: { 'eni-1': ['sg-web'] }, terminationProtection: true, detachedFrom: 'web-asg' });
    const instance = ec2.instances.get(`${MEMBER_ACCOUNT}|eu-west-1|${TASK.instanceId}`)!;
    expect(instance.enis[0]!.groups).toEqual([(isolated.isolation as { quarantineGroupId: string }).quarantineGroupId]);
    expect(instance.terminationProtection).toBe(true);
  });

  it('refuses a payload with a bad field before calling AWS, naming the field', async () => {
    // Act
    const capturing = capture({ ...TASK, instanceId: 'i-1; drop' }, lambdaContext('capture-instance'));

    // Assess
    await expect(capturing).rejects.toThrow(/invalid capture-instance payload: instanceId "i-1; drop" is not valid/);
    expect(ec2.calls).toHaveLength(0);
  });
});
