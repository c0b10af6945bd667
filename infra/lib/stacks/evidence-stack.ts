/**
 * The evidence account: the evidence bucket and its key, the seal-signing key, the Athena tables and workgroup,
 * the scheduled detections, the two preservation state machines with their functions, and the rules that start them.
 */
import { withParameterJson } from '../../../shared/detections/parameters.ts';
import { Annotations, CfnOutput, Duration, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { Detection } from '../../../shared/detections/catalogue.ts';
import type { AmberConfig } from '../config.ts';
import { EVIDENCE_LAYOUT } from '../defaults.ts';
import { AmberFunction } from '../constructs/amber-function.ts';
import { ATHENA_TABLES, AthenaTables, notScheduledReason, SCHEDULED_TABLES } from '../constructs/athena-tables.ts';
import { EvidenceBucket } from '../constructs/evidence-bucket.ts';
import { ImagePreservation } from '../constructs/image-preservation.ts';
import { InstancePreservation } from '../constructs/instance-preservation.ts';
import { DeriveOnPreserve } from '../constructs/derive-on-preserve.ts';
import { InventoryCollection } from '../constructs/inventory-collection.ts';
import { LogPreservation } from '../constructs/log-preservation.ts';
import { PreservationTriggers } from '../constructs/preservation-triggers.ts';
import { ScheduledDetections } from '../constructs/scheduled-detections.ts';
import { SigningKey } from '../constructs/signing-key.ts';
import { AnchorBucket } from '../constructs/anchor-bucket.ts';

export interface EvidenceStackProps extends StackProps {
  readonly config: AmberConfig;
  /** The detection catalogue (loadCatalogue()): schedules and named queries. */
  readonly detections: readonly Detection[];
}

/** Everything that runs in the evidence account. */
export class EvidenceStack extends Stack {
  readonly evidence: EvidenceBucket;
  readonly signingKey: SigningKey;
  readonly anchors: AnchorBucket;
  readonly athena: AthenaTables;
  readonly detections: ScheduledDetections;
  readonly instancePreservation: InstancePreservation;
  readonly inventory: InventoryCollection;
  readonly logPreservation: LogPreservation;
  readonly deriveOnPreserve: DeriveOnPreserve;
  readonly imagePreservation: ImagePreservation;
  readonly triggers: PreservationTriggers;
  readonly recordCustody: AmberFunction<'record-custody'>;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: EvidenceStackProps) {
    super(scope, id, props);
    const { config } = props;
    const logRetentionDays = config.logRetentionDays;
    // The collector lives in the member accounts; in single-account mode, in this one.
    const collectorAccounts = config.singleAccount ? [this.account] : [...config.memberAccountIds];

    this.evidence = new EvidenceBucket(this, 'Evidence', {
      retentionDays: config.retentionDays,
      coldStorageAfterDays: config.coldStorageAfterDays,
      ...(config.singleAccount
        ? {}
        : {
            snapshotCollectors: { roleName: config.collectorRoleName, accountIds: config.memberAccountIds, organizationId: config.organizationId },
            // Member instances put their SSM output and memory images here themselves (instance preservation).
            memberInstanceStaging: { prefix: EVIDENCE_LAYOUT.ssmStaging, accountIds: config.memberAccountIds, organizationId: config.organizationId },
          }),
    });

    // Signs every seal and checkpoint the functions write; only record-custody and run-detections may use it.
    this.signingKey = new SigningKey(this, 'SigningKey');
    // Each case's signed ledger head after every custody step, outside the evidence bucket (amber verify --anchor).
    this.anchors = new AnchorBucket(this, 'Anchors', { retentionDays: config.retentionDays, accessLogsBucket: this.evidence.accessLogsBucket });

    this.deadLetterQueue = new sqs.Queue(this, 'FailedInvocations', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue of the asynchronous invocations (rules, schedules, Lambda on-failure); it needs none of its own.',
    });

    // One writer per ledger: record-custody appends to the custody ledgers of every case (S3 has no lock).
    this.recordCustody = new AmberFunction(this, 'RecordCustody', {
      handlerName: 'record-custody',
      environment: { EVIDENCE_BUCKET: this.evidence.bucket.bucketName, RETENTION_DAYS: String(config.retentionDays), SIGNING_KEY_ARN: this.signingKey.key.keyArn, ANCHOR_BUCKET: this.anchors.bucket.bucketName },
      logRetentionDays,
      memorySize: 512,
      timeout: Duration.minutes(5),
      reservedConcurrentExecutions: 1,
    });
    this.evidence.grantReadEvidence(this.recordCustody.role, [`${EVIDENCE_LAYOUT.cases}*`, `${EVIDENCE_LAYOUT.mapResults}*`, `${EVIDENCE_LAYOUT.logListings}*`, `${EVIDENCE_LAYOUT.imageResults}*`, `${EVIDENCE_LAYOUT.inventoryBatches}*`]);
    this.evidence.grantWriteEvidence(this.recordCustody.role, [`${EVIDENCE_LAYOUT.cases}*`]);
    this.signingKey.grantSign(this.recordCustody.role);
    this.anchors.grantWriteAnchors(this.recordCustody.role);

    // Every detection on an Athena table is saved as named queries; those on a table with a live location
    // (the trail) are also scheduled. Say which are not scheduled, and why.
    // amber:detectionParameters: checked against the catalogue here (a typo fails the synth), applied to the named
    // queries, and handed to the scheduled runs through DETECTION_PARAMETERS.
    const parameterJson = JSON.stringify(config.detectionParameters);
    const detections = withParameterJson(props.detections, parameterJson, 'amber:detectionParameters');
    const inAws = detections.filter((d) => ATHENA_TABLES.includes(d.table));
    const scheduled = detections.filter((d) => SCHEDULED_TABLES.includes(d.table));
    const notScheduled = detections.filter((d) => !SCHEDULED_TABLES.includes(d.table));
    if (notScheduled.length > 0) {
      const byReason = new Map<string, string[]>();
      for (const d of notScheduled) {
        const reason = notScheduledReason(d.table) ?? '';
        byReason.set(reason, [...(byReason.get(reason) ?? []), `${d.id} (${d.table})`]);
      }
      Annotations.of(this).addInfo(
        `amber: ${notScheduled.length} detection(s) are not scheduled: ${[...byReason].map(([reason, ids]) => `${reason}: ${ids.join(', ')}`).join('; ')}`,
      );
    }

    // Every object preserved in a case becomes Parquet rows for the Athena tables, as it arrives.
    this.deriveOnPreserve = new DeriveOnPreserve(this, 'DeriveOnPreserve', {
      evidence: this.evidence,
      signingKey: this.signingKey,
      deadLetterQueue: this.deadLetterQueue,
      logRetentionDays,
    });

    this.athena = new AthenaTables(this, 'Athena', {
      detections: inAws,
      evidenceBucket: this.evidence.bucket,
      key: this.evidence.key,
      accessLogsBucket: this.evidence.accessLogsBucket,
      trailBucket: config.trailBucket,
      trailPrefix: config.trailPrefix,
      organizationId: config.organizationId,
      accounts: [this.account, ...config.memberAccountIds],
      regions: config.regions,
      projectionStartDate: config.projectionStartDate,
      bytesScannedCutoff: config.athenaBytesScannedCutoff,
    });

    this.detections = new ScheduledDetections(this, 'Detections', {
      detections: scheduled,
      evidence: this.evidence,
      signingKey: this.signingKey,
      athena: this.athena,
      trailBucket: config.trailBucket,
      trailPrefix: config.trailPrefix,
      trailKmsKeyArn: config.trailKmsKeyArn,
      deadLetterQueue: this.deadLetterQueue,
      logRetentionDays,
      securityHubFindings: config.securityHubFindings,
      detectionParameters: parameterJson,
    });

    // The inventory: on demand (Inventory Requested) and as the first step of every instance preservation.
    this.inventory = new InventoryCollection(this, 'Inventory', {
      evidence: this.evidence,
      recordCustody: this.recordCustody.function,
      collector: { roleName: config.collectorRoleName, externalId: config.collectorExternalId, accountIds: collectorAccounts, organizationId: config.organizationId },
      retentionDays: config.retentionDays,
      logRetentionDays,
      deadLetterQueue: this.deadLetterQueue,
    });

    this.instancePreservation = new InstancePreservation(this, 'InstancePreservation', {
      evidence: this.evidence,
      recordCustody: this.recordCustody.function,
      collector: {
        roleName: config.collectorRoleName,
        externalId: config.collectorExternalId,
        accountIds: collectorAccounts,
        organizationId: config.organizationId,
      },
      retentionDays: config.retentionDays,
      logRetentionDays,
      memoryTools: config.memoryTools,
      inventory: this.inventory.function.function,
    });

    this.logPreservation = new LogPreservation(this, 'LogPreservation', {
      evidence: this.evidence,
      recordCustody: this.recordCustody.function,
      retentionDays: config.retentionDays,
      logRetentionDays,
      trailBucket: config.trailBucket,
      trailPrefix: config.trailPrefix,
      organizationId: config.organizationId,
      trailKmsKeyArn: config.trailKmsKeyArn,
      collector: {
        roleName: config.collectorRoleName,
        externalId: config.collectorExternalId,
        accountIds: collectorAccounts,
        organizationId: config.organizationId,
      },
    });

    // Started by hand or by a runbook with a completed snapshot (aws stepfunctions start-execution): see README.
    this.imagePreservation = new ImagePreservation(this, 'ImagePreservation', {
      evidence: this.evidence,
      recordCustody: this.recordCustody.function,
      collector: {
        roleName: config.collectorRoleName,
        externalId: config.collectorExternalId,
        accountIds: collectorAccounts,
        organizationId: config.organizationId,
      },
      retentionDays: config.retentionDays,
      logRetentionDays,
    });

    this.triggers = new PreservationTriggers(this, 'Triggers', {
      instanceStateMachine: this.instancePreservation.stateMachine,
      logStateMachine: this.logPreservation.stateMachine,
      guardDutyMinSeverity: config.guardDutyMinSeverity,
      defaultLogWindowHours: config.defaultLogWindowHours,
      deadLetterQueue: this.deadLetterQueue,
      logRetentionDays,
      securityHubCustomAction: config.securityHubCustomAction,
      memberAccountIds: config.singleAccount ? [] : config.memberAccountIds,
      organizationId: config.singleAccount ? undefined : config.organizationId,
    });

    new CfnOutput(this, 'EvidenceBucketName', { value: this.evidence.bucket.bucketName, description: 'The evidence bucket (Object Lock, COMPLIANCE)' });
    new CfnOutput(this, 'AnchorBucketName', { value: this.anchors.bucket.bucketName, description: 'Signed ledger heads of every case, after each custody step (amber verify --anchor s3://<this bucket>)' });
    new CfnOutput(this, 'EvidenceKeyArn', { value: this.evidence.key.keyArn, description: 'KMS key of the evidence and snapshot copies' });
    new CfnOutput(this, 'SigningKeyArn', { value: this.signingKey.key.keyArn, description: `KMS key (Ed25519) that signs seals and checkpoints; also ${this.signingKey.alias}` });
    new CfnOutput(this, 'FindingsTopicArn', { value: this.detections.topic.topicArn, description: 'Subscribe to receive detection summaries' });
    new CfnOutput(this, 'AthenaWorkGroup', { value: this.athena.workGroupName });
    new CfnOutput(this, 'InstancePreservationStateMachineArn', { value: this.instancePreservation.stateMachine.stateMachineArn });
    new CfnOutput(this, 'LogPreservationStateMachineArn', { value: this.logPreservation.stateMachine.stateMachineArn });
    new CfnOutput(this, 'ImagePreservationStateMachineArn', { value: this.imagePreservation.stateMachine.stateMachineArn, description: 'Raw disk image of a completed EBS snapshot: input {case, requestId, snapshotId, accountId, region[, chunkMib]}' });
    new CfnOutput(this, 'InventoryStateMachineArn', { value: this.inventory.stateMachine.stateMachineArn, description: 'Inventory on demand: StartExecution with {case, accountId, regions, requestId}, or put an "Inventory Requested" event' });
  }
}
