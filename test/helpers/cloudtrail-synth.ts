/**
 * Deterministic synthetic CloudTrail, written in the real S3 delivery layout:
 * `AWSLogs/<acct>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/<acct>_CloudTrail_<region>_<yyyymmddTHHmmZ>_<16 chars>.json.gz`,
 * each file `{"Records":[...]}`. The same seed, event count and file count give byte-identical files, so benchmarks
 * and tests can compare runs. Records follow the documented CloudTrail record contents (camelCase keys such as
 * `sourceIPAddress`, `requestID`), with a realistic mix of management and data events, errors, and a few events the
 * detection catalogue looks for (StopLogging, root console login without MFA, admin policy attachment...).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** What to generate and where. */
export interface SynthOptions {
  /** Directory the `AWSLogs/...` tree is written under. */
  readonly dir: string;
  /** Total number of records across all files. */
  readonly events: number;
  /** Number of files; events are spread evenly (the first files take the remainder). */
  readonly files: number;
  /** @default 1 */
  readonly seed?: number;
  /** @default ['111122223333', '444455556666'] */
  readonly accounts?: readonly string[];
  /** @default ['us-east-1', 'eu-west-1'] */
  readonly regions?: readonly string[];
  /** First event time. @default '2024-03-01T00:00:00Z' */
  readonly start?: string;
  /** Hours the events span. @default 72 */
  readonly spanHours?: number;
  /** Prefix put before `AWSLogs/` in the returned keys (not on disk), e.g. `cases/C-1/aws/cloudtrail/`. @default '' */
  readonly keyPrefix?: string;
  /** gzip level; 6 is what CloudTrail-like gzip produces. @default 6 */
  readonly gzipLevel?: number;
}

/** One written delivery file. */
export interface SynthFile {
  /** Absolute path of the written file. */
  readonly path: string;
  /** Evidence key: keyPrefix + the S3 key below the bucket. */
  readonly key: string;
  readonly records: number;
  readonly account: string;
  readonly region: string;
}

/** Every file written, the event total and the gzip bytes on disk. */
export interface SynthResult {
  readonly files: readonly SynthFile[];
  readonly events: number;
  readonly bytes: number;
}

/** A CloudTrail record as it appears in a delivered file. */
export type CloudTrailRecord = Record<string, unknown>;

/** mulberry32: small, fast, and the same sequence on every platform for a given seed. */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rng = () => number;

const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)] as T;
const hex = (rng: Rng, n: number): string => Array.from({ length: n }, () => Math.floor(rng() * 16).toString(16)).join('');
const alnum = (rng: Rng, n: number): string =>
  Array.from({ length: n }, () => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(rng() * 62)]).join('');
const uuid = (rng: Rng): string => `${hex(rng, 8)}-${hex(rng, 4)}-4${hex(rng, 3)}-a${hex(rng, 3)}-${hex(rng, 12)}`;
const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

const USERS = ['alice', 'bob', 'carol', 'deploy-bot', 'ci-runner', 'mallory'];
const ROLES = ['Admin', 'ReadOnly', 'DataPipeline', 'OrganizationAccountAccessRole', 'LambdaExec'];
const CORPORATE_IPS = ['198.51.100.10', '198.51.100.11', '198.51.100.12', '203.0.113.40'];
const OUTSIDE_IPS = ['185.220.101.7', '45.155.205.99', '91.240.118.12', '2001:db8::7'];
const AGENTS = [
  'aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64.amzn.2023',
  'Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.1 lang/python#3.11.6',
  'aws-sdk-js/3.540.0 ua/2.0 os/linux#6.1 lang/js md/nodejs#20.11.1',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0 Safari/537.36',
  'S3Console/0.4',
];
const BUCKETS = ['acme-prod-data', 'acme-logs', 'acme-backups', 'acme-public-site'];

interface Ctx {
  readonly rng: Rng;
  readonly account: string;
  readonly region: string;
  readonly time: number;
}

