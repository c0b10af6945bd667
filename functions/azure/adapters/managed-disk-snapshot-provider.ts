/**
 * The SnapshotProvider port on Azure: a virtual machine's metadata and incremental snapshots of its managed
 * disks, through the Azure Resource Manager REST API (arm-rest.ts: fetch, the managed identity's token, the
 * documented api-versions below, long-running operations followed to their end).
 *
 * - Instance ids are Amber's VM references `<resource group>:<vm name>`; the account is the subscription id and
 *   the region the VM's location.
 * - Metadata records are the raw ARM response bodies, byte for byte (the VM with its instance view, each disk,
 *   network interface, network security group, effective security rules and public IP, the extensions, the
 *   managed identity, boot diagnostics and the serial console log), each with the exact request as its origin.
 *   A record ARM cannot give (boot diagnostics off, effective rules of a stopped VM) is kept as a JSON record
 *   saying why, so the metadata set says what is missing instead of silently lacking it.
 * - Snapshots are incremental (`incremental: true`, a copy of each disk), created in the evidence resource group
 *   and named after case, request and disk (`amber-<hash>`): a duplicated event finds them by name and creates
 *   nothing. They are tagged with case, request, VM and evidence id. Azure snapshots each disk on its own: the
 *   set is started at once, but it is not crash-consistent across disks as an EC2 multi-volume snapshot is.
 * - Isolation puts a deny-all network security group on every network interface of the VM (created once per
 *   resource group and location), recording the groups it replaced.
 * - Copies into another subscription (`shareAndCopy`) are not built yet: snapshots are made in the evidence
 *   resource group directly.
 */
import type { TokenCredential } from '@azure/core-auth';
import { InvalidInputError, NotImplementedError } from '../../../shared/errors.ts';
import { sha256Hex } from '../../../shared/evidence/hashing.ts';
import { CloudCallError, InstanceNotFoundError, SnapshotError } from '../../../shared/preservation/errors.ts';
import { TAGS } from '../../../shared/preservation/snapshot-instance.ts';
import type {
  CreateSnapshotsOptions,
  InstanceMetadata,
  InstanceTarget,
  IsolateOptions,
  IsolationOutcome,
  MetadataDocument,
  ShareAndCopyResult,
  SnapshotProvider,
  SnapshotRef,
  SnapshotSetResult,
  SnapshotStatus,
} from '../../../shared/ports/snapshot-provider.ts';
import { armErrorInfo, armOrigin, isNotFound, parseArmId, parseVmRef, toCloudCallError, type RawResponse } from './arm.ts';
import { ArmRest } from './arm-rest.ts';

/** The api-versions Amber calls (the ones @azure/arm-compute 24 and @azure/arm-network 36 used). */
export const API_VERSIONS = {
  /** virtualMachines, their extensions, retrieveBootDiagnosticsData */
  vm: '2026-03-01',
  /** disks and snapshots */
  disk: '2025-01-02',
  /** networkInterfaces, networkSecurityGroups, publicIPAddresses */
  network: '2025-05-01',
} as const;

export interface ManagedDiskSnapshotProviderOptions {
  /** Credential of the function's managed identity (DefaultAzureCredential in the function app). */
  readonly credential: TokenCredential;
  /** Resource group the snapshots are created in (the evidence resource group, same subscription as the VMs). */
  readonly snapshotResourceGroup: string;
  /**
   * ARM endpoint.
   * @default 'https://management.azure.com'
   */
  readonly endpoint?: string;
  /**
   * Delay between polls of a long-running operation when ARM gives no Retry-After.
   * @default 2000
   */
  readonly pollIntervalMs?: number;
  /** Reads the serial console log from its (short-lived SAS) blob URL. @default fetch */
  readonly fetchText?: (url: string) => Promise<string>;
}

/** The JSON object of a raw ARM body (ARM's shape: `properties.*`, not the SDK's flattened one). */
type Json = Record<string, unknown>;

/** Snapshot names hold at most 80 characters: `amber-` and 40 hex digits of the case, request and disk. */
export function snapshotName(caseName: string, requestId: string, diskId: string): string {
  return `amber-${sha256Hex(`${caseName}\n${requestId}\n${diskId.toLowerCase()}`).slice(0, 40)}`;
}

