/**
 * The EvidenceSource port on an AWS account's estate (`amber inventory --cloud aws`): every answer of the
 * describe/list/get calls below, region by region, preserved as the HTTP body the service sent, under a key
 * naming account, time of the inventory, region, service, operation, resource and page
 * (`aws/inventory/<account>/<stamp>/<region|global>/<service>/<Operation>[/<resource>]/page-NNNNN.<xml|json>`),
 * with an `api:aws-inventory?service=..&operation=..&region=..&page=..` origin giving the exact request.
 *
 * - Raw bytes: as in cloudtrail-lookup-source.ts, a middleware inside the deserialize step reads the response
 *   body, keeps it and hands the same bytes on, so the SDK parses (next tokens, resource ids for the per-resource
 *   calls) exactly what is preserved. It runs under the retry middleware, so the kept body is the final attempt's.
 * - Throttling and 5xx: the SDK's retry strategy (sdkClientConfig: 6 attempts, jittered backoff).
 * - An answer that says "there is none" (NoSuchBucketPolicy, a function without a policy) is preserved like any
 *   other: absence is evidence when the question was asked. A refusal (AccessDenied) is preserved as well and
 *   reported as a problem of that service in that region (recorded in the manifest's failures); a region that is
 *   not enabled is reported once and skipped. Neither stops the rest.
 * - Sequential: one request at a time per run; pages are stored as they come (concurrency 1).
 */
