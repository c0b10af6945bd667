/**
 * Disk images as a Step Functions state machine (input: ImageTaskInput, a completed EBS snapshot): plan-image
 * lists the snapshot's blocks once and writes the chunks still to store (those the custody ledger does not record)
 * as a JSON array into the evidence bucket → a Distributed Map reads it (ItemReader), hands each chunk to its own
 * image-chunk Lambda (ItemSelector: the task plus one chunk), which reads the chunk's blocks through the EBS
 * direct APIs and stores it write-once, and writes every child's result to the evidence bucket (ResultWriter) →
 * record-custody appends the chunks from the ResultWriter's manifest → assemble-image reads the chunks back in
 * order, checks each against the ledger, computes the whole image's SHA-256 and stores image.json → a last
 * record seals the case. Run again with the same input, it stores only the chunks the ledger lacks.
 */
import { Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { EVIDENCE_LAYOUT, IMAGE_MAP } from '../defaults.ts';
import { ebsReadStatements, grantEc2, type Ec2Account } from '../ec2-permissions.ts';
import { acknowledgeWildcardResources } from '../nag.ts';
import { addRetries, ERROR_PATH, TaskFactory } from '../state-machine-tasks.ts';
import { AmberFunction } from './amber-function.ts';
import type { EvidenceBucket } from './evidence-bucket.ts';
import { grantAssumeCollector, type CollectorAccess } from './instance-preservation.ts';
import { StateMachineRole } from './state-machine-role.ts';

export interface ImagePreservationProps {
  readonly evidence: EvidenceBucket;
  readonly recordCustody: lambda.IFunction;
  readonly collector: CollectorAccess;
  readonly retentionDays: number;
  readonly logRetentionDays: number;
}

const MAP_LABEL = 'ImageChunks';

/** The disk-image state machine and its three task functions. */
export class ImagePreservation extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly functions: {
    readonly planImage: AmberFunction<'plan-image'>;
    readonly imageChunk: AmberFunction<'image-chunk'>;
    readonly assembleImage: AmberFunction<'assemble-image'>;
  };

  constructor(scope: Construct, id: string, props: ImagePreservationProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const bucket = props.evidence.bucket;
    const collectorEnv = { COLLECTOR_ROLE_NAME: props.collector.roleName, COLLECTOR_EXTERNAL_ID: props.collector.externalId };
    const common = { logRetentionDays: props.logRetentionDays };

    const planImage = new AmberFunction(this, 'PlanImage', { ...common, handlerName: 'plan-image', environment: { ...collectorEnv, EVIDENCE_BUCKET: bucket.bucketName }, memorySize: 1024, timeout: Duration.minutes(15) });
    const imageChunk = new AmberFunction(this, 'ImageChunk', {
      ...common,
      handlerName: 'image-chunk',
      environment: { ...collectorEnv, EVIDENCE_BUCKET: bucket.bucketName, RETENTION_DAYS: String(props.retentionDays) },
      // 256 MiB chunks stream through; blocks fetched ahead and multipart parts in flight need the room.
      memorySize: 1024,
      timeout: Duration.minutes(15),
    });
    const assembleImage = new AmberFunction(this, 'AssembleImage', {
      ...common,
      handlerName: 'assemble-image',
      environment: { EVIDENCE_BUCKET: bucket.bucketName, RETENTION_DAYS: String(props.retentionDays) },
      memorySize: 1024,
      timeout: Duration.minutes(15),
    });
    this.functions = { planImage, imageChunk, assembleImage };

    const own: Ec2Account = { partition: stack.partition, account: stack.account };
    for (const fn of [planImage, imageChunk]) {
      grantAssumeCollector(fn, props.collector);
      // Snapshots in the evidence account itself (the re-encrypted copies): the function's own credentials.
      grantEc2(fn.role, own, ebsReadStatements(own));
    }
    props.evidence.grantReadEvidence(planImage.role, [`${EVIDENCE_LAYOUT.cases}*`, `${EVIDENCE_LAYOUT.imagePlans}*`]);
    props.evidence.grantWriteEvidence(planImage.role, [`${EVIDENCE_LAYOUT.imagePlans}*`]);
    props.evidence.grantReadEvidence(imageChunk.role, [`${EVIDENCE_LAYOUT.cases}*`]);
    props.evidence.grantWriteEvidence(imageChunk.role, [`${EVIDENCE_LAYOUT.cases}*`]);
    props.evidence.grantReadEvidence(assembleImage.role, [`${EVIDENCE_LAYOUT.cases}*`, `${EVIDENCE_LAYOUT.imagePlans}*`]);
    props.evidence.grantWriteEvidence(assembleImage.role, [`${EVIDENCE_LAYOUT.cases}*`]);

    const states = new Construct(this, 'States');
    const done = new sfn.Fail(states, 'ImageFailed', { comment: 'The failure is in the custody ledger', errorPath: '$.error.Error', causePath: '$.error.Cause' });
    const t = new TaskFactory(states, props.recordCustody, done);

    // The child workflow: one chunk. A chunk that still fails after its retries fails its child; the map
    // tolerates it so every result reaches the ResultWriter, record-custody records the failed chunks as
    // failures, and assemble-image answers the image incomplete.
    const chunkTask = new tasks.LambdaInvoke(states, 'StoreChunk', {
      comment: 'Read one chunk\'s blocks through the EBS direct APIs (checked against their checksums, unlisted blocks as zeros) and store it write-once',
      lambdaFunction: imageChunk.function,
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
    });
    addRetries(chunkTask, ['AcquisitionError']);
    chunkTask.addCatch(new sfn.Fail(states, 'ChunkFailed', { comment: 'This chunk failed; the map records it and assemble-image names it', errorPath: '$.Error', causePath: '$.Cause' }));
    const map = new sfn.DistributedMap(states, 'ImageChunks', {
      comment: 'Store every chunk of the plan, each in its own child, recording each child\'s result in the evidence bucket',
      itemReader: new sfn.S3JsonItemReader({ bucket, key: sfn.JsonPath.stringAt('$.plan.itemsKey') }),
      itemSelector: {
        'case.$': '$.case',
        'requestId.$': '$.requestId',
        'snapshotId.$': '$.snapshotId',
        'accountId.$': '$.accountId',
        'region.$': '$.region',
        'volumeBytes.$': '$.plan.volumeBytes',
        'blockBytes.$': '$.plan.blockBytes',
        'chunk.$': '$$.Map.Item.Value',
      },
      resultWriterV2: new sfn.ResultWriterV2({ bucket, prefix: EVIDENCE_LAYOUT.imageResults.replace(/\/$/, '') }),
      maxConcurrency: IMAGE_MAP.maxConcurrency,
      toleratedFailurePercentage: 100,
      mapExecutionType: sfn.StateMachineType.STANDARD,
      label: MAP_LABEL,
      resultPath: '$.chunks',
    });
    map.itemProcessor(chunkTask);
    addRetries(map, ['States.ItemReaderFailed', 'States.ResultWriterFailed']);
    map.addCatch(t.failure, { resultPath: ERROR_PATH });

    const assemble = t.task('AssembleImage', assembleImage.function, {
      comment: 'Read every chunk back in order, check it against the ledger, hash the whole image and store image.json (→ AssembledImageOutput)',
      resultPath: '$.image',
    });
    const imageDone = new sfn.Choice(states, 'ImageComplete?')
      .when(
        sfn.Condition.booleanEquals('$.image.complete', true),
        t
          .record('RecordImage', 'image-assembled', { items: sfn.JsonPath.objectAt('$.image.items'), detail: { 'sha256.$': '$.image.sha256', 'snapshotId.$': '$.snapshotId', 'chunks.$': '$.plan.chunks' }, seal: true })
          .next(new sfn.Succeed(states, 'ImagePreserved')),
      )
      .otherwise(
        t
          .record('RecordImageIncomplete', 'image-incomplete', { failures: sfn.JsonPath.objectAt('$.image.failures'), detail: { 'snapshotId.$': '$.snapshotId', 'chunks.$': '$.plan.chunks' }, seal: true })
          .next(new sfn.Fail(states, 'ImageIncomplete', { error: 'ImageIncomplete', cause: 'some chunks are missing or damaged (see the case\'s custody ledger); start the same input again to store only those' })),
      );

    // chunkMib is optional in the input: a Pass gives it its default so every payload can name it.
    const defaults = new sfn.Pass(states, 'ChunkSizeDefault', {
      comment: 'chunkMib defaults to 256 (512 EBS blocks) when the input does not give it',
      parameters: { 'input.$': '$', defaults: { chunkMib: 256 } },
    });
    const normalise = new sfn.Pass(states, 'ApplyDefaults', { parameters: { 'merged.$': 'States.JsonMerge($.defaults, $.input, false)' }, outputPath: '$.merged' });
    const plan = t.task('PlanImage', planImage.function, { comment: 'List the snapshot\'s blocks once; write the chunks the ledger lacks as the map\'s items (→ ImagePlanOutput)', resultPath: '$.plan' });
    const definition = defaults
      .next(normalise)
      .next(plan)
      .next(
        new sfn.Choice(states, 'AnyChunksToStore?')
          .when(
            sfn.Condition.numberGreaterThan('$.plan.count', 0),
            map.next(t.record('RecordChunks', 'image-chunks', { resultWriterDetails: sfn.JsonPath.objectAt('$.chunks.ResultWriterDetails'), seal: false }, '$.custody')).next(assemble),
          )
          .otherwise(assemble),
      );
    assemble.next(imageDone);

    const role = new StateMachineRole(this, 'Role', { description: 'Amber disk image state machine', functions: [planImage.function, imageChunk.function, assembleImage.function, props.recordCustody] });
    role.addToPolicy(new iam.PolicyStatement({ sid: 'ReadImagePlans', actions: ['s3:GetObject'], resources: [bucket.arnForObjects(`${EVIDENCE_LAYOUT.imagePlans}*`)] }));
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteMapResults',
        actions: ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
        resources: [bucket.arnForObjects(`${EVIDENCE_LAYOUT.imageResults}*`)],
      }),
    );
    acknowledgeWildcardResources(
      role.role,
      [bucket.arnForObjects(`${EVIDENCE_LAYOUT.imagePlans}*`), bucket.arnForObjects(`${EVIDENCE_LAYOUT.imageResults}*`)],
      'The Distributed Map reads the plan plan-image wrote (key known at run time) and its ResultWriter names objects after the map run; each limited to its prefix.',
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
      comment: 'Amber: a raw disk image of an EBS snapshot through the EBS direct APIs, chunk by chunk, with the whole image\'s SHA-256',
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      role: role.role.withoutPolicyUpdates(),
      timeout: Duration.hours(24),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    const stateMachineName = Fn.select(6, Fn.split(':', this.stateMachine.stateMachineArn));
    const execution = (suffix: string): string => Fn.join('', [`arn:${stack.partition}:states:${stack.region}:${stack.account}:execution:`, stateMachineName, suffix]);
    new iam.Policy(this, 'DistributedMapPolicy', {
      roles: [role.role],
      statements: [
        new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [this.stateMachine.stateMachineArn] }),
        new iam.PolicyStatement({ actions: ['states:DescribeExecution', 'states:StopExecution', 'states:RedriveExecution'], resources: [execution(':*'), execution(`/${MAP_LABEL}:*`)] }),
      ],
    });
    acknowledgeWildcardResources(this, [execution(':*'), execution(`/${MAP_LABEL}:*`)], 'Child executions of this state machine\'s Distributed Map get ids at run time; only this state machine\'s executions.');
  }
}
