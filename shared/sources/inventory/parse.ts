/**
 * Reads preserved AWS API answers (the raw HTTP bodies `amber inventory` keeps) into `inventory` rows. The body
 * alone does not always say what was asked (an S3 GetBucketAcl answer names no bucket), so the request comes
 * from the preserved key, which `amber inventory` writes as
 * `aws/inventory/<account>/<yyyymmddThhmmssZ>/<region|global>/<service>/<Operation>[/<resource>]/page-NNNNN.<xml|json>`.
 *
 * A capture file (JSON Lines, one `{"amberInventoryCapture":1, account, region, service, operation, resource?,
 * observedAt, body}` per answer, `body` the answer's text) is read the same way: the format for answers saved by
 * other means, and for the detection fixtures, which need several answers in one object.
 *
 * Every answer yields first an `api:page` row (what was asked, how many items came back, or the error code of an
 * answer that says something is absent, such as NoSuchBucketPolicy): absence is evidence only when the question
 * was asked. Record indexes number the rows of one object in order, so a finding cites one row of one answer.
 *
 * Other clouds' answers are read by their own modules, chosen here by key (or by a capture line's `cloud`):
 * Azure (`azure/inventory/...`, `"cloud":"azure"`) by azure.ts.
 */
import { XMLParser } from 'fast-xml-parser';
import type { SourceParseResult, SourceProblem, SourceRow } from '../log-source.ts';
import { azureRequestFromKey, parseAzureAnswer } from './azure.ts';
import { GCP_INVENTORY_KEY, gcpRequestFromCapture, gcpRequestFromKey, parseGcpAnswer } from './gcp.ts';

/** What was asked: from the preserved key, or from a capture line. */
export interface InventoryRequest {
  readonly account: string;
  readonly region: string;
  readonly service: string;
  readonly operation: string;
  /** The resource the call was about (bucket, user, function, snapshot...), when the call names one. */
  readonly resource?: string;
  /** ISO-8601 UTC time the inventory was taken. */
  readonly observedAt: string;
}

/** One normalised row before Amber's evidence columns. */
export interface InventoryRow {
  cloud: string;
  account: string;
  region: string;
  service: string;
  operation: string;
  type: string;
  id: string;
  name: string | null;
  tags: string | null;
  created_at: string | null;
  observed_at: string;
  attributes: string;
}

