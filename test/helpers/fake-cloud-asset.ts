/**
 * Cloud Asset Inventory's `assets.list` (REST v1) answered at the HTTP layer with nock. Written behaviour:
 * - `GET {base}/v1/{projects|organizations}/{id}/assets?contentType=..&assetTypes=..&pageSize=..&pageToken=..`
 *   answers the documented ListAssetsResponse `{"assets":[Asset...],"readTime":"...","nextPageToken":"..."}`
 *   (no `assets` and no token on an empty or last page), pretty-printed as Google's REST front end does; Asset is
 *   `{name, assetType, resource: {version, discoveryDocumentUri, discoveryName, parent, data, location}, ancestors,
 *   updateTime}` for RESOURCE and `{name, assetType, iamPolicy: {version, bindings, auditConfigs, etag}, ...}` for
 *   IAM_POLICY;
 * - pageSize defaults to 100 and is at most 1000; a pageToken is opaque (offset and a serial number);
 * - `Authorization: Bearer <token>` must match `token`, else 401 UNAUTHENTICATED;
 * - `throttle(n)`: the next n calls answer 429 RESOURCE_EXHAUSTED; `deny(contentType, assetType)`: 403
 *   PERMISSION_DENIED for that query; `disable()`: 403 with the SERVICE_DISABLED ErrorInfo for every query;
 *   errors in Google's shape `{"error":{"code","message","status","details"?}}`.
 * Every request is recorded in `requests`; the bodies of 200 answers in `served`.
 */
import nock from './nock.ts';

export const ASSET_BASE = 'https://cloudasset.googleapis.com';
export const ESTATE_PROJECT = 'acme-prod-1';
export const ESTATE_NUMBER = '123456789012';

type Asset = Record<string, unknown>;

export class FakeCloudAsset {
  readonly requests: { parent: string; contentType: string; assetType: string; pageSize: number; pageToken?: string; status: number }[] = [];
  readonly served: Buffer[] = [];
  token = 'test-token';
  private readonly assets = new Map<string, Asset[]>();
  private throttled = 0;
  private readonly denied = new Set<string>();
  private disabled = false;
  private serial = 0;

  constructor(readonly base: string = ASSET_BASE) {}

  /** Adds assets answered for a parent (`projects/p`), content type and asset type. */
  add(parent: string, contentType: 'RESOURCE' | 'IAM_POLICY', assetType: string, assets: readonly Asset[]): this {
    const key = `${parent}|${contentType}|${assetType}`;
    this.assets.set(key, [...(this.assets.get(key) ?? []), ...assets]);
    return this;
  }

  throttle(n: number): this {
    this.throttled = n;
    return this;
  }

  deny(contentType: 'RESOURCE' | 'IAM_POLICY', assetType: string): this {
    this.denied.add(`${contentType}|${assetType}`);
    return this;
  }

  disable(): this {
    this.disabled = true;
    return this;
  }

  /** Starts answering (nock interceptors on `base`, kept until nock.cleanAll()). */
  install(): this {
    // nock 15 hands a full reply function the Fetch Request.
    nock(this.base)
      .persist()
      .get(/^\/v1\/(projects|organizations)\/[^/]+\/assets/)
      .query(true)
      .reply(((req: Request) => {
        const url = new URL(req.url);
        return this.respond(`${url.pathname}${url.search}`, req.headers.get('authorization') ?? undefined);
      }) as never);
    return this;
  }

