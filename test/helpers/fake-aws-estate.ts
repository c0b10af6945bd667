/**
 * A fake of the AWS endpoints `amber inventory --cloud aws` reads, as a real HTTP server on 127.0.0.1 (the SDK's
 * endpoint resolution via AWS_ENDPOINT_URL_<SERVICE>, signing, retries and deserializers all run). Written
 * behaviour:
 * - service and region come from the SigV4 credential scope of the Authorization header;
 * - answers have the documented shapes: EC2 query XML (`<DescribeInstancesResponse xmlns=".../2016-11-15/">`,
 *   `reservationSet/item/instancesSet/item`, `nextToken`), IAM and RDS query XML (`<ListUsersResult><Users><member>`,
 *   `IsTruncated`/`Marker`), S3 REST XML (`ListAllMyBucketsResult`, `PolicyStatus`, `AccessControlPolicy`,
 *   `PublicAccessBlockConfiguration`, `<Error><Code>NoSuch...`), Lambda and GuardDuty REST JSON, KMS and CloudTrail
 *   JSON 1.1; errors as each protocol writes them;
 * - the estate (`estate`) is generated from counts; EC2 instances come `pageSize` to a page with a nextToken;
 * - `throttle(service, n)`: the next n calls to that service answer ThrottlingException / RequestLimitExceeded;
 * - `deny(service)`: every call to the service answers AccessDenied(Exception);
 * - `denyBucketAcl(bucket)`: S3 GetBucketAcl of that bucket answers AccessDenied (HTTP 403), the rest of S3 answers;
 * - `disable(region)`: every call scoped to that region answers AuthFailure (HTTP 401), as a region not opted into;
 * - S3 Control (`GET /v20180820/configuration/publicAccessBlock`, signed as service s3, the account in the host
 *   `<account>.localhost`): the account-level public access block, absent (NoSuchPublicAccessBlockConfiguration in
 *   `<ErrorResponse><Error>`) unless `accountBlock(...)` sets one;
 * - STS AssumeRole answers temporary credentials and keeps each call's RoleArn and ExternalId (`assumed`);
 * - `holdAfter(n, onHeld)`: after n answered requests (STS not counted), every later request is held unanswered
 *   and `onHeld` is called once, when the first is held (a client that is then killed was waiting for it);
 * - `calls` counts requests per service.
 *
 * The SDK addresses S3 Control at `<AccountId>.<endpoint host>`; while the fake runs, `localhost` and its
 * subdomains resolve to 127.0.0.1 in this process (dns.lookup), so the account-prefixed host reaches it.
 */
import dns from 'node:dns';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const ESTATE_ACCOUNT = '111122223333';
const EC2NS = 'xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"';
const IAMNS = 'xmlns="https://iam.amazonaws.com/doc/2010-05-08/"';
const RDSNS = 'xmlns="http://rds.amazonaws.com/doc/2014-10-31/"';
const S3NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';

/** What the fake account holds. Defaults: a small estate with one of each exposure. */
export interface Estate {
  /** Instances per region beyond the two fixed ones (bulk, private, no open group). */
  extraInstances: number;
  /** Instances per DescribeInstances page. */
  pageSize: number;
}

interface Reply {
  status: number;
  type: string;
  body: string;
  /** REST JSON services name the error in this header (Lambda, GuardDuty). */
  errorType?: string;
}

export class FakeAwsEstate {
  readonly calls: Record<string, number> = {};
  estate: Estate = { extraInstances: 3, pageSize: 2 };
  url = '';
  private readonly throttled = new Map<string, number>();
  private readonly denied = new Set<string>();
  private readonly disabled = new Set<string>();
  private readonly aclDenied = new Set<string>();
  private accountBlockXml: string | undefined;
  readonly assumed: Array<{ roleArn: string; externalId: string | null }> = [];
  /** Access key ids that signed the requests, per service. */
  readonly signers: Record<string, Set<string>> = {};
  private hold: { after: number; answered: number; onHeld: () => void; held: boolean } | undefined;
  private readonly heldResponses: Array<{ destroy: () => void }> = [];

  holdAfter(n: number, onHeld: () => void): this {
    this.hold = { after: n, answered: 0, onHeld, held: false };
    return this;
  }

  /** Answers again (the held requests are dropped, as a killed client's would be). */
  release(): void {
    this.hold = undefined;
    for (const r of this.heldResponses.splice(0)) r.destroy();
  }

