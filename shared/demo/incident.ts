/**
 * A deterministic synthetic incident in CloudTrail's real S3-delivered layout, for `amber demo` and the
 * tests: a day of benign activity in account 111122223333 and, inside it, a multi-step intrusion that the
 * detection catalogue must catch. All names, addresses (RFC 5737 documentation ranges) and ids are made up.
 *
 * The intrusion, 2026-11-20 (UTC):
 *  02:05  six failed console logins for svc-backup from 203.0.113.66, then a login without MFA
 *  02:15  reconnaissance: a burst of AccessDenied on IAM, S3 and EC2 listings
 *  02:20  an access key created for another user (alice); AdministratorAccess attached to svc-backup
 *  02:25  a new user with a console password; an inline policy on a role
 *  02:30  CloudTrail logging stopped, VPC flow logs deleted, GuardDuty detector deleted
 *  02:40  SSH opened to 0.0.0.0/0; an EBS snapshot shared with a foreign account (999988887777)
 *  02:45  fifteen secrets read from Secrets Manager
 *  02:55  the customer-exports bucket made public, then 3 GB downloaded from it
 *  03:30  a Lambda function created and opened to any principal
 *  03:40  web-app-role's EC2 instance credentials used from 203.0.113.66, outside AWS
 *  04:00  the root user signs in from 198.51.100.23 and the account leaves the organization
 */
import { gzipSync } from 'node:zlib';

export const DEMO_ACCOUNT = '111122223333';
export const DEMO_REGION = 'us-east-1';
export const DEMO_DAY = '2026-11-20';
export const ATTACKER_IPS = ['203.0.113.66', '198.51.100.23'] as const;

type Json = Record<string, unknown>;

/** A file of the incident: its path relative to the trail bucket root and its (gzip) bytes. */
export interface IncidentFile {
  readonly path: string;
  readonly bytes: Buffer;
  readonly records: number;
}

const ACCT = DEMO_ACCOUNT;
const ATTACKER = ATTACKER_IPS[0];
const ATTACKER_UA = 'python-requests/2.31.0 Boto3/1.34.10 Botocore/1.34.10';

/** Seeded PRNG (mulberry32) so every run writes the same bytes. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const user = (name: string, key = `AKIA${name.toUpperCase().replace(/[^A-Z0-9]/g, '').padEnd(16, 'X').slice(0, 16)}`): Json => ({
  type: 'IAMUser',
  principalId: `AIDA${name.toUpperCase().replace(/[^A-Z0-9]/g, '').padEnd(17, 'Q').slice(0, 17)}`,
  arn: `arn:aws:iam::${ACCT}:user/${name}`,
  accountId: ACCT,
  accessKeyId: key,
  userName: name,
});

const role = (roleName: string, session: string, key: string, extra: Json = {}): Json => ({
  type: 'AssumedRole',
  principalId: `AROAEXAMPLE${roleName.toUpperCase().replace(/[^A-Z0-9]/g, '').slice(0, 9)}:${session}`,
  arn: `arn:aws:sts::${ACCT}:assumed-role/${roleName}/${session}`,
  accountId: ACCT,
  accessKeyId: key,
  sessionContext: {
    sessionIssuer: { type: 'Role', principalId: `AROAEXAMPLE${roleName.toUpperCase().slice(0, 9)}`, arn: `arn:aws:iam::${ACCT}:role/${roleName}`, accountId: ACCT, userName: roleName },
    attributes: { creationDate: `${DEMO_DAY}T00:00:00Z`, mfaAuthenticated: 'false' },
    ...extra,
  },
});

const ROOT: Json = { type: 'Root', principalId: ACCT, arn: `arn:aws:iam::${ACCT}:root`, accountId: ACCT, accessKeyId: '' };

let counter = 0;
function event(time: string, identity: Json, source: string, name: string, ip: string, ua: string, fields: Json = {}): Json {
  counter += 1;
  const n = String(counter).padStart(12, '0');
  return {
    eventVersion: '1.09',
    userIdentity: identity,
    eventTime: time,
    eventSource: source,
    eventName: name,
    awsRegion: DEMO_REGION,
    sourceIPAddress: ip,
    userAgent: ua,
    requestParameters: null,
    responseElements: null,
    requestID: `d3m0${n}`,
    eventID: `5e7c1a2b-0000-4000-8000-${n}`,
    readOnly: /^(Get|List|Describe|Lookup)/.test(name),
    eventType: name === 'ConsoleLogin' ? 'AwsConsoleSignIn' : 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCT,
    eventCategory: 'Management',
    ...fields,
  };
}

/** CloudTrail's eventTime for a time of the demo day; seconds and minutes past 59 carry over. */
const at = (hh: number, mm: number, ss = 0): string => `${new Date(Date.parse(`${DEMO_DAY}T00:00:00Z`) + ((hh * 60 + mm) * 60 + ss) * 1000).toISOString().slice(0, 19)}Z`;