  /** The answer to one request (status, body); exposed for the interceptor. */
  respond(path: string, authorization: string | undefined): [number, string, Record<string, string>] {
    const url = new URL(path, this.base);
    const parent = /^\/v1\/((?:projects|organizations)\/[^/]+)\/assets$/.exec(url.pathname)?.[1] ?? '';
    const contentType = url.searchParams.get('contentType') ?? '';
    const assetType = url.searchParams.get('assetTypes') ?? '';
    const pageSize = Math.min(1000, Number(url.searchParams.get('pageSize') ?? '100') || 100);
    const pageToken = url.searchParams.get('pageToken') ?? undefined;
    const done = (status: number, body: unknown): [number, string, Record<string, string>] => {
      this.requests.push({ parent, contentType, assetType, pageSize, ...(pageToken === undefined ? {} : { pageToken }), status });
      const text = `${JSON.stringify(body, null, 2)}\n`;
      if (status === 200) this.served.push(Buffer.from(text));
      return [status, text, { 'content-type': 'application/json; charset=UTF-8' }];
    };
    if (authorization !== `Bearer ${this.token}`) return done(401, { error: { code: 401, message: 'Request had invalid authentication credentials. Expected OAuth 2 access token.', status: 'UNAUTHENTICATED' } });
    if (this.throttled > 0) {
      this.throttled -= 1;
      return done(429, { error: { code: 429, message: "Quota exceeded for quota metric 'List Assets requests' and limit 'List Assets requests per minute per project'", status: 'RESOURCE_EXHAUSTED' } });
    }
    if (this.disabled) {
      return done(403, {
        error: {
          code: 403,
          message: `Cloud Asset API has not been used in project ${ESTATE_NUMBER} before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/cloudasset.googleapis.com/overview?project=${ESTATE_NUMBER} then retry.`,
          status: 'PERMISSION_DENIED',
          details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'SERVICE_DISABLED', domain: 'googleapis.com', metadata: { service: 'cloudasset.googleapis.com', consumer: `projects/${ESTATE_NUMBER}` } }],
        },
      });
    }
    if (this.denied.has(`${contentType}|${assetType}`)) {
      return done(403, { error: { code: 403, message: `The caller does not have permission (cloudasset.assets.list${contentType === 'IAM_POLICY' ? 'IamPolicy' : 'Resource'} on ${parent})`, status: 'PERMISSION_DENIED' } });
    }
    const all = this.assets.get(`${parent}|${contentType}|${assetType}`) ?? [];
    const offset = pageToken === undefined ? 0 : Number(Buffer.from(pageToken, 'base64url').toString('utf8').split(':')[0]);
    const slice = all.slice(offset, offset + pageSize);
    const next = offset + pageSize < all.length ? Buffer.from(`${offset + pageSize}:${++this.serial}`).toString('base64url') : undefined;
    return done(200, { ...(slice.length > 0 ? { assets: slice } : {}), readTime: '2026-03-14T08:59:58.123456Z', ...(next ? { nextPageToken: next } : {}) });
  }
}

const C = 'https://www.googleapis.com/compute/v1/projects';

function resource(name: string, assetType: string, data: Record<string, unknown>, location: string, number = ESTATE_NUMBER): Asset {
  const kind = assetType.split('/')[1]!;
  return {
    name,
    assetType,
    resource: { version: 'v1', discoveryDocumentUri: `https://www.googleapis.com/discovery/v1/apis/${assetType.split('.')[0]}/v1/rest`, discoveryName: kind, parent: `//cloudresourcemanager.googleapis.com/projects/${number}`, data, location },
    ancestors: [`projects/${number}`, 'organizations/998877665544'],
    updateTime: '2026-03-10T12:00:00.000000Z',
  };
}

function policy(name: string, assetType: string, bindings: [string, string[]][], auditConfigs?: unknown[], number = ESTATE_NUMBER): Asset {
  return {
    name,
    assetType,
    iamPolicy: { version: 1, etag: 'BwX1a2b3c4d=', bindings: bindings.map(([role, members]) => ({ role, members })), ...(auditConfigs ? { auditConfigs } : {}) },
    ancestors: [`projects/${number}`, 'organizations/998877665544'],
    updateTime: '2026-03-10T12:00:00.000000Z',
  };
}

