/**
 * Instance preservation as a Step Functions state machine (input: InstanceTaskInput):
 * capture-instance → capture-volatile (the volatile triage through SSM) → capture-memory when the request asks
 * (`memory: true`) → create-snapshots, so the order is volatile → memory → snapshots → isolation. The two SSM
 * captures never stop the preservation: an instance without an agent answers `outcome: failed` with its reason,
 * and a task that still fails after its retries is caught to a Pass that puts the error in its place; either way a
 * record state writes the outcome to the ledger and the snapshots follow. Then create-snapshots (one crash-consistent CreateSnapshots call for every volume) → a wait loop
 * in the state machine itself (Wait → check-snapshots → Choice on completed / pending / error, with a bounded
 * number of checks; no Lambda polls) → copy-snapshots when the instance lives in another account (share, then a
 * copy re-encrypted with the evidence key in the evidence account; when the set's key cannot be shared it first
 * answers stage `source` with re-encrypted copies in the member account, which the same loop waits for before
 * copy-snapshots runs again) and the same loop on the copies → isolate-instance when `isolate` is true → a
 * final record that seals the case. record-custody runs after each step; every task retries throttling and 5xx
 * and catches everything else to a failure record (sealed) in the custody ledger, then Fail.
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { CASE_TAG, EVIDENCE_LAYOUT, SNAPSHOT_WAIT } from '../defaults.ts';
import { acknowledgeWildcardResources } from '../nag.ts';
import { TaskFactory } from '../state-machine-tasks.ts';
import { captureStatements, describeStatements, grantEc2, isolationStatements, snapshotStatements, ssmCaptureStatements, type Ec2Account } from '../ec2-permissions.ts';
import type { AmberConfig } from '../config.ts';
import { AmberFunction } from './amber-function.ts';
import type { EvidenceBucket } from './evidence-bucket.ts';
import { StateMachineRole } from './state-machine-role.ts';
import { inventoryFirst } from './inventory-collection.ts';

/** The collector role the functions assume in the account holding an instance. */
export interface CollectorAccess {
  readonly roleName: string;
  readonly externalId: string;
  /** Accounts with a collector role (may hold the evidence account's own id token in single-account mode). */
  readonly accountIds: readonly string[];
  /** Also allow any account of this organisation (`aws:ResourceOrgID`). @default - only accountIds */
  readonly organizationId?: string;
}

export interface InstancePreservationProps {
  readonly evidence: EvidenceBucket;
  readonly recordCustody: lambda.IFunction;
  readonly collector: CollectorAccess;
  readonly retentionDays: number;
  readonly logRetentionDays: number;
  /** Memory tools pinned by SHA-256 (config amber:avmlUri / amber:winpmemUri ...). @default none: memory requests are recorded as no-tool */
  readonly memoryTools?: AmberConfig['memoryTools'];
  /** @default SNAPSHOT_WAIT.interval */
  readonly checkInterval?: Duration;
  /** @default SNAPSHOT_WAIT.maxChecks */
  readonly maxChecks?: number;
  /** take-inventory: when given, the account's inventory is the first step, before any capture (inventory-collection.ts). */
  readonly inventory?: lambda.IFunction;
}

/** sts:AssumeRole on the collector role of each account (and of the organisation, when given). */
export function grantAssumeCollector(fn: AmberFunction, collector: CollectorAccess): void {
  const stack = Stack.of(fn);
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['sts:AssumeRole'],
      resources: collector.accountIds.map((a) => `arn:${stack.partition}:iam::${a}:role/${collector.roleName}`),
    }),
  );
  if (collector.organizationId) {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['sts:AssumeRole'],
        resources: [`arn:${stack.partition}:iam::*:role/${collector.roleName}`],
        conditions: { StringEquals: { 'aws:ResourceOrgID': collector.organizationId } },
      }),
    );
    acknowledgeWildcardResources(
      fn.role,
      [`arn:${stack.partition}:iam::*:role/${collector.roleName}`],
      'amber:organizationId is set: the collector role may be assumed in any account of that organisation only (aws:ResourceOrgID), by its fixed name.',
    );
  }
}

