/**
 * The SnapshotProvider port on EC2 and EBS. Calls into a member account go through the collector role
 * (STS AssumeRole with the external id); calls into the function's own account use its own credentials.
 *
 * How each verb stays safe to run again:
 * - createSnapshots looks up snapshots tagged with the request and instance (owner: self) before calling
 *   CreateSnapshots, which has no client token; a retried step or a duplicated event finds the first set.
 * - shareAndCopy looks up copies tagged `amber:source-snapshot-id` in the destination before CopySnapshot;
 *   sharing (ModifySnapshotAttribute add) is idempotent.
 * - isolate converges: the quarantine group is found by name in the VPC (and emptied of any rule), the groups an
 *   interface had before are kept in a tag on it so a second run still reports them, an instance already out of
 *   its Auto Scaling group is left alone.
 */
import {
  AutoScalingClient,
  DescribeAutoScalingInstancesCommand,
  DetachInstancesCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CopySnapshotCommand,
  CreateSecurityGroupCommand,
  CreateSnapshotsCommand,
  CreateTagsCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  EC2Client,
  GetConsoleOutputCommand,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
  ModifySnapshotAttributeCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type Filter,
  type Instance,
  type SecurityGroup,
  type Snapshot,
  type Tag,
} from '@aws-sdk/client-ec2';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { InstanceNotFoundError, IsolationError, SnapshotError } from '../../../shared/preservation/errors.ts';
import { TAGS } from '../../../shared/preservation/snapshot-instance.ts';
import type {
  CreateSnapshotsOptions,
  InstanceMetadata,
  InstanceTarget,
  IsolateOptions,
  IsolationOutcome,
  MetadataDocument,
  ResourceTags,
  ShareAndCopyOptions,
  ShareAndCopyResult,
  SnapshotProvider,
  SnapshotRef,
  SnapshotSetResult,
  SnapshotStatus,
} from '../../../shared/ports/snapshot-provider.ts';
import { assumedRoleCredentials, collectorRoleArn } from './assume-role.ts';
import { partitionOf, sdkClientConfig, type AwsClientConfig } from './aws-client.ts';
import { awsErrorInfo, toCloudCallError } from './aws-errors.ts';

/** Tag on a network interface holding the security groups it had before isolation (comma separated). */
export const PREVIOUS_GROUPS_TAG = 'amber:previous-groups';
/** DescribeSnapshots accepts this many ids per call. */
const DESCRIBE_CHUNK = 200;

export interface Ec2SnapshotProviderOptions {
  /** Name of the collector role in member accounts (the member stack creates it). */
  readonly collectorRoleName: string;
  /** External id the collector role's trust policy requires. */
  readonly externalId: string;
  /**
   * The account whose credentials this process holds: calls into it use them, calls elsewhere assume the role.
   * @default resolved once with sts:GetCallerIdentity
   */
  readonly ownAccountId?: string;
  /**
   * Session name recorded in the member account's CloudTrail.
   * @default 'amber-collector'
   */
  readonly sessionName?: string;
  /**
   * Base config of every client built (region and credentials are set per account and region).
   * @default {} (the SDK's defaults, DEFAULT_MAX_ATTEMPTS attempts)
   */
  readonly clientConfig?: AwsClientConfig;
  /**
   * STS client for GetCallerIdentity and AssumeRole.
   * @default a new STSClient built from clientConfig, only when none is given
   */
  readonly stsClient?: STSClient;
}

interface Clients {
  readonly ec2: EC2Client;
  readonly autoScaling: AutoScalingClient;
  readonly where: string;
}

/** EC2 and EBS as the SnapshotProvider. */
export class Ec2SnapshotProvider implements SnapshotProvider {
  private readonly clients = new Map<string, Clients>();
  private readonly sts: STSClient;
  private ownAccount: Promise<string> | undefined;

  constructor(private readonly options: Ec2SnapshotProviderOptions) {
    this.sts = options.stsClient ?? new STSClient(sdkClientConfig(options.clientConfig));
    if (options.ownAccountId) this.ownAccount = Promise.resolve(options.ownAccountId);
  }