/** A Compute Engine instance asset; `ip` gives it an external address. */
export function instanceAsset(project: string, zone: string, name: string, options: { ip?: string; tags?: string[]; serviceAccount?: string } = {}): Asset {
  const nic: Record<string, unknown> = { name: 'nic0', network: `${C}/${project}/global/networks/default`, networkIP: '10.132.0.9', kind: 'compute#networkInterface' };
  if (options.ip) nic.accessConfigs = [{ kind: 'compute#accessConfig', name: 'External NAT', natIP: options.ip, type: 'ONE_TO_ONE_NAT', networkTier: 'PREMIUM' }];
  return resource(`//compute.googleapis.com/projects/${project}/zones/${zone}/instances/${name}`, 'compute.googleapis.com/Instance', {
    id: '4512345678901234567',
    name,
    kind: 'compute#instance',
    creationTimestamp: '2025-11-02T08:15:30.123-07:00',
    zone: `${C}/${project}/zones/${zone}`,
    machineType: `${C}/${project}/zones/${zone}/machineTypes/e2-medium`,
    status: 'RUNNING',
    networkInterfaces: [nic],
    ...(options.tags ? { tags: { items: options.tags, fingerprint: 'abc=' } } : {}),
    ...(options.serviceAccount ? { serviceAccounts: [{ email: options.serviceAccount, scopes: ['https://www.googleapis.com/auth/cloud-platform'] }] } : {}),
  }, zone);
}

/**
 * A small estate of one project: `instances` instances (the first with an external address and the `ssh` tag),
 * an open SSH firewall rule for that tag, a public bucket, a publicly shared image, an old user-managed key, a
 * public Cloud Run service, the default compute account as Editor and no Data Access logs.
 */
