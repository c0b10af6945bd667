/**
 * The SnapshotProvider port: what instance preservation needs from a cloud's compute API. One adapter per
 * cloud (functions/aws/adapters/ec2-snapshot-provider.ts for EC2 and EBS), the same verbs in each, as
 * cloud-forensics-utils does with CreateVolumeCopy / CreateDiskCopy.
 *
 * Contract every adapter keeps:
 * - Every method is safe to call again with the same arguments (a retried step): `createSnapshots` looks up
 *   the snapshots already tagged with the request before creating any, `shareAndCopy` looks up copies already
 *   tagged with their source snapshot, `isolate` converges on the isolated state.
 * - Reads never change the instance. Only `isolate` does, and only when the caller asked for isolation.
 * - Failures of the cloud API that outlived the SDK's retries throw CloudCallError (shared/preservation/errors.ts)
 *   naming the call, the account and the region.
 */

/** An instance in an account and region. */
export interface InstanceTarget {
  readonly accountId: string;
  readonly region: string;
  readonly instanceId: string;
}

/** One metadata record captured from the provider's API, preserved as one evidence object. */
export type MetadataDocument =
  | {
      /** File name of the evidence object, e.g. `instance.json`. */
      readonly name: string;
      /** The API call it came from: `api:ec2:DescribeInstances?InstanceId=i-...&account=...&region=...`. */
      readonly origin: string;
      readonly kind: 'json';
      readonly value: unknown;
    }
  | {
      readonly name: string;
      readonly origin: string;
      readonly kind: 'text';
      readonly text: string;
    };

/** What `describeInstance` captured: the records to preserve and the volumes to snapshot. */
export interface InstanceMetadata {
  readonly instanceId: string;
  /** Block volumes attached to the instance (the ones a snapshot set covers). */
  readonly volumeIds: readonly string[];
  /** Network (VPC) of the instance, when it has one; isolation needs it. */
  readonly networkId?: string;
  /**
   * Relative path under the case where the records go, e.g. `aws/ec2/<account>/<region>/<instance id>`: the
   * adapter knows its cloud's natural layout, the core adds the case and request.
   */
  readonly pathPrefix: string;
  /** Instance, volumes, network interfaces, security groups, instance profile, tags, console output. */
  readonly documents: readonly MetadataDocument[];
}

/** A snapshot and where it lives. */
export interface SnapshotRef {
  readonly snapshotId: string;
  readonly volumeId: string;
  readonly accountId: string;
  readonly region: string;
}

export type SnapshotStateName = 'pending' | 'completed' | 'error' | 'missing';

/** A snapshot's state as the provider reports it. */
export interface SnapshotStatus extends SnapshotRef {
  readonly state: SnapshotStateName;
  /** Why it failed or is missing (the provider's state message). */
  readonly reason?: string;
  /** Provider's progress text, e.g. `42%`. */
  readonly progress?: string;
  readonly encrypted?: boolean;
  readonly kmsKeyId?: string;
  readonly sizeGiB?: number;
  /** ISO-8601 UTC. */
  readonly startedAt?: string;
}

/** Tags (key → value) the provider puts on what it creates. */
export type ResourceTags = Readonly<Record<string, string>>;

export interface CreateSnapshotsOptions {
  /** Identifies the request: snapshots already tagged with it (and the instance) are returned, not created again. */
  readonly requestId: string;
  /** Tags on every snapshot of the set (case, request, instance). */
  readonly tags: ResourceTags;
  /** Tags per snapshot, once its volume is known (the evidence id of each snapshot). */
  readonly tagsFor?: (volumeId: string) => ResourceTags;
  readonly description: string;
}

/** The set of snapshots of one instance's volumes. */
export interface SnapshotSetResult {
  readonly snapshots: readonly SnapshotRef[];
  /** True when the set already existed for this request (a retried or duplicated step): nothing was created. */
  readonly reused: boolean;
}

export interface ShareAndCopyOptions {
  /** Account that keeps the evidence copies. */
  readonly evidenceAccountId: string;
  /** Region the evidence copies are made in. */
  readonly evidenceRegion: string;
  /** Key the evidence copies are encrypted with (full ARN: it is used across accounts). */
  readonly kmsKeyArn: string;
  /** Tags on every copy; the adapter adds the source snapshot id, by which it finds copies already made. */
  readonly tags: ResourceTags;
  /** Tags per copy, by source snapshot. */
  readonly tagsFor?: (source: SnapshotRef) => ResourceTags;
  readonly description: string;
}

/** What one `shareAndCopy` call started. */
export interface ShareAndCopyResult {
  /**
   * `evidence`: `snapshots` are copies owned by the evidence account, encrypted with the evidence key.
   * `source`: some snapshots could not be shared as they were (encrypted with a key the evidence account cannot
   * use) and `snapshots` now holds re-encrypted copies in the source account: wait for them, then call again.
   */
  readonly stage: 'source' | 'evidence';
  readonly snapshots: readonly SnapshotRef[];
  /** Snapshots a previous call had already copied (found by tag): nothing new was started for them. */
  readonly reused: readonly string[];
}

export interface IsolateOptions {
  /** Name of the quarantine network group (created once per network, without any rule). */
  readonly quarantineGroupName: string;
  readonly tags: ResourceTags;
}

/** What isolation changed, so the ledger records it and a responder can undo it. */
export interface IsolationOutcome {
  readonly quarantineGroupId: string;
  /** Security groups each network interface had before, by interface id. */
  readonly previousGroups: Readonly<Record<string, readonly string[]>>;
  readonly terminationProtection: boolean;
  /** The Auto Scaling group the instance was detached from, or null when it was in none. */
  readonly detachedFrom: string | null;
}

/** Compute API operations instance preservation needs. */
export interface SnapshotProvider {
  /** Captures the instance's metadata (instance, volumes, interfaces, groups, profile, tags, console output). */
  describeInstance(target: InstanceTarget): Promise<InstanceMetadata>;
  /** Crash-consistent snapshots of all the instance's volumes at once; idempotent by the request tag. */
  createSnapshots(target: InstanceTarget, options: CreateSnapshotsOptions): Promise<SnapshotSetResult>;
  /** Current state of each snapshot, in the order given; one that no longer exists is `missing`. */
  getSnapshots(snapshots: readonly SnapshotRef[]): Promise<SnapshotStatus[]>;
  /** Shares completed snapshots with the evidence account and copies them there, re-encrypted with its key. */
  shareAndCopy(snapshots: readonly SnapshotRef[], options: ShareAndCopyOptions): Promise<ShareAndCopyResult>;
  /** Quarantines the instance: quarantine group only, termination protection, out of its Auto Scaling group. */
  isolate(target: InstanceTarget, options: IsolateOptions): Promise<IsolationOutcome>;
}