function identity(ctx: Ctx, kind: 'user' | 'role' | 'root' | 'service'): Record<string, unknown> {
  const { rng, account } = ctx;
  if (kind === 'root') {
    return { type: 'Root', principalId: account, arn: `arn:aws:iam::${account}:root`, accountId: account, accessKeyId: `ASIA${alnum(rng, 16).toUpperCase()}` };
  }
  if (kind === 'service') return { type: 'AWSService', invokedBy: pick(rng, ['cloudtrail.amazonaws.com', 'ec2.amazonaws.com', 'lambda.amazonaws.com']) };
  if (kind === 'user') {
    const user = pick(rng, USERS);
    return {
      type: 'IAMUser', principalId: `AIDA${alnum(rng, 17).toUpperCase()}`, arn: `arn:aws:iam::${account}:user/${user}`,
      accountId: account, accessKeyId: `AKIA${alnum(rng, 16).toUpperCase()}`, userName: user,
    };
  }
  const role = pick(rng, ROLES);
  const session = pick(rng, USERS);
  const roleId = `AROA${alnum(rng, 17).toUpperCase()}`;
  return {
    type: 'AssumedRole', principalId: `${roleId}:${session}`, arn: `arn:aws:sts::${account}:assumed-role/${role}/${session}`,
    accountId: account, accessKeyId: `ASIA${alnum(rng, 16).toUpperCase()}`,
    sessionContext: {
      sessionIssuer: { type: 'Role', principalId: roleId, arn: `arn:aws:iam::${account}:role/${role}`, accountId: account, userName: role },
      attributes: { creationDate: isoSeconds(ctx.time - Math.floor(rng() * 3_600_000)), mfaAuthenticated: rng() < 0.3 ? 'true' : 'false' },
      ...(rng() < 0.05 ? { sourceIdentity: session } : {}),
      ...(rng() < 0.1 ? { ec2RoleDelivery: '2.0' } : {}),
    },
  };
}

type Builder = (ctx: Ctx) => Partial<CloudTrailRecord>;

