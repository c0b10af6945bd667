/**
 * A small Azure Resource Manager answered in-process with nock, with a written behaviour and the documented
 * response shapes (raw ARM JSON: `properties.*`):
 *
 * - GET of a VM (with `$expand=instanceView`), disk, extensions list, NIC, NSG, public IP: the stored body, 404
 *   `ResourceNotFound` when absent.
 * - POST retrieveBootDiagnosticsData: SAS URIs of the screenshot and serial log blobs (the serial log blob is
 *   served too); POST effectiveNetworkSecurityGroups: the effective rules.
 * - PUT snapshot: a long-running operation: 202 with `Azure-AsyncOperation` and `Location`; the operation reads
 *   `InProgress` once, then `Succeeded` (or `Failed` with ARM's error for a disk in `failDisks`); the final GET of
 *   the snapshot gives `provisioningState` Succeeded (or Failed).
 * - POST snapshot beginGetAccess (`{"access":"Read","durationInSeconds":N}`): a long-running operation, 202 with
 *   `Azure-AsyncOperation` and `Location`; the operation reads `InProgress` once, then `Succeeded`; the `Location`
 *   answer is `{"accessSAS": ...}`, a SAS URL whose blob serves the snapshot's VHD (`vhdOf`). 403
 *   `AuthorizationFailed` for a snapshot in `denyGetAccess`. POST endGetAccess: 200. Both listed in `access`.
 * - PUT NSG / NIC: 200 with the stored body.
 * - `throttle(match, n)`: the next n requests whose "METHOD path" contains `match` get 429 with Retry-After: 0.
 */
import './promise-with-resolvers.ts';
import nock from 'nock';

export const ARM = 'https://management.azure.com';
export const SUB = '11111111-2222-3333-4444-555555555555';
export const LOC = 'westeurope';
const BLOB = 'https://amberdiag.blob.core.windows.net';
/** Where managed-disk SAS URLs point (a storage account ARM owns). */
const MD_BLOB = 'https://md-impexp-fake.z1.blob.storage.azure.net';

type Json = Record<string, unknown>;

/** A credential that never leaves the process. */
export const fakeCredential = { getToken: async () => ({ token: 'fake-arm-token', expiresOnTimestamp: Date.now() + 3_600_000 }) };

export interface FakeVmOptions {
  readonly resourceGroup: string;
  readonly name: string;
  readonly dataDisks?: number;
  readonly withPublicIp?: boolean;
}

export class FakeArm {
  readonly resources = new Map<string, Json>();
  readonly calls: string[] = [];
  /** Bodies of every PUT, by path. */
  readonly puts: { path: string; body: Json }[] = [];
  readonly failDisks = new Set<string>();
  readonly serialLog = 'Linux version 6.1.0 (fake)\r\nlogin: \r\n';
  private readonly throttles: { match: string; left: number }[] = [];
  private readonly ops = new Map<string, { snapshot: string; polls: number; fail?: Json; access?: boolean }>();
  /** beginGetAccess / endGetAccess calls, in order: `begin <snapshot id> <body>` and `end <snapshot id>`. */
  readonly access: string[] = [];
  /** Snapshots whose beginGetAccess answers 403: by the snapshot's or its source disk's id, lower-case. */
  readonly denyGetAccess = new Set<string>();
  /** Disks (lower-case ids) whose snapshot stays in its background copy (`completionPercent` 40). */
  readonly copying = new Set<string>();
  /** GETs of the SAS URLs (paths, without the query). */
  readonly vhdReads: string[] = [];
  private opSeq = 0;

  static id(group: string, type: string, name: string): string {
    return `/subscriptions/${SUB}/resourceGroups/${group}/providers/${type}/${name}`;
  }

