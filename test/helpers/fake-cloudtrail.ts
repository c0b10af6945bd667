/**
 * A fake of the AWS endpoints `amber collect --from api:aws-cloudtrail` calls, as a real HTTP server on
 * 127.0.0.1 (so the SDK's endpoint resolution, signing, retries and deserializer all run). Written behaviour:
 * - the service and region come from the SigV4 credential scope of the Authorization header;
 * - CloudTrail LookupEvents (JSON 1.1, `X-Amz-Target: CloudTrail_20131101.LookupEvents`) answers the region's
 *   events newest first, MaxResults a page, in the documented shape: `{"Events":[{"EventId", "EventName",
 *   "ReadOnly", "AccessKeyId", "EventTime" (epoch seconds), "EventSource", "Username", "Resources",
 *   "CloudTrailEvent" (the full record as a JSON string)}], "NextToken"}`. A NextToken carries a serial
 *   number, as real tokens are opaque and differ between calls: asking for page 1 twice gives other bytes;
 * - `deny(region)`: that region answers AccessDeniedException (HTTP 400) until `allow(region)`;
 * - `throttle(region, n)`: the next n LookupEvents calls of the region answer ThrottlingException (HTTP 400);
 * - `stick(region)`: from page 2 on, answers the NextToken it was given (no progress);
 * - `breakAfter(region, pages)`: once that many pages were served, further calls answer a non-retried
 *   error (the stand-in for a run interrupted half way); `breakAfter(region, undefined)` heals it;
 * - STS GetCallerIdentity (query protocol) answers account 123456789012; EC2 DescribeRegions answers the
 *   regions given to `regions()`.
 * Every CloudTrail request is recorded in `lookups` with the test's virtual time when `clock` is set.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const FAKE_ACCOUNT = '123456789012';

export interface FakeEvent {
  readonly eventName: string;
  readonly eventSource: string;
  readonly eventTime: Date;
  readonly eventId: string;
  readonly requestParameters?: Record<string, unknown> | null;
}

export interface SeenLookup {
  readonly region: string;
  readonly input: { StartTime?: number; EndTime?: number; MaxResults?: number; NextToken?: string; EventCategory?: string };
  readonly status: number;
  /** The virtual time when the request arrived (`clock.now`), or undefined without a clock. */
  readonly at?: number;
}

export class FakeCloudTrail {
  readonly lookups: SeenLookup[] = [];
  /** Bodies of every 200 LookupEvents answer, in order. */
  readonly served: Buffer[] = [];
  clock: { now: number } | undefined;
  /** Called as each LookupEvents request arrives (tests look at the locker at that moment). */
  onLookup: ((input: SeenLookup['input']) => void) | undefined;
  private readonly events = new Map<string, FakeEvent[]>();
  private readonly denied = new Set<string>();
  private readonly stuck = new Set<string>();
  private readonly throttled = new Map<string, number>();
  private readonly broken = new Map<string, number>();
  private readonly servedPages = new Map<string, number>();
  private enabled: string[] = [];
  private serial = 0;
  private server: Server | undefined;
  url = '';

  /** Adds `count` events to a region, one a minute back from `newest`, with optional overrides by index. */
  addEvents(region: string, count: number, newest: Date, special: Record<number, Partial<FakeEvent>> = {}): this {
    const list = this.events.get(region) ?? [];
    for (let i = 0; i < count; i += 1) {
      list.push({
        eventName: 'DescribeInstances',
        eventSource: 'ec2.amazonaws.com',
        eventTime: new Date(newest.getTime() - i * 60_000),
        eventId: `e${region}-${String(list.length).padStart(4, '0')}`,
        ...special[i],
      });
    }
    this.events.set(region, list);
    return this;
  }

  deny(region: string): this {
    this.denied.add(region);
    return this;
  }

  /** From page 2 on, the region answers with the very NextToken it was given (a misbehaving endpoint). */
  stick(region: string): this {
    this.stuck.add(region);
    return this;
  }

  /** Undoes `deny`. */
  allow(region: string): this {
    this.denied.delete(region);
    return this;
  }

  throttle(region: string, times: number): this {
    this.throttled.set(region, times);
    return this;
  }

  breakAfter(region: string, pages: number | undefined): this {
    if (pages === undefined) this.broken.delete(region);
    else this.broken.set(region, pages);
    return this;
  }