const KEY = /(?:^|\/)aws\/inventory\/(\d{12})\/(\d{8}T\d{6}Z)\/([a-z0-9-]+)\/([a-z0-9-]+)\/([A-Za-z]+)\/(?:([^/]+)\/)?page-\d{5}\.(?:xml|json)$/;
const CAPTURE_HEAD = /^\s*\{\s*"amberInventoryCapture"\s*:\s*1\b/;

/** True for a preserved inventory answer (by its key) or a capture file (by its first bytes). */
export function sniffInventory(head: string, key: string): boolean {
  return KEY.test(key) || GCP_INVENTORY_KEY.test(key) || CAPTURE_HEAD.test(head) || azureRequestFromKey(key) !== undefined;
}

/** The request a preserved key names, or undefined for any other key. */
export function requestFromKey(key: string): InventoryRequest | undefined {
  const m = KEY.exec(key);
  if (!m) return undefined;
  const stamp = m[2]!;
  return {
    account: m[1]!,
    observedAt: `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13, 15)}Z`,
    region: m[3]!,
    service: m[4]!,
    operation: m[5]!,
    ...(m[6] !== undefined ? { resource: decodeURIComponent(m[6]) } : {}),
  };
}

/** Parses one object: a preserved answer or a capture file. Bad answers are problems naming their position. */
export function parseInventory(text: string, key: string): SourceParseResult {
  const request = requestFromKey(key);
  const rows: SourceRow[] = [];
  const problems: SourceProblem[] = [];
  // A capture line that cannot be read is one record set aside: it takes an index of its own, so the rows after it
  // keep the indexes they have when it is sound.
  let next = 0;
  const push = (list: InventoryRow[], line?: number): void => {
    for (const row of list) rows.push({ index: next++, ...(line !== undefined ? { line } : {}), row: row as unknown as Record<string, unknown> });
  };
  // Google Cloud: gcp.ts reads Cloud Asset Inventory pages (keys and capture lines with "cloud": "gcp").
  const gcp = gcpRequestFromKey(key);
  if (gcp) {
    try {
      push(parseGcpAnswer(gcp, text) as unknown as InventoryRow[]);
    } catch (error) {
      problems.push({ index: 0, reason: `cloudasset assets.list ${gcp.contentType} ${gcp.assetType} answer: ${(error as Error).message}` });
    }
    return { variant: 'api-answer', rows, problems };
  }
  if (request) {
    try {
      push(parseAnswer(request, text));
    } catch (error) {
      problems.push({ index: 0, reason: `${request.service} ${request.operation} answer: ${(error as Error).message}` });
    }
    return { variant: 'api-answer', rows, problems };
  }
  const azure = azureRequestFromKey(key);
  if (azure) {
    try {
      push(parseAzureAnswer(azure, text));
    } catch (error) {
      problems.push({ index: 0, reason: `azure ${azure.api} ${azure.query} answer: ${(error as Error).message}` });
    }
    return { variant: 'azure-answer', rows, problems };
  }
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i]!;
    if (line.trim() === '') {
      // A blank line (where the input limits set a record aside) holds an index too, as a bad line does.
      if (i < lines.length - 1) next += 1;
      continue;
    }
    try {
      const doc = JSON.parse(line) as Record<string, unknown>;
      if (doc.cloud === 'gcp') {
        const req = gcpRequestFromCapture(doc);
        if (typeof doc.body !== 'string') throw new Error('field "body" must be text');
        push(parseGcpAnswer(req, doc.body) as unknown as InventoryRow[], i + 1);
        continue;
      }
      const str = (k: string): string => {
        const v = doc[k];
        if (typeof v !== 'string' || v === '') throw new Error(`field "${k}" must be non-empty text`);
        return v;
      };
      if (doc.cloud === 'azure') {
        push(parseAzureAnswer({ account: str('account'), api: str('service'), query: str('operation'), observedAt: str('observedAt') }, str('body')), i + 1);
        continue;
      }
      const capture: InventoryRequest = {
        account: str('account'),
        region: str('region'),
        service: str('service'),
        operation: str('operation'),
        observedAt: str('observedAt'),
        ...(typeof doc.resource === 'string' ? { resource: doc.resource } : {}),
      };
      push(parseAnswer(capture, str('body')), i + 1);
    } catch (error) {
      problems.push({ index: next++, line: i + 1, reason: `capture line ${i + 1}: ${(error as Error).message}` });
    }
  }
  return { variant: 'capture', rows, problems };
}

const xml = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (name) => ['item', 'member', 'Bucket', 'Grant', 'DBInstance', 'DBSnapshot', 'DBSnapshotAttribute', 'AttributeValue'].includes(name),
});

type Node = Record<string, unknown>;
const obj = (v: unknown): Node => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Node) : {});
const arr = (v: unknown): Node[] => (Array.isArray(v) ? v.map(obj) : v === undefined || v === null || v === '' ? [] : [obj(v)]);
/** The `item` / `member` list of an XML wrapper element. */
const items = (v: unknown): Node[] => {
  const o = obj(v);
  return arr(o.item ?? o.member);
};
const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : null);
const bool = (v: unknown): boolean | null => (v === true || v === 'true' ? true : v === false || v === 'false' ? false : null);
const int = (v: unknown): number | null => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : NaN;
  return Number.isSafeInteger(n) ? n : null;
};
/** A time as ISO-8601 UTC text (seconds), from ISO text or epoch seconds. */
const iso = (v: unknown): string | null => {
  const d = typeof v === 'number' ? new Date(v * 1000) : typeof v === 'string' && v !== '' ? new Date(v) : undefined;
  return d && !Number.isNaN(d.getTime()) ? `${d.toISOString().slice(0, 19)}Z` : null;
};
/** Whole days from `from` to `to` (both ISO), or null when either is missing. */
const days = (from: string | null, to: string): number | null => (from === null ? null : Math.floor((Date.parse(to) - Date.parse(from)) / 86_400_000));
const ec2Tags = (v: unknown): Record<string, string> => Object.fromEntries(items(v).map((t) => [String(t.key ?? ''), String(t.value ?? '')]));
const jsonTags = (tags: Record<string, string>): string | null => (Object.keys(tags).length === 0 ? null : JSON.stringify(Object.fromEntries(Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))));

