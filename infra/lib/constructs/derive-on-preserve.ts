/**
 * Derive on preserve: every object that lands in a case of the evidence bucket is turned into Parquet rows by the
 * derive-object function (shared/sources/derive-object.ts), so the Glue tables over the derived Parquet fill in the
 * cloud, not only when an analyst runs the CLI.
 *
 * Trigger: the bucket's EventBridge `Object Created` events, for every object however it arrived (the
 * log-preservation map's copies, `collect --locker s3://`, objects put there by other means), through an SQS queue:
 * - a rule that leaves out Amber's own writes (`cases/<case>/_amber/...`, the ledgers, findings, working files and
 *   the derived index), so the Parquet the function writes never triggers it again (the function checks too);
 * - the queue's delivery delay gives a collect time to record the object before it is derived (an object without a
 *   custody record is refused and retried: returned as a batch item failure, visible again after the visibility
 *   timeout, to the dead-letter queue after MAX_RECEIVES deliveries);
 * - at most two functions at once: each appends to a case's ledger (compare-and-swap, retried on contention).
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AMBER_OWN_KEYS } from '../../../functions/aws/adapters/object-created.ts';
import { EVIDENCE_LAYOUT } from '../defaults.ts';
import { AmberFunction } from './amber-function.ts';
import type { EvidenceBucket } from './evidence-bucket.ts';
import type { SigningKey } from './signing-key.ts';

export interface DeriveOnPreserveProps {
  readonly evidence: EvidenceBucket;
  /** Signs the checkpoints of the `derived` entries appended to the cases' ledgers. */
  readonly signingKey: SigningKey;
  /** Where messages go after MAX_RECEIVES failed deliveries. */
  readonly deadLetterQueue: sqs.IQueue;
  readonly logRetentionDays: number;
  /** @default 2048 (MB): a 1M-event object is parsed in memory before DuckDB writes it */
  readonly memorySize?: number;
}

/** Deliveries of one message before it goes to the dead-letter queue. */
export const MAX_RECEIVES = 5;
const FUNCTION_TIMEOUT = Duration.minutes(10);

/** Keys the rule never forwards: every key Amber writes that is not a case's preserved object. */
export const NOT_DERIVED_KEYS: readonly string[] = [...AMBER_OWN_KEYS, `${EVIDENCE_LAYOUT.mapResults}*`, `${EVIDENCE_LAYOUT.logListings}*`, `${EVIDENCE_LAYOUT.findings}*`, `${EVIDENCE_LAYOUT.derivedIndex}*`];

/** The rule, queue and derive-object function. */
export class DeriveOnPreserve extends Construct {
  readonly function: AmberFunction<'derive-object'>;
  readonly queue: sqs.Queue;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: DeriveOnPreserveProps) {
    super(scope, id);
    this.function = new AmberFunction(this, 'DeriveObject', {
      handlerName: 'derive-object',
      environment: { EVIDENCE_BUCKET: props.evidence.bucket.bucketName, SIGNING_KEY_ARN: props.signingKey.key.keyArn },
      logRetentionDays: props.logRetentionDays,
      memorySize: props.memorySize ?? 2048,
      timeout: FUNCTION_TIMEOUT,
      duckdb: true,
    });
    const role = this.function.role;
    // Reads the case's objects and ledger; writes only Amber's records in cases (derived Parquet, problems, ledger,
    // checkpoints) and the derived index. Never a preserved object's key, never a delete.
    props.evidence.grantReadEvidence(role, [`${EVIDENCE_LAYOUT.cases}*`]);
    props.evidence.grantWriteEvidence(role, [...EVIDENCE_LAYOUT.caseRecords, `${EVIDENCE_LAYOUT.derivedIndex}*`]);
    props.signingKey.grantSign(role);

    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // AWS's advice for a Lambda source: at least six times the function's timeout.
      visibilityTimeout: Duration.minutes(FUNCTION_TIMEOUT.toMinutes() * 6),
      deliveryDelay: Duration.seconds(60),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: props.deadLetterQueue, maxReceiveCount: MAX_RECEIVES },
    });
    this.function.function.addEventSource(new SqsEventSource(this.queue, { batchSize: 5, reportBatchItemFailures: true, maxConcurrency: 2 }));

    this.rule = new events.Rule(this, 'ObjectCreated', {
      description: 'Amber: derive each object preserved in a case of the evidence bucket into Parquet',
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: [props.evidence.bucket.bucketName] },
          object: { key: [{ 'anything-but': { wildcard: [...NOT_DERIVED_KEYS] } }] },
        },
      },
      // An event EventBridge cannot deliver to the queue goes to the dead-letter queue too, never silently away.
      targets: [new targets.SqsQueue(this.queue, { deadLetterQueue: props.deadLetterQueue, retryAttempts: 8, maxEventAge: Duration.hours(24) })],
    });
  }
}