/** Letters, digits, `.`, `_`, `-` only, for record file names. */
function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 100);
}

function parseBody(raw: RawResponse | undefined, what: string): Json {
  try {
    const value = JSON.parse(raw?.bodyAsText ?? '') as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Json;
  } catch {
    // reported below
  }
  throw new SnapshotError(`ARM answered ${what} with a body that is not a JSON object (HTTP ${raw?.status ?? 'unknown'})`, {
    hint: 'run the step again; if it persists, the ARM endpoint in use is not Azure Resource Manager',
  });
}

function prop<T>(obj: unknown, ...path: string[]): T | undefined {
  let cur: unknown = obj;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Json)[p];
  }
  return cur as T | undefined;
}

/** Managed disks, NICs and NSGs of a VM, and snapshots of its disks, through ARM. */
export class ManagedDiskSnapshotProvider implements SnapshotProvider {
  private readonly arm: ArmRest;
  /** Why a snapshot creation failed, by snapshot id, for the state check that follows in the same run. */
  private readonly failures = new Map<string, string>();

  constructor(private readonly options: ManagedDiskSnapshotProviderOptions) {
    this.arm = new ArmRest({ credential: options.credential, ...(options.endpoint ? { endpoint: options.endpoint } : {}), ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }) });
  }

  /** GET of a resource (or list) by its ARM id or path. */
  private get(path: string, apiVersion: string, query?: Record<string, string>): Promise<RawResponse> {
    return this.arm.call('GET', this.arm.url(path, apiVersion, query));
  }

  private vmPath(subscriptionId: string, resourceGroup: string, vmName: string): string {
    return `/subscriptions/${encodeURIComponent(subscriptionId)}/resourceGroups/${encodeURIComponent(resourceGroup)}/providers/Microsoft.Compute/virtualMachines/${encodeURIComponent(vmName)}`;
  }

  /** The VM as ARM returns it (raw), or InstanceNotFoundError. */
  private async getVm(target: InstanceTarget): Promise<{ body: Json; raw: RawResponse | undefined; resourceGroup: string; vmName: string }> {
    const { resourceGroup, vmName } = parseVmRef(target.instanceId);
    const where = `VM ${target.instanceId} in subscription ${target.accountId}`;
    try {
      const raw = await this.get(this.vmPath(target.accountId, resourceGroup, vmName), API_VERSIONS.vm, { $expand: 'instanceView' });
      const body = parseBody(raw, `the VM ${target.instanceId}`);
      const location = String(body.location ?? '');
      if (location !== target.region) {
        throw new InvalidInputError(`VM ${target.instanceId} is in ${JSON.stringify(location)}, not in the requested region ${JSON.stringify(target.region)}`, {
          hint: 'send the request with the VM\'s location as its region (snapshots are made in the disks\' location)',
        });
      }
      return { body, raw, resourceGroup, vmName };
    } catch (err) {
      if (isNotFound(err)) throw new InstanceNotFoundError(target.instanceId, target.accountId, target.region, { cause: err, hint: 'check the resource group and VM name, and that the subscription is the VM\'s' });
      if (err instanceof InvalidInputError || err instanceof SnapshotError) throw err;
      throw toCloudCallError(err, 'Microsoft.Compute/virtualMachines/read', where);
    }
  }

  /** The location of a VM, or undefined when ARM does not find it (for triggers that name no region). */
  async locationOf(subscriptionId: string, vm: { resourceGroup: string; vmName: string }): Promise<string | undefined> {
    try {
      const raw = await this.get(this.vmPath(subscriptionId, vm.resourceGroup, vm.vmName), API_VERSIONS.vm);
      const location = parseBody(raw, `the VM ${vm.resourceGroup}:${vm.vmName}`).location;
      return typeof location === 'string' ? location : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      if (err instanceof SnapshotError) throw err;
      throw toCloudCallError(err, 'Microsoft.Compute/virtualMachines/read', `VM ${vm.resourceGroup}:${vm.vmName} in subscription ${subscriptionId}`);
    }
  }

  /** Managed disk ids of a raw VM body: the OS disk first, then the data disks by LUN. */
  private diskIds(vm: Json): string[] {
    const os = prop<string>(vm, 'properties', 'storageProfile', 'osDisk', 'managedDisk', 'id');
    const data = (prop<Json[]>(vm, 'properties', 'storageProfile', 'dataDisks') ?? [])
      .slice()
      .sort((a, b) => Number(a.lun ?? 0) - Number(b.lun ?? 0))
      .map((d) => prop<string>(d, 'managedDisk', 'id'))
      .filter((id): id is string => typeof id === 'string');
    return [...(os ? [os] : []), ...data];
  }

  async describeInstance(target: InstanceTarget): Promise<InstanceMetadata> {
    const vm = await this.getVm(target);
    const { resourceGroup, vmName } = vm;
    const docs: MetadataDocument[] = [];
    const text = (name: string, raw: RawResponse | undefined, fallback: string): void => {
      docs.push({ name, origin: armOrigin(raw, fallback), kind: 'text', text: raw?.bodyAsText ?? '' });
    };
    const unavailable = (name: string, origin: string, call: string, err: unknown): void => {
      const info = armErrorInfo(err);
      docs.push({ name, origin, kind: 'json', value: { unavailable: true, call, status: info.status ?? null, code: info.code ?? null, reason: info.message } });
    };
    const vmOrigin = `api:azure-arm:GET:virtualMachines/${target.instanceId}`;
    text('vm.json', vm.raw, vmOrigin);
    docs.push({ name: 'identity.json', origin: armOrigin(vm.raw, vmOrigin), kind: 'json', value: vm.body.identity ?? { type: 'None' } });

    const diskIds = this.diskIds(vm.body);
    for (const diskId of diskIds) {
      const id = parseArmId(diskId);
      if (!id) continue;
      try {
        const raw = await this.get(diskId, API_VERSIONS.disk);
        text(`disk-${fileSafe(id.name)}.json`, raw, `api:azure-arm:GET:${diskId}`);
      } catch (err) {
        throw toCloudCallError(err, 'Microsoft.Compute/disks/read', `disk ${diskId}`);
      }
    }

    try {
      const raw = await this.get(`${this.vmPath(target.accountId, resourceGroup, vmName)}/extensions`, API_VERSIONS.vm);
      text('extensions.json', raw, `api:azure-arm:GET:virtualMachines/${target.instanceId}/extensions`);
    } catch (err) {
      throw toCloudCallError(err, 'Microsoft.Compute/virtualMachines/extensions/read', `VM ${target.instanceId}`);
    }

    const bootOrigin = `api:azure-arm:POST:virtualMachines/${target.instanceId}/retrieveBootDiagnosticsData`;
    try {
      const raw = await this.arm.call('POST', this.arm.url(`${this.vmPath(target.accountId, resourceGroup, vmName)}/retrieveBootDiagnosticsData`, API_VERSIONS.vm, { sasUriExpirationTimeInMinutes: '5' }));
      const answer = parseBody(raw, `the boot diagnostics of ${target.instanceId}`);
      const value = { consoleScreenshotBlobUri: typeof answer.consoleScreenshotBlobUri === 'string' ? answer.consoleScreenshotBlobUri : undefined, serialConsoleLogBlobUri: typeof answer.serialConsoleLogBlobUri === 'string' ? answer.serialConsoleLogBlobUri : undefined };
      // The answer holds SAS URLs (short-lived credentials): the record keeps the blobs' addresses, never the tokens.
      const strip = (u: string | undefined): string | null => (u ? u.split('?')[0]! : null);
      docs.push({
        name: 'boot-diagnostics.json',
        origin: armOrigin(raw, bootOrigin),
        kind: 'json',
        value: { consoleScreenshotBlob: strip(value.consoleScreenshotBlobUri), serialConsoleLogBlob: strip(value.serialConsoleLogBlobUri), status: prop(vm.body, 'properties', 'instanceView', 'bootDiagnostics') ?? null },
      });
      if (value.serialConsoleLogBlobUri) {
        const log = await (this.options.fetchText ?? fetchText)(value.serialConsoleLogBlobUri);
        docs.push({ name: 'serial-console.log', origin: `${armOrigin(raw, bootOrigin)}#serialConsoleLog=${strip(value.serialConsoleLogBlobUri)}`, kind: 'text', text: log });
      }
    } catch (err) {
      unavailable('boot-diagnostics.json', bootOrigin, 'Microsoft.Compute/virtualMachines/retrieveBootDiagnosticsData/action', err);
    }

    const nicIds = (prop<Json[]>(vm.body, 'properties', 'networkProfile', 'networkInterfaces') ?? []).map((n) => String(n.id ?? '')).filter((s) => s !== '');
    let networkId: string | undefined;
    const nsgSeen = new Set<string>();
    for (const nicId of nicIds) {
      const id = parseArmId(nicId);
      if (!id) continue;
      let nic: Json;
      try {
        const raw = await this.get(nicId, API_VERSIONS.network);
        text(`nic-${fileSafe(id.name)}.json`, raw, `api:azure-arm:GET:${nicId}`);
        nic = parseBody(raw, `network interface ${nicId}`);
      } catch (err) {
        if (err instanceof SnapshotError) throw err;
        throw toCloudCallError(err, 'Microsoft.Network/networkInterfaces/read', `network interface ${nicId}`);
      }
      const nsgId = prop<string>(nic, 'properties', 'networkSecurityGroup', 'id');
      if (nsgId && !nsgSeen.has(nsgId.toLowerCase())) {
        nsgSeen.add(nsgId.toLowerCase());
        const nsg = parseArmId(nsgId);
        if (nsg) {
          try {
            const raw = await this.get(nsgId, API_VERSIONS.network);
            text(`nsg-${fileSafe(nsg.name)}.json`, raw, `api:azure-arm:GET:${nsgId}`);
          } catch (err) {
            throw toCloudCallError(err, 'Microsoft.Network/networkSecurityGroups/read', `network security group ${nsgId}`);
          }
        }
      }
      for (const ipc of prop<Json[]>(nic, 'properties', 'ipConfigurations') ?? []) {
        const subnet = prop<string>(ipc, 'properties', 'subnet', 'id');
        if (subnet && networkId === undefined) networkId = subnet.replace(/\/subnets\/[^/]+$/i, '');
        const pipId = prop<string>(ipc, 'properties', 'publicIPAddress', 'id');
        const pip = pipId ? parseArmId(pipId) : undefined;
        if (pip) {
          try {
            const raw = await this.get(pipId!, API_VERSIONS.network);
            text(`public-ip-${fileSafe(pip.name)}.json`, raw, `api:azure-arm:GET:${pipId}`);
          } catch (err) {
            throw toCloudCallError(err, 'Microsoft.Network/publicIPAddresses/read', `public IP ${pipId}`);
          }
        }
      }
      const effectiveOrigin = `api:azure-arm:POST:${nicId}/effectiveNetworkSecurityGroups`;
      try {
        const raw = await this.arm.lro('POST', this.arm.url(`${nicId}/effectiveNetworkSecurityGroups`, API_VERSIONS.network));
        text(`effective-security-rules-${fileSafe(id.name)}.json`, raw, effectiveOrigin);
      } catch (err) {
        // ARM computes effective rules only for a running VM: a stopped one still gets its other records.
        unavailable(`effective-security-rules-${fileSafe(id.name)}.json`, effectiveOrigin, 'Microsoft.Network/networkInterfaces/effectiveNetworkSecurityGroups/action', err);
      }
    }

    return {
      instanceId: target.instanceId,
      volumeIds: diskIds,
      ...(networkId ? { networkId } : {}),
      pathPrefix: `azure/compute/${target.accountId}/${target.region}/${fileSafe(resourceGroup)}/${fileSafe(vmName)}`,
      documents: docs,
    };
  }

  async createSnapshots(target: InstanceTarget, options: CreateSnapshotsOptions): Promise<SnapshotSetResult> {
    const vm = await this.getVm(target);
    const caseName = options.tags[TAGS.case] ?? '';
    const group = this.options.snapshotResourceGroup;
    const results = await Promise.all(
      this.diskIds(vm.body).map(async (diskId): Promise<{ ref: SnapshotRef; reused: boolean }> => {
        const name = snapshotName(caseName, options.requestId, diskId);
        const snapshotId = `/subscriptions/${target.accountId}/resourceGroups/${group}/providers/Microsoft.Compute/snapshots/${name}`;
        const ref: SnapshotRef = { snapshotId, volumeId: diskId, accountId: target.accountId, region: target.region };
        try {
          const existing = parseBody(await this.get(snapshotId, API_VERSIONS.disk), `snapshot ${snapshotId}`);
          if (prop<string>(existing, 'tags', TAGS.requestId) === options.requestId.slice(0, 256)) return { ref, reused: true };
          throw new SnapshotError(`snapshot ${snapshotId} exists but is not tagged with request ${options.requestId}`, {
            hint: 'another request made a snapshot under this name (a hash of case, request and disk); leave it in place and check its tags',
          });
        } catch (err) {
          if (!isNotFound(err)) throw err instanceof SnapshotError ? err : toCloudCallError(err, 'Microsoft.Compute/snapshots/read', `snapshot ${snapshotId}`);
        }
        const snapshot = {
          location: target.region,
          tags: { ...options.tags, ...(options.tagsFor?.(diskId) ?? {}), 'amber:disk-id': diskId.slice(0, 256) },
          properties: { incremental: true, creationData: { createOption: 'Copy', sourceResourceId: diskId } },
        };
        try {
          await this.arm.lro('PUT', this.arm.url(snapshotId, API_VERSIONS.disk), snapshot);
        } catch (err) {
          // Kept for the state check: the snapshot set still names this disk, and the check reports it failed.
          const info = armErrorInfo(err);
          this.failures.set(snapshotId.toLowerCase(), `${info.code ? `${info.code}: ` : ''}${info.message}`);
          if (info.status === 401 || info.status === 403) throw toCloudCallError(err, 'Microsoft.Compute/snapshots/write', `snapshot ${snapshotId}`);
        }
        return { ref, reused: false };
      }),
    );
    return { snapshots: results.map((r) => r.ref), reused: results.length > 0 && results.every((r) => r.reused) };
  }

  async getSnapshots(snapshots: readonly SnapshotRef[]): Promise<SnapshotStatus[]> {
    return Promise.all(
      snapshots.map(async (ref): Promise<SnapshotStatus> => {
        const id = parseArmId(ref.snapshotId);
        if (!id) throw new InvalidInputError(`not a snapshot resource id: ${JSON.stringify(ref.snapshotId)}`);
        const failure = this.failures.get(ref.snapshotId.toLowerCase());
        let snap: Json;
        try {
          snap = parseBody(await this.get(ref.snapshotId, API_VERSIONS.disk), `snapshot ${ref.snapshotId}`);
        } catch (err) {
          if (isNotFound(err)) return { ...ref, state: failure ? 'error' : 'missing', reason: failure ?? 'the snapshot no longer exists' };
          if (err instanceof SnapshotError) throw err;
          throw toCloudCallError(err, 'Microsoft.Compute/snapshots/read', `snapshot ${ref.snapshotId}`);
        }
        const state = prop<string>(snap, 'properties', 'provisioningState') ?? '';
        const pct = prop<number>(snap, 'properties', 'completionPercent');
        const desId = prop<string>(snap, 'properties', 'encryption', 'diskEncryptionSetId');
        const sizeGiB = prop<number>(snap, 'properties', 'diskSizeGB');
        const timeCreated = prop<string>(snap, 'properties', 'timeCreated');
        const base = {
          ...ref,
          ...(desId ? { kmsKeyId: desId } : {}),
          encrypted: true,
          ...(typeof sizeGiB === 'number' ? { sizeGiB } : {}),
          ...(timeCreated ? { startedAt: new Date(timeCreated).toISOString() } : {}),
          ...(pct !== undefined ? { progress: `${pct}%` } : {}),
        };
        if (state === 'Failed' || failure) return { ...base, state: 'error', reason: failure ?? 'ARM reports the snapshot\'s provisioning state as Failed' };
        // An incremental snapshot is a fixed point in time once provisioned; completionPercent is its background copy.
        if (state === 'Succeeded' && (pct === undefined || pct >= 100)) return { ...base, state: 'completed' };
        return { ...base, state: 'pending' };
      }),
    );
  }

  shareAndCopy(): Promise<ShareAndCopyResult> {
    return Promise.reject(
      new NotImplementedError('copying Azure snapshots into another subscription is not built yet', {
        hint: 'snapshots are created in the evidence resource group of the VMs\' subscription; deploy Amber there',
      }),
    );
  }

  async isolate(target: InstanceTarget, options: IsolateOptions): Promise<IsolationOutcome> {
    const vm = await this.getVm(target);
    const nsgName = `${options.quarantineGroupName}-${target.region}`;
    const where = `resource group ${vm.resourceGroup}`;
    const nsgPath = `/subscriptions/${encodeURIComponent(target.accountId)}/resourceGroups/${encodeURIComponent(vm.resourceGroup)}/providers/Microsoft.Network/networkSecurityGroups/${encodeURIComponent(nsgName)}`;
    let quarantine: Json;
    try {
      quarantine = parseBody(await this.get(nsgPath, API_VERSIONS.network), `network security group ${nsgPath}`);
    } catch (err) {
      if (err instanceof SnapshotError) throw err;
      if (!isNotFound(err)) throw toCloudCallError(err, 'Microsoft.Network/networkSecurityGroups/read', where);
      const rule = (direction: 'Inbound' | 'Outbound') => ({
        name: `amber-deny-all-${direction.toLowerCase()}`,
        properties: {
          protocol: '*',
          sourcePortRange: '*',
          destinationPortRange: '*',
          sourceAddressPrefix: '*',
          destinationAddressPrefix: '*',
          access: 'Deny',
          priority: 100,
          direction,
          description: 'Amber quarantine: no traffic in or out (the default rules would allow the virtual network and the load balancer)',
        },
      });
      try {
        const body = { location: target.region, tags: { ...options.tags }, properties: { securityRules: [rule('Inbound'), rule('Outbound')] } };
        quarantine = parseBody(await this.arm.lro('PUT', this.arm.url(nsgPath, API_VERSIONS.network), body), `network security group ${nsgPath}`);
      } catch (e) {
        throw toCloudCallError(e, 'Microsoft.Network/networkSecurityGroups/write', where);
      }
    }
    const quarantineId = typeof quarantine.id === 'string' ? quarantine.id : `/subscriptions/${target.accountId}/resourceGroups/${vm.resourceGroup}/providers/Microsoft.Network/networkSecurityGroups/${nsgName}`;
    const previousGroups: Record<string, string[]> = {};
    const nicIds = (prop<Json[]>(vm.body, 'properties', 'networkProfile', 'networkInterfaces') ?? []).map((n) => String(n.id ?? '')).filter((s) => s !== '');
    for (const nicId of nicIds) {
      const id = parseArmId(nicId);
      if (!id) continue;
      let nic: Json;
      try {
        nic = parseBody(await this.get(nicId, API_VERSIONS.network), `network interface ${nicId}`);
      } catch (err) {
        if (err instanceof SnapshotError) throw err;
        throw toCloudCallError(err, 'Microsoft.Network/networkInterfaces/read', `network interface ${nicId}`);
      }
      const current = prop<string>(nic, 'properties', 'networkSecurityGroup', 'id');
      previousGroups[nicId] = current ? [current] : [];
      if (current?.toLowerCase() === quarantineId.toLowerCase()) continue;
      try {
        // The NIC as ARM gave it, with only its security group changed (ARM ignores the read-only properties).
        await this.arm.lro('PUT', this.arm.url(nicId, API_VERSIONS.network), { ...nic, properties: { ...((nic.properties as Json | undefined) ?? {}), networkSecurityGroup: { id: quarantineId } } });
      } catch (err) {
        throw toCloudCallError(err, 'Microsoft.Network/networkInterfaces/write', `network interface ${nicId}`);
      }
    }
    return { quarantineGroupId: quarantineId, previousGroups, terminationProtection: false, detachedFrom: null };
  }
}

async function fetchText(url: string): Promise<string> {
  const res = await fetch(url);
  if (!res.ok) {
    throw new CloudCallError(`reading the serial console log blob failed: HTTP ${res.status}`, 'boot diagnostics blob read', res.status >= 500, {
      hint: 'the SAS URL ARM returned may have expired; run the step again',
    });
  }
  return res.text();
}
