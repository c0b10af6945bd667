/**
 * A stateful fake of EC2 (with EBS snapshots), Auto Scaling and STS behind aws-sdk-client-mock, for the EC2
 * adapter and the instance handlers. Written behaviour:
 * - Which account a call is made in comes from the calling client's credentials: STS AssumeRole answers access
 *   keys `ASIA<account>` (only with the right external id, else AccessDenied); any other key is `ownAccount`.
 * - CreateSnapshots makes one `pending` snapshot per EBS volume of the instance, tagged from TagSpecifications
 *   (and the volume's tags with CopyTagsFromSource). Each DescribeSnapshots by id is one "look": a snapshot
 *   completes after `stepsToComplete` looks; one of a volume in `failingVolumes` turns to `error` with that
 *   message. DescribeSnapshots by id fails for all ids when one is unknown (InvalidSnapshot.NotFound), as EC2 does.
 * - Snapshots encrypted with the AWS managed key (`DEFAULT_EBS_KEY`) cannot be shared (ModifySnapshotAttribute
 *   fails). CopySnapshot needs the source to be the caller's or shared with it, and makes a `pending` copy.
 * - Security groups, network interfaces, termination protection and Auto Scaling membership are kept and changed
 *   as EC2 does; CreateSecurityGroup gives a new group the default allow-all egress rule.
 * - `calls` records every command with the account and region it ran in.
 */
import { DescribeAutoScalingInstancesCommand, DetachInstancesCommand } from '@aws-sdk/client-auto-scaling';
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
  GetConsoleOutputCommand,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
  ModifySnapshotAttributeCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
} from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { AwsStub } from 'aws-sdk-client-mock';

export const DEFAULT_EBS_KEY = 'arn:aws:kms:eu-west-1:111122223333:key/aws-managed-ebs';

type Tags = Record<string, string>;

export interface FakeVolume {
  readonly volumeId: string;
  readonly sizeGiB?: number;
  readonly kmsKeyId?: string;
  readonly tags?: Tags;
}

export interface FakeInstanceSpec {
  readonly instanceId: string;
  readonly accountId: string;
  readonly region: string;
  readonly vpcId?: string;
  readonly volumes: readonly FakeVolume[];
  readonly enis: readonly { readonly eniId: string; readonly groups: readonly string[] }[];
  readonly autoScalingGroup?: string;
  readonly profileArn?: string;
  readonly tags?: Tags;
  readonly consoleOutput?: string;
  /** Nitro instances offer the latest console output. @default true */
  readonly nitro?: boolean;
}

interface Snapshot {
  SnapshotId: string;
  VolumeId: string;
  OwnerId: string;
  region: string;
  State: string;
  Progress: string;
  StateMessage?: string;
  Encrypted: boolean;
  KmsKeyId?: string;
  VolumeSize: number;
  StartTime: Date;
  Tags: Tags;
  sharedWith: Set<string>;
  looks: number;
  copyOf?: string;
}

interface Group {
  GroupId: string;
  GroupName: string;
  VpcId: string;
  IpPermissions: unknown[];
  IpPermissionsEgress: unknown[];
  Tags: Tags;
}

interface Place {
  readonly account: string;
  readonly region: string;
}

function awsError(name: string, status = 400, message = `${name} from the fake`): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status, attempts: 1 }, $fault: status >= 500 ? 'server' : 'client' });
}

const tagList = (tags: Tags) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
const fromTagSpecs = (specs: unknown): Tags =>
  Object.fromEntries(((specs as { Tags?: { Key: string; Value: string }[] }[] | undefined) ?? []).flatMap((s) => s.Tags ?? []).map((t) => [t.Key, t.Value]));

