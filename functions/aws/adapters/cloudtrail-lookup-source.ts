/**
 * The EvidenceSource port on CloudTrail event history (LookupEvents): every response page of a closed time
 * window, region by region, preserved as the HTTP body CloudTrail sent (not a re-serialisation of what the
 * SDK parsed), under a key that names the account, region, category, window and page number.
 *
 * - Raw bytes: a middleware inside the SDK's deserializer reads the response body, keeps a copy and hands
 *   the same bytes on, so the SDK still parses the page (NextToken) from exactly what is preserved.
 * - Pacing: every HTTP attempt (retries included) first takes a token from its region's bucket, so no region
 *   sees more than LookupEvents' quota of 2 requests per second; ThrottlingException is retried by the SDK's
 *   retry strategy on top.
 * - Resumable: pages already in the locker for the same window are handed to `collect` again from the locker
 *   (same key, same bytes: recorded as already preserved, nothing duplicated) and the API is asked only for
 *   what follows the last preserved page, with that page's NextToken. CloudTrail tokens are opaque and may
 *   differ between calls, so asking again from page 1 could give page 1 different bytes; resuming never does.
 */
import { Readable } from 'node:stream';
import { CloudTrailClient, LookupEventsCommand, type LookupEventsCommandInput } from '@aws-sdk/client-cloudtrail';
import { AcquisitionError } from '../../../shared/errors.ts';
import { compactTime, MAX_PAGES, pagePath, TokenBucket, type PreservedPages } from '../../../shared/evidence/api-pages.ts';
import type { EvidenceSource, SourceObject, SourceProblem } from '../../../shared/ports/evidence-source.ts';
import { sdkClientConfig, type AwsClientConfig } from './aws-client.ts';

// Shared with the other API sources; re-exported where they were first defined.
export { compactTime, preservedPagesIn, TokenBucket, type PreservedPages } from '../../../shared/evidence/api-pages.ts';

/** The `--from` spec of this source. */
export const CLOUDTRAIL_API_SPEC = 'api:aws-cloudtrail';

/** LookupEvents' documented quota: 2 requests per second, per account and region. */
export const LOOKUP_EVENTS_PER_SECOND = 2;

/** Largest page LookupEvents returns (documented maximum of MaxResults). */
export const PAGE_SIZE = 50;

export interface CloudTrailLookupSourceOptions {
  /** Regions to read, in order; each gets its own pacing and its own failure. */
  readonly regions: readonly string[];
  /** Start of the window (inclusive). */
  readonly since: Date;
  /** End of the window; must not be in the future (checked by the caller, see `checkLookupWindow`). */
  readonly until: Date;
  /**
   * Insights events (EventCategory=insight) instead of management events.
   * @default false
   */
  readonly insights?: boolean;
  /**
   * Account id used in the keys (so two accounts' pages in one case never collide).
   * @default 'account'
   */
  readonly account?: string;
  /**
   * Client config (credentials, retries, a test HTTP handler). The endpoint is the SDK's own resolution,
   * so AWS_ENDPOINT_URL_CLOUDTRAIL and a profile's endpoint_url work as the SDK documents.
   * @default sdkClientConfig() per region
   */
  readonly clientConfig?: AwsClientConfig;
  /**
   * Builds the client of a region.
   * @default new CloudTrailClient({ ...sdkClientConfig(clientConfig), region })
   */
  readonly clientFor?: (region: string) => CloudTrailClient;
  /** Pages already preserved, to resume from; without it every run starts at page 1. */
  readonly preserved?: PreservedPages;
  /** Clock and sleep for pacing (tests inject a virtual clock). */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** CloudTrail event history through LookupEvents, one SourceObject per response page. */
export class CloudTrailLookupSource implements EvidenceSource {
  readonly spec = CLOUDTRAIL_API_SPEC;
  /**
   * One page at a time: page n+1 is asked for only once page n is stored, so an interrupted run never leaves a
   * later page stored without the one before it (a resumed run would re-fetch that one with a new token and
   * get a later page whose bytes differ from the stored one, which the write-once locker refuses).
   */
  readonly concurrency = 1;
  /** Per region, the token of the request in flight, so a failure names the exact request that failed. */
  private readonly pending = new Map<string, string | undefined>();
  private readonly options: CloudTrailLookupSourceOptions;

  constructor(options: CloudTrailLookupSourceOptions) {
    this.options = options;
  }

  /** The folder (relative to the case) of one region's pages for this window. */
  folder(region: string): string {
    const { since, until, account = 'account' } = this.options;
    return `aws/cloudtrail-api/${account}/${region}/${this.category()}/${compactTime(since)}_${compactTime(until)}`;
  }

  async *list(onProblem: (problem: SourceProblem) => void): AsyncIterable<SourceObject> {
    for (const region of this.options.regions) {
      try {
        yield* this.region(region);
      } catch (error) {
        // One region refusing (no access, not enabled) must not cost the others: report it and go on.
        onProblem({ origin: this.origin(region, this.pending.get(region)), reason: describeFailure(error, region) });
      }
    }
  }

  private category(): 'insight' | 'management' {
    return this.options.insights ? 'insight' : 'management';
  }

  /** `api:aws-cloudtrail?region=...&StartTime=...&EndTime=...&EventCategory=...&MaxResults=50[&NextToken=...]`: the request, exactly. */
  private origin(region: string, token: string | undefined): string {
    const q = new URLSearchParams({ region, StartTime: this.options.since.toISOString(), EndTime: this.options.until.toISOString() });
    if (this.options.insights) q.set('EventCategory', 'insight');
    q.set('MaxResults', String(PAGE_SIZE));
    if (token !== undefined) q.set('NextToken', token);
    return `${CLOUDTRAIL_API_SPEC}?${q.toString()}`;
  }

