/**
 * Compute Engine answered at the HTTP layer (nock), with the documented compute/v1 JSON shapes: Instance, Disk,
 * Firewall list, SerialPortOutput, Snapshot and Operation. Behaviour, written once for every test:
 *
 * - instances.get answers FAKE_INSTANCE (two persistent disks, one network interface, a service account) or 404
 *   for any other name, with Google's error body.
 * - snapshots.insert creates a snapshot (status READY at its next get) and answers an Operation; inserting a name
 *   that exists answers 409 alreadyExists, as Compute does; a disk listed in `failingDisks` answers 400.
 * - `throttleFirst` answers that many calls with 429 then 503 before the real answer.
 * - `denied` (a permission) answers every call 403 PERMISSION_DENIED naming it.
 */
import nock from './nock.ts';

export const PROJECT = 'amber-demo-prod';
export const ZONE = 'europe-west1-b';
export const INSTANCE = 'web-1';
const BASE = `/compute/v1/projects/${PROJECT}`;
const disk = (name: string): string => `https://www.googleapis.com/compute/v1/projects/${PROJECT}/zones/${ZONE}/disks/${name}`;
const network = `https://www.googleapis.com/compute/v1/projects/${PROJECT}/global/networks/default`;

/** An Instance as compute.instances.get returns it. */
export const FAKE_INSTANCE = {
  kind: 'compute#instance',
  id: '4567890123456789012',
  creationTimestamp: '2026-03-01T09:00:00.000-08:00',
  name: INSTANCE,
  machineType: `https://www.googleapis.com/compute/v1/projects/${PROJECT}/zones/${ZONE}/machineTypes/e2-small`,
  status: 'RUNNING',
  zone: `https://www.googleapis.com/compute/v1/projects/${PROJECT}/zones/${ZONE}`,
  networkInterfaces: [{ kind: 'compute#networkInterface', network, subnetwork: `https://www.googleapis.com/compute/v1/projects/${PROJECT}/regions/europe-west1/subnetworks/default`, networkIP: '10.132.0.7', name: 'nic0', accessConfigs: [{ kind: 'compute#accessConfig', type: 'ONE_TO_ONE_NAT', name: 'External NAT', natIP: '203.0.113.7' }] }],
  disks: [
    { kind: 'compute#attachedDisk', type: 'PERSISTENT', mode: 'READ_WRITE', source: disk('web-1'), deviceName: 'web-1', index: 0, boot: true, autoDelete: true, diskSizeGb: '10' },
    { kind: 'compute#attachedDisk', type: 'PERSISTENT', mode: 'READ_WRITE', source: disk('web-1-data'), deviceName: 'data', index: 1, boot: false, autoDelete: false, diskSizeGb: '50' },
  ],
  serviceAccounts: [{ email: '123456789012-compute@developer.gserviceaccount.com', scopes: ['https://www.googleapis.com/auth/cloud-platform'] }],
  tags: { items: ['http-server'], fingerprint: '42WmSpB8rSM=' },
  labels: { env: 'prod' },
  labelFingerprint: '6Q3Qbdd5Pfo=',
  deletionProtection: false,
};

const FIREWALLS = {
  kind: 'compute#firewallList',
  items: [
    { kind: 'compute#firewall', name: 'default-allow-http', network, priority: 1000, direction: 'INGRESS', sourceRanges: ['0.0.0.0/0'], allowed: [{ IPProtocol: 'tcp', ports: ['80'] }], targetTags: ['http-server'], disabled: false },
    { kind: 'compute#firewall', name: 'default-allow-internal', network, priority: 65534, direction: 'INGRESS', sourceRanges: ['10.128.0.0/9'], allowed: [{ IPProtocol: 'all' }], disabled: false },
    { kind: 'compute#firewall', name: 'db-allow-5432', network, priority: 1000, direction: 'INGRESS', sourceRanges: ['10.0.0.0/8'], allowed: [{ IPProtocol: 'tcp', ports: ['5432'] }], targetTags: ['db'], disabled: false },
  ],
};

const operation = (target: string, type: string): Record<string, unknown> => ({
  kind: 'compute#operation', id: '1234', name: `operation-${type}`, operationType: type, targetLink: target, status: 'DONE', progress: 100,
});

export interface FakeGceOptions {
  readonly throttleFirst?: number;
  readonly failingDisks?: readonly string[];
  readonly denied?: string;
  /** Snapshot status reported by get. @default 'READY' */
  readonly snapshotStatus?: (name: string) => string;
}

/** What the fake saw and holds. */
export interface FakeGce {
  readonly snapshots: Map<string, { name: string; sourceDisk: string; labels: Record<string, string>; description: string }>;
  readonly calls: string[];
  /** The Authorization header of every call. */
  readonly auth: string[];
  readonly firewalls: Map<string, Record<string, unknown>>;
  tags: string[];
  deletionProtection: boolean;
}