// Weighted catalogue of event shapes; rare weights are the ones detections hunt for.
const EVENTS: ReadonlyArray<readonly [number, Builder]> = [
  [22, (c) => s3Object(c, 'GetObject', true)],
  [8, (c) => s3Object(c, 'PutObject', false)],
  [14, () => ({ eventSource: 'ec2.amazonaws.com', eventName: 'DescribeInstances', readOnly: true, requestParameters: { instancesSet: {}, filterSet: {} } })],
  [6, (c) => ({ eventSource: 'sts.amazonaws.com', eventName: 'GetCallerIdentity', readOnly: true, userIdentity: identity(c, 'user') })],
  [9, (c) => assumeRole(c)],
  [6, (c) => ({ eventSource: 'kms.amazonaws.com', eventName: 'Decrypt', readOnly: true, userIdentity: identity(c, 'service'), requestParameters: { encryptionAlgorithm: 'SYMMETRIC_DEFAULT' }, resources: [{ ARN: `arn:aws:kms:${c.region}:${c.account}:key/${uuid(c.rng)}`, accountId: c.account, type: 'AWS::KMS::Key' }] })],
  [5, (c) => ({ eventSource: 'secretsmanager.amazonaws.com', eventName: 'GetSecretValue', readOnly: true, requestParameters: { secretId: `prod/${pick(c.rng, ['db', 'api', 'stripe'])}` } })],
  [4, (c) => consoleLogin(c)],
  [3, (c) => ({ eventSource: 'ec2.amazonaws.com', eventName: 'RunInstances', readOnly: false, requestParameters: { instanceType: pick(c.rng, ['t3.micro', 'p4d.24xlarge', 'm5.large']), instancesSet: { items: [{ imageId: `ami-${hex(c.rng, 17)}`, minCount: 1, maxCount: Math.ceil(c.rng() * 20) }] } }, responseElements: { reservationId: `r-${hex(c.rng, 17)}` } })],
  [2, (c) => sgIngress(c)],
  [2, (c) => ({ eventSource: 'iam.amazonaws.com', eventName: 'CreateAccessKey', readOnly: false, requestParameters: { userName: pick(c.rng, USERS) }, responseElements: { accessKey: { accessKeyId: `AKIA${alnum(c.rng, 16).toUpperCase()}`, status: 'Active', userName: pick(c.rng, USERS) } } })],
  [1, (c) => ({ eventSource: 'iam.amazonaws.com', eventName: 'CreateUser', readOnly: false, requestParameters: { userName: `svc-${alnum(c.rng, 5).toLowerCase()}` } })],
  [1, (c) => ({ eventSource: 'iam.amazonaws.com', eventName: 'AttachUserPolicy', readOnly: false, requestParameters: { userName: pick(c.rng, USERS), policyArn: c.rng() < 0.4 ? 'arn:aws:iam::aws:policy/AdministratorAccess' : 'arn:aws:iam::aws:policy/ReadOnlyAccess' } })],
  [1, (c) => ({ eventSource: 's3.amazonaws.com', eventName: 'PutBucketPolicy', readOnly: false, requestParameters: { bucketName: pick(c.rng, BUCKETS), bucketPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: c.rng() < 0.5 ? '*' : { AWS: `arn:aws:iam::${c.account}:root` }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${pick(c.rng, BUCKETS)}/*` }] } } })],
  [1, (c) => ({ eventSource: 'lambda.amazonaws.com', eventName: 'UpdateFunctionCode20150331v2', readOnly: false, requestParameters: { functionName: `fn-${alnum(c.rng, 6)}`, publish: true } })],
  [0.3, (c) => ({ eventSource: 'cloudtrail.amazonaws.com', eventName: pick(c.rng, ['StopLogging', 'DeleteTrail', 'UpdateTrail']), readOnly: false, requestParameters: { name: `arn:aws:cloudtrail:${c.region}:${c.account}:trail/org-trail` } })],
  [0.2, (c) => ({ eventSource: 'guardduty.amazonaws.com', eventName: 'DeleteDetector', readOnly: false, requestParameters: { detectorId: hex(c.rng, 32) } })],
  [0.2, (c) => ({ eventSource: 'kms.amazonaws.com', eventName: 'ScheduleKeyDeletion', readOnly: false, requestParameters: { keyId: uuid(c.rng), pendingWindowInDays: 7 } })],
  [0.2, (c) => ({ eventSource: 'ec2.amazonaws.com', eventName: 'ModifySnapshotAttribute', readOnly: false, requestParameters: { snapshotId: `snap-${hex(c.rng, 17)}`, createVolumePermission: { add: { items: [{ group: 'all' }] } } } })],
];
const TOTAL_WEIGHT = EVENTS.reduce((sum, [w]) => sum + w, 0);

function s3Object(c: Ctx, eventName: string, readOnly: boolean): Partial<CloudTrailRecord> {
  const bucket = pick(c.rng, BUCKETS);
  const key = `data/${alnum(c.rng, 8)}/${alnum(c.rng, 12)}.parquet`;
  return {
    eventSource: 's3.amazonaws.com', eventName, readOnly, eventCategory: 'Data', managementEvent: false,
    requestParameters: { bucketName: bucket, Host: `${bucket}.s3.${c.region}.amazonaws.com`, key },
    additionalEventData: { SignatureVersion: 'SigV4', CipherSuite: 'TLS_AES_128_GCM_SHA256', bytesTransferredIn: readOnly ? 0 : Math.floor(c.rng() * 1e6), bytesTransferredOut: readOnly ? Math.floor(c.rng() * 1e7) : 0, 'x-amz-id-2': alnum(c.rng, 40) },
    resources: [
      { type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucket}/${key}` },
      { accountId: c.account, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` },
    ],
    tlsDetails: { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: `${bucket}.s3.${c.region}.amazonaws.com` },
  };
}

function assumeRole(c: Ctx): Partial<CloudTrailRecord> {
  const role = pick(c.rng, ROLES);
  return {
    eventSource: 'sts.amazonaws.com', eventName: 'AssumeRole', readOnly: true,
    userIdentity: identity(c, c.rng() < 0.5 ? 'user' : 'service'),
    requestParameters: { roleArn: `arn:aws:iam::${c.account}:role/${role}`, roleSessionName: pick(c.rng, USERS), durationSeconds: 3600 },
    responseElements: { credentials: { accessKeyId: `ASIA${alnum(c.rng, 16).toUpperCase()}`, expiration: 'Mar 1, 2024, 1:00:00 PM', sessionToken: alnum(c.rng, 60) }, assumedRoleUser: { assumedRoleId: `AROA${alnum(c.rng, 17).toUpperCase()}:${pick(c.rng, USERS)}`, arn: `arn:aws:sts::${c.account}:assumed-role/${role}/x` } },
    resources: [{ accountId: c.account, type: 'AWS::IAM::Role', ARN: `arn:aws:iam::${c.account}:role/${role}` }],
    sharedEventID: uuid(c.rng),
  };
}

function consoleLogin(c: Ctx): Partial<CloudTrailRecord> {
  const root = c.rng() < 0.15;
  const success = c.rng() < 0.8;
  return {
    eventSource: 'signin.amazonaws.com', eventName: 'ConsoleLogin', eventType: 'AwsConsoleSignIn', readOnly: false,
    userIdentity: identity(c, root ? 'root' : 'user'), requestParameters: null,
    responseElements: { ConsoleLogin: success ? 'Success' : 'Failure' },
    additionalEventData: { LoginTo: 'https://console.aws.amazon.com/console/home', MobileVersion: 'No', MFAUsed: c.rng() < 0.6 ? 'Yes' : 'No' },
    ...(success ? {} : { errorMessage: 'Failed authentication' }),
    userAgent: AGENTS[3],
    sourceIPAddress: c.rng() < 0.3 ? pick(c.rng, OUTSIDE_IPS) : pick(c.rng, CORPORATE_IPS),
  };
}

function sgIngress(c: Ctx): Partial<CloudTrailRecord> {
  const open = c.rng() < 0.5;
  return {
    eventSource: 'ec2.amazonaws.com', eventName: 'AuthorizeSecurityGroupIngress', readOnly: false,
    requestParameters: {
      groupId: `sg-${hex(c.rng, 17)}`,
      ipPermissions: { items: [{ ipProtocol: 'tcp', fromPort: pick(c.rng, [22, 3389, 443]), toPort: 22, ipRanges: { items: [{ cidrIp: open ? '0.0.0.0/0' : '10.0.0.0/8' }] } }] },
    },
    responseElements: { _return: true },
  };
}

/** One CloudTrail record at `time` in `account`/`region`, drawn from the weighted catalogue above. */
export function synthRecord(rng: Rng, time: number, account: string, region: string): CloudTrailRecord {
  const ctx: Ctx = { rng, account, region, time };
  let roll = rng() * TOTAL_WEIGHT;
  let builder = (EVENTS[0] as readonly [number, Builder])[1];
  for (const [weight, b] of EVENTS) {
    roll -= weight;
    if (roll < 0) {
      builder = b;
      break;
    }
  }
  const body = builder(ctx);
  const denied = rng() < 0.03 && body.eventName !== 'ConsoleLogin';
  const record: CloudTrailRecord = {
    eventVersion: '1.09',
    userIdentity: rng() < 0.6 ? identity(ctx, 'role') : identity(ctx, 'user'),
    eventTime: isoSeconds(time),
    eventSource: body.eventSource,
    eventName: body.eventName,
    awsRegion: region,
    sourceIPAddress: rng() < 0.9 ? pick(rng, CORPORATE_IPS) : pick(rng, OUTSIDE_IPS),
    userAgent: pick(rng, AGENTS),
    ...(denied ? { errorCode: 'AccessDenied', errorMessage: `User is not authorized to perform: ${String(body.eventSource).split('.')[0]}:${String(body.eventName)}` } : {}),
    requestParameters: null,
    responseElements: null,
    requestID: uuid(rng),
    eventID: uuid(rng),
    readOnly: false,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: account,
    eventCategory: 'Management',
    tlsDetails: { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: `${String(body.eventSource).split('.')[0]}.${region}.amazonaws.com` },
    ...body,
  };
  if (denied) record.responseElements = null;
  return record;
}

/** The S3 key CloudTrail would deliver a file under (`AWSLogs/...`, without bucket or prefix). */
export function cloudTrailKey(account: string, region: string, deliveredAt: number, unique: string): string {
  const d = new Date(deliveredAt);
  const p = (n: number) => String(n).padStart(2, '0');
  const [y, m, day] = [d.getUTCFullYear(), p(d.getUTCMonth() + 1), p(d.getUTCDate())];
  const stamp = `${y}${m}${day}T${p(d.getUTCHours())}${p(d.getUTCMinutes())}Z`;
  return `AWSLogs/${account}/CloudTrail/${region}/${y}/${m}/${day}/${account}_CloudTrail_${region}_${stamp}_${unique}.json.gz`;
}

/** Writes `files` gzip CloudTrail files holding `events` records in total; deterministic for a given seed. */
export async function writeSyntheticCloudTrail(options: SynthOptions): Promise<SynthResult> {
  const { dir, events, files } = options;
  if (!Number.isInteger(files) || files < 1) throw new Error(`files must be a positive integer, got ${files}`);
  if (!Number.isInteger(events) || events < 0) throw new Error(`events must be a non-negative integer, got ${events}`);
  const rng = createRng(options.seed ?? 1);
  const accounts = options.accounts ?? ['111122223333', '444455556666'];
  const regions = options.regions ?? ['us-east-1', 'eu-west-1'];
  const start = Date.parse(options.start ?? '2024-03-01T00:00:00Z');
  const spanMs = (options.spanHours ?? 72) * 3_600_000;
  const prefix = options.keyPrefix ?? '';
  const out: SynthFile[] = [];
  let bytes = 0;
  const base = Math.floor(events / files);
  const extra = events % files;
  for (let f = 0; f < files; f++) {
    const count = base + (f < extra ? 1 : 0);
    const account = accounts[f % accounts.length] as string;
    const region = regions[Math.floor(f / accounts.length) % regions.length] as string;
    // Each file covers its own slice of the span, as CloudTrail's ~5-minute deliveries do.
    const sliceStart = start + Math.floor((spanMs * f) / files);
    const sliceMs = Math.max(1000, Math.floor(spanMs / files));
    const times = Array.from({ length: count }, () => sliceStart + Math.floor(rng() * sliceMs)).sort((a, b) => a - b);
    const records = times.map((t) => synthRecord(rng, t, account, region));
    const s3Key = cloudTrailKey(account, region, sliceStart + sliceMs, alnum(rng, 16));
    const path = join(dir, s3Key);
    await mkdir(dirname(path), { recursive: true });
    const gz = gzipSync(JSON.stringify({ Records: records }), { level: options.gzipLevel ?? 6 });
    await writeFile(path, gz);
    bytes += gz.length;
    out.push({ path, key: `${prefix}${s3Key}`, records: count, account, region });
  }
  return { files: out, events, bytes };
}

/** Writes a derived NDJSON file as the CloudTrail parser does: one `{evidence_key, evidence_record, record}` per line. */
export async function writeDerivedNdjson(
  path: string,
  lines: ReadonlyArray<{ readonly evidenceKey: string; readonly evidenceRecord: number; readonly record: CloudTrailRecord }>,
  options: { readonly gzip?: boolean } = {},
): Promise<void> {
  const text = lines
    .map((l) => JSON.stringify({ evidence_key: l.evidenceKey, evidence_record: l.evidenceRecord, record: l.record }))
    .join('\n') + (lines.length > 0 ? '\n' : '');
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, options.gzip ? gzipSync(text) : text);
}