function background(rand: () => number): Json[] {
  const out: Json[] = [];
  const staff = [
    { id: user('alice'), ip: '192.0.2.10', ua: 'aws-cli/2.15.30 Python/3.11.8 Darwin/23.3.0 exe/x86_64' },
    { id: user('bob'), ip: '192.0.2.11', ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36' },
    { id: role('ci-deploy', 'github-actions-8842', 'ASIACIDEPLOYEXAMPLE'), ip: '192.0.2.50', ua: 'aws-sdk-js/3.500.0 ua/2.0 os/linux' },
  ];
  const reads: Array<[string, string, Json]> = [
    ['ec2.amazonaws.com', 'DescribeInstances', { instancesSet: {}, filterSet: {} }],
    ['s3.amazonaws.com', 'ListBuckets', { Host: 's3.amazonaws.com' }],
    ['iam.amazonaws.com', 'ListRoles', {}],
    ['sts.amazonaws.com', 'GetCallerIdentity', {}],
    ['cloudwatch.amazonaws.com', 'DescribeAlarms', {}],
    ['lambda.amazonaws.com', 'ListFunctions20150331', {}],
    ['ssm.amazonaws.com', 'GetParameter', { name: '/app/feature-flags', withDecryption: false }],
  ];
  for (let hour = 0; hour < 24; hour++) {
    const workHours = hour >= 8 && hour <= 18;
    const n = workHours ? 70 : 12;
    for (let i = 0; i < n; i++) {
      const who = staff[Math.floor(rand() * staff.length)]!;
      const [src, name, params] = reads[Math.floor(rand() * reads.length)]!;
      out.push(event(at(hour, Math.floor(rand() * 60), Math.floor(rand() * 60)), who.id, src, name, who.ip, who.ua, { requestParameters: params }));
    }
    // The application role reads its own bucket every hour (data events), from inside AWS.
    out.push(
      event(at(hour, 30), role('web-app-role', 'i-0a1b2c3d4e5f60718', 'ASIAWEBAPPEXAMPLE01', { ec2RoleDelivery: '2.0' }), 's3.amazonaws.com', 'GetObject', '10.0.1.25', '[aws-sdk-java/2.21.0 Linux/5.10 OpenJDK_64-Bit_Server_VM/17]', {
        eventCategory: 'Data',
        managementEvent: false,
        readOnly: true,
        requestParameters: { bucketName: 'app-assets', key: `static/bundle-${hour}.js`, Host: 'app-assets.s3.us-east-1.amazonaws.com' },
        additionalEventData: { bytesTransferredIn: 0, bytesTransferredOut: 48_000 },
        resources: [{ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::app-assets/static/bundle-${hour}.js` }],
      }),
    );
  }
  // Staff sign in with MFA in the morning; AWS services act on the account's behalf.
  out.push(
    event(at(8, 2), user('bob'), 'signin.amazonaws.com', 'ConsoleLogin', '192.0.2.11', staff[1]!.ua, {
      responseElements: { ConsoleLogin: 'Success' },
      additionalEventData: { LoginTo: 'https://console.aws.amazon.com/console/home', MobileVersion: 'No', MFAUsed: 'Yes' },
    }),
    event(at(9, 0), { type: 'AWSService', invokedBy: 'config.amazonaws.com' }, 'sts.amazonaws.com', 'AssumeRole', 'config.amazonaws.com', 'config.amazonaws.com', {
      requestParameters: { roleArn: `arn:aws:iam::${ACCT}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig`, roleSessionName: 'AWSConfig-Describe' },
    }),
    event(at(10, 15), user('alice'), 'iam.amazonaws.com', 'CreateAccessKey', '192.0.2.10', staff[0]!.ua, { requestParameters: { userName: 'alice' }, readOnly: false }),
    event(at(11, 5), user('alice'), 'ec2.amazonaws.com', 'AuthorizeSecurityGroupIngress', '192.0.2.10', staff[0]!.ua, {
      requestParameters: { groupId: 'sg-0aa11bb22cc33dd44', ipPermissions: { items: [{ ipProtocol: 'tcp', fromPort: 443, toPort: 443, groups: {}, ipRanges: { items: [{ cidrIp: '10.0.0.0/16' }] }, ipv6Ranges: {}, prefixListIds: {} }] } },
    }),
  );
  return out;
}

function intrusion(): Json[] {
  const backup = user('svc-backup', 'AKIASVCBACKUPEXAMPL');
  const out: Json[] = [];
  for (let i = 0; i < 6; i++) {
    out.push(
      event(at(2, 5, i * 20), { type: 'IAMUser', principalId: 'AIDASVCBACKUPQQQQQQ', accountId: ACCT, accessKeyId: '', userName: 'svc-backup' }, 'signin.amazonaws.com', 'ConsoleLogin', ATTACKER, 'Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0', {
        errorMessage: 'Failed authentication',
        responseElements: { ConsoleLogin: 'Failure' },
        additionalEventData: { LoginTo: 'https://console.aws.amazon.com/console/home', MobileVersion: 'No', MFAUsed: 'No' },
      }),
    );
  }
  out.push(
    event(at(2, 8), backup, 'signin.amazonaws.com', 'ConsoleLogin', ATTACKER, 'Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0', {
      responseElements: { ConsoleLogin: 'Success' },
      additionalEventData: { LoginTo: 'https://console.aws.amazon.com/console/home', MobileVersion: 'No', MFAUsed: 'No' },
    }),
  );
  const recon: Array<[string, string]> = [
    ['iam.amazonaws.com', 'ListUsers'], ['iam.amazonaws.com', 'ListAccessKeys'], ['iam.amazonaws.com', 'GetAccountAuthorizationDetails'],
    ['s3.amazonaws.com', 'ListBuckets'], ['ec2.amazonaws.com', 'DescribeSnapshots'], ['secretsmanager.amazonaws.com', 'ListSecrets'],
    ['kms.amazonaws.com', 'ListKeys'], ['organizations.amazonaws.com', 'DescribeOrganization'], ['guardduty.amazonaws.com', 'ListDetectors'],
    ['cloudtrail.amazonaws.com', 'DescribeTrails'], ['rds.amazonaws.com', 'DescribeDBInstances'], ['lambda.amazonaws.com', 'ListFunctions20150331'],
  ];
  recon.forEach(([src, name], i) =>
    out.push(event(at(2, 15, i * 10), backup, src, name, ATTACKER, ATTACKER_UA, { errorCode: 'AccessDenied', errorMessage: `User: arn:aws:iam::${ACCT}:user/svc-backup is not authorized to perform: ${src.split('.')[0]}:${name}` })),
  );
  const w = (time: string, src: string, name: string, fields: Json): Json => event(time, backup, src, name, ATTACKER, ATTACKER_UA, { readOnly: false, ...fields });
  out.push(
    w(at(2, 20), 'iam.amazonaws.com', 'CreateAccessKey', {
      requestParameters: { userName: 'alice' },
      responseElements: { accessKey: { accessKeyId: 'AKIANEWKEYFORALICE01', status: 'Active', userName: 'alice', createDate: 'Nov 20, 2026 2:20:00 AM' } },
    }),
    w(at(2, 22), 'iam.amazonaws.com', 'AttachUserPolicy', { requestParameters: { userName: 'svc-backup', policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' } }),
    w(at(2, 25), 'iam.amazonaws.com', 'CreateUser', { requestParameters: { userName: 'backup-admin2' } }),
    w(at(2, 26), 'iam.amazonaws.com', 'CreateLoginProfile', { requestParameters: { userName: 'backup-admin2', passwordResetRequired: false } }),
    w(at(2, 27), 'iam.amazonaws.com', 'PutRolePolicy', {
      requestParameters: { roleName: 'web-app-role', policyName: 'maint', policyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }) },
    }),
    w(at(2, 30), 'cloudtrail.amazonaws.com', 'StopLogging', { requestParameters: { name: `arn:aws:cloudtrail:${DEMO_REGION}:${ACCT}:trail/org-trail` } }),
    w(at(2, 31), 'ec2.amazonaws.com', 'DeleteFlowLogs', { requestParameters: { DeleteFlowLogsRequest: { FlowLogId: { tag: 1, content: 'fl-0123456789abcdef0' } } } }),
    w(at(2, 33), 'guardduty.amazonaws.com', 'DeleteDetector', { requestParameters: { detectorId: '12abc34d567e8fa901bc2d34e56789f0' } }),
    w(at(2, 40), 'ec2.amazonaws.com', 'AuthorizeSecurityGroupIngress', {
      requestParameters: { groupId: 'sg-0ff11ee22dd33cc44', ipPermissions: { items: [{ ipProtocol: 'tcp', fromPort: 22, toPort: 22, groups: {}, ipRanges: { items: [{ cidrIp: '0.0.0.0/0' }] }, ipv6Ranges: {}, prefixListIds: {} }] } },
    }),
    w(at(2, 42), 'ec2.amazonaws.com', 'ModifySnapshotAttribute', {
      requestParameters: { snapshotId: 'snap-0abc1234def567890', attributeType: 'CREATE_VOLUME_PERMISSION', createVolumePermission: { add: { items: [{ userId: '999988887777' }] } } },
    }),
  );
  for (let i = 0; i < 15; i++) {
    out.push(w(at(2, 45, i * 3), 'secretsmanager.amazonaws.com', 'GetSecretValue', { readOnly: true, requestParameters: { secretId: `prod/service-${String(i + 1).padStart(2, '0')}/credentials` } }));
  }
  out.push(
    w(at(2, 55), 's3.amazonaws.com', 'PutBucketPolicy', {
      requestParameters: {
        bucketName: 'customer-exports',
        bucketPolicy: { Version: '2012-10-17', Statement: [{ Sid: 'x', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::customer-exports/*' }] },
        policy: [''],
        Host: 'customer-exports.s3.amazonaws.com',
      },
    }),
  );
  for (let i = 0; i < 30; i++) {
    out.push(
      w(at(3, i % 60, (i * 7) % 60), 's3.amazonaws.com', 'GetObject', {
        readOnly: true,
        managementEvent: false,
        eventCategory: 'Data',
        requestParameters: { bucketName: 'customer-exports', key: `exports/2026/customers-${String(i).padStart(3, '0')}.csv.gz`, Host: 'customer-exports.s3.amazonaws.com' },
        additionalEventData: { bytesTransferredIn: 0, bytesTransferredOut: 104_857_600 },
        resources: [{ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::customer-exports/exports/2026/customers-${String(i).padStart(3, '0')}.csv.gz` }],
      }),
    );
  }
  out.push(
    w(at(3, 30), 'lambda.amazonaws.com', 'CreateFunction20150331', {
      requestParameters: { functionName: 'log-shipper', runtime: 'python3.12', role: `arn:aws:iam::${ACCT}:role/web-app-role`, handler: 'index.handler' },
    }),
    w(at(3, 31), 'lambda.amazonaws.com', 'AddPermission20150331v2', {
      requestParameters: { functionName: 'log-shipper', statementId: 'public', action: 'lambda:InvokeFunction', principal: '*' },
    }),
  );
  const stolen = role('web-app-role', 'i-0a1b2c3d4e5f60718', 'ASIAWEBAPPEXAMPLE01', { ec2RoleDelivery: '2.0' });
  for (let i = 0; i < 3; i++) {
    out.push(event(at(3, 40 + i), stolen, 's3.amazonaws.com', 'ListBuckets', ATTACKER, 'aws-cli/1.18.69 Python/3.8.10 Linux/5.15.0-kali3-amd64 botocore/1.17.69', { requestParameters: { Host: 's3.amazonaws.com' } }));
  }
  out.push(
    event(at(4, 0), ROOT, 'signin.amazonaws.com', 'ConsoleLogin', ATTACKER_IPS[1], 'Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0', {
      responseElements: { ConsoleLogin: 'Success' },
      additionalEventData: { LoginTo: 'https://console.aws.amazon.com/console/home', MobileVersion: 'No', MFAUsed: 'No' },
    }),
    event(at(4, 10), ROOT, 'organizations.amazonaws.com', 'LeaveOrganization', ATTACKER_IPS[1], 'Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0', { readOnly: false }),
  );
  return out;
}

/**
 * The incident as CloudTrail delivers it: one `.json.gz` per hour and region under
 * `AWSLogs/<acct>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/`, records in time order within each file.
 */
export function generateIncident(): IncidentFile[] {
  counter = 0;
  const rand = prng(20261120);
  const all = [...background(rand), ...intrusion()].sort((a, b) => String(a.eventTime).localeCompare(String(b.eventTime)));
  const byHour = new Map<number, Json[]>();
  for (const r of all) {
    const hour = Number(String(r.eventTime).slice(11, 13));
    byHour.set(hour, [...(byHour.get(hour) ?? []), r]);
  }
  const [y, m, d] = DEMO_DAY.split('-');
  return [...byHour.entries()].map(([hour, records]) => {
    const stamp = `${y}${m}${d}T${String(hour).padStart(2, '0')}55Z`;
    const suffix = (hour * 7919 + 104729).toString(36).padStart(16, 'q').slice(0, 16);
    return {
      path: `AWSLogs/${ACCT}/CloudTrail/${DEMO_REGION}/${y}/${m}/${d}/${ACCT}_CloudTrail_${DEMO_REGION}_${stamp}_${suffix}.json.gz`,
      bytes: gzipSync(JSON.stringify({ Records: records })),
      records: records.length,
    };
  });
}