  /** Adds a VM with an OS disk, `dataDisks` data disks, one NIC with an NSG (and a public IP). */
  addVm(o: FakeVmOptions): { vmId: string; diskIds: string[]; nicId: string; nsgId: string } {
    const g = o.resourceGroup;
    const vmId = FakeArm.id(g, 'Microsoft.Compute/virtualMachines', o.name);
    const osDisk = FakeArm.id(g, 'Microsoft.Compute/disks', `${o.name}_OsDisk_1`);
    const data = Array.from({ length: o.dataDisks ?? 0 }, (_, i) => FakeArm.id(g, 'Microsoft.Compute/disks', `${o.name}_data_${i}`));
    const nicId = FakeArm.id(g, 'Microsoft.Network/networkInterfaces', `${o.name}-nic`);
    const nsgId = FakeArm.id(g, 'Microsoft.Network/networkSecurityGroups', `${o.name}-nsg`);
    const pipId = FakeArm.id(g, 'Microsoft.Network/publicIPAddresses', `${o.name}-ip`);
    const subnet = `${FakeArm.id(g, 'Microsoft.Network/virtualNetworks', 'vnet-1')}/subnets/default`;
    this.resources.set(vmId.toLowerCase(), {
      id: vmId,
      name: o.name,
      type: 'Microsoft.Compute/virtualMachines',
      location: LOC,
      identity: { type: 'SystemAssigned', principalId: '9a9a9a9a-0000-4000-8000-000000000001', tenantId: '7e7e7e7e-0000-4000-8000-000000000002' },
      properties: {
        vmId: '0f0f0f0f-1111-4222-8333-444444444444',
        hardwareProfile: { vmSize: 'Standard_D2s_v5' },
        storageProfile: {
          osDisk: { osType: 'Linux', name: `${o.name}_OsDisk_1`, createOption: 'FromImage', caching: 'ReadWrite', managedDisk: { id: osDisk, storageAccountType: 'Premium_LRS' }, diskSizeGB: 30 },
          dataDisks: data.map((id, lun) => ({ lun, name: id.split('/').pop(), createOption: 'Empty', diskSizeGB: 64, managedDisk: { id, storageAccountType: 'Premium_LRS' } })).reverse(),
        },
        osProfile: { computerName: o.name, adminUsername: 'azureuser', linuxConfiguration: { disablePasswordAuthentication: true } },
        networkProfile: { networkInterfaces: [{ id: nicId, properties: { primary: true } }] },
        diagnosticsProfile: { bootDiagnostics: { enabled: true } },
        provisioningState: 'Succeeded',
        instanceView: { computerName: o.name, osName: 'ubuntu', statuses: [{ code: 'ProvisioningState/succeeded', level: 'Info' }, { code: 'PowerState/running', level: 'Info', displayStatus: 'VM running' }] },
      },
    });
    for (const [i, id] of [osDisk, ...data].entries()) {
      this.resources.set(id.toLowerCase(), {
        id,
        name: id.split('/').pop(),
        type: 'Microsoft.Compute/disks',
        location: LOC,
        managedBy: vmId,
        sku: { name: 'Premium_LRS', tier: 'Premium' },
        properties: { osType: i === 0 ? 'Linux' : undefined, diskSizeGB: i === 0 ? 30 : 64, diskState: 'Attached', provisioningState: 'Succeeded', encryption: { type: 'EncryptionAtRestWithPlatformKey' }, timeCreated: '2026-11-01T10:00:00.0000000+00:00' },
      });
    }
    this.resources.set(nicId.toLowerCase(), {
      id: nicId,
      name: `${o.name}-nic`,
      type: 'Microsoft.Network/networkInterfaces',
      location: LOC,
      properties: {
        provisioningState: 'Succeeded',
        macAddress: '00-0D-3A-11-22-33',
        ipConfigurations: [{ id: `${nicId}/ipConfigurations/ipconfig1`, name: 'ipconfig1', properties: { privateIPAddress: '10.0.0.4', privateIPAllocationMethod: 'Dynamic', subnet: { id: subnet }, ...(o.withPublicIp ? { publicIPAddress: { id: pipId } } : {}), primary: true } }],
        networkSecurityGroup: { id: nsgId },
        virtualMachine: { id: vmId },
      },
    });
    this.resources.set(nsgId.toLowerCase(), {
      id: nsgId,
      name: `${o.name}-nsg`,
      type: 'Microsoft.Network/networkSecurityGroups',
      location: LOC,
      properties: {
        provisioningState: 'Succeeded',
        securityRules: [{ id: `${nsgId}/securityRules/ssh`, name: 'ssh', properties: { protocol: 'Tcp', sourcePortRange: '*', destinationPortRange: '22', sourceAddressPrefix: '*', destinationAddressPrefix: '*', access: 'Allow', priority: 300, direction: 'Inbound' } }],
      },
    });
    if (o.withPublicIp) {
      this.resources.set(pipId.toLowerCase(), { id: pipId, name: `${o.name}-ip`, type: 'Microsoft.Network/publicIPAddresses', location: LOC, properties: { ipAddress: '203.0.113.10', publicIPAllocationMethod: 'Static' } });
    }
    return { vmId, diskIds: [osDisk, ...data], nicId, nsgId };
  }

  /** The VHD the SAS of a snapshot serves: data derived from the id, then a fixed VHD's 512-byte footer. */
  static vhdOf(snapshotId: string): Buffer {
    const seed = Buffer.from(snapshotId.toLowerCase());
    const data = Buffer.alloc(256 * 1024 + 3, 0);
    for (let i = 0; i < data.length; i++) data[i] = seed[i % seed.length]! ^ (i & 0xff);
    return Buffer.concat([data, Buffer.from('conectix'), Buffer.alloc(504)]);
  }