/** The instance-preservation state machine and its five task functions. */
export class InstancePreservation extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly functions: {
    readonly captureInstance: AmberFunction<'capture-instance'>;
    readonly captureVolatile: AmberFunction<'capture-volatile'>;
    readonly captureMemory: AmberFunction<'capture-memory'>;
    readonly createSnapshots: AmberFunction<'create-snapshots'>;
    readonly checkSnapshots: AmberFunction<'check-snapshots'>;
    readonly copySnapshots: AmberFunction<'copy-snapshots'>;
    readonly isolateInstance: AmberFunction<'isolate-instance'>;
  };

  constructor(scope: Construct, id: string, props: InstancePreservationProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const collectorEnv = { COLLECTOR_ROLE_NAME: props.collector.roleName, COLLECTOR_EXTERNAL_ID: props.collector.externalId };
    const common = { logRetentionDays: props.logRetentionDays };

    const captureInstance = new AmberFunction(this, 'CaptureInstance', {
      ...common,
      handlerName: 'capture-instance',
      environment: { ...collectorEnv, EVIDENCE_BUCKET: props.evidence.bucket.bucketName, RETENTION_DAYS: String(props.retentionDays) },
      memorySize: 512,
      timeout: Duration.minutes(3),
    });
    // SSM Run Command: the instances write output to the evidence bucket's staging prefix; these store it into the case.
    const staging = { EVIDENCE_BUCKET: props.evidence.bucket.bucketName, RETENTION_DAYS: String(props.retentionDays) };
    const triage = 'shared/preservation/triage';
    const captureVolatile = new AmberFunction(this, 'CaptureVolatile', {
      ...common,
      handlerName: 'capture-volatile',
      environment: { ...collectorEnv, ...staging },
      memorySize: 512,
      timeout: Duration.minutes(15),
      files: [{ from: `${triage}/linux.sh`, to: 'linux.sh' }, { from: `${triage}/windows.ps1`, to: 'windows.ps1' }],
    });
    const tools = props.memoryTools ?? {};
    const captureMemory = new AmberFunction(this, 'CaptureMemory', {
      ...common,
      handlerName: 'capture-memory',
      environment: {
        ...collectorEnv,
        ...staging,
        AVML_URI: tools.avml?.uri ?? '',
        AVML_SHA256: tools.avml?.sha256 ?? '',
        WINPMEM_URI: tools.winpmem?.uri ?? '',
        WINPMEM_SHA256: tools.winpmem?.sha256 ?? '',
      },
      memorySize: 1024,
      timeout: Duration.minutes(15),
      files: [{ from: `${triage}/avml.sh.tmpl`, to: 'triage/avml.sh.tmpl' }, { from: `${triage}/winpmem.ps1.tmpl`, to: 'triage/winpmem.ps1.tmpl' }],
    });
    const createSnapshots = new AmberFunction(this, 'CreateSnapshots', { ...common, handlerName: 'create-snapshots', environment: collectorEnv });
    const checkSnapshots = new AmberFunction(this, 'CheckSnapshots', { ...common, handlerName: 'check-snapshots', environment: collectorEnv, timeout: Duration.seconds(30) });
    const copySnapshots = new AmberFunction(this, 'CopySnapshots', {
      ...common,
      handlerName: 'copy-snapshots',
      environment: { ...collectorEnv, EVIDENCE_KMS_KEY_ARN: props.evidence.key.keyArn, EVIDENCE_ACCOUNT_ID: stack.account },
      timeout: Duration.minutes(2),
    });
    const isolateInstance = new AmberFunction(this, 'IsolateInstance', { ...common, handlerName: 'isolate-instance', environment: collectorEnv, timeout: Duration.minutes(2) });
    this.functions = { captureInstance, captureVolatile, captureMemory, createSnapshots, checkSnapshots, copySnapshots, isolateInstance };

    for (const f of Object.values(this.functions)) grantAssumeCollector(f, props.collector);
    // Instances in the evidence account itself: the handlers use their own credentials there, not a collector.
    const own: Ec2Account = { partition: stack.partition, account: stack.account };
    const grantOwn = (fn: AmberFunction, statements: iam.PolicyStatement[]): void => grantEc2(fn.role, own, statements);
    grantOwn(captureInstance, [...describeStatements(), ...captureStatements(own)]);
    grantOwn(createSnapshots, [...describeStatements(), ...snapshotStatements(own)]);
    grantOwn(isolateInstance, [...describeStatements(), ...isolationStatements(own)]);
    props.evidence.grantReadEvidence(captureInstance.role, [`${EVIDENCE_LAYOUT.cases}*`]);
    props.evidence.grantWriteEvidence(captureInstance.role, [`${EVIDENCE_LAYOUT.cases}*`]);
    for (const fn of [captureVolatile, captureMemory]) {
      grantOwn(fn, ssmCaptureStatements(own));
      props.evidence.grantReadEvidence(fn.role, [`${EVIDENCE_LAYOUT.cases}*`, `${EVIDENCE_LAYOUT.ssmStaging}*`]);
      props.evidence.grantWriteEvidence(fn.role, [`${EVIDENCE_LAYOUT.cases}*`]);
    }
    this.grantEvidenceAccountSnapshots(checkSnapshots, copySnapshots, props);

    this.stateMachine = this.buildStateMachine(props);
  }

  /** What check-snapshots and copy-snapshots do in the evidence account itself (the re-encrypted copies). */
  private grantEvidenceAccountSnapshots(check: AmberFunction, copy: AmberFunction, props: InstancePreservationProps): void {
    const stack = Stack.of(this);
    const snapshots = `arn:${stack.partition}:ec2:${stack.region}::snapshot/*`;
    const ec2Via = { StringEquals: { 'kms:ViaService': `ec2.${stack.region}.amazonaws.com` } };
    for (const fn of [check, copy]) {
      fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'DescribeSnapshots', actions: ['ec2:DescribeSnapshots'], resources: ['*'] }));
      Validations.of(fn.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'ec2:DescribeSnapshots supports no resource-level permissions (service authorization reference); it is the only "*" statement.',
      });
    }
    copy.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'CopySharedSnapshotsTagged',
        actions: ['ec2:CopySnapshot'],
        resources: [snapshots],
        conditions: { Null: { [`aws:RequestTag/${CASE_TAG}`]: 'false' } },
      }),
    );
    copy.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'TagCopiesOnCreate',
        actions: ['ec2:CreateTags'],
        resources: [snapshots],
        conditions: { StringEquals: { 'ec2:CreateAction': 'CopySnapshot' } },
      }),
    );
    acknowledgeWildcardResources(
      copy.role,
      [snapshots],
      'Snapshot ids are created at run time; copies must carry the amber:case tag (aws:RequestTag), tags are added only on creation.',
    );
    copy.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'EncryptCopiesWithEvidenceKey',
        actions: ['kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptTo', 'kms:ReEncryptFrom', 'kms:Decrypt', 'kms:DescribeKey', 'kms:CreateGrant'],
        resources: [props.evidence.key.keyArn],
        conditions: ec2Via,
      }),
    );
  }

  private buildStateMachine(props: InstancePreservationProps): sfn.StateMachine {
    const stack = Stack.of(this);
    const f = this.functions;
    const interval = props.checkInterval ?? SNAPSHOT_WAIT.interval;
    const maxChecks = props.maxChecks ?? SNAPSHOT_WAIT.maxChecks;
    // States get their own scope: their ids are the state names, which may repeat the functions' ids.
    const states = new Construct(this, 'States');
    const done = new sfn.Fail(states, 'PreservationFailed', { comment: 'The failure is in the custody ledger', errorPath: '$.error.Error', causePath: '$.error.Cause' });
    const t = new TaskFactory(states, props.recordCustody, done);
    // The last custody step seals a manifest of the case, on every successful path.
    const preserved = t.record('RecordPreserved', 'instance-preserved', { seal: true }).next(new sfn.Succeed(states, 'InstancePreserved'));

    // The wait loop, built twice: for the crash-consistent set in the source account and for the copies.
    const waitLoop = (name: 'Snapshots' | 'Copies', onCompleted: sfn.IChainable): sfn.IChainable => {
      const start = new sfn.Pass(states, `Start${name}Wait`, { result: sfn.Result.fromObject({ count: 0 }), resultPath: '$.checks' });
      const wait = new sfn.Wait(states, `WaitFor${name}`, { time: sfn.WaitTime.duration(interval) });
      const check = t.task(`Check${name}`, f.checkSnapshots.function, {
        comment: 'Ask EC2 for the state of every snapshot of the set (SnapshotSet → SnapshotCheck)',
        resultSelector: { 'status.$': '$.status', 'failed.$': '$.failed', 'states.$': '$.states' },
        resultPath: '$.check',
      });
      const count = new sfn.Pass(states, `Count${name}Check`, {
        parameters: { 'count.$': 'States.MathAdd($.checks.count, 1)' },
        resultPath: '$.checks',
      });
      const choice = new sfn.Choice(states, `${name}Ready?`)
        .when(sfn.Condition.stringEquals('$.check.status', 'completed'), onCompleted)
        .when(sfn.Condition.stringEquals('$.check.status', 'error'), t.fail(`${name}Failed`, `${name}Failed`, 'check-snapshots reported a snapshot in the error state', { failed: sfn.JsonPath.objectAt('$.check.failed') }))
        .when(sfn.Condition.numberGreaterThanEquals('$.checks.count', maxChecks), t.fail(`${name}TimedOut`, `${name}TimedOut`, `snapshots still pending after ${maxChecks} checks`))
        .when(sfn.Condition.stringEquals('$.check.status', 'pending'), count.next(wait))
        .otherwise(t.fail(`${name}UnknownStatus`, `${name}UnknownStatus`, 'check-snapshots returned a status other than completed, pending or error'));
      return start.next(wait).next(check).next(choice);
    };

    const isolate = new sfn.Choice(states, 'IsolateRequested?')
      .when(
        sfn.Condition.booleanEquals('$.isolate', true),
        t.task('IsolateInstance', f.isolateInstance.function, {
          comment: 'Quarantine security group, termination protection, detach from its Auto Scaling group (→ IsolatedInstance)',
        }).next(t.record('RecordIsolation', 'isolate-instance')).next(preserved),
      )
      .otherwise(preserved);

    // copy-snapshots may answer stage 'source' (it started re-encrypted copies in the member account first, the
    // set's key being one the evidence account cannot use): wait for those, then call it again.
    const copy = t.task('CopySnapshots', f.copySnapshots.function, {
      comment: 'Share the snapshots with the evidence account and copy them re-encrypted with the evidence key (→ SnapshotSet, stage evidence; or stage source: re-encrypted copies to wait for first)',
    });
    const copiesDone = new sfn.Choice(states, 'CopiesInEvidenceAccount?')
      .when(sfn.Condition.stringEquals('$.stage', 'source'), copy)
      .otherwise(t.record('RecordCopiesCompleted', 'copies-completed').next(isolate));
    copy.next(t.record('RecordCopiesStarted', 'copy-snapshots')).next(waitLoop('Copies', copiesDone));

    const inEvidenceAccount = new sfn.Choice(states, 'InEvidenceAccount?')
      .when(sfn.Condition.stringEquals('$.accountId', stack.account), isolate)
      .otherwise(copy);

    const snapshots = t
      .task('CreateSnapshots', f.createSnapshots.function, { comment: 'One CreateSnapshots call: a crash-consistent set of every volume (→ SnapshotSet, stage source)' })
      .next(t.record('RecordSnapshotsStarted', 'create-snapshots'))
      .next(waitLoop('Snapshots', t.record('RecordSnapshotsCompleted', 'snapshots-completed').next(inEvidenceAccount)));

    // Volatile → memory → snapshots. Each capture's outcome (captured, refused with a reason, or the task's error)
    // is recorded, and the snapshots follow whatever it was.
    const remote = (what: 'volatile' | 'memory') => ({
      items: sfn.JsonPath.objectAt(`$.${what}.items`),
      failures: sfn.JsonPath.objectAt(`$.${what}.failures`),
      detail: { 'outcome.$': `$.${what}.outcome`, 'detail.$': `$.${what}.detail`, 'instanceId.$': '$.instanceId' },
    });
    const recordMemory = t.record('RecordMemory', 'memory-capture', remote('memory'));
    recordMemory.next(snapshots);
    const memory = t.optional('CaptureMemory', f.captureMemory.function, {
      comment: 'A memory image through SSM (AVML / WinPmem pinned by SHA-256), streamed to the evidence bucket and re-hashed on arrival (→ RemoteCaptureResult)',
      resultPath: '$.memory',
    }, recordMemory);
    const memoryRequested = new sfn.Choice(states, 'MemoryRequested?')
      .when(sfn.Condition.and(sfn.Condition.isPresent('$.memory'), sfn.Condition.booleanEquals('$.memory', true)), memory)
      .otherwise(snapshots);
    const recordVolatile = t.record('RecordVolatile', 'volatile-triage', remote('volatile'));
    recordVolatile.next(memoryRequested);
    const volatile = t.optional('CaptureVolatile', f.captureVolatile.function, {
      comment: 'The volatile triage through SSM Run Command: processes, connections, users, timers, histories, modules (→ RemoteCaptureResult)',
      resultPath: '$.volatile',
    }, recordVolatile);

    const definition = t
      .task('CaptureInstance', f.captureInstance.function, { comment: 'Instance metadata, volumes, ENIs, security groups, profile, tags, console output as evidence (→ CapturedInstance)' })
      .next(t.record('RecordCapture', 'capture-instance', { items: sfn.JsonPath.objectAt('$.items') }))
      .next(volatile);

    // The inventory first (its own block: inventory-collection.ts).
    const start = props.inventory ? inventoryFirst(states, t, props.inventory, definition) : definition;

    const role = new StateMachineRole(this, 'Role', {
      description: 'Amber instance preservation state machine',
      functions: [...Object.values(f).map((fn) => fn.function), props.recordCustody, ...(props.inventory ? [props.inventory] : [])],
    });
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetentionDays as logs.RetentionDays, removalPolicy: RemovalPolicy.RETAIN });
    return new sfn.StateMachine(this, 'Resource', {
      comment: 'Amber: preserve an EC2 instance (metadata, crash-consistent snapshots, copies in the evidence account, optional isolation)',
      definitionBody: sfn.DefinitionBody.fromChainable(start),
      role: role.role.withoutPolicyUpdates(),
      timeout: Duration.hours(36),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
  }
}
