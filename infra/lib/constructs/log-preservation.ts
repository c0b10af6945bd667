/**
 * Log preservation as a Step Functions state machine (input: LogTaskInput): list-log-objects writes the objects
 * to copy as a JSON array into the evidence bucket → a Distributed Map reads that array (ItemReader), hands
 * copy-log-objects batches of objects (ItemBatcher, with the case and request as BatchInput) and writes every
 * child's result to the evidence bucket (ResultWriter) → record-custody appends them to the ledger from the
 * ResultWriter's manifest. Every task, and the map, retries throttling and 5xx; failures are recorded, then Fail.
 *
 * CloudTrail event history: when the request asks (`cloudTrailEventHistory: true`), or when the trail has no
 * object for the window (an account without a trail bucket, or whose trail does not reach it), a loop of
 * lookup-cloudtrail-events (LookupEvents through the collector role, every page preserved byte for byte) →
 * record-custody → again while it answers `complete: false` runs after the listing, before the copies.
 */
import { Duration, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { EVIDENCE_LAYOUT, LOG_COPY } from '../defaults.ts';
import { acknowledgeWildcardResources } from '../nag.ts';
import { addRetries, ERROR_PATH, TaskFactory } from '../state-machine-tasks.ts';
import { AmberFunction } from './amber-function.ts';
import type { EvidenceBucket } from './evidence-bucket.ts';
import { grantAssumeCollector, type CollectorAccess } from './instance-preservation.ts';
import { StateMachineRole } from './state-machine-role.ts';

export interface LogPreservationProps {
  readonly evidence: EvidenceBucket;
  readonly recordCustody: lambda.IFunction;
  readonly retentionDays: number;
  readonly logRetentionDays: number;
  readonly trailBucket: string;
  readonly trailPrefix: string;
  /** @default - an account trail */
  readonly organizationId?: string;
  /** @default - the trail is not SSE-KMS encrypted with a customer key */
  readonly trailKmsKeyArn?: string;
  /** The collector role lookup-cloudtrail-events assumes in member accounts. */
  readonly collector: CollectorAccess;
}

const MAP_LABEL = 'CopyLogObjects';

/** The log-preservation state machine and its two task functions. */
export class LogPreservation extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly listLogObjects: AmberFunction<'list-log-objects'>;
  readonly copyLogObjects: AmberFunction<'copy-log-objects'>;
  readonly lookupEvents: AmberFunction<'lookup-cloudtrail-events'>;

  constructor(scope: Construct, id: string, props: LogPreservationProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const bucket = props.evidence.bucket;

    this.listLogObjects = new AmberFunction(this, 'ListLogObjects', {
      handlerName: 'list-log-objects',
      environment: {
        EVIDENCE_BUCKET: bucket.bucketName,
        TRAIL_BUCKET: props.trailBucket,
        TRAIL_PREFIX: props.trailPrefix,
        ORGANIZATION_ID: props.organizationId ?? '',
      },
      logRetentionDays: props.logRetentionDays,
      memorySize: 1024,
      timeout: Duration.minutes(15),
    });
    this.copyLogObjects = new AmberFunction(this, 'CopyLogObjects', {
      handlerName: 'copy-log-objects',
      environment: { EVIDENCE_BUCKET: bucket.bucketName, RETENTION_DAYS: String(props.retentionDays) },
      logRetentionDays: props.logRetentionDays,
      memorySize: 1024,
      timeout: Duration.minutes(15),
    });

    this.lookupEvents = new AmberFunction(this, 'LookupCloudTrailEvents', {
      handlerName: 'lookup-cloudtrail-events',
      environment: {
        EVIDENCE_BUCKET: bucket.bucketName,
        RETENTION_DAYS: String(props.retentionDays),
        COLLECTOR_ROLE_NAME: props.collector.roleName,
        COLLECTOR_EXTERNAL_ID: props.collector.externalId,
      },
      logRetentionDays: props.logRetentionDays,
      memorySize: 512,
      timeout: Duration.minutes(15),
    });
    grantAssumeCollector(this.lookupEvents, props.collector);
    // The evidence account's own event history, with the function's own credentials.
    this.lookupEvents.addToRolePolicy(new iam.PolicyStatement({ sid: 'LookupOwnEventHistory', actions: ['cloudtrail:LookupEvents'], resources: ['*'] }));
    Validations.of(this.lookupEvents.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'cloudtrail:LookupEvents supports no resource-level permissions (service authorization reference); it reads event history only.',
    });
    props.evidence.grantReadEvidence(this.lookupEvents.role, [`${EVIDENCE_LAYOUT.cases}*`]);
    props.evidence.grantWriteEvidence(this.lookupEvents.role, [`${EVIDENCE_LAYOUT.cases}*`]);

    const trailArn = `arn:${stack.partition}:s3:::${props.trailBucket}`;
    const trailLogs = `${props.trailPrefix ? `${props.trailPrefix}/` : ''}AWSLogs/`;
    this.listLogObjects.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [trailArn],
        conditions: { StringLike: { 's3:prefix': [`${trailLogs}*`] } },
      }),
    );
    props.evidence.grantReadEvidence(this.listLogObjects.role, [`${EVIDENCE_LAYOUT.cases}*`, `${EVIDENCE_LAYOUT.logListings}*`]);
    props.evidence.grantWriteEvidence(this.listLogObjects.role, [`${EVIDENCE_LAYOUT.logListings}*`]);
    this.copyLogObjects.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectAttributes', 's3:GetObjectVersionAttributes'],
        resources: [`${trailArn}/${trailLogs}*`],
      }),
    );
    acknowledgeWildcardResources(this.copyLogObjects.role, [`${trailArn}/${trailLogs}*`], 'The trail\'s log objects of the requested window, named at run time; read only, under the trail\'s AWSLogs/ prefix.');
    props.evidence.grantReadEvidence(this.copyLogObjects.role, [`${EVIDENCE_LAYOUT.cases}*`, `${EVIDENCE_LAYOUT.logListings}*`]);
    props.evidence.grantWriteEvidence(this.copyLogObjects.role, [`${EVIDENCE_LAYOUT.cases}*`]);
    if (props.trailKmsKeyArn) {
      this.copyLogObjects.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [props.trailKmsKeyArn], conditions: { StringLike: { 'kms:ViaService': 's3.*.amazonaws.com' } } }),
      );
    }

    // States get their own scope: their ids are the state names, which may repeat the functions' ids.
    const states = new Construct(this, 'States');
    const done = new sfn.Fail(states, 'LogPreservationFailed', { comment: 'The failure is in the custody ledger', errorPath: '$.error.Error', causePath: '$.error.Cause' });
    const t = new TaskFactory(states, props.recordCustody, done);

    // The child workflow: one batch. It cannot reach the parent's failure path; a failed batch fails its child
    // execution, which fails the map (no failure tolerated), whose catch records the failure.
    const copyTask = new tasks.LambdaInvoke(states, 'CopyLogObjectsBatch', {
      comment: 'Server-side copy of one batch into cases/<case>/<source key>, each object hashed and retained',
      lambdaFunction: this.copyLogObjects.function,
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
    });
    addRetries(copyTask);
    copyTask.addCatch(new sfn.Fail(states, 'CopyBatchFailed', { comment: 'This batch failed; the map fails and its catch records it', errorPath: '$.Error', causePath: '$.Cause' }));
    const map = new sfn.DistributedMap(states, 'CopyLogObjects', {
      comment: 'Copy every listed object, in batches, recording each child\'s result in the evidence bucket',
      itemReader: new sfn.S3JsonItemReader({ bucket, key: sfn.JsonPath.stringAt('$.itemsKey') }),
      itemBatcher: new sfn.ItemBatcher({
        maxItemsPerBatch: LOG_COPY.maxItemsPerBatch,
        // ItemBatcher renders BatchInput as given: the `.$` suffixes make Step Functions resolve the paths.
        batchInput: { 'case.$': '$.case', 'requestId.$': '$.requestId' },
      }),
      resultWriterV2: new sfn.ResultWriterV2({ bucket, prefix: EVIDENCE_LAYOUT.mapResults.replace(/\/$/, '') }),
      maxConcurrency: LOG_COPY.maxConcurrency,
      toleratedFailurePercentage: LOG_COPY.toleratedFailurePercentage,
      mapExecutionType: sfn.StateMachineType.STANDARD,
      label: MAP_LABEL,
      resultPath: '$.copy',
    });
    map.itemProcessor(copyTask);
    addRetries(map, ['States.ItemReaderFailed', 'States.ResultWriterFailed']);
    map.addCatch(t.failure, { resultPath: ERROR_PATH });

    const preserved = new sfn.Succeed(states, 'LogsPreserved');
    // Failed batches are recorded (record-custody names every object they held), then the execution fails.
    const complete = new sfn.Choice(states, 'EveryObjectPreserved?')
      .when(
        sfn.Condition.numberGreaterThan('$.custody.failures', 0),
        new sfn.Fail(states, 'LogsPartiallyPreserved', {
          comment: 'Some objects could not be copied; the custody ledger and the sealed manifest list them',
          error: 'LogsPartiallyPreserved',
          cause: 'some listed objects were not preserved; see the case\'s custody ledger',
        }),
      )
      .otherwise(preserved);
    const anyObjects = new sfn.Choice(states, 'AnyLogObjects?')
      .when(
        sfn.Condition.numberGreaterThan('$.count', 0),
        map
          .next(t.record('RecordCopies', 'copy-log-objects', { resultWriterDetails: sfn.JsonPath.objectAt('$.copy.ResultWriterDetails') }, '$.custody'))
          .next(complete),
      )
      .otherwise(preserved);
    // Event history: asked for, or the only record of the window (the trail has no object for it).
    const lookup = t.task('LookupEvents', this.lookupEvents.function, {
      comment: 'CloudTrail event history (LookupEvents) of the window, every account and region, each page preserved byte for byte (→ LookupEventsResult)',
      resultPath: '$.lookup',
    });
    lookup
      .next(
        t.record('RecordEventHistory', 'cloudtrail-event-history', {
          items: sfn.JsonPath.objectAt('$.lookup.items'),
          failures: sfn.JsonPath.objectAt('$.lookup.failures'),
          detail: { 'pages.$': '$.lookup.pages', 'complete.$': '$.lookup.complete', 'since.$': '$.since', 'until.$': '$.until' },
        }),
      )
      .next(new sfn.Choice(states, 'EventHistoryComplete?').when(sfn.Condition.booleanEquals('$.lookup.complete', false), lookup).otherwise(anyObjects));
    const eventHistory = new sfn.Choice(states, 'EventHistoryWanted?')
      .when(
        sfn.Condition.or(
          sfn.Condition.and(sfn.Condition.isPresent('$.cloudTrailEventHistory'), sfn.Condition.booleanEquals('$.cloudTrailEventHistory', true)),
          sfn.Condition.numberEquals('$.count', 0),
        ),
        lookup,
      )
      .otherwise(anyObjects);
    const definition = t
      .task('ListLogObjects', this.listLogObjects.function, { comment: 'List the trail objects of the window into a JSON array in the evidence bucket (→ LogListing)' })
      .next(t.record('RecordListing', 'list-log-objects', { failures: sfn.JsonPath.objectAt('$.skipped') }))
      .next(eventHistory);

    const role = new StateMachineRole(this, 'Role', {
      description: 'Amber log preservation state machine',
      functions: [this.listLogObjects.function, this.copyLogObjects.function, this.lookupEvents.function, props.recordCustody],
    });
    // ItemReader: only the listings; ResultWriter: only its prefix. Both through S3 with the evidence key.
    role.addToPolicy(new iam.PolicyStatement({ sid: 'ReadItemListings', actions: ['s3:GetObject'], resources: [bucket.arnForObjects(`${EVIDENCE_LAYOUT.logListings}*`)] }));
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteMapResults',
        actions: ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
        resources: [bucket.arnForObjects(`${EVIDENCE_LAYOUT.mapResults}*`)],
      }),
    );
    acknowledgeWildcardResources(
      role.role,
      [bucket.arnForObjects(`${EVIDENCE_LAYOUT.logListings}*`), bucket.arnForObjects(`${EVIDENCE_LAYOUT.mapResults}*`)],
      'The Distributed Map reads the listing list-log-objects wrote (key known at run time) and its ResultWriter names objects after the map run; each limited to its prefix.',
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'UseEvidenceKeyThroughS3',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [props.evidence.key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } },
      }),
    );

    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetentionDays as logs.RetentionDays, removalPolicy: RemovalPolicy.RETAIN });
    this.stateMachine = new sfn.StateMachine(this, 'Resource', {
      comment: 'Amber: preserve the CloudTrail objects of a window into a case, hashed, retained and recorded',
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      role: role.role.withoutPolicyUpdates(),
      timeout: Duration.hours(24),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    // Child executions of the Distributed Map: the state machine starts, describes and stops its own executions.
    // A separate policy, as CDK does it: the state machine depends on its role, this policy on the state machine.
    const stateMachineName = Fn.select(6, Fn.split(':', this.stateMachine.stateMachineArn));
    const execution = (suffix: string): string =>
      Fn.join('', [`arn:${stack.partition}:states:${stack.region}:${stack.account}:execution:`, stateMachineName, suffix]);
    new iam.Policy(this, 'DistributedMapPolicy', {
      roles: [role.role],
      statements: [
        new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [this.stateMachine.stateMachineArn] }),
        new iam.PolicyStatement({
          actions: ['states:DescribeExecution', 'states:StopExecution', 'states:RedriveExecution'],
          resources: [execution(':*'), execution(`/${MAP_LABEL}:*`)],
        }),
      ],
    });
    // On this construct: CDK's own (unattached, unrendered) DistributedMapPolicy under the state machine names the same ARNs.
    acknowledgeWildcardResources(this, [execution(':*'), execution(`/${MAP_LABEL}:*`)], 'Child executions of this state machine\'s Distributed Map get ids at run time; only this state machine\'s executions.');
  }
}