export function smallEstate(fake: FakeCloudAsset, project = ESTATE_PROJECT, instances = 5): FakeCloudAsset {
  const parent = `projects/${project}`;
  const compute = `${ESTATE_NUMBER}-compute@developer.gserviceaccount.com`;
  fake.add(parent, 'RESOURCE', 'cloudresourcemanager.googleapis.com/Project', [
    resource(`//cloudresourcemanager.googleapis.com/projects/${ESTATE_NUMBER}`, 'cloudresourcemanager.googleapis.com/Project', { projectNumber: ESTATE_NUMBER, projectId: project, lifecycleState: 'ACTIVE', name: project, createTime: '2024-01-10T10:00:00.000Z', parent: { type: 'organization', id: '998877665544' } }, 'global'),
  ]);
  fake.add(parent, 'RESOURCE', 'compute.googleapis.com/Instance', Array.from({ length: instances }, (_, i) =>
    instanceAsset(project, 'europe-west1-b', `vm-${String(i + 1).padStart(2, '0')}`, i === 0 ? { ip: '34.76.20.1', tags: ['ssh'], serviceAccount: compute } : { serviceAccount: compute })));
  fake.add(parent, 'RESOURCE', 'compute.googleapis.com/Firewall', [
    resource(`//compute.googleapis.com/projects/${project}/global/firewalls/allow-ssh`, 'compute.googleapis.com/Firewall', { id: '701', name: 'allow-ssh', network: `${C}/${project}/global/networks/default`, priority: 1000, direction: 'INGRESS', disabled: false, sourceRanges: ['0.0.0.0/0'], allowed: [{ IPProtocol: 'tcp', ports: ['22'] }], targetTags: ['ssh'], creationTimestamp: '2025-09-12T03:04:05.000-07:00' }, 'global'),
    resource(`//compute.googleapis.com/projects/${project}/global/firewalls/allow-internal`, 'compute.googleapis.com/Firewall', { id: '702', name: 'allow-internal', network: `${C}/${project}/global/networks/default`, priority: 65534, direction: 'INGRESS', disabled: false, sourceRanges: ['10.128.0.0/9'], allowed: [{ IPProtocol: 'all' }], creationTimestamp: '2025-09-12T03:04:05.000-07:00' }, 'global'),
  ]);
  fake.add(parent, 'RESOURCE', 'storage.googleapis.com/Bucket', [
    resource('//storage.googleapis.com/acme-public-site', 'storage.googleapis.com/Bucket', { kind: 'storage#bucket', id: 'acme-public-site', name: 'acme-public-site', projectNumber: ESTATE_NUMBER, location: 'EU', timeCreated: '2025-06-01T10:00:00.000Z', iamConfiguration: { uniformBucketLevelAccess: { enabled: true }, publicAccessPrevention: 'inherited' } }, 'eu'),
    resource('//storage.googleapis.com/acme-evidence', 'storage.googleapis.com/Bucket', { kind: 'storage#bucket', id: 'acme-evidence', name: 'acme-evidence', projectNumber: ESTATE_NUMBER, location: 'EU', timeCreated: '2025-06-01T10:00:00.000Z', iamConfiguration: { uniformBucketLevelAccess: { enabled: true }, publicAccessPrevention: 'enforced' } }, 'eu'),
  ]);
  fake.add(parent, 'RESOURCE', 'iam.googleapis.com/ServiceAccountKey', [
    resource(`//iam.googleapis.com/projects/${project}/serviceAccounts/1122/keys/0a1b2c3d4e5f60718293a4b5c6d7e8f901234567`, 'iam.googleapis.com/ServiceAccountKey', { name: `projects/${project}/serviceAccounts/deployer@${project}.iam.gserviceaccount.com/keys/0a1b2c3d4e5f60718293a4b5c6d7e8f901234567`, validAfterTime: '2024-02-01T00:00:00Z', validBeforeTime: '9999-12-31T23:59:59Z', keyAlgorithm: 'KEY_ALG_RSA_2048', keyOrigin: 'GOOGLE_PROVIDED', keyType: 'USER_MANAGED' }, 'global'),
  ]);
  fake.add(parent, 'RESOURCE', 'run.googleapis.com/Service', [
    resource(`//run.googleapis.com/projects/${project}/locations/europe-west1/services/api`, 'run.googleapis.com/Service', { apiVersion: 'serving.knative.dev/v1', kind: 'Service', metadata: { name: 'api', annotations: { 'run.googleapis.com/ingress': 'all' }, creationTimestamp: '2026-01-15T09:00:00.000000Z' }, status: { url: 'https://api-abc123-ew.a.run.app' } }, 'europe-west1'),
  ]);
  fake.add(parent, 'IAM_POLICY', 'cloudresourcemanager.googleapis.com/Project', [
    policy(`//cloudresourcemanager.googleapis.com/projects/${ESTATE_NUMBER}`, 'cloudresourcemanager.googleapis.com/Project', [['roles/editor', [`serviceAccount:${compute}`]], ['roles/owner', ['user:admin@acme.example']]]),
  ]);
  fake.add(parent, 'IAM_POLICY', 'storage.googleapis.com/Bucket', [
    policy('//storage.googleapis.com/acme-public-site', 'storage.googleapis.com/Bucket', [['roles/storage.objectViewer', ['allUsers']]]),
    policy('//storage.googleapis.com/acme-evidence', 'storage.googleapis.com/Bucket', [['roles/storage.objectViewer', ['allUsers']]]),
  ]);
  fake.add(parent, 'IAM_POLICY', 'compute.googleapis.com/Image', [
    policy(`//compute.googleapis.com/projects/${project}/global/images/golden`, 'compute.googleapis.com/Image', [['roles/compute.imageUser', ['allAuthenticatedUsers']]]),
  ]);
  fake.add(parent, 'IAM_POLICY', 'run.googleapis.com/Service', [
    policy(`//run.googleapis.com/projects/${project}/locations/europe-west1/services/api`, 'run.googleapis.com/Service', [['roles/run.invoker', ['allUsers']]]),
  ]);
  return fake;
}