/**
 * Whether a resource policy (IAM JSON) lets anyone in: an Allow statement whose principal is `*` (or `{"AWS": "*"}`)
 * and that carries no Condition. A condition may still restrict it (an org id, a source VPC), so such statements
 * are counted apart (`conditionalAnyone`) for a person to read, not reported as open.
 */
export function policyOpenness(policy: string | null): { anyone: boolean; conditionalAnyone: boolean; otherAccounts: string[] } {
  const out = { anyone: false, conditionalAnyone: false, otherAccounts: [] as string[] };
  if (policy === null) return out;
  let doc: unknown;
  try {
    doc = JSON.parse(policy);
  } catch {
    return out;
  }
  const statements = arr(obj(doc).Statement);
  for (const s of statements) {
    if (s.Effect !== 'Allow') continue;
    const p = s.Principal;
    const aws = p === '*' ? ['*'] : ([] as unknown[]).concat(obj(p).AWS ?? []);
    const open = aws.includes('*');
    if (open && s.Condition === undefined) out.anyone = true;
    else if (open) out.conditionalAnyone = true;
    for (const a of aws) {
      const m = typeof a === 'string' ? /^(?:arn:aws[a-z-]*:iam::)?(\d{12})(?::|$)/.exec(a) : null;
      if (m) out.otherAccounts.push(m[1]!);
    }
  }
  out.otherAccounts = [...new Set(out.otherAccounts)].sort();
  return out;
}

