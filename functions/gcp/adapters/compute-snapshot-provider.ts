/**
 * The SnapshotProvider port on Compute Engine, over the Compute REST API (compute/v1). In GCP terms the port's
 * `accountId` is the project id, `region` the zone, `instanceId` the instance name; "volumes" are the persistent
 * disks attached to the instance.
 *
 * How each verb stays safe to run again:
 * - createSnapshots gives every snapshot a name derived from the request, the instance and the disk, and a
 *   `requestId` derived from the same (Compute's own idempotency token): a duplicated message or a retried step
 *   gets 409 alreadyExists, and the snapshot already there is returned as reused. One disk whose snapshot is
 *   refused does not stop the others; the use case reports it as uncovered.
 * - isolate converges: the deny-all firewall rules are found by name, the quarantine network tag is added only
 *   when missing, deletion protection is set to true (setting it again changes nothing).
 * - shareAndCopy copies each snapshot into the evidence project as an image made from it (images.insert with
 *   `sourceSnapshot` naming the member project's snapshot: Compute's documented way to copy a snapshot's data into
 *   another project; the Snapshot resource takes only a disk as its source). First, as the member project's
 *   collector, it grants the evidence project's identity read-only use of that one snapshot (a binding of a
 *   custom role holding `compute.snapshots.useReadOnly`, the member module's `snapshot_reader`, in the snapshot's
 *   own IAM policy, added only when missing). Image names derive from the source snapshot, with a requestId from
 *   the same: a rerun gets 409 alreadyExists and reuses the image. The copies are refs whose snapshotId is
 *   `images/<name>`, so getSnapshots follows them through the images API (PENDING, READY, FAILED).
 */
import { InvalidInputError } from '../../../shared/errors.ts';
import { sha256Hex } from '../../../shared/evidence/hashing.ts';
import { InstanceNotFoundError, IsolationError } from '../../../shared/preservation/errors.ts';
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
import { GoogleCallError, GoogleRest, defaultAccessToken, impersonatedAccessToken, type GoogleRestOptions } from './google-rest.ts';

const COMPUTE = 'https://compute.googleapis.com/compute/v1';

/** Project ids, zones and instance names as Compute accepts them. */
export const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
export const ZONE = /^[a-z]+-[a-z]+\d+-[a-z]$/;
export const INSTANCE_NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Network tag the deny-all firewall rules apply to. */
export const QUARANTINE_TAG = 'amber-quarantine';

/** Parts of the Compute Instance resource the adapter reads (compute/v1 Instance). */
interface GceInstance {
  readonly id?: string;
  readonly name?: string;
  readonly zone?: string;
  readonly disks?: readonly { readonly source?: string; readonly deviceName?: string; readonly boot?: boolean }[];
  readonly networkInterfaces?: readonly { readonly network?: string; readonly name?: string }[];
  readonly tags?: { readonly items?: readonly string[]; readonly fingerprint?: string };
  readonly deletionProtection?: boolean;
}

interface GceSnapshot {
  readonly name?: string;
  readonly status?: 'CREATING' | 'UPLOADING' | 'READY' | 'FAILED' | 'DELETING';
  readonly sourceDisk?: string;
  readonly diskSizeGb?: string;
  readonly creationTimestamp?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly snapshotEncryptionKey?: { readonly kmsKeyName?: string };
}

interface GceImage {
  readonly name?: string;
  readonly status?: 'PENDING' | 'READY' | 'FAILED' | 'DELETING';
  readonly diskSizeGb?: string;
  readonly creationTimestamp?: string;
  readonly imageEncryptionKey?: { readonly kmsKeyName?: string };
}

interface GcePolicy {
  readonly version?: number;
  readonly etag?: string;
  readonly bindings?: readonly { readonly role?: string; readonly members?: readonly string[] }[];
}

interface GceFirewall {
  readonly name?: string;
  readonly disabled?: boolean;
  readonly targetTags?: readonly string[];
  readonly targetServiceAccounts?: readonly string[];
}

