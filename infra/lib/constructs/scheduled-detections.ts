/**
 * Scheduled detections: one EventBridge Scheduler schedule per distinct (schedule, window) of the catalogue,
 * each invoking the run-detections function with `{detections, window, scheduledTime}` (DetectionRunInput).
 * The function runs those queries in Athena over the window, writes the findings JSON to `findings/` in the
 * evidence bucket, records an `accessed` entry in the custody ledger of each case the findings cite, and
 * publishes a summary to an SNS topic (and, when enabled, the findings to Security Hub in ASFF).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { DetectionRunInput } from '../../../functions/aws/handlers/contracts.ts';
import type { Detection } from '../../../shared/detections/catalogue.ts';
import { EVIDENCE_LAYOUT } from '../defaults.ts';
import { acknowledgeWildcardResources } from '../nag.ts';
import { AmberFunction } from './amber-function.ts';
import { SCHEDULED_TABLES, type AthenaTables } from './athena-tables.ts';
import type { EvidenceBucket } from './evidence-bucket.ts';
import type { SigningKey } from './signing-key.ts';

export interface ScheduledDetectionsProps {
  readonly detections: readonly Detection[];
  readonly evidence: EvidenceBucket;
  /** Signs the checkpoints of the `accessed` entries the runs append to cited cases' ledgers. */
  readonly signingKey: SigningKey;
  readonly athena: AthenaTables;
  /** The trail bucket and prefix Athena reads (`cloudtrail` table). */
  readonly trailBucket: string;
  readonly trailPrefix: string;
  /** KMS key of the trail's objects. @default - the trail is not SSE-KMS encrypted with a customer key */
  readonly trailKmsKeyArn?: string;
  /** Where failed invocations go. */
  readonly deadLetterQueue: sqs.IQueue;
  readonly logRetentionDays: number;
  /** @default false */
  readonly securityHubFindings?: boolean;
  /**
   * Detection threshold overrides as JSON, `{"detection-id.name": "value"}`, for the run-detections function.
   * @default '{}' - every detection runs with the defaults its detection.yml declares
   */
  readonly detectionParameters?: string;
}

/** A group of detections sharing a schedule expression and a window. */
export interface DetectionSchedule {
  readonly expression: string;
  readonly input: DetectionRunInput;
}

/** Groups the catalogue by schedule and window: one schedule each, detections in id order. */
export function detectionSchedules(detections: readonly Detection[]): DetectionSchedule[] {
  const groups = new Map<string, { expression: string; window: string; ids: string[] }>();
  for (const d of detections) {
    // A schedule with two windows becomes two schedules: one run covers one window exactly.
    const key = `${d.schedule}\u0000${d.window}`;
    const group = groups.get(key) ?? { expression: d.schedule, window: d.window, ids: [] };
    group.ids.push(d.id);
    groups.set(key, group);
  }
  return [...groups.values()]
    .sort((a, b) => a.expression.localeCompare(b.expression) || a.window.localeCompare(b.window))
    .map((g) => ({ expression: g.expression, input: { detections: [...g.ids].sort(), window: g.window, scheduledTime: '<aws.scheduler.scheduled-time>' } }));
}

/** The run-detections function, its schedules and the findings topic. */
export class ScheduledDetections extends Construct {
  readonly function: AmberFunction<'run-detections'>;
  readonly topic: sns.Topic;
  readonly schedules: scheduler.CfnSchedule[] = [];
  readonly schedulerRole: iam.Role;

