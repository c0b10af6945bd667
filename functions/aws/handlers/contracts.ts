/**
 * The contract between the AWS deployment (infra/, CDK) and the Lambda handlers: what each function
 * receives and returns (Step Functions task payloads), and the environment each one reads. The CDK
 * constructs set exactly these variables; the handlers read them once, through `readEnv`.
 *
 * Every task returns its input's fields plus its own (so a state can pass its whole output on); the state
 * machines may trim with ResultSelector / OutputPath.
 */
import type { EvidenceItem, LedgerAction } from '../../../shared/evidence/model.ts';
import type { InstanceTask, PreservationRequest } from '../../../shared/preservation/request.ts';

export type { EvidenceItem, LedgerAction };

/** The custom event `amber preserve` puts on the default bus; the preservation rule matches these two fields. */
export const PRESERVATION_EVENT = { source: 'amber', detailType: 'Preservation Requested' } as const;

/** Detail of the custom event (`detail-type: Preservation Requested`). */
export interface PreservationRequestedDetail {
  readonly case: string;
  readonly instanceIds: readonly string[];
  readonly accountId: string;
  readonly region: string;
  /** ISO-8601 UTC; absent: no log preservation. */
  readonly window?: { readonly since: string; readonly until: string };
  /** @default false */
  readonly isolate?: boolean;
  /** Also a memory image of each instance before the snapshots (AVML / WinPmem pinned in the deployment). @default false */
  readonly memory?: boolean;
  /** Also CloudTrail event history (LookupEvents) for the window, besides the trail's objects. @default false */
  readonly cloudTrailEventHistory?: boolean;
  /** Idempotency key (`amber preserve` sends one per run); @default the event id */
  readonly requestId?: string;
}

/** A request to preserve evidence, normalised from any trigger (defined by the core use case). */
export type { PreservationRequest };

/** Input of the instance-preservation state machine and of its first task. */
export type InstanceTaskInput = InstanceTask;

/** capture-instance → create-snapshots. */
export interface CapturedInstance extends InstanceTaskInput {
  readonly volumeIds: readonly string[];
  /** Evidence keys of the metadata JSON written (instance, volumes, ENIs, security groups, profile, tags, console output). */
  readonly evidenceKeys: readonly string[];
  /** The evidence items of those objects (key, size, SHA-256 ...): pass them to record-custody as `items`. */
  readonly items: readonly EvidenceItem[];
  /** VPC of the instance (isolation creates its quarantine group there). */
  readonly networkId?: string;
}

/** create-snapshots / copy-snapshots → check-snapshots (the state machine's wait loop). */
export interface SnapshotSet extends CapturedInstance {
  /** Snapshots to wait for, and where they live (the member account, or the evidence account for copies). */
  readonly snapshots: readonly {
    readonly snapshotId: string;
    readonly volumeId: string;
    readonly accountId: string;
    /** Region of the snapshot. @default the task's region (evidence copies live in the evidence region) */
    readonly region?: string;
  }[];
  /**
   * 'source' for the crash-consistent set, 'evidence' for the re-encrypted copies in the evidence account.
   * copy-snapshots can answer 'source' again: the set was encrypted with a key the evidence account cannot use,
   * and it started re-encrypted copies in the member account. Wait for them (check-snapshots) and call
   * copy-snapshots again; a Choice on `stage` after a completed check does exactly that.
   */
  readonly stage: 'source' | 'evidence';
  /** create-snapshots: true when the set already existed for this request (a duplicated event or a retry). */
  readonly reused?: boolean;
  /** create-snapshots: captured volumes the set does not cover (attached or detached in between). */
  readonly uncoveredVolumes?: readonly string[];
}