export interface ComputeSnapshotProviderOptions extends GoogleRestOptions {
  /** A REST client to use (tests inject one with a fast sleep). @default new GoogleRest(options) */
  readonly rest?: GoogleRest;
  /** Serial port read as console output. @default 1 */
  readonly serialPort?: number;
  /**
   * Collector service account per project, impersonated for calls into that project (the member module creates
   * it). A project without one is called with the function's own identity.
   * @default {}
   */
  readonly collectors?: Readonly<Record<string, string>>;
  /**
   * The identity that makes evidence copies (`serviceAccount:<email>` of the steps' service account), granted
   * read-only use of each source snapshot before it is copied. Required by shareAndCopy.
   */
  readonly evidenceMember?: string;
  /**
   * Custom role id, in each member project, holding `compute.snapshots.useReadOnly` (the member module's
   * `snapshot_reader`). @default SNAPSHOT_READER_ROLE
   */
  readonly snapshotReaderRole?: string;
}

/** Role id of the member module's custom role holding only compute.snapshots.useReadOnly. */
export const SNAPSHOT_READER_ROLE = 'amber_snapshot_reader';

/** Prefix of evidence copy refs: they are images, not snapshots. */
const IMAGE_REF = 'images/';

/** Deterministic name of the evidence copy (an image) of one source snapshot. */
export function evidenceImageName(sourceProject: string, snapshot: string): string {
  return `amber-${sha256Hex(`evidence-copy\n${sourceProject}\n${snapshot}`).slice(0, 40)}`;
}

/** Compute Engine label keys and values: lowercase letters, digits, `_` and `-`, at most 63 characters. */
export function gceLabels(tags: ResourceTags): Record<string, string> {
  const clean = (s: string): string => s.toLowerCase().replace(/[^a-z0-9_-]/g, '-').slice(0, 63);
  return Object.fromEntries(Object.entries(tags).map(([k, v]) => [clean(k.replace(/^amber:/, 'amber-')), clean(v)]));
}

/** Deterministic snapshot name of one disk in one request (a letter first, at most 63 characters). */
export function snapshotName(requestId: string, instance: string, disk: string): string {
  return `amber-${sha256Hex(`${requestId}\n${instance}\n${disk}`).slice(0, 40)}`;
}

/** The last segment of a resource URL (`.../disks/data-1` -> `data-1`). */
const lastSegment = (url: string): string => url.slice(url.lastIndexOf('/') + 1);

/** Compute Engine instances, disks and snapshots for instance preservation. */
export class ComputeSnapshotProvider implements SnapshotProvider {
  private readonly own: GoogleRest;
  private readonly serialPort: number;
  private readonly byProject = new Map<string, GoogleRest>();
  private current: GoogleRest;

  constructor(private readonly options: ComputeSnapshotProviderOptions = {}) {
    this.own = options.rest ?? new GoogleRest(options);
    this.current = this.own;
    this.serialPort = options.serialPort ?? 1;
  }

  /** The client for a project: the collector's impersonated identity when one is configured for it. */
  private restFor(project: string): GoogleRest {
    const collector = this.options.collectors?.[project];
    if (!collector) return this.own;
    let rest = this.byProject.get(project);
    if (!rest) {
      const base = this.options.token ?? defaultAccessToken();
      rest = new GoogleRest({ ...this.options, token: impersonatedAccessToken(collector, base, this.options) });
      this.byProject.set(project, rest);
    }
    return rest;
  }

  private get rest(): GoogleRest {
    return this.current;
  }