  constructor(scope: Construct, id: string, props: ScheduledDetectionsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const groups = detectionSchedules(props.detections);
    // A scheduled run queries each detection's table over its window (tableTime): only tables with a live location.
    const unscheduled = props.detections.filter((d) => !SCHEDULED_TABLES.includes(d.table));
    if (unscheduled.length > 0) {
      throw new Error(`ScheduledDetections: only detections on ${SCHEDULED_TABLES.join(', ')} can be scheduled; not: ${unscheduled.map((d) => `${d.id} (${d.table})`).join(', ')}`);
    }
    const bad = props.detections.filter((d) => !/^(rate|cron)\(.+\)$/.test(d.schedule));
    if (bad.length > 0) {
      throw new Error(`ScheduledDetections: schedule must be rate(...) or cron(...); not valid: ${bad.map((d) => `${d.id}: ${d.schedule}`).join(', ')}`);
    }

    this.topic = new sns.Topic(this, 'Findings', {
      displayName: 'Amber findings',
      masterKey: props.evidence.key,
      enforceSSL: true,
    });

    this.function = new AmberFunction(this, 'RunDetections', {
      handlerName: 'run-detections',
      environment: {
        EVIDENCE_BUCKET: props.evidence.bucket.bucketName,
        ATHENA_WORKGROUP: props.athena.workGroupName,
        ATHENA_DATABASE: props.athena.databaseName,
        FINDINGS_TOPIC_ARN: this.topic.topicArn,
        SECURITY_HUB_FINDINGS: String(props.securityHubFindings ?? false),
        SIGNING_KEY_ARN: props.signingKey.key.keyArn,
        DETECTION_PARAMETERS: props.detectionParameters ?? '{}',
      },
      logRetentionDays: props.logRetentionDays,
      memorySize: 1024,
      timeout: Duration.minutes(15),
      // One run at a time: runs append to one custody ledger, and S3 has no lock.
      reservedConcurrentExecutions: 1,
      onFailure: props.deadLetterQueue,
    });
    const fn = this.function;

    props.athena.grantQuery(fn.role, props.evidence.key);
    // Athena reads the data with the caller's permissions: the trail for `cloudtrail`, cases for `evidence_cloudtrail`.
    const trailKeys = `${props.trailPrefix ? `${props.trailPrefix}/` : ''}AWSLogs/*`;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket', 's3:GetBucketLocation'],
        resources: [`arn:${stack.partition}:s3:::${props.trailBucket}`],
      }),
    );
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [`arn:${stack.partition}:s3:::${props.trailBucket}/${trailKeys}`] }));
    acknowledgeWildcardResources(fn.role, [`arn:${stack.partition}:s3:::${props.trailBucket}/${trailKeys}`], 'Athena reads the trail\'s log objects with the caller\'s permissions; read only, under the trail\'s AWSLogs/ prefix.');
    if (props.trailKmsKeyArn) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: [props.trailKmsKeyArn],
          conditions: { StringLike: { 'kms:ViaService': 's3.*.amazonaws.com' } },
        }),
      );
    }
    // Reads evidence (Athena over evidence_cloudtrail; the ledgers of the cases findings cite); writes the run's
    // findings and an `accessed` entry in each cited case's ledger. Nothing else, and never a delete.
    props.evidence.grantReadEvidence(fn.role, [`${EVIDENCE_LAYOUT.cases}*`]);
    props.evidence.grantWriteEvidence(fn.role, [`${EVIDENCE_LAYOUT.findings}*`, ...EVIDENCE_LAYOUT.caseRecords]);
    props.signingKey.grantSign(fn.role);
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [this.topic.topicArn] }));
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [props.evidence.key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `sns.${stack.region}.amazonaws.com` } },
      }),
    );
    if (props.securityHubFindings) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['securityhub:BatchImportFindings'],
          resources: [stack.formatArn({ service: 'securityhub', resource: 'product', resourceName: `${stack.account}/default` })],
        }),
      );
    }

    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
      description: 'EventBridge Scheduler: invokes Amber run-detections',
    });
    this.schedulerRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [fn.function.functionArn] }));
    this.schedulerRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [props.deadLetterQueue.queueArn] }));

    groups.forEach((group, i) => {
      const schedule = new scheduler.CfnSchedule(this, `Schedule${i + 1}`, {
        description: `Amber: ${group.input.detections.length} detection(s) on ${group.expression} over ${group.input.window}`,
        scheduleExpression: group.expression,
        scheduleExpressionTimezone: 'UTC',
        flexibleTimeWindow: { mode: 'OFF' },
        state: 'ENABLED',
        target: {
          arn: fn.function.functionArn,
          roleArn: this.schedulerRole.roleArn,
          input: JSON.stringify(group.input),
          retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
          deadLetterConfig: { arn: props.deadLetterQueue.queueArn },
        },
      });
      this.schedules.push(schedule);
    });
  }
}