export class FakeEc2 {
  ownAccount = '999988887777';
  externalId = 'ext-123';
  stepsToComplete = 2;
  readonly failingVolumes = new Map<string, string>();
  readonly instances = new Map<string, FakeInstanceSpec & { terminationProtection: boolean; asg: string | undefined; enis: { eniId: string; groups: string[]; tags: Tags }[] }>();
  readonly snapshots = new Map<string, Snapshot>();
  readonly groups = new Map<string, Group>();
  readonly calls: { command: string; account: string; region: string; input: Record<string, unknown> }[] = [];
  private next = 1;

  addInstance(spec: FakeInstanceSpec): this {
    this.instances.set(`${spec.accountId}|${spec.region}|${spec.instanceId}`, {
      ...spec,
      terminationProtection: false,
      asg: spec.autoScalingGroup,
      enis: spec.enis.map((e) => ({ eniId: e.eniId, groups: [...e.groups], tags: {} })),
    });
    for (const e of spec.enis) for (const g of e.groups) {
      const key = `${spec.accountId}|${spec.region}|${g}`;
      if (!this.groups.has(key)) this.groups.set(key, { GroupId: g, GroupName: g, VpcId: spec.vpcId ?? 'vpc-1', IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }], IpPermissionsEgress: [{ IpProtocol: '-1' }], Tags: {} });
    }
    return this;
  }

  count(command: string, account?: string): number {
    return this.calls.filter((c) => c.command === command && (account === undefined || c.account === account)).length;
  }

  snapshotsOf(account: string): Snapshot[] {
    return [...this.snapshots.values()].filter((s) => s.OwnerId === account);
  }

  /** Routes EC2, Auto Scaling and STS mocks to this fake. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  install(mocks: { ec2: AwsStub<any, any, any>; autoScaling?: AwsStub<any, any, any>; sts?: AwsStub<any, any, any> }): this {
    const ec2 = {
      DescribeInstancesCommand,
      DescribeVolumesCommand,
      DescribeNetworkInterfacesCommand,
      DescribeSecurityGroupsCommand,
      DescribeIamInstanceProfileAssociationsCommand,
      GetConsoleOutputCommand,
      CreateSnapshotsCommand,
      CreateTagsCommand,
      DescribeSnapshotsCommand,
      CopySnapshotCommand,
      ModifySnapshotAttributeCommand,
      ModifyInstanceAttributeCommand,
      CreateSecurityGroupCommand,
      RevokeSecurityGroupEgressCommand,
      RevokeSecurityGroupIngressCommand,
      ModifyNetworkInterfaceAttributeCommand,
    };
    for (const [name, command] of Object.entries(ec2)) {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      mocks.ec2.on(command as any).callsFake(async (input: Record<string, unknown>, getClient: () => any) => this.handle(name, input, await this.place(getClient())));
    }
    for (const [name, command] of Object.entries({ DescribeAutoScalingInstancesCommand, DetachInstancesCommand })) {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      mocks.autoScaling?.on(command as any).callsFake(async (input: Record<string, unknown>, getClient: () => any) => this.handle(name, input, await this.place(getClient())));
    }
    mocks.sts?.on(GetCallerIdentityCommand).callsFake(async () => ({ Account: this.ownAccount, Arn: `arn:aws:sts::${this.ownAccount}:assumed-role/amber/fn` }));
    mocks.sts?.on(AssumeRoleCommand).callsFake(async (input: { RoleArn: string; ExternalId?: string }) => {
      this.calls.push({ command: 'AssumeRole', account: this.ownAccount, region: '', input: input as unknown as Record<string, unknown> });
      if (input.ExternalId !== this.externalId) throw awsError('AccessDenied', 403, 'not authorized to perform sts:AssumeRole');
      const account = /^arn:aws:iam::(\d{12}):role\//.exec(input.RoleArn)?.[1] ?? '000000000000';
      return { Credentials: { AccessKeyId: `ASIA${account}`, SecretAccessKey: 'secret', SessionToken: 'token', Expiration: new Date(Date.now() + 3_600_000) } };
    });
    return this;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private async place(client: any): Promise<Place> {
    const region = await client.config.region();
    const creds = await client.config.credentials();
    const key = String(creds.accessKeyId);
    return { account: key.startsWith('ASIA') ? key.slice(4) : this.ownAccount, region };
  }

  private instance(place: Place, id: unknown) {
    const i = this.instances.get(`${place.account}|${place.region}|${String(id)}`);
    if (!i) throw awsError('InvalidInstanceID.NotFound', 400, `The instance ID '${String(id)}' does not exist`);
    return i;
  }

  private handle(command: string, input: Record<string, unknown>, place: Place): unknown {
    this.calls.push({ command, account: place.account, region: place.region, input });
    switch (command) {
      case 'DescribeInstancesCommand': {
        const i = this.instance(place, (input.InstanceIds as string[])[0]);
        return {
          Reservations: [
            {
              OwnerId: i.accountId,
              ReservationId: 'r-1',
              Instances: [
                {
                  InstanceId: i.instanceId,
                  VpcId: i.vpcId,
                  State: { Name: 'running' },
                  BlockDeviceMappings: i.volumes.map((v, n) => ({ DeviceName: `/dev/xvd${'abcdef'[n]}`, Ebs: { VolumeId: v.volumeId } })),
                  NetworkInterfaces: i.enis.map((e) => ({ NetworkInterfaceId: e.eniId, Groups: e.groups.map((GroupId) => ({ GroupId })) })),
                  SecurityGroups: (i.enis[0]?.groups ?? []).map((GroupId) => ({ GroupId })),
                  IamInstanceProfile: i.profileArn ? { Arn: i.profileArn, Id: 'AIP1' } : undefined,
                  Tags: tagList(i.tags ?? {}),
                },
              ],
            },
          ],
        };
      }
      case 'DescribeVolumesCommand': {
        const all = [...this.instances.values()].filter((i) => i.accountId === place.account).flatMap((i) => i.volumes);
        return { Volumes: (input.VolumeIds as string[]).map((id) => all.find((v) => v.volumeId === id)).filter(Boolean).map((v) => ({ VolumeId: v!.volumeId, Size: v!.sizeGiB ?? 8, Encrypted: v!.kmsKeyId !== undefined, KmsKeyId: v!.kmsKeyId })) };
      }
      case 'DescribeNetworkInterfacesCommand': {
        const enis = [...this.instances.values()].filter((i) => i.accountId === place.account).flatMap((i) => i.enis);
        return { NetworkInterfaces: (input.NetworkInterfaceIds as string[]).map((id) => enis.find((e) => e.eniId === id)!).map((e) => ({ NetworkInterfaceId: e.eniId, Groups: e.groups.map((GroupId) => ({ GroupId })), TagSet: tagList(e.tags) })) };
      }
      case 'DescribeSecurityGroupsCommand': {
        const mine = [...this.groups.entries()].filter(([k]) => k.startsWith(`${place.account}|${place.region}|`)).map(([, g]) => g);
        if (input.GroupIds) return { SecurityGroups: mine.filter((g) => (input.GroupIds as string[]).includes(g.GroupId)).map((g) => ({ ...g, Tags: tagList(g.Tags) })) };
        const filters = Object.fromEntries(((input.Filters as { Name: string; Values: string[] }[]) ?? []).map((f) => [f.Name, f.Values[0]]));
        return { SecurityGroups: mine.filter((g) => g.GroupName === filters['group-name'] && g.VpcId === filters['vpc-id']).map((g) => ({ ...g, Tags: tagList(g.Tags) })) };
      }
      case 'DescribeIamInstanceProfileAssociationsCommand': {
        const id = ((input.Filters as { Values: string[] }[])[0]!.Values[0])!;
        const i = this.instance(place, id);
        return { IamInstanceProfileAssociations: i.profileArn ? [{ AssociationId: 'iip-assoc-1', InstanceId: id, IamInstanceProfile: { Arn: i.profileArn }, State: 'associated' }] : [] };
      }
      case 'GetConsoleOutputCommand': {
        const i = this.instance(place, input.InstanceId);
        if (input.Latest && i.nitro === false) throw awsError('UnsupportedOperation', 400, 'Latest console output is only for Nitro instances');
        return { InstanceId: i.instanceId, Timestamp: new Date('2026-03-01T11:59:00Z'), Output: i.consoleOutput === undefined ? undefined : Buffer.from(i.consoleOutput).toString('base64') };
      }
      case 'CreateSnapshotsCommand': {
        const spec = input.InstanceSpecification as { InstanceId: string };
        const i = this.instance(place, spec.InstanceId);
        const tags = fromTagSpecs(input.TagSpecifications);
        const made = i.volumes.map((v) => {
          const s: Snapshot = {
            SnapshotId: `snap-${String(this.next++).padStart(17, '0')}`,
            VolumeId: v.volumeId,
            OwnerId: place.account,
            region: place.region,
            State: 'pending',
            Progress: '0%',
            Encrypted: v.kmsKeyId !== undefined,
            KmsKeyId: v.kmsKeyId,
            VolumeSize: v.sizeGiB ?? 8,
            StartTime: new Date('2026-03-01T12:00:00Z'),
            Tags: { ...(input.CopyTagsFromSource === 'volume' ? v.tags : {}), ...tags },
            sharedWith: new Set(),
            looks: 0,
          };
          this.snapshots.set(s.SnapshotId, s);
          return s;
        });
        return { Snapshots: made.map((s) => ({ SnapshotId: s.SnapshotId, VolumeId: s.VolumeId, State: s.State })) };
      }
      case 'CreateTagsCommand': {
        const tags = Object.fromEntries((input.Tags as { Key: string; Value: string }[]).map((t) => [t.Key, t.Value]));
        for (const id of input.Resources as string[]) {
          const snap = this.snapshots.get(id);
          if (snap) Object.assign(snap.Tags, tags);
          for (const i of this.instances.values()) for (const e of i.enis) if (e.eniId === id) Object.assign(e.tags, tags);
        }
        return {};
      }
      case 'DescribeSnapshotsCommand': {
        if (input.SnapshotIds) {
          const ids = input.SnapshotIds as string[];
          const found = ids.map((id) => this.snapshots.get(id));
          if (found.some((s) => s === undefined || (s.OwnerId !== place.account && !s.sharedWith.has(place.account)))) {
            throw awsError('InvalidSnapshot.NotFound', 400, `The snapshot '${ids.join(',')}' does not exist.`);
          }
          return { Snapshots: found.map((s) => this.look(s!)).map((s) => this.describe(s)) };
        }
        const filters = ((input.Filters as { Name: string; Values: string[] }[]) ?? []).filter((f) => f.Name.startsWith('tag:'));
        const mine = [...this.snapshots.values()].filter((s) => s.OwnerId === place.account && s.region === place.region && filters.every((f) => s.Tags[f.Name.slice(4)] === f.Values[0]));
        return { Snapshots: mine.map((s) => this.describe(s)) };
      }
      case 'ModifySnapshotAttributeCommand': {
        const s = this.snapshots.get(String(input.SnapshotId));
        if (!s || s.OwnerId !== place.account) throw awsError('InvalidSnapshot.NotFound');
        if (s.KmsKeyId === DEFAULT_EBS_KEY) throw awsError('InvalidParameter', 400, 'Snapshots encrypted with the AWS Managed CMK can\'t be shared.');
        for (const u of (input.UserIds as string[]) ?? []) s.sharedWith.add(u);
        return {};
      }
      case 'CopySnapshotCommand': {
        const source = this.snapshots.get(String(input.SourceSnapshotId));
        if (!source || (source.OwnerId !== place.account && !source.sharedWith.has(place.account))) throw awsError('InvalidSnapshot.NotFound');
        if (source.State !== 'completed') throw awsError('IncorrectState', 400, 'Snapshot is in invalid state - pending');
        const copy: Snapshot = {
          ...source,
          SnapshotId: `snap-${String(this.next++).padStart(17, '0')}`,
          OwnerId: place.account,
          region: place.region,
          State: 'pending',
          Progress: '0%',
          Encrypted: input.Encrypted === true || source.Encrypted,
          KmsKeyId: (input.KmsKeyId as string | undefined) ?? source.KmsKeyId,
          Tags: fromTagSpecs(input.TagSpecifications),
          sharedWith: new Set(),
          looks: 0,
          copyOf: source.SnapshotId,
        };
        this.snapshots.set(copy.SnapshotId, copy);
        return { SnapshotId: copy.SnapshotId };
      }
      case 'ModifyInstanceAttributeCommand': {
        const i = this.instance(place, input.InstanceId);
        i.terminationProtection = (input.DisableApiTermination as { Value: boolean }).Value;
        return {};
      }
      case 'CreateSecurityGroupCommand': {
        const exists = [...this.groups.values()].find((g) => g.GroupName === input.GroupName && g.VpcId === input.VpcId);
        if (exists) throw awsError('InvalidGroup.Duplicate');
        const g: Group = { GroupId: `sg-q${this.next++}`, GroupName: String(input.GroupName), VpcId: String(input.VpcId), IpPermissions: [], IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }], Tags: fromTagSpecs(input.TagSpecifications) };
        this.groups.set(`${place.account}|${place.region}|${g.GroupId}`, g);
        return { GroupId: g.GroupId };
      }
      case 'RevokeSecurityGroupEgressCommand':
      case 'RevokeSecurityGroupIngressCommand': {
        const g = this.groups.get(`${place.account}|${place.region}|${String(input.GroupId)}`)!;
        if (command === 'RevokeSecurityGroupEgressCommand') g.IpPermissionsEgress = [];
        else g.IpPermissions = [];
        return {};
      }
      case 'ModifyNetworkInterfaceAttributeCommand': {
        for (const i of this.instances.values()) for (const e of i.enis) if (e.eniId === input.NetworkInterfaceId) e.groups = [...(input.Groups as string[])];
        return {};
      }
      case 'DescribeAutoScalingInstancesCommand': {
        const i = this.instance(place, (input.InstanceIds as string[])[0]);
        return { AutoScalingInstances: i.asg ? [{ InstanceId: i.instanceId, AutoScalingGroupName: i.asg, LifecycleState: 'InService' }] : [] };
      }
      case 'DetachInstancesCommand': {
        const i = this.instance(place, (input.InstanceIds as string[])[0]);
        if (i.asg !== input.AutoScalingGroupName) throw awsError('ValidationError', 400, 'The instance is not part of Auto Scaling group');
        i.asg = undefined;
        return { Activities: [] };
      }
      default:
        throw new Error(`the fake does not know ${command}`);
    }
  }

  /** One look at a snapshot: progress moves on, a failing volume's snapshot fails. */
  private look(s: Snapshot): Snapshot {
    if (s.State !== 'pending') return s;
    s.looks += 1;
    const failing = s.copyOf ? undefined : this.failingVolumes.get(s.VolumeId);
    if (failing) {
      s.State = 'error';
      s.StateMessage = failing;
    } else if (s.looks >= this.stepsToComplete) {
      s.State = 'completed';
      s.Progress = '100%';
    } else {
      s.Progress = `${Math.round((100 * s.looks) / this.stepsToComplete)}%`;
    }
    return s;
  }

  private describe(s: Snapshot) {
    return {
      SnapshotId: s.SnapshotId,
      VolumeId: s.VolumeId,
      OwnerId: s.OwnerId,
      State: s.State,
      Progress: s.Progress,
      StateMessage: s.StateMessage,
      Encrypted: s.Encrypted,
      KmsKeyId: s.KmsKeyId,
      VolumeSize: s.VolumeSize,
      StartTime: s.StartTime,
      Tags: tagList(s.Tags),
    };
  }
}