  /** Instance, disks, network interfaces, applicable firewall rules, service account and scopes, labels, serial output. */
  async describeInstance(target: InstanceTarget): Promise<InstanceMetadata> {
    const { project, zone, name, path } = this.where(target);
    const got = await this.rest.call<GceInstance>(`${COMPUTE}/${path}`, { call: 'compute.instances.get', resource: path, accept: [404] });
    if (got.status === 404) throw new InstanceNotFoundError(name, project, zone, { hint: 'check the instance name, project and zone; the collector service account needs compute.instances.get there' });
    const instance = got.body;
    const origin = (call: string, extra = ''): string => `api:gce:${call}?project=${project}&zone=${zone}&instance=${name}${extra}`;
    const documents: MetadataDocument[] = [{ name: 'instance.json', origin: origin('instances.get'), kind: 'json', value: instance }];
    const diskUrls = (instance.disks ?? []).map((d) => d.source).filter((s): s is string => typeof s === 'string');
    const disks = [];
    for (const url of diskUrls) {
      const diskPath = url.replace(/^https:\/\/(?:compute|www)\.googleapis\.com\/compute\/v1\//, '');
      disks.push((await this.rest.call<unknown>(`${COMPUTE}/${diskPath}`, { call: 'compute.disks.get', resource: diskPath })).body);
    }
    documents.push({ name: 'disks.json', origin: origin('disks.get'), kind: 'json', value: disks });
    documents.push({ name: 'network-interfaces.json', origin: origin('instances.get', '&field=networkInterfaces'), kind: 'json', value: instance.networkInterfaces ?? [] });
    documents.push({ name: 'firewall-rules.json', origin: origin('firewalls.list'), kind: 'json', value: await this.firewallsFor(project, instance) });
    documents.push({ name: 'service-accounts.json', origin: origin('instances.get', '&field=serviceAccounts'), kind: 'json', value: (instance as { serviceAccounts?: unknown }).serviceAccounts ?? [] });
    documents.push({ name: 'labels.json', origin: origin('instances.get', '&field=labels'), kind: 'json', value: { labels: (instance as { labels?: unknown }).labels ?? {}, tags: instance.tags ?? {} } });
    documents.push({ name: 'serial-port-output.txt', origin: origin('instances.getSerialPortOutput', `&port=${this.serialPort}`), kind: 'text', text: await this.serialOutput(path) });
    const network = instance.networkInterfaces?.[0]?.network;
    return {
      instanceId: name,
      volumeIds: diskUrls.map(lastSegment),
      ...(network ? { networkId: network } : {}),
      pathPrefix: `gcp/gce/${project}/${zone}/${name}`,
      documents,
    };
  }

  /** One snapshot per attached disk, named after the request; a disk already snapshotted for it is reused. */
  async createSnapshots(target: InstanceTarget, options: CreateSnapshotsOptions): Promise<SnapshotSetResult> {
    const { project, zone, name, path } = this.where(target);
    const got = await this.rest.call<GceInstance>(`${COMPUTE}/${path}`, { call: 'compute.instances.get', resource: path, accept: [404] });
    if (got.status === 404) throw new InstanceNotFoundError(name, project, zone);
    const snapshots: SnapshotRef[] = [];
    let reused = 0;
    for (const disk of got.body.disks ?? []) {
      if (!disk.source) continue;
      const volumeId = lastSegment(disk.source);
      const snapshot = snapshotName(options.requestId, name, volumeId);
      const resource = `projects/${project}/global/snapshots/${snapshot}`;
      const labels = gceLabels({ ...options.tags, ...(options.tagsFor?.(volumeId) ?? {}) });
      try {
        const created = await this.rest.call<unknown>(`${COMPUTE}/projects/${project}/global/snapshots?requestId=${requestUuid(snapshot)}`, {
          call: 'compute.snapshots.insert',
          resource,
          method: 'POST',
          body: { name: snapshot, sourceDisk: disk.source, labels, description: options.description },
          accept: [409],
        });
        if (created.status === 409) reused++;
        snapshots.push({ snapshotId: snapshot, volumeId, accountId: project, region: zone });
      } catch (error) {
        // One disk refused (a disk in error, a quota): the others are still snapshotted; the use case lists it as
        // uncovered and the step records why. Throttling outlived the retries: the whole step fails and is retried.
        if (error instanceof GoogleCallError && !error.retryable) continue;
        throw error;
      }
    }
    return { snapshots, reused: snapshots.length > 0 && reused === snapshots.length };
  }

  /** Each snapshot's state: READY completed, FAILED error, CREATING/UPLOADING pending, 404 missing. */
  async getSnapshots(snapshots: readonly SnapshotRef[]): Promise<SnapshotStatus[]> {
    const out: SnapshotStatus[] = [];
    for (const ref of snapshots) {
      if (ref.snapshotId.startsWith(IMAGE_REF)) {
        out.push(await this.imageStatus(ref));
        continue;
      }
      this.current = this.restFor(ref.accountId);
      const resource = `projects/${ref.accountId}/global/snapshots/${ref.snapshotId}`;
      const got = await this.rest.call<GceSnapshot>(`${COMPUTE}/${resource}`, { call: 'compute.snapshots.get', resource, accept: [404] });
      if (got.status === 404) {
        out.push({ ...ref, state: 'missing', reason: `snapshot ${ref.snapshotId} of disk ${ref.volumeId} no longer exists in project ${ref.accountId}` });
        continue;
      }
      const s = got.body;
      const state = s.status === 'READY' ? 'completed' : s.status === 'FAILED' ? 'error' : s.status === 'DELETING' ? 'missing' : 'pending';
      out.push({
        ...ref,
        state,
        ...(state === 'error' ? { reason: `snapshot ${ref.snapshotId} of disk ${ref.volumeId} failed (status FAILED)` } : {}),
        ...(s.status ? { progress: s.status } : {}),
        encrypted: true,
        ...(s.snapshotEncryptionKey?.kmsKeyName ? { kmsKeyId: s.snapshotEncryptionKey.kmsKeyName } : {}),
        ...(s.diskSizeGb ? { sizeGiB: Number(s.diskSizeGb) } : {}),
        ...(s.creationTimestamp ? { startedAt: new Date(s.creationTimestamp).toISOString() } : {}),
      });
    }
    return out;
  }

  /**
   * Copies each (completed) snapshot into the evidence project as an image, after granting the evidence identity
   * read-only use of that snapshot as the member project's collector. Labels: the options' tags, the copy's own, and
   * the source project and snapshot. An image already made for a snapshot (409) is reused.
   */
  async shareAndCopy(snapshots: readonly SnapshotRef[], options: ShareAndCopyOptions): Promise<ShareAndCopyResult> {
    const member = this.options.evidenceMember;
    if (!member) throw new InvalidInputError('copying snapshots into the evidence project needs the evidence identity (evidenceMember)', { hint: 'set AMBER_SERVICE_ACCOUNT on the step functions (infra/gcp does)' });
    const evidence = options.evidenceAccountId;
    if (!PROJECT_ID.test(evidence)) throw new InvalidInputError(`not a Google Cloud project id for the evidence copies: ${JSON.stringify(evidence)}`, { hint: 'set EVIDENCE_PROJECT to the evidence project id' });
    const copies: SnapshotRef[] = [];
    const reused: string[] = [];
    for (const ref of snapshots) {
      const source = `projects/${ref.accountId}/global/snapshots/${ref.snapshotId}`;
      await this.grantReadOnlyUse(ref, member);
      const image = evidenceImageName(ref.accountId, ref.snapshotId);
      const labels = gceLabels({ ...options.tags, ...(options.tagsFor?.(ref) ?? {}), 'amber:source-project': ref.accountId, 'amber:source-snapshot': ref.snapshotId });
      this.current = this.own;
      const created = await this.rest.call<unknown>(`${COMPUTE}/projects/${evidence}/global/images?requestId=${requestUuid(image)}`, {
        call: 'compute.images.insert',
        resource: `projects/${evidence}/global/images/${image}`,
        method: 'POST',
        body: {
          name: image,
          sourceSnapshot: source,
          labels,
          description: options.description,
          ...(options.kmsKeyArn ? { imageEncryptionKey: { kmsKeyName: options.kmsKeyArn } } : {}),
        },
        accept: [409],
      });
      if (created.status === 409) reused.push(ref.snapshotId);
      copies.push({ snapshotId: `${IMAGE_REF}${image}`, volumeId: ref.volumeId, accountId: evidence, region: 'global' });
    }
    return { stage: 'evidence', snapshots: copies, reused };
  }

  /** Adds the evidence identity to the snapshot's IAM policy with the read-only role, unless it is there already. */
  private async grantReadOnlyUse(ref: SnapshotRef, member: string): Promise<void> {
    this.current = this.restFor(ref.accountId);
    const resource = `projects/${ref.accountId}/global/snapshots/${ref.snapshotId}`;
    const role = `projects/${ref.accountId}/roles/${this.options.snapshotReaderRole ?? SNAPSHOT_READER_ROLE}`;
    const policy = (await this.rest.call<GcePolicy>(`${COMPUTE}/${resource}/getIamPolicy?optionsRequestedPolicyVersion=3`, { call: 'compute.snapshots.getIamPolicy', resource })).body;
    const bindings = policy.bindings ?? [];
    if (bindings.some((b) => b.role === role && (b.members ?? []).includes(member))) return;
    const others = bindings.filter((b) => b.role !== role);
    const current = bindings.find((b) => b.role === role);
    const next = [...others, { ...(current ?? {}), role, members: [...(current?.members ?? []), member].sort() }];
    // The etag makes the update conditional: another writer in between gets 412 and the step is retried.
    await this.rest.call(`${COMPUTE}/${resource}/setIamPolicy`, {
      call: 'compute.snapshots.setIamPolicy',
      resource,
      method: 'POST',
      body: { policy: { ...policy, bindings: next } },
    });
  }

  /** An evidence copy's state: READY completed, FAILED error, PENDING pending, 404 or DELETING missing. */
  private async imageStatus(ref: SnapshotRef): Promise<SnapshotStatus> {
    this.current = this.own;
    const name = ref.snapshotId.slice(IMAGE_REF.length);
    const resource = `projects/${ref.accountId}/global/images/${name}`;
    const got = await this.rest.call<GceImage>(`${COMPUTE}/${resource}`, { call: 'compute.images.get', resource, accept: [404] });
    if (got.status === 404) return { ...ref, state: 'missing', reason: `evidence image ${name} of disk ${ref.volumeId} no longer exists in project ${ref.accountId}` };
    const i = got.body;
    const state = i.status === 'READY' ? 'completed' : i.status === 'FAILED' ? 'error' : i.status === 'DELETING' ? 'missing' : 'pending';
    return {
      ...ref,
      state,
      ...(state === 'error' ? { reason: `evidence image ${name} of disk ${ref.volumeId} failed (status FAILED)` } : {}),
      ...(i.status ? { progress: i.status } : {}),
      encrypted: true,
      ...(i.imageEncryptionKey?.kmsKeyName ? { kmsKeyId: i.imageEncryptionKey.kmsKeyName } : {}),
      ...(i.diskSizeGb ? { sizeGiB: Number(i.diskSizeGb) } : {}),
      ...(i.creationTimestamp ? { startedAt: new Date(i.creationTimestamp).toISOString() } : {}),
    };
  }

  /** Deny-all ingress and egress firewall rules by network tag on the instance's network, the tag, deletion protection. */
  async isolate(target: InstanceTarget, options: IsolateOptions): Promise<IsolationOutcome> {
    const { project, path } = this.where(target);
    const instance = (await this.rest.call<GceInstance>(`${COMPUTE}/${path}`, { call: 'compute.instances.get', resource: path })).body;
    const network = instance.networkInterfaces?.[0]?.network;
    if (!network) throw new IsolationError(`instance ${target.instanceId} has no network interface to isolate`);
    const tag = options.quarantineGroupName === 'amber-quarantine' ? QUARANTINE_TAG : options.quarantineGroupName.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 63);
    const ruleBase = `${tag}-${sha256Hex(network).slice(0, 12)}`;
    for (const direction of ['INGRESS', 'EGRESS'] as const) {
      const rule = `${ruleBase}-${direction.toLowerCase()}`;
      await this.rest.call(`${COMPUTE}/projects/${project}/global/firewalls?requestId=${requestUuid(rule)}`, {
        call: 'compute.firewalls.insert',
        resource: `projects/${project}/global/firewalls/${rule}`,
        method: 'POST',
        body: {
          name: rule,
          network,
          direction,
          priority: 0,
          denied: [{ IPProtocol: 'all' }],
          ...(direction === 'INGRESS' ? { sourceRanges: ['0.0.0.0/0'] } : { destinationRanges: ['0.0.0.0/0'] }),
          targetTags: [tag],
          description: `Amber quarantine (${Object.entries(options.tags).map(([k, v]) => `${k}=${v}`).join(', ')})`.slice(0, 2048),
        },
        accept: [409],
      });
    }
    const previous = instance.tags?.items ?? [];
    if (!previous.includes(tag)) {
      await this.rest.call(`${COMPUTE}/${path}/setTags`, {
        call: 'compute.instances.setTags',
        resource: path,
        method: 'POST',
        body: { items: [...previous, tag], fingerprint: instance.tags?.fingerprint },
      });
    }
    await this.rest.call(`${COMPUTE}/${path}/setDeletionProtection?deletionProtection=true`, { call: 'compute.instances.setDeletionProtection', resource: path, method: 'POST' });
    return { quarantineGroupId: ruleBase, previousGroups: { [instance.networkInterfaces?.[0]?.name ?? 'nic0']: previous }, terminationProtection: true, detachedFrom: null };
  }