/** check-snapshots output: the Choice state branches on `status`. */
export interface SnapshotCheck extends SnapshotSet {
  readonly status: 'completed' | 'pending' | 'error';
  readonly failed: readonly { readonly snapshotId: string; readonly reason: string }[];
  /** Every snapshot's state (progress, size, encryption key, start time): detail for the ledger. */
  readonly states: readonly {
    readonly snapshotId: string;
    readonly volumeId: string;
    readonly state: 'pending' | 'completed' | 'error' | 'missing';
    readonly progress?: string;
    readonly sizeGiB?: number;
    readonly encrypted?: boolean;
    readonly kmsKeyId?: string;
    readonly startedAt?: string;
    readonly reason?: string;
  }[];
}

/**
 * capture-volatile and capture-memory output (the state machine keeps it at `$.volatile` / `$.memory` and hands
 * `items`, `failures` and `detail` to record-custody). An instance SSM cannot reach is an outcome, not an error:
 * `outcome: failed` with the reason (`no-agent`, `agent-offline`, `no-tool` ...), and the preservation goes on.
 */
export interface RemoteCaptureResult {
  readonly outcome: 'captured' | 'failed';
  readonly reason?: string;
  readonly message?: string;
  /** What SSM says the instance runs (DescribeInstanceInformation's PlatformType). */
  readonly platform?: 'linux' | 'windows';
  readonly items: readonly EvidenceItem[];
  readonly failures: readonly { readonly origin: string; readonly reason: string }[];
  /** Facts for the ledger: the command, its state, the script's and the tool's SHA-256, both image hashes. */
  readonly detail: Record<string, unknown>;
}

/** Input of capture-volatile and capture-memory: the instance task (capture-instance's output passes through). */
export interface RemoteCaptureInput extends InstanceTaskInput {
  /** The request asks for a memory image (the state machine runs capture-memory only then). @default false */
  readonly memory?: boolean;
}

/** isolate-instance output (input: InstanceTaskInput or any later payload of the instance state machine). */
export interface IsolatedInstance extends InstanceTaskInput {
  readonly isolation:
    | { readonly applied: false; readonly reason: string }
    | {
        readonly applied: true;
        readonly quarantineGroupId: string;
        /** Security groups each network interface had before, by interface id (also kept in a tag on it). */
        readonly previousGroups: Readonly<Record<string, readonly string[]>>;
        readonly terminationProtection: boolean;
        readonly detachedFrom: string | null;
      };
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
  /**
   * Also preserve CloudTrail event history (LookupEvents) for the window, in every account and region, besides the
   * trail's objects. The state machine does it anyway when the trail has no object for the window (an account
   * without a trail bucket). @default false
   */
  readonly cloudTrailEventHistory?: boolean;
}

/** lookup-cloudtrail-events output, kept at `$.lookup`; the state machine calls it again while `complete` is false. */
export interface LookupEventsResult {
  /** Every account and region's window is read to its end. */
  readonly complete: boolean;
  /** Pages preserved by this call (pages an earlier call preserved are not repeated). */
  readonly items: readonly EvidenceItem[];
  /** Accounts or regions that could not be read, with why (the rest went on). */
  readonly failures: readonly { readonly origin: string; readonly reason: string }[];
  readonly pages: number;
}