  throttle(match: string, times = 1): void {
    this.throttles.push({ match, left: times });
  }

  /** Installs the interceptors (call nock.cleanAll() after the test). */
  install(): void {
    // nock 15 hands a reply function the fetch Request (a one-argument function returns its answer).
    const reply = (method: string) => async (req: Request): Promise<[number, unknown, Record<string, string>]> => {
      const text = await req.text();
      return this.answer(method, req.url, text === '' ? {} : (JSON.parse(text) as Json));
    };
    nock(ARM).persist().get(() => true).reply(reply('GET'));
    nock(ARM).persist().put(() => true).reply(reply('PUT'));
    nock(ARM).persist().post(() => true).reply(reply('POST'));
    nock(BLOB).persist().get(() => true).reply(200, this.serialLog, { 'Content-Type': 'text/plain' });
    nock(MD_BLOB).persist().get(() => true).reply((uri: string | Request) => {
      const url = new URL(typeof uri === 'string' ? uri : uri.url, MD_BLOB);
      this.vhdReads.push(url.pathname);
      const snapshotId = decodeURIComponent(url.pathname.split('/')[1] ?? '');
      if (url.searchParams.get('sig') !== 'SECRETSIG3' || !this.resources.has(snapshotId)) return [403, '<Error><Code>AuthenticationFailed</Code></Error>', {}];
      const vhd = FakeArm.vhdOf(snapshotId);
      return [200, vhd, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(vhd.length), 'x-ms-blob-type': 'PageBlob' }];
    });
  }

  private answer(method: string, uri: string, body: Json): [number, unknown, Record<string, string>] {
    const url = new URL(uri, ARM);
    const path = url.pathname;
    this.calls.push(`${method} ${path}`);
    const t = this.throttles.find((x) => x.left > 0 && `${method} ${path}`.includes(x.match));
    if (t) {
      t.left -= 1;
      return [429, { error: { code: 'TooManyRequests', message: 'The request is being throttled.' } }, { 'Retry-After': '0' }];
    }
    const notFound = (): [number, unknown, Record<string, string>] => [404, { error: { code: 'ResourceNotFound', message: `The Resource '${path.split('/').slice(-2).join('/')}' under resource group was not found.` } }, {}];
    const op = /\/providers\/Microsoft\.Compute\/locations\/[^/]+\/operations\/([^/]+)$/i.exec(path);
    if (method === 'GET' && op) {
      const state = this.ops.get(op[1]!);
      if (!state) return notFound();
      if (state.access && url.searchParams.get('monitor') === 'true') {
        return [200, { accessSAS: `${MD_BLOB}/${encodeURIComponent(state.snapshot)}/abcd?sv=2018-03-28&sr=b&si=fake&sig=SECRETSIG3` }, {}];
      }
      state.polls += 1;
      if (state.access) return [200, { name: op[1], status: state.polls === 1 ? 'InProgress' : 'Succeeded', startTime: '2026-12-01T10:00:00Z' }, {}];
      if (state.polls === 1) return [200, { name: op[1], status: 'InProgress', startTime: '2026-12-01T10:00:00Z' }, {}];
      const snap = this.resources.get(state.snapshot)!;
      const props = snap.properties as Json;
      if (state.fail) {
        props.provisioningState = 'Failed';
        return [200, { name: op[1], status: 'Failed', startTime: '2026-12-01T10:00:00Z', endTime: '2026-12-01T10:00:05Z', error: state.fail }, {}];
      }
      props.provisioningState = 'Succeeded';
      props.completionPercent = this.copying.has(String((props.creationData as Json | undefined)?.sourceResourceId ?? '').toLowerCase()) ? 40 : 100;
      return [200, { name: op[1], status: 'Succeeded', startTime: '2026-12-01T10:00:00Z', endTime: '2026-12-01T10:00:05Z' }, {}];
    }
    const access = /^(.*\/providers\/Microsoft\.Compute\/snapshots\/[^/]+)\/(beginGetAccess|endGetAccess)$/i.exec(path);
    if (method === 'POST' && access) {
      const snapshot = access[1]!;
      if (!this.resources.has(snapshot.toLowerCase())) return notFound();
      if (access[2] === 'endGetAccess') {
        this.access.push(`end ${snapshot}`);
        return [200, '', {}];
      }
      this.access.push(`begin ${snapshot} ${JSON.stringify(body)}`);
      const disk = String(((this.resources.get(snapshot.toLowerCase())!.properties as Json).creationData as Json | undefined)?.sourceResourceId ?? '');
      if (this.denyGetAccess.has(snapshot.toLowerCase()) || this.denyGetAccess.has(disk.toLowerCase())) {
        return [403, { error: { code: 'AuthorizationFailed', message: `The client does not have authorization to perform action 'Microsoft.Compute/snapshots/beginGetAccess/action' over scope '${snapshot}'.` } }, {}];
      }
      const id = `op-${++this.opSeq}`;
      this.ops.set(id, { snapshot: snapshot.toLowerCase(), polls: 0, access: true });
      const opUrl = `${ARM}/subscriptions/${SUB}/providers/Microsoft.Compute/locations/${LOC}/operations/${id}?api-version=2025-01-02`;
      return [202, '', { 'Azure-AsyncOperation': opUrl, Location: `${opUrl}&monitor=true`, 'Retry-After': '0' }];
    }
    if (method === 'POST' && path.endsWith('/retrieveBootDiagnosticsData')) {
      const vm = path.replace(/\/retrieveBootDiagnosticsData$/, '');
      if (!this.resources.has(vm.toLowerCase())) return notFound();
      const name = vm.split('/').pop();
      return [200, { consoleScreenshotBlobUri: `${BLOB}/bootdiagnostics-${name}/${name}.screenshot.bmp?sv=2022-11-02&sr=b&sig=SECRETSIG1`, serialConsoleLogBlobUri: `${BLOB}/bootdiagnostics-${name}/${name}.serialconsole.log?sv=2022-11-02&sr=b&sig=SECRETSIG2` }, {}];
    }
    if (method === 'POST' && path.endsWith('/effectiveNetworkSecurityGroups')) {
      const nicId = path.replace(/\/effectiveNetworkSecurityGroups$/, '');
      const nic = this.resources.get(nicId.toLowerCase());
      if (!nic) return notFound();
      const nsg = ((nic.properties as Json).networkSecurityGroup as Json | undefined)?.id;
      return [200, { value: [{ networkSecurityGroup: { id: nsg }, association: { networkInterface: { id: nicId } }, effectiveSecurityRules: [{ name: 'securityRules/ssh', protocol: 'Tcp', destinationPortRange: '22-22', access: 'Allow', priority: 300, direction: 'Inbound' }] }] }, {}];
    }
    if (method === 'GET' && path.endsWith('/extensions')) {
      const vm = path.replace(/\/extensions$/, '');
      if (!this.resources.has(vm.toLowerCase())) return notFound();
      return [200, { value: [{ id: `${vm}/extensions/AzureMonitorLinuxAgent`, name: 'AzureMonitorLinuxAgent', type: 'Microsoft.Compute/virtualMachines/extensions', location: LOC, properties: { publisher: 'Microsoft.Azure.Monitor', type: 'AzureMonitorLinuxAgent', typeHandlerVersion: '1.0', provisioningState: 'Succeeded' } }] }, {}];
    }
    if (method === 'GET') {
      const r = this.resources.get(path.toLowerCase());
      return r ? [200, r, {}] : notFound();
    }
    if (method === 'PUT' && /\/providers\/Microsoft\.Compute\/snapshots\//i.test(path)) {
      this.puts.push({ path, body });
      const props = (body.properties ?? {}) as Json;
      const source = String((props.creationData as Json | undefined)?.sourceResourceId ?? '');
      const snap = { id: path, name: path.split('/').pop(), type: 'Microsoft.Compute/snapshots', location: body.location, tags: body.tags, sku: { name: 'Standard_LRS', tier: 'Standard' }, properties: { ...props, diskSizeGB: 30, timeCreated: '2026-12-01T10:00:01.0000000+00:00', provisioningState: 'Creating', completionPercent: 0, encryption: { type: 'EncryptionAtRestWithPlatformKey' } } };
      this.resources.set(path.toLowerCase(), snap);
      const id = `op-${++this.opSeq}`;
      this.ops.set(id, { snapshot: path.toLowerCase(), polls: 0, ...(this.failDisks.has(source.toLowerCase()) ? { fail: { code: 'InternalDiskManagementError', message: `An internal error occurred copying disk ${source.split('/').pop()}.` } } : {}) });
      const opUrl = `${ARM}/subscriptions/${SUB}/providers/Microsoft.Compute/locations/${LOC}/operations/${id}?api-version=2025-01-02`;
      return [202, snap, { 'Azure-AsyncOperation': opUrl, Location: `${opUrl}&monitor=true`, 'Retry-After': '0' }];
    }
    if (method === 'PUT') {
      this.puts.push({ path, body });
      const stored = { ...body, id: path, name: path.split('/').pop(), properties: { ...((body.properties ?? {}) as Json), provisioningState: 'Succeeded' } };
      this.resources.set(path.toLowerCase(), stored);
      return [200, stored, {}];
    }
    return [400, { error: { code: 'InvalidRequest', message: `the fake does not answer ${method} ${path}` } }, {}];
  }
}