  async describeInstance(target: InstanceTarget): Promise<InstanceMetadata> {
    const c = await this.clientsFor(target.accountId, target.region);
    const id = target.instanceId;
    const q = `account=${target.accountId}&region=${target.region}`;
    const { instance, reservation } = await this.findInstance(c, target);
    const volumeIds = (instance.BlockDeviceMappings ?? []).map((m) => m.Ebs?.VolumeId).filter((v): v is string => typeof v === 'string');
    const eniIds = (instance.NetworkInterfaces ?? []).map((n) => n.NetworkInterfaceId).filter((v): v is string => typeof v === 'string');
    const [volumes, interfaces, profile, console] = await Promise.all([
      volumeIds.length === 0 ? [] : this.call(c, 'ec2:DescribeVolumes', () => c.ec2.send(new DescribeVolumesCommand({ VolumeIds: volumeIds }))).then((o) => o.Volumes ?? []),
      eniIds.length === 0 ? [] : this.call(c, 'ec2:DescribeNetworkInterfaces', () => c.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: eniIds }))).then((o) => o.NetworkInterfaces ?? []),
      this.call(c, 'ec2:DescribeIamInstanceProfileAssociations', () =>
        c.ec2.send(new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: 'instance-id', Values: [id] }] })),
      ).then((o) => o.IamInstanceProfileAssociations ?? []),
      this.consoleOutput(c, id),
    ]);
    const groupIds = [...new Set([...(instance.SecurityGroups ?? []), ...interfaces.flatMap((n) => n.Groups ?? [])].map((g) => g.GroupId).filter((g): g is string => typeof g === 'string'))];
    const groups =
      groupIds.length === 0 ? [] : (await this.call(c, 'ec2:DescribeSecurityGroups', () => c.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: groupIds })))).SecurityGroups ?? [];
    const tags = Object.fromEntries((instance.Tags ?? []).filter((t) => t.Key !== undefined).map((t) => [t.Key!, t.Value ?? '']).sort(([a], [b]) => (a! < b! ? -1 : 1)));
    const documents: MetadataDocument[] = [
      json('instance.json', `api:ec2:DescribeInstances?InstanceIds=${id}&${q}`, { OwnerId: reservation.OwnerId, ReservationId: reservation.ReservationId, RequesterId: reservation.RequesterId, Instance: instance }),
      json('volumes.json', `api:ec2:DescribeVolumes?VolumeIds=${volumeIds.join(',')}&${q}`, volumes),
      json('network-interfaces.json', `api:ec2:DescribeNetworkInterfaces?NetworkInterfaceIds=${eniIds.join(',')}&${q}`, interfaces),
      json('security-groups.json', `api:ec2:DescribeSecurityGroups?GroupIds=${groupIds.join(',')}&${q}`, groups),
      json('instance-profile.json', `api:ec2:DescribeIamInstanceProfileAssociations?instance-id=${id}&${q}`, { IamInstanceProfile: instance.IamInstanceProfile ?? null, Associations: profile }),
      json('tags.json', `api:ec2:DescribeInstances?InstanceIds=${id}&${q}#Tags`, tags),
      json('console-output.json', `api:ec2:GetConsoleOutput?InstanceId=${id}&${q}`, console),
    ];
    return {
      instanceId: id,
      volumeIds,
      ...(instance.VpcId ? { networkId: instance.VpcId } : {}),
      pathPrefix: `aws/ec2/${target.accountId}/${target.region}/${id}`,
      documents,
    };
  }

  async createSnapshots(target: InstanceTarget, options: CreateSnapshotsOptions): Promise<SnapshotSetResult> {
    const c = await this.clientsFor(target.accountId, target.region);
    const existing = await this.findSnapshots(c, tagFilters({ [TAGS.requestId]: options.requestId.slice(0, 256), [TAGS.instanceId]: target.instanceId, ...options.tags }));
    if (existing.length > 0) {
      return { snapshots: existing.map((s) => ref(s, target.accountId, target.region)), reused: true };
    }
    const out = await this.call(c, 'ec2:CreateSnapshots', () =>
      c.ec2.send(
        new CreateSnapshotsCommand({
          InstanceSpecification: { InstanceId: target.instanceId, ExcludeBootVolume: false },
          Description: options.description,
          TagSpecifications: [{ ResourceType: 'snapshot', Tags: toTags(options.tags) }],
          CopyTagsFromSource: 'volume',
        }),
      ),
    );
    const snapshots = (out.Snapshots ?? [])
      .filter((s) => s.SnapshotId && s.VolumeId)
      .map((s) => ({ snapshotId: s.SnapshotId!, volumeId: s.VolumeId!, accountId: target.accountId, region: target.region }));
    if (options.tagsFor) {
      const tagsFor = options.tagsFor;
      await Promise.all(
        snapshots.map((s) => this.call(c, 'ec2:CreateTags', () => c.ec2.send(new CreateTagsCommand({ Resources: [s.snapshotId], Tags: toTags(tagsFor(s.volumeId)) })))),
      );
    }
    return { snapshots, reused: false };
  }

  async getSnapshots(snapshots: readonly SnapshotRef[]): Promise<SnapshotStatus[]> {
    const found = new Map<string, Snapshot>();
    for (const [where, refs] of groupByPlace(snapshots)) {
      const c = await this.clientsFor(refs[0]!.accountId, refs[0]!.region);
      for (let i = 0; i < refs.length; i += DESCRIBE_CHUNK) {
        const ids = refs.slice(i, i + DESCRIBE_CHUNK).map((r) => r.snapshotId);
        for (const s of await this.describeSnapshotIds(c, ids)) if (s.SnapshotId) found.set(`${where}|${s.SnapshotId}`, s);
      }
    }
    return snapshots.map((r) => status(r, found.get(`${placeOf(r)}|${r.snapshotId}`)));
  }

  async shareAndCopy(snapshots: readonly SnapshotRef[], options: ShareAndCopyOptions): Promise<ShareAndCopyResult> {
    const states = await this.getSnapshots(snapshots);
    const notReady = states.filter((s) => s.state !== 'completed');
    if (notReady.length > 0) {
      throw new SnapshotError(`cannot copy snapshots that are not completed: ${notReady.map((s) => `${s.snapshotId} (${s.state})`).join(', ')}`, {
        hint: 'wait for check-snapshots to report completed before copy-snapshots',
      });
    }
    // A snapshot encrypted with a key other than the evidence key (the account's aws/ebs key cannot be shared
    // at all) is first copied in its own account, re-encrypted with the evidence key.
    const foreign = states.filter((s) => s.encrypted === true && s.kmsKeyId !== options.kmsKeyArn);
    const reused: string[] = [];
    if (foreign.length > 0) {
      const byId = new Map<string, SnapshotRef>();
      for (const s of foreign) {
        const c = await this.clientsFor(s.accountId, s.region);
        const copy = await this.copyOnce(c, s, s.region, { ...options.tags, [TAGS.sourceSnapshotId]: s.snapshotId }, options, reused);
        byId.set(s.snapshotId, { snapshotId: copy, volumeId: s.volumeId, accountId: s.accountId, region: s.region });
      }
      return { stage: 'source', snapshots: snapshots.map((s) => byId.get(s.snapshotId) ?? s), reused };
    }
    const evidence = await this.clientsFor(options.evidenceAccountId, options.evidenceRegion);
    const copies: SnapshotRef[] = [];
    for (const s of snapshots) {
      const source = await this.clientsFor(s.accountId, s.region);
      await this.call(source, 'ec2:ModifySnapshotAttribute', () =>
        source.ec2.send(
          new ModifySnapshotAttributeCommand({ SnapshotId: s.snapshotId, Attribute: 'createVolumePermission', OperationType: 'add', UserIds: [options.evidenceAccountId] }),
        ),
      );
      const tags = { ...options.tags, ...options.tagsFor?.(s), [TAGS.sourceSnapshotId]: s.snapshotId };
      const copy = await this.copyOnce(evidence, s, s.region, tags, options, reused);
      copies.push({ snapshotId: copy, volumeId: s.volumeId, accountId: options.evidenceAccountId, region: options.evidenceRegion });
    }
    return { stage: 'evidence', snapshots: copies, reused };
  }

  async isolate(target: InstanceTarget, options: IsolateOptions): Promise<IsolationOutcome> {
    const c = await this.clientsFor(target.accountId, target.region);
    const { instance } = await this.findInstance(c, target);
    if (!instance.VpcId) throw new IsolationError(`instance ${target.instanceId} is in no VPC: a quarantine security group cannot be applied`);

    // Out of its Auto Scaling group first: the group would otherwise replace (terminate) an instance whose
    // health check fails once it is quarantined. The group launches a replacement; the evidence stays.
    let detachedFrom: string | null = null;
    const asg = await this.call(c, 'autoscaling:DescribeAutoScalingInstances', () =>
      c.autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [target.instanceId] })),
    );
    const membership = asg.AutoScalingInstances?.[0];
    if (membership?.AutoScalingGroupName) {
      detachedFrom = membership.AutoScalingGroupName;
      await this.call(c, 'autoscaling:DetachInstances', () =>
        c.autoScaling.send(new DetachInstancesCommand({ AutoScalingGroupName: detachedFrom!, InstanceIds: [target.instanceId], ShouldDecrementDesiredCapacity: false })),
      );
    }

    await this.call(c, 'ec2:ModifyInstanceAttribute', () =>
      c.ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: target.instanceId, DisableApiTermination: { Value: true } })),
    );

    const quarantine = await this.quarantineGroup(c, instance.VpcId, options);
    const previousGroups: Record<string, string[]> = {};
    const eniIds = (instance.NetworkInterfaces ?? []).map((n) => n.NetworkInterfaceId).filter((v): v is string => typeof v === 'string');
    const interfaces =
      eniIds.length === 0
        ? []
        : ((await this.call(c, 'ec2:DescribeNetworkInterfaces', () => c.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: eniIds })))).NetworkInterfaces ?? []);
    for (const eni of interfaces) {
      const eniId = eni.NetworkInterfaceId;
      if (!eniId) continue;
      const current = (eni.Groups ?? []).map((g) => g.GroupId).filter((g): g is string => typeof g === 'string');
      const remembered = eni.TagSet?.find((t) => t.Key === PREVIOUS_GROUPS_TAG)?.Value;
      const before = remembered ? remembered.split(',').filter(Boolean) : current;
      previousGroups[eniId] = before;
      if (!remembered) {
        await this.call(c, 'ec2:CreateTags', () =>
          c.ec2.send(new CreateTagsCommand({ Resources: [eniId], Tags: [{ Key: PREVIOUS_GROUPS_TAG, Value: before.join(',').slice(0, 256) }] })),
        );
      }
      if (current.length !== 1 || current[0] !== quarantine) {
        await this.call(c, 'ec2:ModifyNetworkInterfaceAttribute', () =>
          c.ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniId, Groups: [quarantine] })),
        );
      }
    }
    return { quarantineGroupId: quarantine, previousGroups, terminationProtection: true, detachedFrom };
  }

  // --- helpers ---

  /** The clients for an account and region: own credentials, or the collector role's. */
  private async clientsFor(accountId: string, region: string): Promise<Clients> {
    const key = `${accountId}|${region}`;
    const known = this.clients.get(key);
    if (known) return known;
    const own = await this.ownAccountId();
    const base = { ...this.options.clientConfig, region };
    const config =
      accountId === own
        ? sdkClientConfig(base)
        : sdkClientConfig({
            ...base,
            credentials: assumedRoleCredentials({
              sts: this.sts,
              roleArn: collectorRoleArn(partitionOf(region), accountId, this.options.collectorRoleName),
              externalId: this.options.externalId,
              sessionName: this.options.sessionName ?? 'amber-collector',
            }),
          });
    const clients = { ec2: new EC2Client(config), autoScaling: new AutoScalingClient(config), where: `account ${accountId}, region ${region}` };
    this.clients.set(key, clients);
    return clients;
  }

  private ownAccountId(): Promise<string> {
    if (this.ownAccount === undefined) {
      this.ownAccount = this.sts
        .send(new GetCallerIdentityCommand({}))
        .then((o) => {
          if (!o.Account) throw new Error('GetCallerIdentity returned no account');
          return o.Account;
        })
        .catch((err: unknown) => {
          this.ownAccount = undefined;
          throw toCloudCallError(err, 'sts:GetCallerIdentity', 'this account');
        });
    }
    return this.ownAccount;
  }

  private async call<T>(c: Clients, name: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toCloudCallError(err, name, c.where);
    }
  }

  private async findInstance(c: Clients, target: InstanceTarget): Promise<{ instance: Instance; reservation: { OwnerId?: string; ReservationId?: string; RequesterId?: string } }> {
    let out;
    try {
      out = await c.ec2.send(new DescribeInstancesCommand({ InstanceIds: [target.instanceId] }));
    } catch (err) {
      if (/^InvalidInstanceID\.(NotFound|Malformed)$/.test(awsErrorInfo(err).name)) {
        throw new InstanceNotFoundError(target.instanceId, target.accountId, target.region, { cause: err });
      }
      throw toCloudCallError(err, 'ec2:DescribeInstances', c.where);
    }
    const reservation = out.Reservations?.find((r) => r.Instances?.some((i) => i.InstanceId === target.instanceId));
    const instance = reservation?.Instances?.find((i) => i.InstanceId === target.instanceId);
    if (!reservation || !instance) throw new InstanceNotFoundError(target.instanceId, target.accountId, target.region);
    return { instance, reservation: { OwnerId: reservation.OwnerId, ReservationId: reservation.ReservationId, RequesterId: reservation.RequesterId } };
  }

  /** Console output, latest when the instance type offers it; its absence is recorded, not an error. */
  private async consoleOutput(c: Clients, instanceId: string): Promise<Record<string, unknown>> {
    const get = (latest: boolean) => c.ec2.send(new GetConsoleOutputCommand({ InstanceId: instanceId, ...(latest ? { Latest: true } : {}) }));
    let out;
    let latest = true;
    try {
      out = await get(true);
    } catch (err) {
      // Latest is offered on Nitro instances only; others answer UnsupportedOperation.
      if (awsErrorInfo(err).name !== 'UnsupportedOperation' && awsErrorInfo(err).status !== 400) throw toCloudCallError(err, 'ec2:GetConsoleOutput', c.where);
      latest = false;
      out = await this.call(c, 'ec2:GetConsoleOutput', () => get(false));
    }
    const encoded = out.Output ?? null;
    return {
      InstanceId: instanceId,
      Timestamp: out.Timestamp?.toISOString() ?? null,
      Latest: latest,
      OutputBase64: encoded,
      Output: encoded === null ? null : Buffer.from(encoded, 'base64').toString('utf8'),
    };
  }

  private async findSnapshots(c: Clients, filters: Filter[]): Promise<Snapshot[]> {
    const out: Snapshot[] = [];
    let token: string | undefined;
    do {
      const page = await this.call(c, 'ec2:DescribeSnapshots', () =>
        c.ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: filters, NextToken: token, MaxResults: 1000 })),
      );
      out.push(...(page.Snapshots ?? []));
      token = page.NextToken;
    } while (token);
    return out;
  }

  /** Describes ids; when one is gone (the call fails for all), describes them one by one to find which. */
  private async describeSnapshotIds(c: Clients, ids: string[]): Promise<Snapshot[]> {
    try {
      return (await c.ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: ids }))).Snapshots ?? [];
    } catch (err) {
      if (awsErrorInfo(err).name !== 'InvalidSnapshot.NotFound') throw toCloudCallError(err, 'ec2:DescribeSnapshots', c.where);
      if (ids.length === 1) return [];
      const parts = await Promise.all(ids.map((id) => this.describeSnapshotIds(c, [id])));
      return parts.flat();
    }
  }

  /** The copy of `source` in `dest` (found by tag, else started); returns its id. */
  private async copyOnce(dest: Clients, source: SnapshotRef, sourceRegion: string, tags: ResourceTags, options: ShareAndCopyOptions, reused: string[]): Promise<string> {
    const found = await this.findSnapshots(dest, tagFilters({ [TAGS.sourceSnapshotId]: source.snapshotId, [TAGS.requestId]: tags[TAGS.requestId] ?? '' }));
    const usable = found.find((s) => s.State !== 'error');
    if (usable?.SnapshotId) {
      reused.push(source.snapshotId);
      return usable.SnapshotId;
    }
    const out = await this.call(dest, 'ec2:CopySnapshot', () =>
      dest.ec2.send(
        new CopySnapshotCommand({
          SourceSnapshotId: source.snapshotId,
          SourceRegion: sourceRegion,
          Encrypted: true,
          KmsKeyId: options.kmsKeyArn,
          Description: options.description,
          TagSpecifications: [{ ResourceType: 'snapshot', Tags: toTags(tags) }],
        }),
      ),
    );
    if (!out.SnapshotId) throw new SnapshotError(`CopySnapshot of ${source.snapshotId} returned no snapshot id in ${dest.where}`);
    return out.SnapshotId;
  }

  /** The quarantine group of a VPC: found by name or created, and emptied of every rule. */
  private async quarantineGroup(c: Clients, vpcId: string, options: IsolateOptions): Promise<string> {
    const find = async (): Promise<SecurityGroup | undefined> =>
      (
        await this.call(c, 'ec2:DescribeSecurityGroups', () =>
          c.ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: [options.quarantineGroupName] }, { Name: 'vpc-id', Values: [vpcId] }] })),
        )
      ).SecurityGroups?.[0];
    let group = await find();
    if (!group) {
      try {
        await c.ec2.send(
          new CreateSecurityGroupCommand({
            GroupName: options.quarantineGroupName,
            Description: 'Amber quarantine: no inbound and no outbound traffic',
            VpcId: vpcId,
            TagSpecifications: [{ ResourceType: 'security-group', Tags: toTags({ 'amber:purpose': 'quarantine' }) }],
          }),
        );
      } catch (err) {
        // Another isolation in the same VPC created it first.
        if (awsErrorInfo(err).name !== 'InvalidGroup.Duplicate') throw toCloudCallError(err, 'ec2:CreateSecurityGroup', c.where);
      }
      group = await find();
    }
    if (!group?.GroupId) throw new IsolationError(`the quarantine security group ${options.quarantineGroupName} could not be found or created in ${vpcId} (${c.where})`);
    const groupId = group.GroupId;
    // A new group allows all outbound traffic; an existing one may have gained rules since. Remove them all.
    if (group.IpPermissionsEgress && group.IpPermissionsEgress.length > 0) {
      await this.call(c, 'ec2:RevokeSecurityGroupEgress', () => c.ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: group.IpPermissionsEgress })));
    }
    if (group.IpPermissions && group.IpPermissions.length > 0) {
      await this.call(c, 'ec2:RevokeSecurityGroupIngress', () => c.ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: group.IpPermissions })));
    }
    return groupId;
  }
}