  private where(target: InstanceTarget): { project: string; zone: string; name: string; path: string } {
    const project = target.accountId;
    this.current = this.restFor(project);
    const zone = target.region;
    const name = target.instanceId;
    return { project, zone, name, path: `projects/${project}/zones/${zone}/instances/${name}` };
  }

  /** Firewall rules of the instance's networks that apply to it: to all instances, its tags or its service accounts. */
  private async firewallsFor(project: string, instance: GceInstance): Promise<GceFirewall[]> {
    const networks = [...new Set((instance.networkInterfaces ?? []).map((n) => n.network).filter((n): n is string => !!n))];
    const tags = new Set(instance.tags?.items ?? []);
    const accounts = new Set(((instance as { serviceAccounts?: { email?: string }[] }).serviceAccounts ?? []).map((s) => s.email));
    const out: GceFirewall[] = [];
    for (const network of networks) {
      let pageToken: string | undefined;
      do {
        const filter = encodeURIComponent(`network="${network}"`);
        const url = `${COMPUTE}/projects/${project}/global/firewalls?filter=${filter}${pageToken ? `&pageToken=${encodeURIComponent(pageToken)}` : ''}`;
        const page = (await this.rest.call<{ items?: GceFirewall[]; nextPageToken?: string }>(url, { call: 'compute.firewalls.list', resource: `projects/${project}/global/firewalls` })).body;
        for (const rule of page.items ?? []) {
          const byTag = rule.targetTags?.some((t) => tags.has(t)) ?? false;
          const byAccount = rule.targetServiceAccounts?.some((a) => accounts.has(a)) ?? false;
          if ((!rule.targetTags?.length && !rule.targetServiceAccounts?.length) || byTag || byAccount) out.push(rule);
        }
        pageToken = page.nextPageToken;
      } while (pageToken);
    }
    return out.sort((a, b) => String(a.name).localeCompare(String(b.name)));
  }

  /** Serial port output as text, or a line saying why it could not be read (it is then still on record). */
  private async serialOutput(path: string): Promise<string> {
    try {
      const got = await this.rest.call<{ contents?: string }>(`${COMPUTE}/${path}/serialPort?port=${this.serialPort}`, { call: 'compute.instances.getSerialPortOutput', resource: path });
      return got.body.contents ?? '';
    } catch (error) {
      if (error instanceof GoogleCallError && !error.retryable) return `[amber: serial port ${this.serialPort} output could not be read: ${error.message}]\n`;
      throw error;
    }
  }
}

/** A UUID derived from a name: Compute's requestId must be a UUID, and the same name must give the same one. */
export function requestUuid(name: string): string {
  const h = sha256Hex(`amber-request\n${name}`);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