  private server: Server | undefined;
  private lookup: typeof dns.lookup | undefined;

  /** The account-level public access block the fake answers with (all four settings given). */
  accountBlock(settings: { blockPublicAcls: boolean; ignorePublicAcls: boolean; blockPublicPolicy: boolean; restrictPublicBuckets: boolean }): this {
    this.accountBlockXml =
      `<?xml version="1.0" encoding="UTF-8"?>\n<PublicAccessBlockConfiguration xmlns="http://awss3control.amazonaws.com/doc/2018-08-20/">` +
      `<BlockPublicAcls>${settings.blockPublicAcls}</BlockPublicAcls><IgnorePublicAcls>${settings.ignorePublicAcls}</IgnorePublicAcls>` +
      `<BlockPublicPolicy>${settings.blockPublicPolicy}</BlockPublicPolicy><RestrictPublicBuckets>${settings.restrictPublicBuckets}</RestrictPublicBuckets></PublicAccessBlockConfiguration>`;
    return this;
  }

  throttle(service: string, times: number): this {
    this.throttled.set(service, times);
    return this;
  }

  deny(service: string): this {
    this.denied.add(service);
    return this;
  }

  denyBucketAcl(bucket: string): this {
    this.aclDenied.add(bucket);
    return this;
  }

  disable(region: string): this {
    this.disabled.add(region);
    return this;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const scoped = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\//.exec(req.headers.authorization ?? '')?.[1];
      if (this.hold && scoped !== 'sts') {
        if (this.hold.answered >= this.hold.after) {
          this.heldResponses.push(res);
          if (!this.hold.held) {
            this.hold.held = true;
            this.hold.onHeld();
          }
          return;
        }
        this.hold.answered += 1;
      }
      void this.answer(req).then(({ status, type, body, errorType }) => {
        res.writeHead(status, { 'content-type': type, 'x-amzn-requestid': 'req-1', ...(errorType ? { 'x-amzn-errortype': errorType } : {}) });
        res.end(body);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    const original = dns.lookup;
    this.lookup = original;
    dns.lookup = ((host: string, ...rest: unknown[]) =>
      (original as (...a: unknown[]) => void).call(dns, host === 'localhost' || host.endsWith('.localhost') ? '127.0.0.1' : host, ...rest)) as typeof dns.lookup;
    return this;
  }

  async stop(): Promise<void> {
    if (this.lookup) dns.lookup = this.lookup;
    this.lookup = undefined;
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The environment pointing every service the inventory reads at this fake. */
  env(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const s of ['STS', 'EC2', 'IAM', 'S3', 'LAMBDA', 'RDS', 'KMS', 'CLOUDTRAIL', 'GUARDDUTY']) out[`AWS_ENDPOINT_URL_${s}`] = this.url;
    out.AWS_ENDPOINT_URL_S3_CONTROL = this.url.replace('127.0.0.1', 'localhost');
    return out;
  }

  private async answer(req: IncomingMessage): Promise<Reply> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\//.exec(req.headers.authorization ?? '');
    const [region, service] = scope ? [scope[1]!, scope[2]!] : ['', ''];
    this.calls[service] = (this.calls[service] ?? 0) + 1;
    (this.signers[service] ??= new Set()).add(/Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1] ?? '');
    const url = new URL(req.url ?? '/', 'http://x');
    const form = new URLSearchParams(req.headers['content-type']?.includes('x-www-form-urlencoded') ? text : '');
    const target = String(req.headers['x-amz-target'] ?? '');
    const json = text.trim().startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (this.disabled.has(region) && service !== 'sts') {
      return service === 'ec2' || service === 'rds' || service === 'iam'
        ? xmlError(401, 'AuthFailure', 'AWS was not able to validate the provided access credentials', service)
        : jsonError(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    const throttles = this.throttled.get(service) ?? 0;
    if (throttles > 0) {
      this.throttled.set(service, throttles - 1);
      return service === 'ec2' ? xmlError(503, 'RequestLimitExceeded', 'Request limit exceeded.', service) : jsonError(400, 'ThrottlingException', 'Rate exceeded');
    }
    if (this.denied.has(service)) {
      const op = form.get('Action') ?? target.split('.').pop() ?? req.method;
      const said = `User: arn:aws:iam::${ESTATE_ACCOUNT}:user/analyst is not authorized to perform: ${service}:${op}`;
      return ['ec2', 'iam', 'rds', 's3'].includes(service) ? xmlError(service === 'ec2' ? 403 : 403, service === 'ec2' ? 'UnauthorizedOperation' : 'AccessDenied', said, service) : jsonError(400, 'AccessDeniedException', said);
    }
    switch (service) {
      case 'sts':
        if (form.get('Action') === 'AssumeRole') {
          this.assumed.push({ roleArn: form.get('RoleArn') ?? '', externalId: form.get('ExternalId') });
          const expires = new Date(Date.now() + 3600_000).toISOString();
          return xml(`<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIACOLLECTOR</AccessKeyId><SecretAccessKey>collector-secret</SecretAccessKey><SessionToken>collector-token</SessionToken><Expiration>${expires}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROACOLLECTOR:amber-take-inventory</AssumedRoleId><Arn>${form.get('RoleArn')}</Arn></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>`);
        }
        return xml(`<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::${ESTATE_ACCOUNT}:user/analyst</Arn><UserId>AIDAFAKE</UserId><Account>${ESTATE_ACCOUNT}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>`);
      case 'ec2':
        return this.ec2(form, region);
      case 'iam':
        return this.iam(form);
      case 'rds':
        return this.rds(form);
      case 's3':
        return this.s3(url);
      case 'lambda':
        return this.lambda(url, region);
      case 'kms':
        return this.kms(target, json, region);
      case 'cloudtrail':
        return this.cloudtrail(target, json, region);
      case 'guardduty':
        return this.guardduty(url);
      default:
        return jsonError(400, 'UnknownOperationException', `the fake does not answer ${service}`);
    }
  }

  private ec2(form: URLSearchParams, region: string): Reply {
    const action = form.get('Action');
    const wrap = (body: string, next?: string): Reply => xml(`<${action}Response ${EC2NS}><requestId>r-${action}</requestId>${body}${next ? `<nextToken>${next}</nextToken>` : ''}</${action}Response>`);
    switch (action) {
      case 'DescribeRegions':
        return wrap(`<regionInfo>${['eu-west-1', 'us-east-1'].map((r) => `<item><regionName>${r}</regionName><regionEndpoint>ec2.${r}.amazonaws.com</regionEndpoint><optInStatus>opt-in-not-required</optInStatus></item>`).join('')}</regionInfo>`);
      case 'DescribeInstances': {
        const all: [string, string | null, string[]][] = [
          ['i-0public0000000001', '203.0.113.10', ['sg-0open']],
          ['i-0public0000000002', '203.0.113.11', ['sg-0closed']],
        ];
        for (let i = 0; i < this.estate.extraInstances; i += 1) all.push([`i-${region.replace(/-/g, '')}${String(i).padStart(8, '0')}`, null, ['sg-0open']]);
        const from = Number(form.get('NextToken') ?? 0);
        const page = all.slice(from, from + this.estate.pageSize);
        const items = page
          .map(([id, ip, groups], n) => `<item><instanceId>${id}</instanceId><imageId>ami-0a1</imageId><instanceState><code>16</code><name>running</name></instanceState><privateIpAddress>10.0.${Math.floor((from + n) / 250)}.${(from + n) % 250}</privateIpAddress>${ip ? `<ipAddress>${ip}</ipAddress>` : ''}<launchTime>2025-11-02T10:00:00.000Z</launchTime><vpcId>vpc-0a1</vpcId><groupSet>${groups.map((g) => `<item><groupId>${g}</groupId><groupName>${g}</groupName></item>`).join('')}</groupSet><tagSet><item><key>Name</key><value>${id}</value></item></tagSet></item>`)
          .join('');
        const next = from + this.estate.pageSize < all.length ? String(from + this.estate.pageSize) : undefined;
        return wrap(`<reservationSet><item><reservationId>r-1</reservationId><ownerId>${ESTATE_ACCOUNT}</ownerId><instancesSet>${items}</instancesSet></item></reservationSet>`, next);
      }
      case 'DescribeVolumes':
        return wrap(`<volumeSet><item><volumeId>vol-0a1</volumeId><size>8</size><snapshotId/><availabilityZone>${region}a</availabilityZone><status>in-use</status><createTime>2025-11-02T10:00:00.000Z</createTime><attachmentSet><item><volumeId>vol-0a1</volumeId><instanceId>i-0public0000000001</instanceId><device>/dev/xvda</device><status>attached</status></item></attachmentSet><encrypted>false</encrypted></item></volumeSet>`);
      case 'DescribeSnapshots':
        return wrap(`<snapshotSet>${['snap-0public', 'snap-0private'].map((s) => `<item><snapshotId>${s}</snapshotId><volumeId>vol-0a1</volumeId><status>completed</status><startTime>2025-12-01T00:00:00.000Z</startTime><ownerId>${ESTATE_ACCOUNT}</ownerId><volumeSize>8</volumeSize><encrypted>false</encrypted></item>`).join('')}</snapshotSet>`);
      case 'DescribeSnapshotAttribute': {
        const id = form.get('SnapshotId');
        return wrap(`<snapshotId>${id}</snapshotId><createVolumePermission>${id === 'snap-0public' ? '<item><group>all</group></item>' : ''}</createVolumePermission>`);
      }
      case 'DescribeImages':
        return wrap(`<imagesSet><item><imageId>ami-0a1</imageId><imageState>available</imageState><imageOwnerId>${ESTATE_ACCOUNT}</imageOwnerId><isPublic>false</isPublic><name>base</name><creationDate>2025-10-01T00:00:00.000Z</creationDate></item></imagesSet>`);
      case 'DescribeImageAttribute':
        return wrap(`<imageId>${form.get('ImageId')}</imageId><launchPermission><item><userId>999988887777</userId></item></launchPermission>`);
      case 'DescribeSecurityGroups':
        return wrap(
          `<securityGroupInfo>` +
            `<item><ownerId>${ESTATE_ACCOUNT}</ownerId><groupId>sg-0open</groupId><groupName>open</groupName><groupDescription>open</groupDescription><vpcId>vpc-0a1</vpcId><ipPermissions><item><ipProtocol>tcp</ipProtocol><fromPort>22</fromPort><toPort>22</toPort><groups/><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges><ipv6Ranges/><prefixListIds/></item></ipPermissions><ipPermissionsEgress/></item>` +
            `<item><ownerId>${ESTATE_ACCOUNT}</ownerId><groupId>sg-0closed</groupId><groupName>web</groupName><groupDescription>web</groupDescription><vpcId>vpc-0a1</vpcId><ipPermissions><item><ipProtocol>tcp</ipProtocol><fromPort>443</fromPort><toPort>443</toPort><groups/><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges><ipv6Ranges/><prefixListIds/></item></ipPermissions><ipPermissionsEgress/></item>` +
            `</securityGroupInfo>`,
        );
      case 'DescribeVpcs':
        return wrap(`<vpcSet>${['vpc-0a1', 'vpc-0a2'].map((v) => `<item><vpcId>${v}</vpcId><ownerId>${ESTATE_ACCOUNT}</ownerId><state>available</state><cidrBlock>10.0.0.0/16</cidrBlock><isDefault>false</isDefault></item>`).join('')}</vpcSet>`);
      case 'DescribeVpcEndpoints':
        return wrap(`<vpcEndpointSet><item><vpcEndpointId>vpce-0a1</vpcEndpointId><vpcEndpointType>Gateway</vpcEndpointType><vpcId>vpc-0a1</vpcId><serviceName>com.amazonaws.${region}.s3</serviceName><state>available</state><policyDocument>{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}</policyDocument><creationTimestamp>2025-06-01T00:00:00.000Z</creationTimestamp></item></vpcEndpointSet>`);
      case 'DescribeFlowLogs':
        return wrap(`<flowLogSet><item><creationTime>2025-06-01T00:00:00.000Z</creationTime><deliverLogsStatus>SUCCESS</deliverLogsStatus><flowLogId>fl-0a1</flowLogId><flowLogStatus>ACTIVE</flowLogStatus><resourceId>vpc-0a1</resourceId><trafficType>ALL</trafficType><logDestinationType>s3</logDestinationType><logDestination>arn:aws:s3:::flow-bucket</logDestination></item></flowLogSet>`);
      default:
        return xmlError(400, 'InvalidAction', `The action ${String(action)} is not valid for this web service.`, 'ec2');
    }
  }

  private iam(form: URLSearchParams): Reply {
    const action = form.get('Action');
    const wrap = (body: string): Reply => xml(`<${action}Response ${IAMNS}><${action}Result>${body}</${action}Result><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></${action}Response>`);
    const user = form.get('UserName');
    switch (action) {
      case 'ListUsers': {
        // Two pages: alice, then bob (Marker paging).
        const second = form.get('Marker') === 'm1';
        const name = second ? 'bob' : 'alice';
        return wrap(`<IsTruncated>${second ? 'false' : 'true'}</IsTruncated>${second ? '' : '<Marker>m1</Marker>'}<Users><member><Path>/</Path><UserName>${name}</UserName><UserId>AIDA${name.toUpperCase()}</UserId><Arn>arn:aws:iam::${ESTATE_ACCOUNT}:user/${name}</Arn><CreateDate>2024-01-01T00:00:00Z</CreateDate></member></Users>`);
      }
      case 'ListRoles':
        return wrap(`<IsTruncated>false</IsTruncated><Roles><member><Path>/</Path><RoleName>deploy</RoleName><RoleId>AROADEPLOY</RoleId><Arn>arn:aws:iam::${ESTATE_ACCOUNT}:role/deploy</Arn><CreateDate>2024-01-01T00:00:00Z</CreateDate><AssumeRolePolicyDocument>${encodeURIComponent('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999988887777:root"},"Action":"sts:AssumeRole"}]}')}</AssumeRolePolicyDocument></member></Roles>`);
      case 'ListPolicies':
        return wrap(`<IsTruncated>false</IsTruncated><Policies/>`);
      case 'ListAccessKeys':
        return wrap(`<IsTruncated>false</IsTruncated><UserName>${user}</UserName><AccessKeyMetadata><member><UserName>${user}</UserName><AccessKeyId>AKIA${String(user).toUpperCase()}KEY00000001</AccessKeyId><Status>Active</Status><CreateDate>${user === 'alice' ? '2024-01-01T00:00:00Z' : new Date(Date.now() - 5 * 86_400_000).toISOString()}</CreateDate></member></AccessKeyMetadata>`);
      case 'GetAccessKeyLastUsed': {
        const key = form.get('AccessKeyId') ?? '';
        const used = key.includes('ALICE') ? `<LastUsedDate>${new Date(Date.now() - 86_400_000).toISOString()}</LastUsedDate><ServiceName>s3</ServiceName><Region>eu-west-1</Region>` : '<ServiceName>N/A</ServiceName><Region>N/A</Region>';
        return wrap(`<UserName>${key.includes('ALICE') ? 'alice' : 'bob'}</UserName><AccessKeyLastUsed>${used}</AccessKeyLastUsed>`);
      }
      case 'ListAttachedUserPolicies':
        return wrap(`<IsTruncated>false</IsTruncated><AttachedPolicies>${user === 'alice' ? '<member><PolicyName>AdministratorAccess</PolicyName><PolicyArn>arn:aws:iam::aws:policy/AdministratorAccess</PolicyArn></member>' : ''}</AttachedPolicies>`);
      case 'ListAttachedRolePolicies':
        return wrap(`<IsTruncated>false</IsTruncated><AttachedPolicies><member><PolicyName>ReadOnlyAccess</PolicyName><PolicyArn>arn:aws:iam::aws:policy/ReadOnlyAccess</PolicyArn></member></AttachedPolicies>`);
      case 'ListMFADevices':
        return wrap(`<IsTruncated>false</IsTruncated><MFADevices>${user === 'alice' ? `<member><UserName>alice</UserName><SerialNumber>arn:aws:iam::${ESTATE_ACCOUNT}:mfa/alice</SerialNumber><EnableDate>2024-01-02T00:00:00Z</EnableDate></member>` : ''}</MFADevices>`);
      default:
        return xmlError(400, 'InvalidAction', `unknown action ${String(action)}`, 'iam');
    }
  }

  private rds(form: URLSearchParams): Reply {
    const action = form.get('Action');
    const wrap = (body: string): Reply => xml(`<${action}Response ${RDSNS}><${action}Result>${body}</${action}Result><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></${action}Response>`);
    switch (action) {
      case 'DescribeDBInstances':
        return wrap(`<DBInstances><DBInstance><DBInstanceIdentifier>orders</DBInstanceIdentifier><Engine>postgres</Engine><DBInstanceStatus>available</DBInstanceStatus><Endpoint><Address>orders.x.rds.amazonaws.com</Address><Port>5432</Port></Endpoint><PubliclyAccessible>true</PubliclyAccessible><StorageEncrypted>true</StorageEncrypted><InstanceCreateTime>2025-01-01T00:00:00Z</InstanceCreateTime></DBInstance></DBInstances>`);
      case 'DescribeDBSnapshots':
        return wrap(`<DBSnapshots><DBSnapshot><DBSnapshotIdentifier>orders-manual</DBSnapshotIdentifier><DBInstanceIdentifier>orders</DBInstanceIdentifier><SnapshotType>manual</SnapshotType><Status>available</Status><Encrypted>true</Encrypted><SnapshotCreateTime>2025-12-01T00:00:00Z</SnapshotCreateTime></DBSnapshot></DBSnapshots>`);
      case 'DescribeDBSnapshotAttributes':
        return wrap(`<DBSnapshotAttributesResult><DBSnapshotIdentifier>${form.get('DBSnapshotIdentifier')}</DBSnapshotIdentifier><DBSnapshotAttributes><DBSnapshotAttribute><AttributeName>restore</AttributeName><AttributeValues/></DBSnapshotAttribute></DBSnapshotAttributes></DBSnapshotAttributesResult>`);
      default:
        return xmlError(400, 'InvalidAction', `unknown action ${String(action)}`, 'rds');
    }
  }

  private s3(url: URL): Reply {
    if (url.pathname === '/v20180820/configuration/publicAccessBlock') {
      return this.accountBlockXml
        ? xml(this.accountBlockXml)
        : {
            status: 404,
            type: 'application/xml',
            body: `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Code>NoSuchPublicAccessBlockConfiguration</Code><Message>The public access block configuration was not found</Message><AccountId>${ESTATE_ACCOUNT}</AccountId></Error><RequestId>r</RequestId><HostId>h</HostId></ErrorResponse>`,
          };
    }
    const bucket = decodeURIComponent(url.pathname.split('/')[1] ?? '');
    if (bucket === '') {
      return xml(`<?xml version="1.0" encoding="UTF-8"?>\n<ListAllMyBucketsResult ${S3NS}><Owner><ID>owner1</ID></Owner><Buckets><Bucket><Name>site-assets</Name><CreationDate>2025-02-01T00:00:00.000Z</CreationDate></Bucket><Bucket><Name>private-data</Name><CreationDate>2025-03-01T00:00:00.000Z</CreationDate></Bucket></Buckets></ListAllMyBucketsResult>`);
    }
    const open = bucket === 'site-assets';
    const q = url.searchParams;
    if (q.has('policyStatus')) return xml(`<?xml version="1.0" encoding="UTF-8"?>\n<PolicyStatus ${S3NS}><IsPublic>${open}</IsPublic></PolicyStatus>`);
    if (q.has('policy')) {
      return open
        ? { status: 200, type: 'application/json', body: `{"Version":"2012-10-17","Statement":[{"Sid":"Public","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::${bucket}/*"}]}` }
        : xmlError(404, 'NoSuchBucketPolicy', 'The bucket policy does not exist', 's3');
    }
    if (q.has('acl') && this.aclDenied.has(bucket)) return xmlError(403, 'AccessDenied', 'Access Denied', 's3');
    if (q.has('acl')) return xml(`<?xml version="1.0" encoding="UTF-8"?>\n<AccessControlPolicy ${S3NS}><Owner><ID>owner1</ID></Owner><AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>owner1</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>`);
    if (q.has('publicAccessBlock')) {
      return open
        ? xmlError(404, 'NoSuchPublicAccessBlockConfiguration', 'The public access block configuration was not found', 's3')
        : xml(`<?xml version="1.0" encoding="UTF-8"?>\n<PublicAccessBlockConfiguration ${S3NS}><BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls><BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>true</RestrictPublicBuckets></PublicAccessBlockConfiguration>`);
    }
    return xmlError(400, 'NotImplemented', 'the fake does not answer this', 's3');
  }

  private lambda(url: URL, region: string): Reply {
    const path = url.pathname;
    const arn = (fn: string): string => `arn:aws:lambda:${region}:${ESTATE_ACCOUNT}:function:${fn}`;
    if (/^\/2015-03-31\/functions\/?$/.test(path)) {
      return jsonReply({ Functions: ['open-hook', 'iam-api'].map((f) => ({ FunctionName: f, FunctionArn: arn(f), Runtime: 'nodejs22.x', Role: `arn:aws:iam::${ESTATE_ACCOUNT}:role/${f}`, LastModified: '2025-12-01T10:00:00.000+0000' })) });
    }
    const urls = /^\/2021-10-31\/functions\/([^/]+)\/urls$/.exec(path);
    if (urls) {
      const fn = decodeURIComponent(urls[1]!);
      return jsonReply({ FunctionUrlConfigs: [{ FunctionUrl: `https://${fn}.lambda-url.${region}.on.aws/`, FunctionArn: arn(fn), CreationTime: '2025-12-01T10:00:00.000+0000', LastModifiedTime: '2025-12-01T10:00:00.000+0000', AuthType: fn === 'open-hook' ? 'NONE' : 'AWS_IAM', InvokeMode: 'BUFFERED' }] });
    }
    const policy = /^\/2015-03-31\/functions\/([^/]+)\/policy$/.exec(path);
    if (policy) {
      const fn = decodeURIComponent(policy[1]!);
      if (fn !== 'open-hook') return { status: 404, type: 'application/json', body: JSON.stringify({ Type: 'User', Message: 'The resource you requested does not exist.' }), errorType: 'ResourceNotFoundException' };
      return jsonReply({ Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'FunctionURLAllowPublicAccess', Effect: 'Allow', Principal: '*', Action: 'lambda:InvokeFunctionUrl', Resource: arn(fn), Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'NONE' } } }] }), RevisionId: 'rev-1' });
    }
    return jsonError(404, 'ResourceNotFoundException', `no route ${path}`);
  }

  private kms(target: string, json: Record<string, unknown>, region: string): Reply {
    if (target.endsWith('.ListKeys')) return jsonReply({ Keys: [{ KeyId: 'k-1', KeyArn: `arn:aws:kms:${region}:${ESTATE_ACCOUNT}:key/k-1` }], Truncated: false });
    if (target.endsWith('.GetKeyPolicy')) return jsonReply({ Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ESTATE_ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' }] }), PolicyName: String(json.PolicyName ?? 'default') });
    return jsonError(400, 'UnknownOperationException', target);
  }

  private cloudtrail(target: string, json: Record<string, unknown>, region: string): Reply {
    const trailArn = `arn:aws:cloudtrail:eu-west-1:${ESTATE_ACCOUNT}:trail/main`;
    if (target.endsWith('.DescribeTrails')) {
      return jsonReply({ trailList: region === 'eu-west-1' ? [{ Name: 'main', S3BucketName: 'trail-bucket', IsMultiRegionTrail: true, HomeRegion: 'eu-west-1', TrailARN: trailArn, IsOrganizationTrail: false }] : [] });
    }
    if (target.endsWith('.GetTrailStatus')) return jsonReply({ IsLogging: false, StopLoggingTime: 1765000000, LatestDeliveryTime: 1764990000, Name: json.Name });
    return jsonError(400, 'UnknownOperationException', target);
  }

  private guardduty(url: URL): Reply {
    // One detector, suspended (GuardDuty off all the same).
    if (url.pathname === '/detector') return jsonReply({ detectorIds: ['det0a1'] });
    if (url.pathname === '/detector/det0a1') return jsonReply({ createdAt: '2025-01-01T00:00:00.000Z', findingPublishingFrequency: 'SIX_HOURS', serviceRole: `arn:aws:iam::${ESTATE_ACCOUNT}:role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty`, status: 'DISABLED', updatedAt: '2025-06-01T00:00:00.000Z' });
    return jsonError(404, 'BadRequestException', `no route ${url.pathname}`);
  }
}

function xml(body: string): Reply {
  return { status: 200, type: 'text/xml;charset=UTF-8', body };
}

function jsonReply(doc: unknown): Reply {
  return { status: 200, type: 'application/json', body: JSON.stringify(doc) };
}

function jsonError(status: number, type: string, message: string): Reply {
  return { status, type: 'application/x-amz-json-1.1', body: JSON.stringify({ __type: type, message }) };
}

/** Errors as each XML protocol writes them: EC2 `<Response><Errors><Error>`, query `<ErrorResponse><Error>`, S3 `<Error>`. */
function xmlError(status: number, code: string, message: string, service: string): Reply {
  const body =
    service === 'ec2'
      ? `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>r</RequestID></Response>`
      : service === 's3'
        ? `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>r</RequestId><HostId>h</HostId></Error>`
        : `<ErrorResponse ${service === 'rds' ? RDSNS : IAMNS}><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>r</RequestId></ErrorResponse>`;
  return { status, type: 'text/xml', body };
}
