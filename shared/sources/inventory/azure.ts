/**
 * Reads preserved Azure answers (Resource Graph, ARM, Microsoft Graph: the raw bodies `amber inventory --cloud
 * azure` keeps) into `inventory` rows. What was asked comes from the key,
 * `azure/inventory/<subscription|tenant>/<yyyymmddThhmmssZ>/<resource-graph|arm|graph>/<query>/page-NNNNN.json`,
 * or from a capture line `{"amberInventoryCapture":1,"cloud":"azure", account, service, operation, observedAt, body}`
 * (service: the API, operation: the query).
 *
 * Rows: `cloud` azure; `account` the subscription (Resource Graph and ARM) or the tenant (Graph); `region` the
 * resource's location (`global` for what has none); `service` the API and `operation` the query. ARM resource ids
 * are lower-cased (Azure compares them without case, and Resource Graph does not always keep it), so rows join on
 * them. Every answer starts with an `api:page` row (rows returned, or the error code of a refusal). Network
 * security group rules give one row per source prefix and destination port range, so a detection reads one range.
 */
import type { InventoryRow } from './parse.ts';

/** What was asked: from the preserved key, or from a capture line. */
export interface AzureInventoryRequest {
  /** The subscription or tenant. */
  readonly account: string;
  /** `resource-graph`, `arm` or `graph`. */
  readonly api: string;
  /** The query's name (`storage-accounts`, `users`...). */
  readonly query: string;
  readonly observedAt: string;
}

const KEY = /(?:^|\/)azure\/inventory\/([A-Za-z0-9._-]+)\/(\d{8}T\d{6}Z)\/(resource-graph|arm|graph)\/([a-z0-9-]+)\/page-\d{5}\.json$/;

/** The request a preserved Azure inventory key names, or undefined for any other key. */
export function azureRequestFromKey(key: string): AzureInventoryRequest | undefined {
  const m = KEY.exec(key);
  if (!m) return undefined;
  const s = m[2]!;
  return { account: m[1]!, observedAt: `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}Z`, api: m[3]!, query: m[4]! };
}

