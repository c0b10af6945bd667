/**
 * Reads preserved Cloud Asset Inventory answers (the raw `assets.list` pages `amber inventory --cloud gcp` keeps)
 * into `inventory` rows. The page names its assets, but not what was asked (content type, scope), so the request
 * comes from the preserved key, which `amber inventory` writes as
 * `gcp/inventory/<project-id|organization-number>/<yyyymmddThhmmssZ>/<resource|iam-policy>/<service>/<Type>/page-NNNNN.json`.
 *
 * A capture line (`{"amberInventoryCapture":1, "cloud":"gcp", scope, contentType, assetType, observedAt, body}`) is
 * read the same way: the detection fixtures use it.
 *
 * Columns: `account` is the project id (for an organization's inventory, the project named in the asset's name,
 * else `projects/<number>` from its ancestors), `region` the asset's location (zone, region, multi-region or
 * `global`), `service` the asset's API (`compute`), `operation` `assets.list`, `id` the asset's full name
 * (`//compute.googleapis.com/projects/p/zones/z/instances/i`), `name` its short name.
 *
 * Every page yields first an `api:page` row (what was asked, how many rows came back, or Google's error status for
 * an answer that refused). Rows shaped for the exposure detections' joins, one fact each:
 * - `compute:instance-exposure`: one per external address of an instance, and per firewall target it matches
 *   (`all`, each network tag, each service account), with the network;
 * - `compute:firewall-rule`: one per (allowed or denied protocol and port range) x source range x target;
 * - `gcp:iam-member`: one per member of each role binding of each IAM policy;
 * - `gcp:audit-config`: one per IAM policy, with the services whose Data Access logs are on.
 */
import type { InventoryRow } from './parse.ts';

/** What a GCP page was asked for: from the preserved key, or from a capture line. */
export interface GcpInventoryRequest {
  /** Project id, or organization number. */
  readonly scope: string;
  readonly contentType: 'RESOURCE' | 'IAM_POLICY';
  readonly assetType: string;
  /** ISO-8601 UTC time the inventory was taken. */
  readonly observedAt: string;
}

/** One GCP row (the table's columns). */
export type GcpInventoryRow = Omit<InventoryRow, 'cloud'> & { cloud: 'gcp' };

export const GCP_INVENTORY_KEY = /(?:^|\/)gcp\/inventory\/([a-z][a-z0-9-]{4,28}[a-z0-9]|\d{1,20})\/(\d{8}T\d{6}Z)\/(resource|iam-policy)\/([a-z0-9.-]+\/[A-Za-z0-9]+)\/page-\d{5}\.json$/;

/** The request a preserved GCP key names, or undefined for any other key. */
export function gcpRequestFromKey(key: string): GcpInventoryRequest | undefined {
  const m = GCP_INVENTORY_KEY.exec(key);
  if (!m) return undefined;
  const s = m[2]!;
  return {
    scope: m[1]!,
    observedAt: `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}Z`,
    contentType: m[3] === 'resource' ? 'RESOURCE' : 'IAM_POLICY',
    assetType: m[4]!,
  };
}

/** A capture line's request; throws naming the field that is missing. */
export function gcpRequestFromCapture(doc: Record<string, unknown>): GcpInventoryRequest {
  const str = (k: string): string => {
    const v = doc[k];
    if (typeof v !== 'string' || v === '') throw new Error(`field "${k}" must be non-empty text`);
    return v;
  };
  const contentType = str('contentType');
  if (contentType !== 'RESOURCE' && contentType !== 'IAM_POLICY') throw new Error(`field "contentType" must be RESOURCE or IAM_POLICY, got ${JSON.stringify(contentType)}`);
  return { scope: str('scope'), contentType, assetType: str('assetType'), observedAt: str('observedAt') };
}