  private async *region(region: string): AsyncGenerator<SourceObject> {
    const folder = this.folder(region);
    let page = 0;
    let token: string | undefined;
    // Resume: hand on what is preserved, in page order, following the tokens the pages themselves carry.
    const stored = new Set(this.options.preserved ? await this.options.preserved.list(`${folder}/`) : []);
    for (;;) {
      const relPath = pagePath(folder, page + 1);
      if (!stored.has(relPath)) break;
      const bytes = await this.options.preserved!.read(relPath);
      const origin = this.origin(region, token);
      page += 1;
      yield { origin, relPath, size: bytes.length, open: () => Promise.resolve(Readable.from([bytes])) };
      const next = nextTokenOf(bytes, relPath);
      if (next === undefined) return; // the window was read to its end in an earlier run
      token = next;
    }

    const client = this.options.clientFor?.(region) ?? new CloudTrailClient({ ...sdkClientConfig(this.options.clientConfig), region });
    const bucket = new TokenBucket(LOOKUP_EVENTS_PER_SECOND, this.options.now, this.options.sleep);
    for (;;) {
      const input: LookupEventsCommandInput = {
        StartTime: this.options.since,
        EndTime: this.options.until,
        MaxResults: PAGE_SIZE,
        ...(this.options.insights ? { EventCategory: 'insight' } : {}),
        ...(token === undefined ? {} : { NextToken: token }),
      };
      const command = new LookupEventsCommand(input);
      let body: Uint8Array | undefined;
      command.middlewareStack.add(
        (next) => async (args) => {
          await bucket.take(); // every attempt, retries included, counts against the quota
          const out = await next(args);
          const response = out.response as { statusCode?: number; body?: unknown };
          const raw = await readBody(response.body);
          // Hand the same bytes to the SDK's deserializer, which accepts a Uint8Array body.
          response.body = raw;
          if (response.statusCode === 200) body = raw;
          return out;
        },
        // 'low' within the deserialize step runs inside the SDK's deserializer: it sees the raw response.
        { step: 'deserialize', priority: 'low', name: 'amberRawBodyCapture' },
      );
      this.pending.set(region, token);
      const parsed = await client.send(command);
      if (body === undefined) {
        throw new AcquisitionError(`CloudTrail answered LookupEvents in ${region} without a body`, this.origin(region, token), {
          hint: 'run the same command again; it resumes after the last preserved page',
        });
      }
      const bytes = Buffer.from(body);
      page += 1;
      yield { origin: this.origin(region, token), relPath: pagePath(folder, page), size: bytes.length, open: () => Promise.resolve(Readable.from([bytes])) };
      if (!parsed.NextToken) return;
      if (parsed.NextToken === token) {
        // The same token again would loop for ever; what was read is kept.
        throw new AcquisitionError(`CloudTrail returned the NextToken it was given for page ${page} in ${region}, so reading on would never end`, this.origin(region, token), {
          hint: 'the pages read so far are preserved; collect the older rest with --until set to the oldest event time on the last page',
        });
      }
      if (page >= MAX_PAGES) {
        throw new AcquisitionError(`more than ${MAX_PAGES} pages of events in ${region} for one window`, this.origin(region, parsed.NextToken), {
          hint: 'the pages read so far are preserved; collect the older rest in narrower windows (--until set to the oldest event time on the last page)',
        });
      }
      token = parsed.NextToken;
    }
  }
}

/** The NextToken of a preserved page, or undefined when it was the last one. */
function nextTokenOf(bytes: Buffer, relPath: string): string | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    throw new AcquisitionError(`the preserved page ${relPath} is not JSON, so the run cannot resume after it`, relPath, {
      hint: 'run amber verify on the case; collect the window into a new case if the page is damaged',
      cause,
    });
  }
  const token = (doc as { NextToken?: unknown } | null)?.NextToken;
  return typeof token === 'string' && token !== '' ? token : undefined;
}

async function readBody(body: unknown): Promise<Uint8Array> {
  if (body === undefined || body === null) return new Uint8Array();
  if (body instanceof Uint8Array) return body;
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer | string>) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

/** A region's failure in words: the error CloudTrail gave and what to do about it. */
function describeFailure(error: unknown, region: string): string {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.name ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  const said = `${name}${status === undefined ? '' : ` (HTTP ${status})`}: ${e.message ?? String(error)}`;
  if (/AccessDenied|UnauthorizedOperation|NotAuthorized/i.test(name)) {
    return `${said}; the credentials may not call cloudtrail:LookupEvents in ${region} (grant it, or leave ${region} out with --region)`;
  }
  if (/UnrecognizedClient|InvalidClientTokenId|AuthFailure|OptInRequired/i.test(name)) {
    return `${said}; ${region} may not be enabled for this account (enable it, or leave it out with --region)`;
  }
  if (/InvalidNextToken/i.test(name)) {
    return `${said}; the continuation token of the last preserved page is no longer accepted: the pages kept stay as they are; collect the older rest of the window with an earlier --until into the same case`;
  }
  if (/Throttling/i.test(name)) {
    return `${said}; CloudTrail kept throttling after every retry; run the same command again later (it resumes after the last preserved page)`;
  }
  return `${said}; run the same command again (it resumes after the last preserved page)`;
}