/** Installs the fake on compute.googleapis.com (call nock.cleanAll() after each test). */
export function fakeGce(options: FakeGceOptions = {}): FakeGce {
  const state: FakeGce = { snapshots: new Map(), calls: [], auth: [], firewalls: new Map(), tags: [...FAKE_INSTANCE.tags.items], deletionProtection: false };
  let throttled = 0;
  const error = (code: number, status: string, message: string, reason: string): [number, unknown] => [code, { error: { code, message, status, errors: [{ message, domain: 'global', reason }] } }];
  const gate = (): [number, unknown] | undefined => {
    if (options.denied) return error(403, 'PERMISSION_DENIED', `Required '${options.denied}' permission for 'projects/${PROJECT}'`, 'forbidden');
    if (throttled < (options.throttleFirst ?? 0)) {
      throttled++;
      return throttled % 2 === 1 ? error(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded for quota metric read requests', 'rateLimitExceeded') : error(503, 'UNAVAILABLE', 'The service is currently unavailable.', 'backendError');
    }
    return undefined;
  };
  const scope = nock('https://compute.googleapis.com').persist();
  // nock 15 hands a full reply function the Fetch Request.
  scope.get(/.*/).reply(((req: Request) => {
    const url = new URL(req.url);
    const uri = `${url.pathname}${url.search}`;
    state.calls.push(`GET ${uri}`);
    state.auth.push(req.headers.get('authorization') ?? '');
    const g = gate();
    if (g) return g;
    const path = uri.split('?')[0]!;
    if (path === `${BASE}/zones/${ZONE}/instances/${INSTANCE}`) return [200, { ...FAKE_INSTANCE, tags: { items: state.tags, fingerprint: FAKE_INSTANCE.tags.fingerprint }, deletionProtection: state.deletionProtection }];
    if (path.startsWith(`${BASE}/zones/${ZONE}/instances/`) && !path.endsWith('/serialPort')) {
      return error(404, 'NOT_FOUND', `The resource '${path.replace('/compute/v1/', '')}' was not found`, 'notFound');
    }
    if (path === `${BASE}/zones/${ZONE}/instances/${INSTANCE}/serialPort`) return [200, { kind: 'compute#serialPortOutput', contents: 'Booting...\nweb-1 login: \n', start: '0', next: '27' }];
    const d = new RegExp(`^${BASE}/zones/${ZONE}/disks/([a-z0-9-]+)$`).exec(path);
    if (d) return [200, { kind: 'compute#disk', name: d[1], sizeGb: d[1] === 'web-1' ? '10' : '50', status: 'READY', type: `${BASE}/zones/${ZONE}/diskTypes/pd-balanced`, users: [`${BASE}/zones/${ZONE}/instances/${INSTANCE}`] }];
    if (path === `${BASE}/global/firewalls`) return [200, FIREWALLS];
    const s = new RegExp(`^${BASE}/global/snapshots/([a-z0-9-]+)$`).exec(path);
    if (s) {
      const snap = state.snapshots.get(s[1]!);
      if (!snap) return error(404, 'NOT_FOUND', `The resource 'projects/${PROJECT}/global/snapshots/${s[1]}' was not found`, 'notFound');
      return [200, { kind: 'compute#snapshot', name: snap.name, sourceDisk: snap.sourceDisk, labels: snap.labels, status: options.snapshotStatus?.(snap.name) ?? 'READY', diskSizeGb: '10', creationTimestamp: '2026-03-14T10:00:00.000-07:00' }];
    }
    return error(404, 'NOT_FOUND', `no fake for GET ${path}`, 'notFound');
  }) as never);
  scope.post(/.*/).reply((async (req: Request) => {
    const url = new URL(req.url);
    const uri = `${url.pathname}${url.search}`;
    state.calls.push(`POST ${uri}`);
    state.auth.push(req.headers.get('authorization') ?? '');
    const g = gate();
    if (g) return g;
    const path = url.pathname;
    const text = await req.text();
    const b = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
    if (path === `${BASE}/global/snapshots`) {
      const name = String(b.name);
      const diskName = String(b.sourceDisk).split('/').pop()!;
      if (options.failingDisks?.includes(diskName)) return error(400, 'FAILED_PRECONDITION', `The disk resource 'projects/${PROJECT}/zones/${ZONE}/disks/${diskName}' is not ready`, 'resourceNotReady');
      if (state.snapshots.has(name)) return error(409, 'ALREADY_EXISTS', `The resource 'projects/${PROJECT}/global/snapshots/${name}' already exists`, 'alreadyExists');
      state.snapshots.set(name, { name, sourceDisk: String(b.sourceDisk), labels: b.labels as Record<string, string>, description: String(b.description) });
      return [200, operation(`${BASE}/global/snapshots/${name}`, 'insert')];
    }
    if (path === `${BASE}/global/firewalls`) {
      const name = String(b.name);
      if (state.firewalls.has(name)) return error(409, 'ALREADY_EXISTS', `The resource 'projects/${PROJECT}/global/firewalls/${name}' already exists`, 'alreadyExists');
      state.firewalls.set(name, b);
      return [200, operation(`${BASE}/global/firewalls/${name}`, 'insert')];
    }
    if (path === `${BASE}/zones/${ZONE}/instances/${INSTANCE}/setTags`) {
      state.tags = b.items as string[];
      return [200, operation(path, 'setTags')];
    }
    if (path === `${BASE}/zones/${ZONE}/instances/${INSTANCE}/setDeletionProtection`) {
      state.deletionProtection = uri.includes('deletionProtection=true');
      return [200, operation(path, 'setDeletionProtection')];
    }
    return error(404, 'NOT_FOUND', `no fake for POST ${path}`, 'notFound');
  }) as never);
  return state;
}
