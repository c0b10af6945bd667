/**
 * Secure defaults in one place (as aws-solutions-constructs keeps them in `*-defaults.ts`): bucket settings,
 * function settings, the evidence bucket's key layout, and the retry policy of every state-machine task.
 * Constructs start from these and only ever tighten them.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { JitterType } from 'aws-cdk-lib/aws-stepfunctions';

/** Tag carried by every snapshot Amber creates or copies; collector permissions are conditioned on it. */
export const CASE_TAG = 'amber:case';

/**
 * Where things live in the evidence bucket (the keys shared/ and the handlers write). Preserved objects keep
 * their source key under `cases/<case>/` (shared/evidence/names.ts); a case's own records (ledger, manifests,
 * checkpoints) are `cases/<case>/custody-ledger.jsonl` and `cases/<case>/_amber/`; working files of the state
 * machines live under `_work/`; scheduled-detection findings under `findings/`.
 */
export const EVIDENCE_LAYOUT = {
  /** Every case: preserved objects, the custody ledger, manifests, checkpoints. */
  cases: 'cases/',
  /** A case's custody records: what run-detections appends to (an `accessed` entry per cited case). */
  caseRecords: ['cases/*/custody-ledger.jsonl', 'cases/*/_amber/*'],
  /** list-log-objects writes the Distributed Map's items here: `_work/log-listings/<case>/<request>-<hash>.json`. */
  logListings: '_work/log-listings/',
  /** The log-preservation Distributed Map's ResultWriter writes its manifest and results here. */
  mapResults: '_work/log-copies/',
  /** take-inventory's work objects (evidence items and failures for record-custody): `_work/inventory/<case>/...json`. */
  inventoryBatches: '_work/inventory/',
  /** Scheduled-detection runs: `findings/<yyyy>/<mm>/<dd>/<run id>.json`. */
  findings: 'findings/',
  /** derive-object's index of the cases with derived rows per event day: `derived-index/<yyyy>/<MM>/<dd>/<case>`. */
  derivedIndex: 'derived-index/',
  /**
   * SSM Run Command output and memory images, written by the instances (their instance profile), read into the
   * case by capture-volatile / capture-memory: `_work/ssm/<case>/<request>/<purpose>/...`.
   */
  ssmStaging: '_work/ssm/',
  /** plan-image writes the disk-image Distributed Map's items here: `_work/image-plans/<case>/<snapshot>-<request>.json`. */
  imagePlans: '_work/image-plans/',
  /** The disk-image Distributed Map's ResultWriter writes its manifest and results here. */
  imageResults: '_work/image-chunks/',
} as const;

/** Settings every Amber bucket gets: nothing public, TLS only, versioned, kept when the stack goes. */
export const SECURE_BUCKET_DEFAULTS = {
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  enforceSSL: true,
  minimumTLSVersion: 1.2,
  versioned: true,
  objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
  removalPolicy: RemovalPolicy.RETAIN,
} as const satisfies Partial<s3.BucketProps>;

/** Lambda settings: Node.js 22 on ARM64, JSON logs, Powertools' service name. */
export const FUNCTION_DEFAULTS = {
  runtime: lambda.Runtime.NODEJS_22_X,
  architecture: lambda.Architecture.ARM_64,
  memorySize: 256,
  timeout: Duration.seconds(60),
  powertoolsServiceName: 'amber',
  powertoolsLogLevel: 'INFO',
} as const;

/**
 * Errors a task is retried on: Lambda's own service errors and throttling, and the names AWS SDK v3 gives to
 * throttling and 5xx answers (a handler lets them propagate once the SDK's own retries are spent).
 */
export const RETRYABLE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.ClientExecutionTimeoutException',
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'SlowDown',
  'ServiceUnavailable',
  'InternalError',
  'InternalFailure',
  'InternalServerError',
  'StoreError',
  // copy-log-objects: some objects of the batch may copy on another attempt (contracts.ts, CopyBatchOutput).
  'CopyBatchError',
] as const;

/**
 * Lambda's throttling first, with a longer budget: record-custody runs with a reserved concurrency of 1, so
 * parallel executions queue on it (about ten minutes of patience, jittered so they do not retry in step).
 */
export const THROTTLE_RETRY = {
  errors: ['Lambda.TooManyRequestsException'],
  interval: Duration.seconds(1),
  maxAttempts: 20,
  backoffRate: 1.5,
  maxDelay: Duration.seconds(30),
  jitterStrategy: JitterType.FULL,
} as const;

/** The retry every state-machine task gets (after THROTTLE_RETRY). */
export const TASK_RETRY = {
  errors: [...RETRYABLE_ERRORS],
  interval: Duration.seconds(2),
  maxAttempts: 6,
  backoffRate: 2,
  maxDelay: Duration.seconds(60),
} as const;

/** The snapshot wait loop: how often the state machine checks, and how many checks before it gives up. */
export const SNAPSHOT_WAIT = {
  interval: Duration.minutes(2),
  /** 360 checks of 2 minutes: 12 hours per loop, well inside an execution's 25,000-event history. */
  maxChecks: 360,
} as const;

/** Distributed Map settings of the log copy. */
/** The disk-image Distributed Map. */
export const IMAGE_MAP = {
  /**
   * Chunks stored at once. EBS direct APIs allow about 1,000 GetSnapshotBlock requests per second per account;
   * 16 children each fetching 8 blocks at once stay well under it and under S3's per-prefix write rate.
   */
  maxConcurrency: 16,
} as const;

export const LOG_COPY = {
  /** Objects per child execution; 100 at most, so a child's output (one evidence item per object) stays under 256 KiB. */
  maxItemsPerBatch: 100,
  maxConcurrency: 20,
  /**
   * Every batch's result, failed ones included, reaches the ResultWriter and record-custody, which records the
   * objects of failed batches as failures; the execution then fails after recording (see LogPreservation).
   */
  toleratedFailurePercentage: 100,
} as const;