import { Readable } from 'node:stream';
import { CloudTrailClient, DescribeTrailsCommand, GetTrailStatusCommand } from '@aws-sdk/client-cloudtrail';
import {
  DescribeFlowLogsCommand,
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  DescribeVpcEndpointsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { GetDetectorCommand, GuardDutyClient, ListDetectorsCommand } from '@aws-sdk/client-guardduty';
import {
  GetAccessKeyLastUsedCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListMFADevicesCommand,
  ListPoliciesCommand,
  ListRolesCommand,
  ListUsersCommand,
} from '@aws-sdk/client-iam';
import { GetKeyPolicyCommand, KMSClient, ListKeysCommand } from '@aws-sdk/client-kms';
import { GetPolicyCommand, LambdaClient, ListFunctionsCommand, ListFunctionUrlConfigsCommand } from '@aws-sdk/client-lambda';
import { DescribeDBInstancesCommand, DescribeDBSnapshotAttributesCommand, DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { GetBucketAclCommand, GetBucketPolicyCommand, GetBucketPolicyStatusCommand, GetPublicAccessBlockCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { GetPublicAccessBlockCommand as GetAccountPublicAccessBlockCommand, S3ControlClient } from '@aws-sdk/client-s3-control';
import { compactTime } from './cloudtrail-lookup-source.ts';
import type { EvidenceSource, SourceObject, SourceProblem } from '../../../shared/ports/evidence-source.ts';
import { parseAnswer } from '../../../shared/sources/inventory/parse.ts';
import { sdkClientConfig, type AwsClientConfig } from './aws-client.ts';

/** The `api:` name of this source. */
export const INVENTORY_API_SPEC = 'api:aws-inventory';

/**
 * Every call the inventory makes, as `<service>:<Operation>` of its key, with the IAM action that allows it: the
 * collector role of the member accounts is granted exactly these (infra/lib/inventory-permissions.ts).
 */
export const INVENTORY_CALLS = {
  'iam:ListUsers': 'iam:ListUsers',
  'iam:ListRoles': 'iam:ListRoles',
  'iam:ListPolicies': 'iam:ListPolicies',
  'iam:ListAccessKeys': 'iam:ListAccessKeys',
  'iam:GetAccessKeyLastUsed': 'iam:GetAccessKeyLastUsed',
  'iam:ListMFADevices': 'iam:ListMFADevices',
  'iam:ListAttachedUserPolicies': 'iam:ListAttachedUserPolicies',
  'iam:ListAttachedRolePolicies': 'iam:ListAttachedRolePolicies',
  's3:ListBuckets': 's3:ListAllMyBuckets',
  's3:GetBucketPolicyStatus': 's3:GetBucketPolicyStatus',
  's3:GetBucketPolicy': 's3:GetBucketPolicy',
  's3:GetBucketAcl': 's3:GetBucketAcl',
  's3:GetPublicAccessBlock': 's3:GetBucketPublicAccessBlock',
  's3control:GetPublicAccessBlock': 's3:GetAccountPublicAccessBlock',
  'ec2:DescribeInstances': 'ec2:DescribeInstances',
  'ec2:DescribeVolumes': 'ec2:DescribeVolumes',
  'ec2:DescribeSnapshots': 'ec2:DescribeSnapshots',
  'ec2:DescribeSnapshotAttribute': 'ec2:DescribeSnapshotAttribute',
  'ec2:DescribeImages': 'ec2:DescribeImages',
  'ec2:DescribeImageAttribute': 'ec2:DescribeImageAttribute',
  'ec2:DescribeSecurityGroups': 'ec2:DescribeSecurityGroups',
  'ec2:DescribeVpcs': 'ec2:DescribeVpcs',
  'ec2:DescribeVpcEndpoints': 'ec2:DescribeVpcEndpoints',
  'ec2:DescribeFlowLogs': 'ec2:DescribeFlowLogs',
  'lambda:ListFunctions': 'lambda:ListFunctions',
  'lambda:ListFunctionUrlConfigs': 'lambda:ListFunctionUrlConfigs',
  'lambda:GetPolicy': 'lambda:GetPolicy',
  'rds:DescribeDBInstances': 'rds:DescribeDBInstances',
  'rds:DescribeDBSnapshots': 'rds:DescribeDBSnapshots',
  'rds:DescribeDBSnapshotAttributes': 'rds:DescribeDBSnapshotAttributes',
  'kms:ListKeys': 'kms:ListKeys',
  'kms:GetKeyPolicy': 'kms:GetKeyPolicy',
  'cloudtrail:DescribeTrails': 'cloudtrail:DescribeTrails',
  'cloudtrail:GetTrailStatus': 'cloudtrail:GetTrailStatus',
  'guardduty:ListDetectors': 'guardduty:ListDetectors',
  'guardduty:GetDetector': 'guardduty:GetDetector',
} as const;

/** The record an inventory leaves when it has read everything (`aws/inventory/<account>/<stamp>/run.json`): its absence marks an interrupted one. */
export const INVENTORY_RUN_RECORD = 'run.json';

/** Services read in every region, in this order; IAM and S3 are global and read once. */
export const REGIONAL_SERVICES = ['ec2', 'lambda', 'rds', 'kms', 'cloudtrail', 'guardduty'] as const;

/** Answers that say a resource has none of the thing asked about: preserved, never a problem. */
const ABSENT = new Set([
  'NoSuchBucketPolicy',
  'NoSuchPublicAccessBlockConfiguration',
  'ResourceNotFoundException',
  'NoSuchEntity',
  'DBSnapshotNotFound',
  'TrailNotFoundException',
]);
/** A region the account has not enabled answers with one of these. */
const REGION_OFF = /^(AuthFailure|OptInRequired|UnrecognizedClient(Exception)?|InvalidClientTokenId)$/;

export interface AwsInventorySourceOptions {
  /** Regions to read, in order. */
  readonly regions: readonly string[];
  /** Region for the global services (IAM, S3's bucket list). */
  readonly homeRegion: string;
  /** The account (12 digits), named in every key. */
  readonly account: string;
  /** When the inventory is taken: named in every key, so two inventories of one case never collide. */
  readonly observedAt: Date;
  /** Credentials, retries, a test HTTP handler. @default the SDK's own resolution (AWS_ENDPOINT_URL_<SERVICE> honoured) */
  readonly clientConfig?: AwsClientConfig;
  /**
   * Resuming an inventory (same account and `observedAt`): the answer already preserved under a key, given the
   * key's path without its extension (`aws/inventory/<account>/<stamp>/.../page-00001`), or undefined. A kept
   * answer is not asked again: the SDK reads the kept bytes as the service's answer (next tokens, resource ids),
   * and the object is yielded again only when `yield` is true (kept but not yet recorded).
   */
  readonly preserved?: (stem: string) => Promise<{ readonly bytes: Uint8Array; readonly yield: boolean } | undefined>;
}

/** What one service left unread, for the terminal and --json. */
export interface InventoryProblem {
  readonly region: string;
  readonly service: string;
  readonly operation: string;
  readonly code: string;
  readonly message: string;
}

interface Call {
  readonly service: string;
  readonly operation: string;
  readonly region: string;
  readonly resource?: string;
}

interface Answer<T> {
  readonly output?: T;
  readonly error?: { name: string; message: string };
}

type Sender = { send(command: unknown): Promise<unknown> };
// Each client package types its commands apart; the source only needs send() and a middleware stack.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyCommand = any;
// An SDK output as the listing callbacks read it (each names the fields it uses).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyOutput = any;

class RegionOff extends Error {}

/** An AWS account's estate, preserved answer by answer. */
export class AwsInventorySource implements EvidenceSource {
  readonly spec = INVENTORY_API_SPEC;
  readonly concurrency = 1;
  /** Problems met, in order (also reported through `onProblem`). */
  readonly problems: InventoryProblem[] = [];
  /** Answers preserved, per service. */
  readonly answers: Record<string, number> = {};
  /** Answers an earlier attempt had preserved, read from the locker instead of asked again, per service. */
  readonly resumed: Record<string, number> = {};
  /** The inventory's time as named in its keys (yyyymmddThhmmssZ). */
  readonly stamp: string;
  private readonly options: AwsInventorySourceOptions;
  private onProblem: (problem: SourceProblem) => void = () => undefined;

  constructor(options: AwsInventorySourceOptions) {
    this.options = options;
    this.stamp = compactTime(new Date(Math.floor(options.observedAt.getTime() / 1000) * 1000));
  }

  async *list(onProblem: (problem: SourceProblem) => void): AsyncIterable<SourceObject> {
    this.onProblem = onProblem;
    const home = this.options.homeRegion;
    yield* this.guard('global', 'iam', () => this.iam(this.client(IAMClient, home)));
    yield* this.guard('global', 's3', () => this.s3(this.client(S3Client, home, { followRegionRedirects: true })));
    yield* this.guard('global', 's3control', () => this.s3control(this.client(S3ControlClient, home)));
    for (const region of this.options.regions) {
      try {
        for (const service of REGIONAL_SERVICES) yield* this.guard(region, service, () => this.regional(service, region), true);
      } catch (error) {
        if (!(error instanceof RegionOff)) throw error;
      }
    }
    // Everything was asked: the run's own record, which tells a later --resume this inventory is complete.
    const run = Buffer.from(
      `${JSON.stringify(
        {
          amberInventoryRun: 1,
          account: this.options.account,
          observedAt: `${new Date(Math.floor(this.options.observedAt.getTime() / 1000) * 1000).toISOString().slice(0, 19)}Z`,
          homeRegion: home,
          regions: this.options.regions,
          answers: this.answers,
          resumed: this.resumed,
          problems: this.problems,
        },
        null,
        2,
      )}\n`,
    );
    const q = new URLSearchParams({ account: this.options.account, stamp: this.stamp });
    yield { origin: `${INVENTORY_API_SPEC}?${q.toString()}`, relPath: `${this.prefix()}/${INVENTORY_RUN_RECORD}`, size: run.length, open: () => Promise.resolve(Readable.from([run])) };
  }

  /** `aws/inventory/<account>/<stamp>`: where every answer of this inventory is kept. */
  prefix(): string {
    return `aws/inventory/${this.options.account}/${this.stamp}`;
  }

  private client<C>(Ctor: new (config: object) => C, region: string, extra: object = {}): C {
    return new Ctor({ ...sdkClientConfig(this.options.clientConfig), region, ...extra });
  }

  private regional(service: (typeof REGIONAL_SERVICES)[number], region: string): AsyncGenerator<SourceObject> {
    switch (service) {
      case 'ec2':
        return this.ec2(this.client(EC2Client, region), region);
      case 'lambda':
        return this.lambda(this.client(LambdaClient, region), region);
      case 'rds':
        return this.rds(this.client(RDSClient, region), region);
      case 'kms':
        return this.kms(this.client(KMSClient, region), region);
      case 'cloudtrail':
        return this.cloudtrail(this.client(CloudTrailClient, region), region);
      case 'guardduty':
        return this.guardduty(this.client(GuardDutyClient, region), region);
    }
  }

  /** Runs one service's reads; a failure of the listing call ends that service there, reported, never the run. */
  private async *guard(region: string, service: string, body: () => AsyncGenerator<SourceObject>, regional = false): AsyncGenerator<SourceObject> {
    try {
      yield* body();
    } catch (error) {
      const e = error as { name?: string; message?: string; call?: Call };
      const name = e.name ?? 'Error';
      if (regional && REGION_OFF.test(name)) {
        this.problem({ region, service: '*', operation: e.call?.operation ?? '*', code: name, message: `${e.message ?? ''}; ${region} looks not enabled for this account: enable it, or leave it out with --region` });
        throw new RegionOff(region);
      }
      this.problem({ region, service, operation: e.call?.operation ?? '*', code: name, message: `${e.message ?? String(error)}; the rest of ${service} in ${region} was not read: grant the read-only permission (the SecurityAudit managed policy covers it) and run again` });
    }
  }

  private problem(p: InventoryProblem): void {
    this.problems.push(p);
    const q = new URLSearchParams({ service: p.service, operation: p.operation, region: p.region });
    this.onProblem({ origin: `${INVENTORY_API_SPEC}?${q.toString()}`, reason: `${p.code}: ${p.message}` });
  }

  /**
   * Sends one request, keeps the raw answer, and yields it as a SourceObject. Refusals of a per-resource call
   * (`perResource`) are reported and the run goes on; refusals of a listing call are thrown to `guard`.
   */
  private async *send<T>(client: Sender, command: AnyCommand, call: Call, page: number, token: string | undefined, sink: (answer: Answer<T>) => void, perResource = false): AsyncGenerator<SourceObject> {
    const kept = await this.options.preserved?.(this.stem(call, page));
    if (kept) {
      yield* this.replay(client, command, call, page, token, kept, sink, perResource);
      return;
    }
    let body: Uint8Array | undefined;
    (command as { middlewareStack: { add: (m: unknown, o: unknown) => void } }).middlewareStack.add(
      (next: (a: unknown) => Promise<{ response: { body?: unknown } }>) => async (args: unknown) => {
        const out = await next(args);
        const raw = await readBody(out.response.body);
        out.response.body = raw;
        body = raw;
        return out;
      },
      { step: 'deserialize', priority: 'low', name: 'amberRawBodyCapture' },
    );
    let output: T | undefined;
    let failure: { name: string; message: string } | undefined;
    try {
      output = (await client.send(command)) as T;
    } catch (error) {
      const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      failure = { name: e.name ?? 'Error', message: e.message ?? String(error) };
      // No HTTP answer at all (network, credentials): nothing to preserve; the caller's guard reports it.
      if (e.$metadata?.httpStatusCode === undefined || body === undefined) throw Object.assign(error as object, { call });
    }
    yield this.object(call, page, token, Buffer.from(body!));
    this.answers[call.service] = (this.answers[call.service] ?? 0) + 1;
    if (failure && !ABSENT.has(failure.name)) {
      if (!perResource || REGION_OFF.test(failure.name)) throw Object.assign(new Error(failure.message), { name: failure.name, call });
      this.problem({ region: call.region, service: call.service, operation: call.operation, code: failure.name, message: `${failure.message} (about ${call.resource ?? '?'}); its answer is preserved; the other resources were read` });
    }
    sink(failure ? { error: failure } : { output: output as T });
  }

  /**
   * An answer an earlier attempt preserved: an error answer ends here as it did then (its code read from the
   * bytes); any other is handed to the SDK in place of the HTTP response, so paging and the per-resource calls
   * go on exactly as from the service. REST-JSON errors whose body names only the fault side (Lambda's
   * `{"Type":"User"}`; the code was in a header) count as absent.
   */
  private async *replay<T>(client: Sender, command: AnyCommand, call: Call, page: number, token: string | undefined, kept: { bytes: Uint8Array; yield: boolean }, sink: (answer: Answer<T>) => void, perResource: boolean): AsyncGenerator<SourceObject> {
    const bytes = Buffer.from(kept.bytes);
    if (kept.yield) yield this.object(call, page, token, bytes);
    this.resumed[call.service] = (this.resumed[call.service] ?? 0) + 1;
    const request = { account: this.options.account, region: call.region, service: call.service, operation: call.operation, observedAt: '1970-01-01T00:00:00Z', ...(call.resource !== undefined ? { resource: call.resource } : {}) };
    let code: string | null;
    try {
      const first = parseAnswer(request, bytes.toString('utf8'))[0];
      code = first ? (JSON.parse(first.attributes) as { error: string | null }).error : null;
    } catch {
      code = null;
    }
    if (code !== null) {
      const failure = { name: code, message: `${code} (the answer an earlier attempt of this inventory preserved)` };
      if (!ABSENT.has(code) && code !== 'User') {
        if (!perResource || REGION_OFF.test(code)) throw Object.assign(new Error(failure.message), { name: code, call });
        this.problem({ region: call.region, service: call.service, operation: call.operation, code, message: `${failure.message} (about ${call.resource ?? '?'}); its answer is preserved; the other resources were read` });
      }
      sink({ error: failure });
      return;
    }
    const xml = bytes.subarray(0, 64).toString('utf8').trimStart().startsWith('<');
    (command as { middlewareStack: { add: (m: unknown, o: unknown) => void } }).middlewareStack.add(
      () => async () => ({ response: { statusCode: 200, reason: 'OK', headers: { 'content-type': xml ? 'text/xml' : 'application/json', 'content-length': String(bytes.length) }, body: bytes } }),
      { step: 'deserialize', priority: 'low', name: 'amberPreservedAnswer' },
    );
    sink({ output: (await client.send(command)) as T });
  }

  /** The key of an answer without its extension (which depends on the body: xml or json). */
  private stem(call: Call, page: number): string {
    const resource = call.resource === undefined ? '' : `/${encodeURIComponent(call.resource)}`;
    return `${this.prefix()}/${call.region}/${call.service}/${call.operation}${resource}/page-${String(page).padStart(5, '0')}`;
  }

  private object(call: Call, page: number, token: string | undefined, bytes: Buffer): SourceObject {
    const ext = bytes.subarray(0, 64).toString('utf8').trimStart().startsWith('<') ? 'xml' : 'json';
    const region = call.region;
    const relPath = `${this.stem(call, page)}.${ext}`;
    const q = new URLSearchParams({ service: call.service, operation: call.operation, region });
    if (call.resource !== undefined) q.set('resource', call.resource);
    q.set('page', String(page));
    if (token !== undefined) q.set('token', token);
    return { origin: `${INVENTORY_API_SPEC}?${q.toString()}`, relPath, size: bytes.length, open: () => Promise.resolve(Readable.from([bytes])) };
  }

  /** Every page of a paged call; `each` sees each parsed page (for the per-resource calls). */
  private async *paged(client: Sender, call: Call, make: (token?: string) => AnyCommand, nextOf: (out: AnyOutput) => string | undefined, each: (out: AnyOutput) => void, perResource = false): AsyncGenerator<SourceObject> {
    let token: string | undefined;
    for (let page = 1; ; page += 1) {
      let answer: Answer<AnyOutput> = {};
      yield* this.send<AnyOutput>(client, make(token), call, page, token, (a) => (answer = a), perResource);
      if (!answer.output) return;
      each(answer.output);
      const next = nextOf(answer.output);
      if (!next || next === token) return;
      token = next;
    }
  }

  private async *ec2(client: EC2Client, region: string): AsyncGenerator<SourceObject> {
    const c = (operation: string, resource?: string): Call => ({ service: 'ec2', operation, region, ...(resource !== undefined ? { resource } : {}) });
    const next = (o: { NextToken?: string }): string | undefined => o.NextToken;
    const none = (): void => undefined;
    yield* this.paged(client, c('DescribeInstances'), (t) => new DescribeInstancesCommand({ MaxResults: 1000, NextToken: t }), next, none);
    yield* this.paged(client, c('DescribeVolumes'), (t) => new DescribeVolumesCommand({ MaxResults: 500, NextToken: t }), next, none);
    const snapshots: string[] = [];
    yield* this.paged(client, c('DescribeSnapshots'), (t) => new DescribeSnapshotsCommand({ OwnerIds: ['self'], MaxResults: 1000, NextToken: t }), next, (o: { Snapshots?: { SnapshotId?: string }[] }) => {
      for (const s of o.Snapshots ?? []) if (s.SnapshotId) snapshots.push(s.SnapshotId);
    });
    for (const id of snapshots) {
      yield* this.send(client, new DescribeSnapshotAttributeCommand({ SnapshotId: id, Attribute: 'createVolumePermission' }), c('DescribeSnapshotAttribute', id), 1, undefined, none, true);
    }
    const images: string[] = [];
    yield* this.paged(client, c('DescribeImages'), (t) => new DescribeImagesCommand({ Owners: ['self'], MaxResults: 1000, NextToken: t }), next, (o: { Images?: { ImageId?: string }[] }) => {
      for (const i of o.Images ?? []) if (i.ImageId) images.push(i.ImageId);
    });
    for (const id of images) {
      yield* this.send(client, new DescribeImageAttributeCommand({ ImageId: id, Attribute: 'launchPermission' }), c('DescribeImageAttribute', id), 1, undefined, none, true);
    }
    yield* this.paged(client, c('DescribeSecurityGroups'), (t) => new DescribeSecurityGroupsCommand({ MaxResults: 1000, NextToken: t }), next, none);
    yield* this.paged(client, c('DescribeVpcs'), (t) => new DescribeVpcsCommand({ MaxResults: 1000, NextToken: t }), next, none);
    yield* this.paged(client, c('DescribeVpcEndpoints'), (t) => new DescribeVpcEndpointsCommand({ MaxResults: 1000, NextToken: t }), next, none);
    yield* this.paged(client, c('DescribeFlowLogs'), (t) => new DescribeFlowLogsCommand({ MaxResults: 1000, NextToken: t }), next, none);
  }

  private async *iam(client: IAMClient): AsyncGenerator<SourceObject> {
    const c = (operation: string, resource?: string): Call => ({ service: 'iam', operation, region: 'global', ...(resource !== undefined ? { resource } : {}) });
    const marker = (o: { IsTruncated?: boolean; Marker?: string }): string | undefined => (o.IsTruncated ? o.Marker : undefined);
    const none = (): void => undefined;
    const users: string[] = [];
    yield* this.paged(client, c('ListUsers'), (t) => new ListUsersCommand({ Marker: t }), marker, (o: { Users?: { UserName?: string }[] }) => {
      for (const u of o.Users ?? []) if (u.UserName) users.push(u.UserName);
    });
    const roles: string[] = [];
    yield* this.paged(client, c('ListRoles'), (t) => new ListRolesCommand({ Marker: t }), marker, (o: { Roles?: { RoleName?: string }[] }) => {
      for (const r of o.Roles ?? []) if (r.RoleName) roles.push(r.RoleName);
    });
    yield* this.paged(client, c('ListPolicies'), (t) => new ListPoliciesCommand({ Scope: 'Local', Marker: t }), marker, none);
    for (const user of users) {
      const keys: string[] = [];
      yield* this.paged(client, c('ListAccessKeys', user), (t) => new ListAccessKeysCommand({ UserName: user, Marker: t }), marker, (o: { AccessKeyMetadata?: { AccessKeyId?: string }[] }) => {
        for (const k of o.AccessKeyMetadata ?? []) if (k.AccessKeyId) keys.push(k.AccessKeyId);
      }, true);
      for (const key of keys) yield* this.send(client, new GetAccessKeyLastUsedCommand({ AccessKeyId: key }), c('GetAccessKeyLastUsed', key), 1, undefined, none, true);
      yield* this.paged(client, c('ListMFADevices', user), (t) => new ListMFADevicesCommand({ UserName: user, Marker: t }), marker, none, true);
      yield* this.paged(client, c('ListAttachedUserPolicies', user), (t) => new ListAttachedUserPoliciesCommand({ UserName: user, Marker: t }), marker, none, true);
    }
    for (const role of roles) {
      yield* this.paged(client, c('ListAttachedRolePolicies', role), (t) => new ListAttachedRolePoliciesCommand({ RoleName: role, Marker: t }), marker, none, true);
    }
  }

  private async *s3(client: S3Client): AsyncGenerator<SourceObject> {
    const c = (operation: string, resource?: string): Call => ({ service: 's3', operation, region: 'global', ...(resource !== undefined ? { resource } : {}) });
    const none = (): void => undefined;
    const buckets: string[] = [];
    yield* this.paged(client, c('ListBuckets'), (t) => new ListBucketsCommand({ MaxBuckets: 1000, ContinuationToken: t }), (o: { ContinuationToken?: string }) => o.ContinuationToken, (o: { Buckets?: { Name?: string }[] }) => {
      for (const b of o.Buckets ?? []) if (b.Name) buckets.push(b.Name);
    });
    for (const bucket of buckets) {
      yield* this.send(client, new GetBucketPolicyStatusCommand({ Bucket: bucket }), c('GetBucketPolicyStatus', bucket), 1, undefined, none, true);
      yield* this.send(client, new GetBucketPolicyCommand({ Bucket: bucket }), c('GetBucketPolicy', bucket), 1, undefined, none, true);
      yield* this.send(client, new GetBucketAclCommand({ Bucket: bucket }), c('GetBucketAcl', bucket), 1, undefined, none, true);
      yield* this.send(client, new GetPublicAccessBlockCommand({ Bucket: bucket }), c('GetPublicAccessBlock', bucket), 1, undefined, none, true);
    }
  }

  /**
   * The account-level S3 Block Public Access (S3 Control GetPublicAccessBlock, addressed to
   * `<account>.s3-control.<region>.amazonaws.com`). NoSuchPublicAccessBlockConfiguration is preserved as the
   * absence it is: no account-wide block, so only each bucket's own block stands between a bucket and the public.
   */
  private async *s3control(client: S3ControlClient): AsyncGenerator<SourceObject> {
    const call: Call = { service: 's3control', operation: 'GetPublicAccessBlock', region: 'global' };
    yield* this.send(client, new GetAccountPublicAccessBlockCommand({ AccountId: this.options.account }), call, 1, undefined, () => undefined);
  }

  private async *lambda(client: LambdaClient, region: string): AsyncGenerator<SourceObject> {
    const c = (operation: string, resource?: string): Call => ({ service: 'lambda', operation, region, ...(resource !== undefined ? { resource } : {}) });
    const none = (): void => undefined;
    const functions: string[] = [];
    yield* this.paged(client, c('ListFunctions'), (t) => new ListFunctionsCommand({ Marker: t, MaxItems: 50 }), (o: { NextMarker?: string }) => o.NextMarker, (o: { Functions?: { FunctionName?: string }[] }) => {
      for (const f of o.Functions ?? []) if (f.FunctionName) functions.push(f.FunctionName);
    });
    for (const fn of functions) {
      yield* this.paged(client, c('ListFunctionUrlConfigs', fn), (t) => new ListFunctionUrlConfigsCommand({ FunctionName: fn, Marker: t }), (o: { NextMarker?: string }) => o.NextMarker, none, true);
      yield* this.send(client, new GetPolicyCommand({ FunctionName: fn }), c('GetPolicy', fn), 1, undefined, none, true);
    }
  }

  private async *rds(client: RDSClient, region: string): AsyncGenerator<SourceObject> {
    const c = (operation: string, resource?: string): Call => ({ service: 'rds', operation, region, ...(resource !== undefined ? { resource } : {}) });
    const marker = (o: { Marker?: string }): string | undefined => o.Marker;
    yield* this.paged(client, c('DescribeDBInstances'), (t) => new DescribeDBInstancesCommand({ Marker: t }), marker, () => undefined);
    const manual: string[] = [];
    yield* this.paged(client, c('DescribeDBSnapshots'), (t) => new DescribeDBSnapshotsCommand({ SnapshotType: 'manual', Marker: t }), marker, (o: { DBSnapshots?: { DBSnapshotIdentifier?: string }[] }) => {
      for (const s of o.DBSnapshots ?? []) if (s.DBSnapshotIdentifier) manual.push(s.DBSnapshotIdentifier);
    });
    for (const id of manual) yield* this.send(client, new DescribeDBSnapshotAttributesCommand({ DBSnapshotIdentifier: id }), c('DescribeDBSnapshotAttributes', id), 1, undefined, () => undefined, true);
  }

  private async *kms(client: KMSClient, region: string): AsyncGenerator<SourceObject> {
    const c = (operation: string, resource?: string): Call => ({ service: 'kms', operation, region, ...(resource !== undefined ? { resource } : {}) });
    const keys: string[] = [];
    yield* this.paged(client, c('ListKeys'), (t) => new ListKeysCommand({ Marker: t }), (o: { Truncated?: boolean; NextMarker?: string }) => (o.Truncated ? o.NextMarker : undefined), (o: { Keys?: { KeyId?: string }[] }) => {
      for (const k of o.Keys ?? []) if (k.KeyId) keys.push(k.KeyId);
    });
    for (const key of keys) yield* this.send(client, new GetKeyPolicyCommand({ KeyId: key, PolicyName: 'default' }), c('GetKeyPolicy', key), 1, undefined, () => undefined, true);
  }

  private async *cloudtrail(client: CloudTrailClient, region: string): AsyncGenerator<SourceObject> {
    const c = (operation: string, resource?: string): Call => ({ service: 'cloudtrail', operation, region, ...(resource !== undefined ? { resource } : {}) });
    let trails: string[] = [];
    yield* this.send(client, new DescribeTrailsCommand({ includeShadowTrails: false }), c('DescribeTrails'), 1, undefined, (a: Answer<{ trailList?: { TrailARN?: string }[] }>) => {
      trails = (a.output?.trailList ?? []).map((t) => t.TrailARN).filter((t): t is string => typeof t === 'string');
    });
    for (const trail of trails) yield* this.send(client, new GetTrailStatusCommand({ Name: trail }), c('GetTrailStatus', trail), 1, undefined, () => undefined, true);
  }

  private async *guardduty(client: GuardDutyClient, region: string): AsyncGenerator<SourceObject> {
    const c = (operation: string, resource?: string): Call => ({ service: 'guardduty', operation, region, ...(resource !== undefined ? { resource } : {}) });
    const detectors: string[] = [];
    yield* this.paged(client, c('ListDetectors'), (t) => new ListDetectorsCommand({ NextToken: t }), (o: { NextToken?: string }) => o.NextToken, (o: { DetectorIds?: string[] }) => {
      detectors.push(...(o.DetectorIds ?? []));
    });
    for (const id of detectors) yield* this.send(client, new GetDetectorCommand({ DetectorId: id }), c('GetDetector', id), 1, undefined, () => undefined, true);
  }
}

async function readBody(body: unknown): Promise<Uint8Array> {
  if (body === undefined || body === null) return new Uint8Array();
  if (body instanceof Uint8Array) return body;
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer | string>) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}