type Node = Record<string, unknown>;
const obj = (v: unknown): Node => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Node) : {});
const list = (v: unknown): Node[] => (Array.isArray(v) ? v.map(obj) : []);
const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : null);
const bool = (v: unknown): boolean | null => (v === true || v === 'true' ? true : v === false || v === 'false' ? false : null);
const lower = (v: unknown): string | null => text(v)?.toLowerCase() ?? null;
const iso = (v: unknown): string | null => {
  const d = typeof v === 'string' && v !== '' ? new Date(v) : undefined;
  return d && !Number.isNaN(d.getTime()) ? `${d.toISOString().slice(0, 19)}Z` : null;
};
const days = (from: string | null, to: string | null): number | null => (from === null || to === null ? null : Math.floor((Date.parse(to) - Date.parse(from)) / 86_400_000));
const tagsOf = (v: unknown): Record<string, string> => Object.fromEntries(Object.entries(obj(v)).map(([k, x]) => [k, String(x ?? '')]));
const jsonTags = (tags: Record<string, string>): string | null =>
  Object.keys(tags).length === 0 ? null : JSON.stringify(Object.fromEntries(Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
/** The last segment of an ARM id (a role definition's GUID). */
const lastSegment = (id: string | null): string | null => (id === null ? null : (id.split('/').pop() ?? null));

/** The built-in roles that can change anything (or anyone's access) in their scope, by their documented ids. */
export const PRIVILEGED_ROLES: Readonly<Record<string, string>> = {
  '8e3af657-a8ff-443c-a75c-2fe8c4bcb635': 'Owner',
  'b24988ac-6180-42a0-ab88-20f7382dd24c': 'Contributor',
  '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9': 'User Access Administrator',
};

/** The rows of one Azure answer. Throws on a body that is not JSON or a query Amber does not read. */
export function parseAzureAnswer(req: AzureInventoryRequest, body: string): InventoryRow[] {
  const rows: InventoryRow[] = [];
  const row = (type: string, id: string, f: { name?: string | null; region?: string | null; tags?: Record<string, string>; created?: string | null; account?: string | null; attributes?: Record<string, unknown> } = {}): void => {
    rows.push({
      cloud: 'azure',
      account: f.account ?? req.account,
      region: f.region ?? 'global',
      service: req.api,
      operation: req.query,
      type,
      id,
      name: f.name ?? null,
      tags: jsonTags(f.tags ?? {}),
      created_at: f.created ?? null,
      observed_at: req.observedAt,
      attributes: JSON.stringify(f.attributes ?? {}),
    });
  };
  let doc: Node;
  try {
    doc = obj(JSON.parse(body.charCodeAt(0) === 0xfeff ? body.slice(1) : body));
  } catch {
    throw new Error('the body is not JSON');
  }
  const error = obj(doc.error);
  if (doc.error !== undefined) {
    row('api:page', req.query, { attributes: { api: req.api, query: req.query, rows: 0, records: 0, error: text(error.code) ?? 'Error', truncated: null } });
    return rows;
  }
  const page = rows.length;
  row('api:page', req.query);
  const records = req.api === 'resource-graph' ? list(doc.data) : list(doc.value);
  // A resource's common fields from a Resource Graph record.
  const resource = (r: Node): { id: string; name: string | null; region: string; tags: Record<string, string>; account: string | null; p: Node } => ({
    id: lower(r.id) ?? '',
    name: text(r.name),
    region: lower(r.location) ?? 'global',
    tags: tagsOf(r.tags),
    account: lower(r.subscriptionId),
    p: obj(r.properties),
  });
  switch (`${req.api}:${req.query}`) {
    case 'resource-graph:subscriptions':
      for (const r of records) {
        const x = resource(r);
        row('azure:subscription', lower(r.subscriptionId) ?? x.id, { name: x.name, tags: x.tags, account: x.account, attributes: { tenantId: lower(r.tenantId), state: text(x.p.state) } });
      }
      break;
    case 'resource-graph:virtual-machines':
      for (const r of records) {
        const x = resource(r);
        const nics = list(obj(x.p.networkProfile).networkInterfaces).map((n) => lower(n.id)).filter((n): n is string => n !== null);
        const os = obj(obj(x.p.storageProfile).osDisk);
        row('azure:vm', x.id, {
          name: x.name, region: x.region, tags: x.tags, account: x.account, created: iso(x.p.timeCreated),
          attributes: {
            vmSize: text(obj(x.p.hardwareProfile).vmSize), osType: text(os.osType), osDisk: lower(obj(os.managedDisk).id), networkInterfaces: nics,
            powerState: text(obj(obj(obj(x.p.extended).instanceView).powerState).code), identity: text(obj(r.identity).type), resourceGroup: lower(r.resourceGroup),
          },
        });
      }
      break;
    case 'resource-graph:network-interfaces':
      for (const r of records) {
        const x = resource(r);
        const nsg = lower(obj(x.p.networkSecurityGroup).id);
        const vm = lower(obj(x.p.virtualMachine).id);
        row('azure:network-interface', x.id, { name: x.name, region: x.region, tags: x.tags, account: x.account, attributes: { vmId: vm, nsgId: nsg } });
        for (const c of list(x.p.ipConfigurations)) {
          const cp = obj(c.properties);
          row('azure:nic-ip-configuration', x.id, {
            name: x.name, region: x.region, account: x.account,
            attributes: { nicId: x.id, ipConfiguration: text(c.name), vmId: vm, nsgId: nsg, subnetId: lower(obj(cp.subnet).id), publicIpId: lower(obj(cp.publicIPAddress).id), privateIp: text(cp.privateIPAddress) },
          });
        }
      }
      break;
    case 'resource-graph:public-ip-addresses':
      for (const r of records) {
        const x = resource(r);
        row('azure:public-ip', x.id, { name: x.name, region: x.region, tags: x.tags, account: x.account, attributes: { ipAddress: text(x.p.ipAddress), sku: text(obj(r.sku).name), allocation: text(x.p.publicIPAllocationMethod), ipConfiguration: lower(obj(x.p.ipConfiguration).id) } });
      }
      break;
    case 'resource-graph:network-security-groups':
      for (const r of records) {
        const x = resource(r);
        row('azure:nsg', x.id, { name: x.name, region: x.region, tags: x.tags, account: x.account, attributes: { networkInterfaces: list(x.p.networkInterfaces).map((n) => lower(n.id)), subnets: list(x.p.subnets).map((s) => lower(s.id)) } });
        for (const [kind, rules] of [['custom', x.p.securityRules], ['default', x.p.defaultSecurityRules]] as const) {
          for (const rule of list(rules)) {
            const rp = obj(rule.properties);
            const sources = (Array.isArray(rp.sourceAddressPrefixes) && rp.sourceAddressPrefixes.length > 0 ? rp.sourceAddressPrefixes : [rp.sourceAddressPrefix]).map((s) => text(s) ?? '');
            const ports = (Array.isArray(rp.destinationPortRanges) && rp.destinationPortRanges.length > 0 ? rp.destinationPortRanges : [rp.destinationPortRange]).map((p) => text(p) ?? '');
            for (const source of sources) {
              for (const range of ports) {
                const [from, to] = portRange(range);
                row('azure:nsg-rule', x.id, {
                  name: x.name, region: x.region, account: x.account,
                  attributes: {
                    nsgId: x.id, rule: text(rule.name), kind, direction: text(rp.direction), access: text(rp.access), priority: typeof rp.priority === 'number' ? rp.priority : null,
                    protocol: text(rp.protocol), source, portRange: range, fromPort: from, toPort: to,
                  },
                });
              }
            }
          }
        }
      }
      break;
    case 'resource-graph:virtual-networks':
      for (const r of records) {
        const x = resource(r);
        const subnets = list(x.p.subnets);
        row('azure:virtual-network', x.id, { name: x.name, region: x.region, tags: x.tags, account: x.account, attributes: { addressPrefixes: obj(x.p.addressSpace).addressPrefixes ?? [], subnets: subnets.length } });
        for (const s of subnets) {
          const sp = obj(s.properties);
          row('azure:subnet', lower(s.id) ?? '', { name: text(s.name), region: x.region, account: x.account, attributes: { virtualNetwork: x.id, nsgId: lower(obj(sp.networkSecurityGroup).id), addressPrefix: text(sp.addressPrefix) } });
        }
      }
      break;
    case 'resource-graph:disks':
    case 'resource-graph:snapshots':
      for (const r of records) {
        const x = resource(r);
        row(req.query === 'disks' ? 'azure:disk' : 'azure:snapshot', x.id, {
          name: x.name, region: x.region, tags: x.tags, account: x.account, created: iso(x.p.timeCreated),
          attributes: {
            networkAccessPolicy: text(x.p.networkAccessPolicy), publicNetworkAccess: text(x.p.publicNetworkAccess), diskAccessId: lower(x.p.diskAccessId), diskState: text(x.p.diskState),
            sizeGiB: typeof x.p.diskSizeGB === 'number' ? x.p.diskSizeGB : null, encryption: text(obj(x.p.encryption).type), managedBy: lower(r.managedBy ?? x.p.managedBy), source: lower(obj(x.p.creationData).sourceResourceId),
          },
        });
      }
      break;
    case 'resource-graph:storage-accounts':
      for (const r of records) {
        const x = resource(r);
        const acl = obj(x.p.networkAcls);
        row('azure:storage-account', x.id, {
          name: x.name, region: x.region, tags: x.tags, account: x.account, created: iso(x.p.creationTime),
          attributes: {
            allowBlobPublicAccess: bool(x.p.allowBlobPublicAccess), publicNetworkAccess: text(x.p.publicNetworkAccess), minimumTlsVersion: text(x.p.minimumTlsVersion),
            allowSharedKeyAccess: bool(x.p.allowSharedKeyAccess), supportsHttpsTrafficOnly: bool(x.p.supportsHttpsTrafficOnly), networkDefaultAction: text(acl.defaultAction), kind: text(r.kind), sku: text(obj(r.sku).name),
          },
        });
      }
      break;
    case 'resource-graph:key-vaults':
      for (const r of records) {
        const x = resource(r);
        row('azure:key-vault', x.id, {
          name: x.name, region: x.region, tags: x.tags, account: x.account,
          attributes: { publicNetworkAccess: text(x.p.publicNetworkAccess), networkDefaultAction: text(obj(x.p.networkAcls).defaultAction), enableRbacAuthorization: bool(x.p.enableRbacAuthorization), enableSoftDelete: bool(x.p.enableSoftDelete), enablePurgeProtection: bool(x.p.enablePurgeProtection), vaultUri: text(x.p.vaultUri) },
        });
      }
      break;
    case 'resource-graph:web-apps':
      for (const r of records) {
        const x = resource(r);
        row('azure:web-app', x.id, {
          name: x.name, region: x.region, tags: x.tags, account: x.account,
          attributes: { kind: text(r.kind), state: text(x.p.state), defaultHostName: text(x.p.defaultHostName), httpsOnly: bool(x.p.httpsOnly), publicNetworkAccess: text(x.p.publicNetworkAccess), clientCertEnabled: bool(x.p.clientCertEnabled), identity: text(obj(r.identity).type) },
        });
      }
      break;
    case 'resource-graph:role-assignments':
      for (const r of records) {
        const p = obj(r.properties);
        const definition = lower(p.roleDefinitionId);
        const guid = lastSegment(definition);
        row('azure:role-assignment', lower(r.id) ?? '', {
          name: text(r.name), account: lower(r.subscriptionId), created: iso(p.createdOn),
          attributes: { scope: lower(p.scope), roleDefinitionId: definition, role: guid === null ? null : (PRIVILEGED_ROLES[guid] ?? null), roleGuid: guid, principalId: lower(p.principalId), principalType: text(p.principalType), createdBy: lower(p.createdBy) },
        });
      }
      break;
    case 'resource-graph:role-definitions':
      for (const r of records) {
        const p = obj(r.properties);
        row('azure:role-definition', lower(r.id) ?? '', { name: text(p.roleName), account: lower(r.subscriptionId), attributes: { roleName: text(p.roleName), roleType: text(p.type), roleGuid: lastSegment(lower(r.id)) } });
      }
      break;
    case 'arm:diagnostic-settings':
      for (const s of records) {
        const p = obj(s.properties);
        const enabled = list(p.logs).filter((l) => bool(l.enabled) === true).map((l) => text(l.category) ?? text(l.categoryGroup) ?? '');
        const destinations = [['storage', p.storageAccountId], ['workspace', p.workspaceId], ['eventHub', p.eventHubAuthorizationRuleId], ['serviceBus', p.serviceBusRuleId], ['partner', p.marketplacePartnerId]]
          .filter(([, v]) => text(v) !== null)
          .map(([k]) => k as string);
        row('azure:activity-log-diagnostic-setting', lower(s.id) ?? '', { name: text(s.name), attributes: { enabledCategories: enabled, destinations, exported: enabled.length > 0 && destinations.length > 0, workspaceId: lower(p.workspaceId), storageAccountId: lower(p.storageAccountId) } });
      }
      break;
    case 'graph:users':
    case 'graph:users-basic':
      for (const u of records) {
        const sign = obj(u.signInActivity);
        const last = [iso(sign.lastSignInDateTime), iso(sign.lastNonInteractiveSignInDateTime)].filter((d): d is string => d !== null).sort().pop() ?? null;
        row('entra:user', lower(u.id) ?? '', {
          name: text(u.userPrincipalName), created: iso(u.createdDateTime),
          attributes: { displayName: text(u.displayName), userType: text(u.userType), accountEnabled: bool(u.accountEnabled), signInActivityRead: req.query === 'users', lastSignIn: last, daysSinceSignIn: days(last, req.observedAt) },
        });
      }
      break;
    case 'graph:user-registration-details':
      for (const u of records) {
        row('entra:user-registration', lower(u.id) ?? '', {
          name: text(u.userPrincipalName),
          attributes: { userType: text(u.userType), isAdmin: bool(u.isAdmin), isMfaRegistered: bool(u.isMfaRegistered), isMfaCapable: bool(u.isMfaCapable), methodsRegistered: Array.isArray(u.methodsRegistered) ? u.methodsRegistered : [], lastUpdated: iso(u.lastUpdatedDateTime) },
        });
      }
      break;
    case 'graph:service-principals':
    case 'graph:applications': {
      const kind = req.query === 'applications' ? 'application' : 'service-principal';
      for (const a of records) {
        const id = lower(a.id) ?? '';
        row(`entra:${kind}`, id, {
          name: text(a.displayName), created: iso(a.createdDateTime),
          attributes: { appId: lower(a.appId), type: text(a.servicePrincipalType), accountEnabled: bool(a.accountEnabled), ownerTenant: lower(a.appOwnerOrganizationId), signInAudience: text(a.signInAudience), passwordCredentials: list(a.passwordCredentials).length, keyCredentials: list(a.keyCredentials).length },
        });
        for (const [credential, creds] of [['password', a.passwordCredentials], ['certificate', a.keyCredentials]] as const) {
          for (const c of list(creds)) {
            const start = iso(c.startDateTime);
            const end = iso(c.endDateTime);
            row('entra:credential', id, {
              name: text(a.displayName), created: start,
              attributes: {
                owner: kind, ownerId: id, appId: lower(a.appId), credential, keyId: lower(c.keyId), displayName: text(c.displayName), start, end,
                lifetimeDays: days(start, end), expired: end === null ? null : Date.parse(end) < Date.parse(req.observedAt), daysToExpiry: days(req.observedAt, end),
              },
            });
          }
        }
      }
      break;
    }
    default:
      throw new Error(`Amber does not read ${req.api} ${req.query} answers yet`);
  }
  const truncated = req.api === 'resource-graph' ? doc.resultTruncated === true || doc.resultTruncated === 'true' : null;
  rows[page]!.attributes = JSON.stringify({ api: req.api, query: req.query, rows: rows.length - page - 1, records: records.length, error: null, truncated });
  return rows;
}

/** `22` -> [22, 22]; `1000-2000` -> [1000, 2000]; `*` -> [0, 65535]; anything else -> [null, null]. */
function portRange(range: string): [number | null, number | null] {
  if (range === '*') return [0, 65535];
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(range.trim());
  if (!m) return [null, null];
  return [Number(m[1]), Number(m[2] ?? m[1])];
}