/** list-log-objects output: the Distributed Map reads `itemsKey` (a JSON array of LogObjectRef) from the evidence bucket. */
export interface LogListing extends LogTaskInput {
  readonly itemsBucket: string;
  readonly itemsKey: string;
  readonly count: number;
  /** Listed objects that cannot be kept under their own key, with why (recorded as failures by record-custody). */
  readonly skipped: readonly { readonly origin: string; readonly reason: string }[];
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

/**
 * copy-log-objects output (the Map's ResultWriter keeps it for record-custody). Keep MaxItemsPerBatch at 100 or
 * less: a child's output must stay under Step Functions' 256 KiB. Objects that may copy on a retry make the
 * function fail (error `CopyBatchError`), so the Map's Retry runs the batch again.
 */
export interface CopyBatchOutput {
  readonly case: string;
  readonly requestId: string;
  readonly items: readonly EvidenceItem[];
  /** Objects that can never be copied (gone, refused, other bytes already preserved), with why. */
  readonly failures: readonly { readonly origin: string; readonly reason: string; readonly code: string }[];
  readonly alreadyPreserved: number;
}

/** Input of the disk-image state machine: a completed EBS snapshot to image into a case. */
export interface ImageTaskInput {
  readonly case: string;
  readonly requestId: string;
  readonly snapshotId: string;
  /** Account and region holding the snapshot (the evidence account's copies, or a member's through the collector). */
  readonly accountId: string;
  readonly region: string;
  /** Chunk size in MiB, a multiple of the 0.5 MiB EBS block. @default 256 */
  readonly chunkMib?: number;
}

/** plan-image output, kept at `$.plan`: the Distributed Map reads `itemsKey` (chunks still to store). */
export interface ImagePlanOutput {
  readonly planKey: string;
  readonly itemsBucket: string;
  readonly itemsKey: string;
  readonly volumeBytes: number;
  readonly blockBytes: number;
  /** Chunks of the image, and those the map still has to store (the rest the ledger records already). */
  readonly chunks: number;
  readonly count: number;
}

/** image-chunk input: the map's ItemSelector puts the task and one plan item together. */
export interface ImageChunkInput extends Omit<ImageTaskInput, 'chunkMib'> {
  readonly volumeBytes: number;
  readonly blockBytes: number;
  readonly chunk: { readonly index: number; readonly firstBlock: number; readonly lastBlock: number; readonly relPath: string; readonly origin: string; readonly blocksWithData: number };
}

/** assemble-image output, kept at `$.image`. */
export interface AssembledImageOutput {
  /** Every chunk is recorded and intact, and image.json is stored. */
  readonly complete: boolean;
  /** image.json, when complete. */
  readonly items: readonly EvidenceItem[];
  /** Chunks missing or damaged, with why. */
  readonly failures: readonly { readonly origin: string; readonly reason: string }[];
  /** SHA-256 of the whole raw image, when complete. */
  readonly sha256?: string;
}

/** The custom event that asks for an inventory on demand (the inventory rule matches these two fields). */
export const INVENTORY_EVENT = { source: 'amber', detailType: 'Inventory Requested' } as const;

/**
 * take-inventory input, one of:
 * - this object (direct invoke, the inventory state machine's input):
 *   `{ "case": "INC-1", "accountId": "111122223333", "regions": ["eu-west-1"], "requestId": "inv-1" }`;
 * - the instance-preservation state (InstanceTaskInput): the instance's account, in its region;
 * - an EventBridge event `{ "source": "amber", "detail-type": "Inventory Requested", "detail": { case, accountId,
 *   regions?, requestId? } }` (requestId defaults to the event id, observedAt to the event time).
 * IAM and S3 are read once, from the first region.
 */
export interface InventoryRequestInput {
  readonly case: string;
  readonly accountId: string;
  /** Regions whose regional services are read. @default [region] */
  readonly regions?: readonly string[];
  readonly region?: string;
  readonly requestId: string;
  /**
   * ISO-8601 time naming the inventory in its keys. A retry with the same value resumes it (answers already kept
   * are not asked again). The state machines pass their execution's start time. @default now
   */
  readonly observedAt?: string;
}

/** take-inventory output: the request's fields, and what was kept (the items themselves are in `itemsObject`). */
export interface InventoryTaken {
  readonly case: string;
  readonly requestId: string;
  readonly accountId: string;
  readonly regions: readonly string[];
  readonly inventory: {
    /** `cases/<case>/aws/inventory/<account>/<stamp>/`. */
    readonly prefix: string;
    readonly stamp: string;
    /** Answers kept in this attempt, per service; `resumed`: read back from an earlier attempt's. */
    readonly answers: Readonly<Record<string, number>>;
    readonly resumed: Readonly<Record<string, number>>;
    /** Evidence items and failures (refusals, regions not enabled) in the work object. */
    readonly items: number;
    readonly problems: number;
    /** Pass to record-custody as `itemsObject`. */
    readonly itemsObject: { readonly key: string };
  };
}

/** record-custody input: ledger entries to append for a case, from one step or from a Map's results. */
export interface CustodyInput {
  readonly case: string;
  readonly requestId: string;
  readonly step: string;
  /** Results of a Distributed Map, written by its ResultWriter (read and appended in order). */
  readonly resultWriterDetails?: { readonly Bucket: string; readonly Key: string };
  /**
   * Facts recorded with the entry (part of its idempotency key: keep it free of per-attempt values). With
   * resultWriterDetails, it goes once into the sealed entry rather than into each batch's entry.
   */
  readonly detail?: Record<string, unknown>;
  /** Evidence items a step preserved (capture-instance's `items`), recorded in one entry. */
  readonly items?: readonly EvidenceItem[];
  /**
   * A work object in the evidence bucket holding a step's items and failures (take-inventory's `itemsObject`,
   * under `_work/inventory/`): recorded 100 items to an entry, then the failures.
   */
  readonly itemsObject?: { readonly key: string };
  /** Objects a step could not preserve (list-log-objects' `skipped`), listed in the entry and the manifest. */
  readonly failures?: readonly { readonly origin: string; readonly reason: string }[];
  /**
   * Ledger action of the entry.
   * @default 'copied' with resultWriterDetails, 'acquired' with items, else 'accessed'
   */
  readonly action?: LedgerAction;
  /**
   * Seal a manifest of the whole case after appending (the last custody step of a state machine).
   * @default true with resultWriterDetails, else false
   */
  readonly seal?: boolean;
}

/** record-custody output. */
export interface CustodyOutput {
  readonly case: string;
  readonly requestId: string;
  readonly step: string;
  /** Entries appended (0 when a retry found everything already recorded). */
  readonly appended: number;
  readonly alreadyRecorded: number;
  readonly items: number;
  readonly failures: number;
  readonly sealed?: { readonly key: string; readonly sha256: string; readonly items: number };
  readonly ledgerHead: { readonly seq: number; readonly sha256: string };
  /** The anchor object of that head in the anchor bucket (amber verify --anchor s3://<bucket>). */
  readonly anchored: { readonly bucket: string; readonly key: string };
}

/** start-preservation output. */
export interface StartPreservationOutput {
  readonly requests: readonly {
    readonly case: string;
    readonly requestId: string;
    readonly trigger: PreservationRequest['trigger'];
    readonly executions: readonly { readonly kind: 'instance' | 'logs'; readonly name: string; readonly executionArn: string; readonly started: boolean }[];
  }[];
  /** Findings deliberately not acted on (below the severity threshold, not an instance, a sample), with why. */
  readonly ignored: readonly { readonly id: string; readonly reason: string }[];
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

/** run-detections output. */
export interface DetectionRunOutput {
  readonly runId: string;
  /** `findings/<yyyy>/<mm>/<dd>/<run id>.json` in the evidence bucket. */
  readonly findingsKey: string;
  readonly findingsSha256: string;
  readonly findings: number;
  readonly errors: readonly { readonly detection: string; readonly error: string }[];
  /** Cases the findings cite; each got an `accessed` ledger entry. */
  readonly cases: readonly string[];
}

/** One preserved object to derive (a copy step's item, or an S3 Object Created event's object). */
export interface DeriveObjectRequest {
  readonly case: string;
  readonly key: string;
  readonly versionId?: string;
  readonly sha256?: string;
}

/**
 * derive-object input: an SQS batch whose bodies are EventBridge `Object Created` events of the evidence bucket, or,
 * invoked directly (a state machine step after a copy), `{case, items: [{key, sha256, versionId}]}`.
 */
export type DeriveObjectEvent =
  | { readonly Records: readonly { readonly messageId: string; readonly body: string }[] }
  | { readonly case: string; readonly items: readonly { readonly key: string; readonly sha256?: string; readonly versionId?: string }[] };

/** derive-object output: SQS partial batch failures (messages to retry), and what each object gave. */
export interface DeriveObjectOutput {
  readonly batchItemFailures: readonly { readonly itemIdentifier: string }[];
  readonly results: readonly { readonly key: string; readonly status: string; readonly files?: number; readonly reason?: string }[];
}

/**
 * Environment variables, by handler. The CDK constructs set exactly these. SIGNING_KEY_ARN: the KMS Ed25519
 * key that signs the seals and checkpoints of the ledgers a handler appends to.
 */
export const HANDLER_ENV = {
  'start-preservation': ['INSTANCE_STATE_MACHINE_ARN', 'LOG_STATE_MACHINE_ARN', 'GUARDDUTY_MIN_SEVERITY', 'DEFAULT_LOG_WINDOW_HOURS'],
  'capture-instance': ['EVIDENCE_BUCKET', 'RETENTION_DAYS', 'COLLECTOR_ROLE_NAME', 'COLLECTOR_EXTERNAL_ID'],
  'create-snapshots': ['COLLECTOR_ROLE_NAME', 'COLLECTOR_EXTERNAL_ID'],
  'check-snapshots': ['COLLECTOR_ROLE_NAME', 'COLLECTOR_EXTERNAL_ID'],
  'copy-snapshots': ['COLLECTOR_ROLE_NAME', 'COLLECTOR_EXTERNAL_ID', 'EVIDENCE_KMS_KEY_ARN', 'EVIDENCE_ACCOUNT_ID'],
  'isolate-instance': ['COLLECTOR_ROLE_NAME', 'COLLECTOR_EXTERNAL_ID'],
  'capture-volatile': ['EVIDENCE_BUCKET', 'RETENTION_DAYS', 'COLLECTOR_ROLE_NAME', 'COLLECTOR_EXTERNAL_ID'],
  'capture-memory': ['EVIDENCE_BUCKET', 'RETENTION_DAYS', 'COLLECTOR_ROLE_NAME', 'COLLECTOR_EXTERNAL_ID', 'AVML_URI', 'AVML_SHA256', 'WINPMEM_URI', 'WINPMEM_SHA256'],
  'lookup-cloudtrail-events': ['EVIDENCE_BUCKET', 'RETENTION_DAYS', 'COLLECTOR_ROLE_NAME', 'COLLECTOR_EXTERNAL_ID'],
  'plan-image': ['EVIDENCE_BUCKET', 'COLLECTOR_ROLE_NAME', 'COLLECTOR_EXTERNAL_ID'],
  'image-chunk': ['EVIDENCE_BUCKET', 'RETENTION_DAYS', 'COLLECTOR_ROLE_NAME', 'COLLECTOR_EXTERNAL_ID'],
  'assemble-image': ['EVIDENCE_BUCKET', 'RETENTION_DAYS'],
  'record-custody': ['EVIDENCE_BUCKET', 'RETENTION_DAYS', 'SIGNING_KEY_ARN', 'ANCHOR_BUCKET'],
  'list-log-objects': ['EVIDENCE_BUCKET', 'TRAIL_BUCKET', 'TRAIL_PREFIX', 'ORGANIZATION_ID'],
  'copy-log-objects': ['EVIDENCE_BUCKET', 'RETENTION_DAYS'],
  'take-inventory': ['EVIDENCE_BUCKET', 'RETENTION_DAYS', 'COLLECTOR_ROLE_NAME', 'COLLECTOR_EXTERNAL_ID'],
  'run-detections': ['EVIDENCE_BUCKET', 'ATHENA_WORKGROUP', 'ATHENA_DATABASE', 'FINDINGS_TOPIC_ARN', 'SECURITY_HUB_FINDINGS', 'SIGNING_KEY_ARN', 'DETECTION_PARAMETERS'],
  'derive-object': ['EVIDENCE_BUCKET', 'SIGNING_KEY_ARN'],
} as const;

export type HandlerName = keyof typeof HANDLER_ENV;