type Node = Record<string, unknown>;
const obj = (v: unknown): Node => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Node) : {});
const arr = (v: unknown): Node[] => (Array.isArray(v) ? v.map(obj) : []);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x !== '') : []);
const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : null);
const bool = (v: unknown): boolean | null => (v === true || v === 'true' ? true : v === false || v === 'false' ? false : null);
const int = (v: unknown): number | null => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : NaN;
  return Number.isSafeInteger(n) ? n : null;
};
const iso = (v: unknown): string | null => {
  const d = typeof v === 'string' && v !== '' ? new Date(v) : undefined;
  return d && !Number.isNaN(d.getTime()) ? `${d.toISOString().slice(0, 19)}Z` : null;
};
const days = (from: string | null, to: string): number | null => (from === null ? null : Math.floor((Date.parse(to) - Date.parse(from)) / 86_400_000));
/** The last path segment of a URL or resource name. */
const last = (v: string | null): string | null => (v === null ? null : v.slice(v.lastIndexOf('/') + 1) || null);
/** A Compute URL (`https://www.googleapis.com/compute/v1/projects/p/global/networks/n`) as `projects/p/global/networks/n`. */
const computePath = (v: unknown): string | null => {
  const s = text(v);
  if (s === null) return null;
  const at = s.indexOf('projects/');
  return at >= 0 ? s.slice(at) : s;
};
const sortedLabels = (v: unknown): string | null => {
  const entries = Object.entries(obj(v)).filter(([, x]) => typeof x === 'string') as [string, string][];
  if (entries.length === 0) return null;
  return JSON.stringify(Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
};

/** Members that mean "anyone": on the internet, or with any Google account. */
export const PUBLIC_MEMBERS: ReadonlySet<string> = new Set(['allUsers', 'allAuthenticatedUsers']);

/** The default service accounts Google creates with broad project roles (Compute Engine's, App Engine's). */
const DEFAULT_SA = /^(\d+-compute@developer\.gserviceaccount\.com|[a-z][a-z0-9-]*@appspot\.gserviceaccount\.com)$/;

/** The project an asset belongs to: the inventory's project, else the one its name or ancestors give. */
function accountOf(req: GcpInventoryRequest, asset: Node): string {
  if (!/^\d+$/.test(req.scope)) return req.scope;
  const name = text(asset.name) ?? '';
  const fromName = /\/projects\/([a-z][a-z0-9-]{4,28}[a-z0-9])(?:\/|$)/.exec(name)?.[1];
  if (fromName) return fromName;
  const data = obj(obj(asset.resource).data);
  if (req.assetType === 'cloudresourcemanager.googleapis.com/Project' && text(data.projectId)) return text(data.projectId)!;
  const ancestor = strings(asset.ancestors).find((a) => a.startsWith('projects/'));
  return ancestor ?? `organizations/${req.scope}`;
}

/** The rows of one assets.list page. Throws on a body that is not JSON. */
export function parseGcpAnswer(req: GcpInventoryRequest, body: string): GcpInventoryRow[] {
  let doc: Node;
  try {
    doc = obj(JSON.parse(body));
  } catch {
    throw new Error('the body is not JSON');
  }
  const rows: GcpInventoryRow[] = [];
  const service = req.assetType.split('.')[0] ?? req.assetType;
  const pageId = `${req.contentType} ${req.assetType}`;
  const row = (account: string, region: string, type: string, id: string, fields: { name?: string | null; tags?: string | null; created?: string | null; attributes?: Record<string, unknown> } = {}): void => {
    rows.push({
      cloud: 'gcp',
      account,
      region,
      service,
      operation: 'assets.list',
      type,
      id,
      name: fields.name ?? null,
      tags: fields.tags ?? null,
      created_at: fields.created ?? null,
      observed_at: req.observedAt,
      attributes: JSON.stringify(fields.attributes ?? {}),
    });
  };
  const scopeAccount = /^\d+$/.test(req.scope) ? `organizations/${req.scope}` : req.scope;
  const error = obj(doc.error);
  if (Object.keys(error).length > 0) {
    row(scopeAccount, 'global', 'api:page', pageId, { attributes: { contentType: req.contentType, assetType: req.assetType, rows: 0, error: text(error.status) ?? text(error.code) ?? 'error', message: text(error.message) } });
    return rows;
  }
  row(scopeAccount, 'global', 'api:page', pageId);
  for (const asset of arr(doc.assets)) {
    const id = text(asset.name) ?? '';
    const account = accountOf(req, asset);
    const resource = obj(asset.resource);
    const data = obj(resource.data);
    const region = text(resource.location) ?? 'global';
    if (req.contentType === 'IAM_POLICY') {
      iamRows(asset, id, account, region, row);
      continue;
    }
    const short = text(data.name) === null ? last(id) : last(text(data.name));
    const labels = sortedLabels(data.labels);
    switch (req.assetType) {
      case 'cloudresourcemanager.googleapis.com/Project':
        row(account, region, 'resourcemanager:project', id, { name: text(data.projectId), tags: labels, created: iso(data.createTime), attributes: { projectId: text(data.projectId), projectNumber: text(data.projectNumber), state: text(data.lifecycleState) ?? text(data.state), parent: text(obj(data.parent).id) ?? text(data.parent) } });
        break;
      case 'compute.googleapis.com/Instance': {
        const interfaces = arr(data.networkInterfaces);
        const accounts = arr(data.serviceAccounts).map((s) => ({ email: text(s.email), scopes: strings(s.scopes) }));
        const tags = strings(obj(data.tags).items);
        const external = interfaces.flatMap((n) => arr(n.accessConfigs).map((a) => text(a.natIP)).filter((ip): ip is string => ip !== null));
        row(account, region, 'compute:instance', id, {
          name: short,
          tags: labels,
          created: iso(data.creationTimestamp),
          attributes: {
            status: text(data.status),
            machineType: last(text(data.machineType)),
            externalIps: external,
            internalIps: interfaces.map((n) => text(n.networkIP)).filter((ip): ip is string => ip !== null),
            networks: interfaces.map((n) => computePath(n.network)).filter((x): x is string => x !== null),
            networkTags: tags,
            serviceAccounts: accounts,
            defaultServiceAccount: accounts.some((a) => a.email !== null && DEFAULT_SA.test(a.email)),
            cloudPlatformScope: accounts.some((a) => a.scopes.includes('https://www.googleapis.com/auth/cloud-platform')),
          },
        });
        // A firewall rule applies to an instance by network and target (every instance, a network tag, a service account).
        for (const n of interfaces) {
          const network = computePath(n.network);
          for (const ip of arr(n.accessConfigs).map((a) => text(a.natIP)).filter((x): x is string => x !== null)) {
            const targets: [string, string | null][] = [['all', null], ...tags.map((t): [string, string] => ['tag', t]), ...accounts.filter((a) => a.email !== null).map((a): [string, string] => ['serviceAccount', a.email!])];
            for (const [kind, target] of targets) {
              row(account, region, 'compute:instance-exposure', id, { name: short, attributes: { network, externalIp: ip, status: text(data.status), targetKind: kind, target } });
            }
          }
        }
        break;
      }
      case 'compute.googleapis.com/Firewall': {
        const direction = text(data.direction) ?? 'INGRESS';
        const ranges = strings(direction === 'INGRESS' ? data.sourceRanges : data.destinationRanges);
        const targetTags = strings(data.targetTags);
        const targetAccounts = strings(data.targetServiceAccounts);
        const network = computePath(data.network);
        const base = { firewall: short, network, direction, priority: int(data.priority) ?? 1000, disabled: bool(data.disabled) ?? false };
        row(account, region, 'compute:firewall', id, {
          name: short,
          created: iso(data.creationTimestamp),
          attributes: { ...base, sourceRanges: strings(data.sourceRanges), destinationRanges: strings(data.destinationRanges), sourceTags: strings(data.sourceTags), targetTags, targetServiceAccounts: targetAccounts, logging: bool(obj(data.logConfig).enable) ?? false },
        });
        const targets: [string, string | null][] = targetTags.length > 0 ? targetTags.map((t) => ['tag', t]) : targetAccounts.length > 0 ? targetAccounts.map((t) => ['serviceAccount', t]) : [['all', null]];
        for (const [action, list] of [['allow', data.allowed], ['deny', data.denied]] as const) {
          for (const p of arr(list)) {
            const protocol = (text(p.IPProtocol) ?? 'all').toLowerCase();
            const ports = strings(p.ports);
            const spans: [number, number][] = ports.length === 0 ? [[0, 65535]] : ports.map((s) => {
              const [a, b] = s.split('-');
              return [int(a) ?? 0, int(b ?? a) ?? int(a) ?? 65535];
            });
            for (const [from, to] of spans) {
              for (const cidr of ranges.length > 0 ? ranges : [null]) {
                for (const [kind, target] of targets) {
                  row(account, region, 'compute:firewall-rule', id, { name: short, attributes: { ...base, action, protocol, fromPort: from, toPort: to, cidr, targetKind: kind, target } });
                }
              }
            }
          }
        }
        break;
      }
      case 'compute.googleapis.com/Disk':
        row(account, region, 'compute:disk', id, { name: short, tags: labels, created: iso(data.creationTimestamp), attributes: { sizeGb: int(data.sizeGb), status: text(data.status), users: strings(data.users).map(computePath), sourceImage: computePath(data.sourceImage), sourceSnapshot: computePath(data.sourceSnapshot), customerKey: Object.keys(obj(data.diskEncryptionKey)).length > 0 } });
        break;
      case 'compute.googleapis.com/Snapshot':
        row(account, region, 'compute:snapshot', id, { name: short, tags: labels, created: iso(data.creationTimestamp), attributes: { sourceDisk: computePath(data.sourceDisk), status: text(data.status), storageLocations: strings(data.storageLocations), diskSizeGb: int(data.diskSizeGb) } });
        break;
      case 'compute.googleapis.com/Image':
        row(account, region, 'compute:image', id, { name: short, tags: labels, created: iso(data.creationTimestamp), attributes: { family: text(data.family), sourceDisk: computePath(data.sourceDisk), status: text(data.status) } });
        break;
      case 'storage.googleapis.com/Bucket': {
        const iamConfig = obj(data.iamConfiguration);
        row(account, region, 'storage:bucket', id, {
          name: short,
          tags: labels,
          created: iso(data.timeCreated),
          attributes: {
            location: text(data.location),
            publicAccessPrevention: text(iamConfig.publicAccessPrevention) ?? 'inherited',
            uniformBucketLevelAccess: bool(obj(iamConfig.uniformBucketLevelAccess).enabled) ?? false,
            versioning: bool(obj(data.versioning).enabled) ?? false,
            retentionSeconds: int(obj(data.retentionPolicy).retentionPeriod),
            projectNumber: text(data.projectNumber),
          },
        });
        break;
      }
      case 'cloudfunctions.googleapis.com/CloudFunction':
        row(account, region, 'cloudfunctions:function', id, { name: short, tags: labels, created: iso(data.updateTime), attributes: { generation: 1, url: text(obj(data.httpsTrigger).url), ingress: text(data.ingressSettings), serviceAccount: text(data.serviceAccountEmail), runtime: text(data.runtime), status: text(data.status) } });
        break;
      case 'cloudfunctions.googleapis.com/Function': {
        const config = obj(data.serviceConfig);
        row(account, region, 'cloudfunctions:function', id, { name: short, tags: labels, created: iso(data.createTime) ?? iso(data.updateTime), attributes: { generation: 2, url: text(config.uri) ?? text(data.url), ingress: text(config.ingressSettings), serviceAccount: text(config.serviceAccountEmail), runtime: text(obj(data.buildConfig).runtime), status: text(data.state), runService: text(config.service) } });
        break;
      }
      case 'run.googleapis.com/Service': {
        // Cloud Asset gives the Knative (v1) form; the v2 form is read too.
        const meta = obj(data.metadata);
        const annotations = obj(meta.annotations);
        const spec = obj(obj(obj(data.spec).template).spec);
        row(account, region, 'run:service', id, {
          name: text(meta.name) ?? short,
          tags: sortedLabels(meta.labels) ?? labels,
          created: iso(meta.creationTimestamp) ?? iso(data.createTime),
          attributes: { url: text(obj(data.status).url) ?? text(data.uri), ingress: text(annotations['run.googleapis.com/ingress']) ?? text(data.ingress), serviceAccount: text(spec.serviceAccountName) ?? text(obj(data.template).serviceAccount) },
        });
        break;
      }
      case 'iam.googleapis.com/ServiceAccount': {
        const email = text(data.email);
        row(account, region, 'iam:service-account', id, { name: email, attributes: { email, uniqueId: text(data.uniqueId), displayName: text(data.displayName), disabled: bool(data.disabled) ?? false, default: email !== null && DEFAULT_SA.test(email) } });
        break;
      }
      case 'iam.googleapis.com/ServiceAccountKey': {
        const name = text(data.name) ?? id;
        const email = /serviceAccounts\/([^/]+@[^/]+)\/keys\//.exec(name)?.[1] ?? /serviceAccounts\/([^/]+)\/keys\//.exec(id)?.[1] ?? null;
        const validAfter = iso(data.validAfterTime);
        const validBefore = text(data.validBeforeTime);
        row(account, region, 'iam:service-account-key', id, {
          name: email,
          created: validAfter,
          attributes: {
            keyId: last(name),
            serviceAccount: email,
            keyType: text(data.keyType),
            keyOrigin: text(data.keyOrigin),
            algorithm: text(data.keyAlgorithm),
            validAfter,
            validBefore: iso(validBefore) ?? validBefore,
            // Keys made without an expiry run to 9999-12-31.
            neverExpires: validBefore === null || validBefore.startsWith('9999-'),
            ageDays: days(validAfter, req.observedAt),
            disabled: bool(data.disabled) ?? false,
          },
        });
        break;
      }
      case 'logging.googleapis.com/LogSink':
        row(account, region, 'logging:sink', id, { name: short, created: iso(data.createTime), attributes: { destination: text(data.destination), filter: text(data.filter), disabled: bool(data.disabled) ?? false, writerIdentity: text(data.writerIdentity), includeChildren: bool(data.includeChildren) ?? false } });
        break;
      default:
        row(account, region, 'gcp:asset', id, { name: short, tags: labels, attributes: { assetType: text(asset.assetType) ?? req.assetType } });
    }
  }
  const found = rows.length - 1;
  rows[0]!.attributes = JSON.stringify({ contentType: req.contentType, assetType: req.assetType, rows: found, assets: arr(doc.assets).length, readTime: iso(doc.readTime), error: null });
  return rows;
}

/** The member's kind and, for people, groups and domains, the domain it is in. */
function memberParts(member: string): { kind: string; domain: string | null } {
  if (PUBLIC_MEMBERS.has(member)) return { kind: member, domain: null };
  const colon = member.indexOf(':');
  const kind = colon > 0 ? member.slice(0, colon) : member;
  const value = colon > 0 ? member.slice(colon + 1) : '';
  const domain = kind === 'domain' ? value : value.includes('@') ? value.slice(value.lastIndexOf('@') + 1).replace(/\?.*$/, '') : null;
  return { kind, domain: domain === null ? null : domain.toLowerCase() };
}

/** One row per member of each binding, and one row of audit log settings per policy. */
function iamRows(asset: Node, id: string, account: string, region: string, row: (account: string, region: string, type: string, id: string, fields?: { name?: string | null; attributes?: Record<string, unknown> }) => void): void {
  const policy = obj(asset.iamPolicy);
  const assetType = text(asset.assetType);
  const name = last(id);
  for (const binding of arr(policy.bindings)) {
    const role = text(binding.role);
    const condition = obj(binding.condition);
    for (const member of strings(binding.members)) {
      const { kind, domain } = memberParts(member);
      row(account, region, 'gcp:iam-member', id, { name, attributes: { assetType, role, member, memberKind: kind, memberDomain: domain, public: PUBLIC_MEMBERS.has(member), defaultServiceAccount: kind === 'serviceAccount' && DEFAULT_SA.test(member.slice(member.indexOf(':') + 1)), condition: text(condition.title) ?? text(condition.expression) } });
    }
  }
  const configs = arr(policy.auditConfigs);
  const on = (type: string): string[] => configs.filter((c) => arr(c.auditLogConfigs).some((l) => text(l.logType) === type)).map((c) => text(c.service) ?? '').filter((s) => s !== '').sort();
  const dataRead = on('DATA_READ');
  const dataWrite = on('DATA_WRITE');
  if (assetType === 'cloudresourcemanager.googleapis.com/Project' || assetType === 'cloudresourcemanager.googleapis.com/Organization' || assetType === 'cloudresourcemanager.googleapis.com/Folder' || configs.length > 0) {
    row(account, region, 'gcp:audit-config', id, {
      name,
      attributes: { assetType, services: configs.map((c) => text(c.service)).filter((s): s is string => s !== null).sort(), dataRead, dataWrite, adminRead: on('ADMIN_READ'), dataAccessOn: dataRead.length + dataWrite.length > 0, allServices: dataRead.includes('allServices') && dataWrite.includes('allServices') },
    });
  }
}