  regions(names: string[]): this {
    this.enabled = names;
    return this;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void this.answer(req).then(({ status, type, body }) => {
        res.writeHead(status, { 'content-type': type, 'x-amzn-requestid': `req-${this.serial}` });
        res.end(body);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async answer(req: IncomingMessage): Promise<{ status: number; type: string; body: Buffer | string }> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\//.exec(req.headers.authorization ?? '');
    const [region, service] = scope ? [scope[1]!, scope[2]!] : ['', ''];
    if (service === 'sts') {
      return { status: 200, type: 'text/xml', body: `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::${FAKE_ACCOUNT}:user/analyst</Arn><UserId>AIDAFAKE</UserId><Account>${FAKE_ACCOUNT}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>` };
    }
    if (service === 'ec2') {
      const items = this.enabled.map((r) => `<item><regionName>${r}</regionName><regionEndpoint>ec2.${r}.amazonaws.com</regionEndpoint><optInStatus>opt-in-not-required</optInStatus></item>`).join('');
      return { status: 200, type: 'text/xml;charset=UTF-8', body: `<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><regionInfo>${items}</regionInfo></DescribeRegionsResponse>` };
    }
    if (service !== 'cloudtrail' || req.headers['x-amz-target'] !== 'CloudTrail_20131101.LookupEvents') {
      return jsonError(400, 'UnknownOperationException', `the fake does not answer ${service} ${String(req.headers['x-amz-target'])}`);
    }
    const input = JSON.parse(text || '{}') as SeenLookup['input'];
    this.onLookup?.(input);
    const result = this.lookup(region, input);
    this.lookups.push({ region, input, status: result.status, ...(this.clock ? { at: this.clock.now } : {}) });
    if (result.status === 200) this.served.push(Buffer.from(result.body));
    return result;
  }

  private lookup(region: string, input: SeenLookup['input']): { status: number; type: string; body: string } {
    if (this.denied.has(region)) {
      return jsonError(400, 'AccessDeniedException', `User: arn:aws:iam::${FAKE_ACCOUNT}:user/analyst is not authorized to perform: cloudtrail:LookupEvents in ${region}`);
    }
    const throttles = this.throttled.get(region) ?? 0;
    if (throttles > 0) {
      this.throttled.set(region, throttles - 1);
      return jsonError(400, 'ThrottlingException', 'Rate exceeded');
    }
    const served = this.servedPages.get(region) ?? 0;
    const limit = this.broken.get(region);
    if (limit !== undefined && served >= limit) return jsonError(400, 'OperationNotPermittedException', 'the fake was told to break here (an interrupted run)');
    const from = input.NextToken === undefined ? 0 : Number(/^tok-(\d+)-/.exec(input.NextToken)?.[1] ?? NaN);
    if (Number.isNaN(from)) return jsonError(400, 'InvalidNextTokenException', 'Invalid NextToken');
    const start = (input.StartTime ?? 0) * 1000;
    const end = (input.EndTime ?? Number.MAX_SAFE_INTEGER / 1000) * 1000;
    const category = input.EventCategory ?? 'management';
    const all = (this.events.get(region) ?? []).filter((e) => e.eventTime.getTime() >= start && e.eventTime.getTime() <= end && category === 'management');
    const size = input.MaxResults ?? 50;
    const page = all.slice(from, from + size);
    this.servedPages.set(region, served + 1);
    this.serial += 1;
    const doc: Record<string, unknown> = { Events: page.map((e) => summary(e, region)) };
    if (from + size < all.length) doc.NextToken = this.stuck.has(region) && input.NextToken ? input.NextToken : `tok-${from + size}-${this.serial}`;
    return { status: 200, type: 'application/x-amz-json-1.1', body: JSON.stringify(doc) };
  }
}

function summary(e: FakeEvent, region: string): Record<string, unknown> {
  const record = {
    eventVersion: '1.09',
    userIdentity: { type: 'IAMUser', principalId: 'AIDAFAKE', arn: `arn:aws:iam::${FAKE_ACCOUNT}:user/analyst`, accountId: FAKE_ACCOUNT, accessKeyId: 'AKIAFAKE', userName: 'analyst' },
    eventTime: e.eventTime.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    eventSource: e.eventSource,
    eventName: e.eventName,
    awsRegion: region,
    sourceIPAddress: '198.51.100.7',
    userAgent: 'aws-cli/2.15.0',
    requestParameters: e.requestParameters ?? null,
    responseElements: null,
    requestID: `r-${e.eventId}`,
    eventID: e.eventId,
    readOnly: e.eventName.startsWith('Describe'),
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: FAKE_ACCOUNT,
    eventCategory: 'Management',
  };
  return {
    EventId: e.eventId,
    EventName: e.eventName,
    ReadOnly: String(record.readOnly),
    AccessKeyId: 'AKIAFAKE',
    EventTime: e.eventTime.getTime() / 1000,
    EventSource: e.eventSource,
    Username: 'analyst',
    Resources: [],
    CloudTrailEvent: JSON.stringify(record),
  };
}

function jsonError(status: number, type: string, message: string): { status: number; type: string; body: string } {
  return { status, type: 'application/x-amz-json-1.1', body: JSON.stringify({ __type: type, message }) };
}