/** The rows of one answer. Throws on a body that is neither the expected XML nor JSON. */
export function parseAnswer(req: InventoryRequest, body: string): InventoryRow[] {
  const rows: InventoryRow[] = [];
  const row = (type: string, id: string, fields: { name?: string | null; tags?: Record<string, string>; created?: string | null; attributes?: Record<string, unknown> } = {}): void => {
    rows.push({
      cloud: 'aws',
      account: req.account,
      region: req.region,
      service: req.service,
      operation: req.operation,
      type,
      id,
      name: fields.name ?? null,
      tags: jsonTags(fields.tags ?? {}),
      created_at: fields.created ?? null,
      observed_at: req.observedAt,
      attributes: JSON.stringify(fields.attributes ?? {}),
    });
  };
  const trimmed = body.trimStart();
  const isXml = trimmed.startsWith('<');
  let doc: Node;
  if (isXml) {
    const parsed = obj(xml.parse(body, true));
    const root = Object.keys(parsed).find((k) => k !== '?xml');
    if (root === undefined) throw new Error('no XML root element');
    doc = obj(parsed[root]);
    if (root === 'Error' || root === 'ErrorResponse' || root === 'Response') {
      const err = root === 'Error' ? doc : obj(obj(doc.Error).Code !== undefined ? doc.Error : items(doc.Errors)[0] ?? obj(obj(doc.Errors).Error));
      row('api:page', req.operation, { name: req.resource ?? null, attributes: { service: req.service, operation: req.operation, resource: req.resource ?? null, rows: 0, error: text(err.Code) } });
      return rows;
    }
    // Query-protocol answers wrap the result in <OperationResult>.
    if (doc[`${req.operation}Result`] !== undefined) doc = obj(doc[`${req.operation}Result`]);
  } else if (req.service === 's3' && req.operation === 'GetBucketPolicy') {
    doc = { Policy: body };
  } else {
    try {
      doc = obj(JSON.parse(body));
    } catch {
      throw new Error('the body is neither XML nor JSON');
    }
    const code = text(doc.__type) ?? (typeof doc.Type === 'string' && typeof doc.Message === 'string' ? text(doc.Type) : null);
    if (code !== null) {
      row('api:page', req.operation, { name: req.resource ?? null, attributes: { service: req.service, operation: req.operation, resource: req.resource ?? null, rows: 0, error: code.split('#').pop() ?? code } });
      return rows;
    }
  }
  const page = rows.length;
  row('api:page', req.operation, { name: req.resource ?? null });
  const resource = req.resource ?? '';
  switch (`${req.service}:${req.operation}`) {
    case 'ec2:DescribeInstances':
      for (const reservation of items(doc.reservationSet)) {
        for (const i of items(reservation.instancesSet)) {
          const id = text(i.instanceId) ?? '';
          const tags = ec2Tags(i.tagSet);
          const groups = items(i.groupSet).map((g) => text(g.groupId)).filter((g): g is string => g !== null);
          const publicIp = text(i.ipAddress);
          row('ec2:instance', id, {
            name: tags.Name ?? null,
            tags,
            created: iso(i.launchTime),
            attributes: { state: text(obj(i.instanceState).name), publicIp, privateIp: text(i.privateIpAddress), vpcId: text(i.vpcId), subnetId: text(i.subnetId), imageId: text(i.imageId), securityGroups: groups, instanceProfile: text(obj(i.iamInstanceProfile).arn) },
          });
          for (const g of groups) row('ec2:instance-security-group', id, { name: tags.Name ?? null, attributes: { instanceId: id, groupId: g, publicIp, state: text(obj(i.instanceState).name) } });
        }
      }
      break;
    case 'ec2:DescribeVolumes':
      for (const v of items(doc.volumeSet)) {
        const tags = ec2Tags(v.tagSet);
        row('ec2:volume', text(v.volumeId) ?? '', { name: tags.Name ?? null, tags, created: iso(v.createTime), attributes: { state: text(v.status), sizeGiB: int(v.size), encrypted: bool(v.encrypted), snapshotId: text(v.snapshotId), attachedTo: items(v.attachmentSet).map((a) => text(a.instanceId)) } });
      }
      break;
    case 'ec2:DescribeSnapshots':
      for (const s of items(doc.snapshotSet)) {
        const tags = ec2Tags(s.tagSet);
        row('ec2:snapshot', text(s.snapshotId) ?? '', { name: tags.Name ?? null, tags, created: iso(s.startTime), attributes: { volumeId: text(s.volumeId), ownerId: text(s.ownerId), encrypted: bool(s.encrypted), state: text(s.status), description: text(s.description) } });
      }
      break;
    case 'ec2:DescribeSnapshotAttribute':
    case 'ec2:DescribeImageAttribute': {
      const snapshot = req.operation === 'DescribeSnapshotAttribute';
      const id = text(snapshot ? doc.snapshotId : doc.imageId) ?? resource;
      for (const p of items(snapshot ? doc.createVolumePermission : doc.launchPermission)) {
        row(snapshot ? 'ec2:snapshot-permission' : 'ec2:image-permission', id, { attributes: { group: text(p.group), userId: text(p.userId), organizationArn: text(p.organizationArn), organizationalUnitArn: text(p.organizationalUnitArn) } });
      }
      break;
    }
    case 'ec2:DescribeImages':
      for (const i of items(doc.imagesSet)) {
        const tags = ec2Tags(i.tagSet);
        row('ec2:image', text(i.imageId) ?? '', { name: text(i.name) ?? tags.Name ?? null, tags, created: iso(i.creationDate), attributes: { isPublic: bool(i.isPublic), ownerId: text(i.imageOwnerId), state: text(i.imageState) } });
      }
      break;
    case 'ec2:DescribeSecurityGroups':
      for (const g of items(doc.securityGroupInfo)) {
        const id = text(g.groupId) ?? '';
        const tags = ec2Tags(g.tagSet);
        row('ec2:security-group', id, { name: text(g.groupName), tags, attributes: { vpcId: text(g.vpcId), description: text(g.groupDescription), ownerId: text(g.ownerId) } });
        for (const [direction, list] of [['ingress', g.ipPermissions], ['egress', g.ipPermissionsEgress]] as const) {
          for (const p of items(list)) {
            const base = { groupId: id, direction, protocol: text(p.ipProtocol), fromPort: int(p.fromPort), toPort: int(p.toPort) };
            for (const r of items(p.ipRanges)) row('ec2:security-group-rule', id, { name: text(g.groupName), attributes: { ...base, cidr: text(r.cidrIp), description: text(r.description) } });
            for (const r of items(p.ipv6Ranges)) row('ec2:security-group-rule', id, { name: text(g.groupName), attributes: { ...base, cidr: text(r.cidrIpv6), description: text(r.description) } });
            for (const r of items(p.groups)) row('ec2:security-group-rule', id, { name: text(g.groupName), attributes: { ...base, sourceGroup: text(r.groupId), description: text(r.description) } });
            for (const r of items(p.prefixListIds)) row('ec2:security-group-rule', id, { name: text(g.groupName), attributes: { ...base, prefixList: text(r.prefixListId), description: text(r.description) } });
          }
        }
      }
      break;
    case 'ec2:DescribeVpcs':
      for (const v of items(doc.vpcSet)) {
        const tags = ec2Tags(v.tagSet);
        row('ec2:vpc', text(v.vpcId) ?? '', { name: tags.Name ?? null, tags, attributes: { cidrBlock: text(v.cidrBlock), isDefault: bool(v.isDefault), state: text(v.state), ownerId: text(v.ownerId) } });
      }
      break;
    case 'ec2:DescribeVpcEndpoints':
      for (const e of items(doc.vpcEndpointSet)) {
        const tags = ec2Tags(e.tagSet);
        row('ec2:vpc-endpoint', text(e.vpcEndpointId) ?? '', { name: tags.Name ?? null, tags, created: iso(e.creationTimestamp), attributes: { vpcId: text(e.vpcId), serviceName: text(e.serviceName), endpointType: text(e.vpcEndpointType), state: text(e.state), policy: text(e.policyDocument), anyone: policyOpenness(text(e.policyDocument)).anyone } });
      }
      break;
    case 'ec2:DescribeFlowLogs':
      for (const f of items(doc.flowLogSet)) {
        const tags = ec2Tags(f.tagSet);
        row('ec2:flow-log', text(f.flowLogId) ?? '', { name: tags.Name ?? null, tags, created: iso(f.creationTime), attributes: { resourceId: text(f.resourceId), status: text(f.flowLogStatus), deliverStatus: text(f.deliverLogsStatus), trafficType: text(f.trafficType), destination: text(f.logDestination) ?? text(f.logGroupName) } });
      }
      break;
    case 'iam:ListUsers':
      for (const u of arr(obj(doc.Users).member)) {
        const name = text(u.UserName) ?? '';
        row('iam:user', name, { name, created: iso(u.CreateDate), attributes: { arn: text(u.Arn), userId: text(u.UserId), passwordLastUsed: iso(u.PasswordLastUsed) } });
      }
      break;
    case 'iam:ListRoles':
      for (const r of arr(obj(doc.Roles).member)) {
        const name = text(r.RoleName) ?? '';
        const trust = text(r.AssumeRolePolicyDocument);
        const decoded = trust === null ? null : safeDecode(trust);
        row('iam:role', name, { name, created: iso(r.CreateDate), attributes: { arn: text(r.Arn), trustPolicy: decoded, trustsAnyone: policyOpenness(decoded).anyone, trustedAccounts: policyOpenness(decoded).otherAccounts } });
      }
      break;
    case 'iam:ListPolicies':
      for (const p of arr(obj(doc.Policies).member)) {
        row('iam:policy', text(p.Arn) ?? '', { name: text(p.PolicyName), created: iso(p.CreateDate), attributes: { attachments: int(p.AttachmentCount), defaultVersion: text(p.DefaultVersionId) } });
      }
      break;
    case 'iam:ListAccessKeys':
      for (const k of arr(obj(doc.AccessKeyMetadata).member)) {
        const created = iso(k.CreateDate);
        row('iam:access-key', text(k.AccessKeyId) ?? '', { name: text(k.UserName) ?? resource, created, attributes: { userName: text(k.UserName) ?? resource, status: text(k.Status), ageDays: days(created, req.observedAt) } });
      }
      break;
    case 'iam:GetAccessKeyLastUsed': {
      const used = obj(doc.AccessKeyLastUsed);
      const last = iso(used.LastUsedDate);
      row('iam:access-key-last-used', resource, { name: text(doc.UserName), attributes: { userName: text(doc.UserName), lastUsed: last, daysSinceUse: days(last, req.observedAt), service: text(used.ServiceName), region: text(used.Region) } });
      break;
    }
    case 'iam:ListMFADevices':
      for (const d of arr(obj(doc.MFADevices).member)) {
        row('iam:mfa-device', text(d.SerialNumber) ?? '', { name: text(d.UserName) ?? resource, created: iso(d.EnableDate), attributes: { userName: text(d.UserName) ?? resource } });
      }
      break;
    case 'iam:ListAttachedUserPolicies':
    case 'iam:ListAttachedRolePolicies': {
      const principalType = req.operation === 'ListAttachedUserPolicies' ? 'user' : 'role';
      for (const p of arr(obj(doc.AttachedPolicies).member)) {
        const arn = text(p.PolicyArn) ?? '';
        // AdministratorAccess (AWS managed) grants everything; IAMFullAccess lets the holder grant itself the rest.
        const admin = /:policy\/(AdministratorAccess|IAMFullAccess)$/.test(arn);
        row('iam:attached-policy', arn, { name: text(p.PolicyName), attributes: { principalType, principal: resource, admin } });
      }
      break;
    }
    case 's3:ListBuckets':
      for (const b of arr(obj(doc.Buckets).Bucket)) {
        const name = text(b.Name) ?? '';
        row('s3:bucket', name, { name, created: iso(b.CreationDate), attributes: { region: text(b.BucketRegion) } });
      }
      break;
    case 's3:GetBucketPolicy': {
      const policy = text(doc.Policy);
      const open = policyOpenness(policy);
      row('s3:bucket-policy', resource, { name: resource, attributes: { policy, anyone: open.anyone, conditionalAnyone: open.conditionalAnyone, otherAccounts: open.otherAccounts } });
      break;
    }
    case 's3:GetBucketPolicyStatus':
      row('s3:bucket-policy-status', resource, { name: resource, attributes: { isPublic: bool(doc.IsPublic) } });
      break;
    case 's3:GetBucketAcl':
      for (const g of arr(obj(doc.AccessControlList).Grant)) {
        const grantee = obj(g.Grantee);
        row('s3:bucket-grant', resource, { name: resource, attributes: { granteeType: text(grantee['@type']), uri: text(grantee.URI), granteeId: text(grantee.ID), permission: text(g.Permission) } });
      }
      break;
    case 's3:GetPublicAccessBlock':
      row('s3:public-access-block', resource, {
        name: resource,
        attributes: { blockPublicAcls: bool(doc.BlockPublicAcls), ignorePublicAcls: bool(doc.IgnorePublicAcls), blockPublicPolicy: bool(doc.BlockPublicPolicy), restrictPublicBuckets: bool(doc.RestrictPublicBuckets) },
      });
      break;
    case 's3control:GetPublicAccessBlock':
      // The account's own block (S3 Control): it overrides every bucket's, whatever their policies and ACLs say.
      row('s3:account-public-access-block', req.account, {
        attributes: { blockPublicAcls: bool(doc.BlockPublicAcls), ignorePublicAcls: bool(doc.IgnorePublicAcls), blockPublicPolicy: bool(doc.BlockPublicPolicy), restrictPublicBuckets: bool(doc.RestrictPublicBuckets) },
      });
      break;
    case 'lambda:ListFunctions':
      for (const f of arr(doc.Functions)) {
        row('lambda:function', text(f.FunctionArn) ?? '', { name: text(f.FunctionName), created: iso(f.LastModified), attributes: { runtime: text(f.Runtime), role: text(f.Role), lastModified: text(f.LastModified) } });
      }
      break;
    case 'lambda:ListFunctionUrlConfigs':
      for (const u of arr(doc.FunctionUrlConfigs)) {
        row('lambda:function-url', text(u.FunctionUrl) ?? '', { name: resource, created: iso(u.CreationTime), attributes: { functionArn: text(u.FunctionArn), authType: text(u.AuthType), invokeMode: text(u.InvokeMode) } });
      }
      break;
    case 'lambda:GetPolicy': {
      const policy = text(doc.Policy);
      const open = policyOpenness(policy);
      row('lambda:policy', resource, { name: resource, attributes: { policy, anyone: open.anyone, conditionalAnyone: open.conditionalAnyone, otherAccounts: open.otherAccounts } });
      break;
    }
    case 'rds:DescribeDBInstances':
      for (const d of arr(obj(doc.DBInstances).DBInstance)) {
        row('rds:db-instance', text(d.DBInstanceIdentifier) ?? '', { name: text(d.DBInstanceIdentifier), created: iso(d.InstanceCreateTime), attributes: { engine: text(d.Engine), publiclyAccessible: bool(d.PubliclyAccessible), encrypted: bool(d.StorageEncrypted), endpoint: text(obj(d.Endpoint).Address), port: int(obj(d.Endpoint).Port), status: text(d.DBInstanceStatus) } });
      }
      break;
    case 'rds:DescribeDBSnapshots':
      for (const s of arr(obj(doc.DBSnapshots).DBSnapshot)) {
        row('rds:db-snapshot', text(s.DBSnapshotIdentifier) ?? '', { name: text(s.DBSnapshotIdentifier), created: iso(s.SnapshotCreateTime), attributes: { instance: text(s.DBInstanceIdentifier), snapshotType: text(s.SnapshotType), encrypted: bool(s.Encrypted), status: text(s.Status) } });
      }
      break;
    case 'rds:DescribeDBSnapshotAttributes': {
      const result = obj(doc.DBSnapshotAttributesResult);
      const id = text(result.DBSnapshotIdentifier) ?? resource;
      for (const a of arr(obj(result.DBSnapshotAttributes).DBSnapshotAttribute)) {
        if (text(a.AttributeName) !== 'restore') continue;
        const values = obj(a.AttributeValues).AttributeValue;
        for (const v of Array.isArray(values) ? values : []) {
          row('rds:db-snapshot-permission', id, { name: id, attributes: { restore: text(v) } });
        }
      }
      break;
    }
    case 'kms:ListKeys':
      for (const k of arr(doc.Keys)) row('kms:key', text(k.KeyArn) ?? text(k.KeyId) ?? '', { name: text(k.KeyId), attributes: {} });
      break;
    case 'kms:GetKeyPolicy': {
      const policy = text(doc.Policy);
      const open = policyOpenness(policy);
      row('kms:key-policy', resource, { name: resource, attributes: { policy, anyone: open.anyone, conditionalAnyone: open.conditionalAnyone, otherAccounts: open.otherAccounts.filter((a) => a !== req.account) } });
      break;
    }
    case 'cloudtrail:DescribeTrails':
      for (const t of arr(doc.trailList)) {
        row('cloudtrail:trail', text(t.TrailARN) ?? '', { name: text(t.Name), attributes: { homeRegion: text(t.HomeRegion), multiRegion: t.IsMultiRegionTrail === true, organization: t.IsOrganizationTrail === true, bucket: text(t.S3BucketName) } });
      }
      break;
    case 'cloudtrail:GetTrailStatus':
      row('cloudtrail:trail-status', resource, { name: resource, attributes: { isLogging: doc.IsLogging === true, latestDelivery: iso(doc.LatestDeliveryTime), stoppedAt: iso(doc.StopLoggingTime) } });
      break;
    case 'guardduty:ListDetectors':
      for (const d of Array.isArray(doc.detectorIds) ? doc.detectorIds : []) row('guardduty:detector-id', String(d), { attributes: {} });
      break;
    case 'guardduty:GetDetector':
      row('guardduty:detector', resource, { created: iso(doc.createdAt), attributes: { status: text(doc.status), updatedAt: iso(doc.updatedAt) } });
      break;
    case 'sts:GetCallerIdentity':
      row('aws:account', text(doc.Account) ?? req.account, { name: text(doc.Arn), attributes: { caller: text(doc.Arn) } });
      break;
    default:
      throw new Error(`Amber does not read ${req.service} ${req.operation} answers yet`);
  }
  const found = rows.length - page - 1;
  rows[page]!.attributes = JSON.stringify({ service: req.service, operation: req.operation, resource: req.resource ?? null, rows: found, error: null });
  return rows;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