function json(name: string, origin: string, value: unknown): MetadataDocument {
  return { name, origin, kind: 'json', value };
}

function toTags(tags: ResourceTags): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

function tagFilters(tags: ResourceTags): Filter[] {
  return Object.entries(tags).map(([k, v]) => ({ Name: `tag:${k}`, Values: [v] }));
}

function ref(s: Snapshot, accountId: string, region: string): SnapshotRef {
  return { snapshotId: s.SnapshotId ?? '', volumeId: s.VolumeId ?? '', accountId, region };
}

function placeOf(r: SnapshotRef): string {
  return `${r.accountId}|${r.region}`;
}

function groupByPlace(refs: readonly SnapshotRef[]): Map<string, SnapshotRef[]> {
  const out = new Map<string, SnapshotRef[]>();
  for (const r of refs) out.set(placeOf(r), [...(out.get(placeOf(r)) ?? []), r]);
  return out;
}

function status(r: SnapshotRef, s: Snapshot | undefined): SnapshotStatus {
  if (s === undefined) return { ...r, state: 'missing', reason: `snapshot ${r.snapshotId} of volume ${r.volumeId} does not exist in account ${r.accountId}, region ${r.region}` };
  const base = {
    ...r,
    ...(s.Progress ? { progress: s.Progress } : {}),
    ...(s.Encrypted !== undefined ? { encrypted: s.Encrypted } : {}),
    ...(s.KmsKeyId ? { kmsKeyId: s.KmsKeyId } : {}),
    ...(s.VolumeSize !== undefined ? { sizeGiB: s.VolumeSize } : {}),
    ...(s.StartTime ? { startedAt: s.StartTime.toISOString() } : {}),
  };
  switch (s.State) {
    case 'completed':
      return { ...base, state: 'completed' };
    case 'error':
      return { ...base, state: 'error', reason: `snapshot ${r.snapshotId} of volume ${r.volumeId} failed: ${s.StateMessage || 'EC2 gave no reason'}` };
    case 'recoverable':
    case 'recovering':
      return { ...base, state: 'error', reason: `snapshot ${r.snapshotId} of volume ${r.volumeId} was deleted (it is in the Recycle Bin, state ${s.State})` };
    default:
      return { ...base, state: 'pending' };
  }
}
