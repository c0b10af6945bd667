/**
 * The contract between the AWS deployment (infra/, CDK) and the Lambda handlers: what each function
 * receives and returns (Step Functions task payloads), and the environment each one reads. The CDK
 * constructs set exactly these variables; the handlers read them once, through `readEnv`.
 */

/** A request to preserve evidence, normalised from any trigger. */
export interface PreservationRequest {
  /** Case name (validated like the CLI's). Triggers without one get `gd-<finding id>` / `sh-<finding id>`. */
  readonly case: string;
  /** Account holding the instances and whose logs are copied. */
  readonly accountId: string;
  readonly region: string;
  readonly instanceIds: readonly string[];
  /** Log window to copy; absent: no log preservation. ISO-8601 UTC. */
  readonly window?: { readonly since: string; readonly until: string };
  /** Replace the instance's security groups by a quarantine group, enable termination protection, detach from its ASG. */
  readonly isolate: boolean;
  /** Deterministic id of the triggering event (idempotency: the same event twice yields one execution). */
  readonly requestId: string;
  readonly trigger: 'custom' | 'guardduty' | 'securityhub';
}

/** Input of the instance-preservation state machine and of its first task. */
export interface InstanceTaskInput {
  readonly case: string;
  readonly accountId: string;
  readonly region: string;
  readonly instanceId: string;
  readonly requestId: string;
  readonly isolate: boolean;
}

/** capture-instance → create-snapshots. */
export interface CapturedInstance extends InstanceTaskInput {
  readonly volumeIds: readonly string[];
  /** Evidence keys of the metadata JSON written (instance, volumes, ENIs, security groups, profile, tags, console output). */
  readonly evidenceKeys: readonly string[];
}

/** create-snapshots / copy-snapshots → check-snapshots (the state machine's wait loop). */
export interface SnapshotSet extends CapturedInstance {
  /** Snapshots to wait for, and where they live (the member account, or the evidence account for copies). */
  readonly snapshots: readonly { readonly snapshotId: string; readonly volumeId: string; readonly accountId: string }[];
  /** 'source' for the crash-consistent set, 'evidence' for the re-encrypted copies in the evidence account. */
  readonly stage: 'source' | 'evidence';
}

/** check-snapshots output: the Choice state branches on `status`. */
export interface SnapshotCheck extends SnapshotSet {
  readonly status: 'completed' | 'pending' | 'error';
  readonly failed: readonly { readonly snapshotId: string; readonly reason: string }[];
}

/** Input of the log-preservation state machine and of list-log-objects. */
export interface LogTaskInput {
  readonly case: string;
  readonly requestId: string;
  /** Accounts and regions whose CloudTrail objects are copied. */
  readonly accounts: readonly string[];
  readonly regions: readonly string[];
  readonly since: string;
  readonly until: string;
}

/** list-log-objects output: the Distributed Map reads `itemsKey` (a JSON array of LogObjectRef) from the evidence bucket. */
export interface LogListing extends LogTaskInput {
  readonly itemsBucket: string;
  readonly itemsKey: string;
  readonly count: number;
}

export interface LogObjectRef {
  readonly bucket: string;
  readonly key: string;
}

/** copy-log-objects input (Distributed Map ItemBatcher: `Items` plus `BatchInput`). */
export interface CopyBatchInput {
  readonly Items: readonly LogObjectRef[];
  readonly BatchInput: { readonly case: string; readonly requestId: string };
}

/** record-custody input: ledger entries to append for a case, from one step or from a Map's results. */
export interface CustodyInput {
  readonly case: string;
  readonly requestId: string;
  readonly step: string;
  /** Results of a Distributed Map, written by its ResultWriter (read and appended in order). */
  readonly resultWriterDetails?: { readonly Bucket: string; readonly Key: string };
  readonly detail?: Record<string, unknown>;
}

/** run-detections input, sent by EventBridge Scheduler. */
export interface DetectionRunInput {
  /** Detection ids to run (one schedule per schedule expression groups them). */
  readonly detections: readonly string[];
  /** ISO-8601 duration looked back from the scheduled time. */
  readonly window: string;
  /** Scheduler's `<aws.scheduler.scheduled-time>`; defaults to now. */
  readonly scheduledTime?: string;
}

/** Environment variables, by handler. The CDK constructs set exactly these. */
export const HANDLER_ENV = {
  'start-preservation': ['INSTANCE_STATE_MACHINE_ARN', 'LOG_STATE_MACHINE_ARN', 'GUARDDUTY_MIN_SEVERITY', 'DEFAULT_LOG_WINDOW_HOURS'],
  'capture-instance': ['EVIDENCE_BUCKET', 'RETENTION_DAYS', 'COLLECTOR_ROLE_NAME', 'COLLECTOR_EXTERNAL_ID'],
  'create-snapshots': ['COLLECTOR_ROLE_NAME', 'COLLECTOR_EXTERNAL_ID'],
  'check-snapshots': ['COLLECTOR_ROLE_NAME', 'COLLECTOR_EXTERNAL_ID'],
  'copy-snapshots': ['COLLECTOR_ROLE_NAME', 'COLLECTOR_EXTERNAL_ID', 'EVIDENCE_KMS_KEY_ARN', 'EVIDENCE_ACCOUNT_ID'],
  'isolate-instance': ['COLLECTOR_ROLE_NAME', 'COLLECTOR_EXTERNAL_ID'],
  'record-custody': ['EVIDENCE_BUCKET', 'RETENTION_DAYS'],
  'list-log-objects': ['EVIDENCE_BUCKET', 'TRAIL_BUCKET', 'TRAIL_PREFIX', 'ORGANIZATION_ID'],
  'copy-log-objects': ['EVIDENCE_BUCKET', 'RETENTION_DAYS'],
  'run-detections': ['EVIDENCE_BUCKET', 'ATHENA_WORKGROUP', 'ATHENA_DATABASE', 'FINDINGS_TOPIC_ARN', 'SECURITY_HUB_FINDINGS'],
} as const;

export type HandlerName = keyof typeof HANDLER_ENV;
