/**
 * CloudTrailLookupSource against a fake CloudTrail on 127.0.0.1, reached the way the SDK documents
 * (AWS_ENDPOINT_URL_CLOUDTRAIL), so signing, the retry strategy and the deserializer are the real ones; pages
 * go through the real `collect` into a local write-once locker.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CloudTrailLookupSource, preservedPagesIn, TokenBucket, type CloudTrailLookupSourceOptions } from '../../../../functions/aws/adapters/cloudtrail-lookup-source.ts';
import { collectEvidence, type CollectSummary } from '../../../../shared/evidence/collect.ts';
import { CustodyLedger } from '../../../../shared/evidence/ledger.ts';
import { LocalObjectStore } from '../../../../shared/evidence/local-object-store.ts';
import { recogniseSource } from '../../../../shared/sources/recognise.ts';
import { parseCloudTrail } from '../../../../shared/sources/cloudtrail/index.ts';
import { FakeCloudTrail } from '../../../helpers/fake-cloudtrail.ts';
import { TEST_CREDENTIALS } from '../../../helpers/s3.ts';
import { tempDir } from '../../../helpers/tmp.ts';

const CASE = 'INC-API';
const SINCE = new Date('2026-03-01T00:00:00Z');
const UNTIL = new Date('2026-03-02T00:00:00Z');
const NEWEST = new Date('2026-03-01T23:00:00Z');
const actor = { principal: 'analyst@test', tool: 'amber/test' };
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

let fake: FakeCloudTrail;

beforeEach(async () => {
  fake = await new FakeCloudTrail().start();
  vi.stubEnv('AWS_ENDPOINT_URL_CLOUDTRAIL', fake.url);
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await fake.stop();
});

let root = '';

async function locker(): Promise<LocalObjectStore> {
  root = await tempDir();
  return LocalObjectStore.open(root, { create: true });
}

function source(store: LocalObjectStore, options: Partial<CloudTrailLookupSourceOptions> = {}): CloudTrailLookupSource {
  // Pacing on a virtual clock, so the tests do not wait half a second a page.
  const virtual = { now: 0 };
  return new CloudTrailLookupSource({
    now: () => virtual.now,
    sleep: async (ms) => void (virtual.now += ms),
    regions: ['eu-west-1'],
    since: SINCE,
    until: UNTIL,
    account: '123456789012',
    clientConfig: { credentials: TEST_CREDENTIALS, maxAttempts: 4, retryBaseDelayMs: 1 },
    preserved: preservedPagesIn(store, CASE),
    ...options,
  });
}

async function collect(store: LocalObjectStore, src: CloudTrailLookupSource): Promise<CollectSummary> {
  return collectEvidence({ store, caseName: CASE, sources: [src], actor, recognise: recogniseSource });
}

async function stored(store: LocalObjectStore, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await store.get(key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const FOLDER = 'cases/INC-API/aws/cloudtrail-api/123456789012/eu-west-1/management/20260301T000000Z_20260302T000000Z';

describe('Class: CloudTrailLookupSource', () => {
  describe('Method: list', () => {
    it('preserves every page of the window, each byte for byte as CloudTrail sent it, under a page-numbered key', async () => {
      // Prepare
      fake.addEvents('eu-west-1', 120, NEWEST);
      const store = await locker();

      // Act
      const summary = await collect(store, source(store));

      // Assess
      expect(summary.failures).toEqual([]);
      expect(summary.created).toBe(3);
      expect(summary.sources).toEqual({ cloudtrail: 3 });
      expect(fake.served).toHaveLength(3);
      const items = [...(await CustodyLedger.open(store, CASE)).items().values()].sort((a, b) => a.key.localeCompare(b.key));
      expect(items.map((i) => i.key)).toEqual([1, 2, 3].map((n) => `${FOLDER}/page-0000${n}.json`));
      for (const [n, item] of items.entries()) {
        expect(item.sha256).toBe(sha(fake.served[n]!));
        expect(await stored(store, item.key)).toEqual(fake.served[n]);
      }
      // The origin is the exact request: page 2 was asked for with page 1's token.
      const token1 = (JSON.parse(fake.served[0]!.toString()) as { NextToken: string }).NextToken;
      expect(items[0]!.origin).toBe('api:aws-cloudtrail?region=eu-west-1&StartTime=2026-03-01T00%3A00%3A00.000Z&EndTime=2026-03-02T00%3A00%3A00.000Z&MaxResults=50');
      expect(new URL(items[1]!.origin).searchParams.get('NextToken')).toBe(token1);
      expect(fake.lookups.map((l) => l.input.NextToken ?? null)).toEqual([null, token1, expect.stringMatching(/^tok-100-/)]);
    });

    it('asks for Insights events with EventCategory=insight and keeps them apart from management events', async () => {
      // Prepare
      const store = await locker();

      // Act
      const summary = await collect(store, source(store, { insights: true }));

      // Assess
      expect(summary.failures).toEqual([]);
      expect(fake.lookups[0]!.input.EventCategory).toBe('insight');
      const [item] = (await CustodyLedger.open(store, CASE)).items().values();
      expect(item!.key).toContain('/eu-west-1/insight/');
      expect(item!.origin).toContain('EventCategory=insight');
    });

    it('retries ThrottlingException and preserves the page that follows', async () => {
      // Prepare
      fake.addEvents('eu-west-1', 3, NEWEST).throttle('eu-west-1', 2);
      const store = await locker();

      // Act
      const summary = await collect(store, source(store));

      // Assess
      expect(summary.failures).toEqual([]);
      expect(summary.created).toBe(1);
      expect(fake.lookups.map((l) => l.status)).toEqual([400, 400, 200]);
    });

    it('reports a region that denies access as that region\'s failure and collects the others', async () => {
      // Prepare
      fake.addEvents('eu-west-1', 2, NEWEST).addEvents('us-east-1', 2, NEWEST).deny('us-east-1');
      const store = await locker();

      // Act
      const summary = await collect(store, source(store, { regions: ['us-east-1', 'eu-west-1'] }));

      // Assess
      expect(summary.created).toBe(1);
      expect(summary.failures).toEqual([
        expect.objectContaining({
          origin: expect.stringContaining('region=us-east-1'),
          reason: expect.stringMatching(/AccessDeniedException.*cloudtrail:LookupEvents in us-east-1/),
          exitCode: 1,
        }),
      ]);
    });

    it('stops a region that answers the same NextToken again, keeping the pages read, instead of looping', async () => {
      // Prepare
      fake.addEvents('eu-west-1', 200, NEWEST).stick('eu-west-1');
      const store = await locker();

      // Act
      const summary = await collect(store, source(store));

      // Assess
      expect(summary.created).toBe(2);
      expect(summary.failures).toEqual([expect.objectContaining({ reason: expect.stringContaining('reading on would never end') })]);
    });

    it('resumes an interrupted run after the last preserved page, without asking for or duplicating the pages it has', async () => {
      // Prepare: the first run stops after two of three pages
      fake.addEvents('eu-west-1', 120, NEWEST).breakAfter('eu-west-1', 2);
      const store = await locker();
      const first = await collect(store, source(store));
      expect(first.created).toBe(2);
      expect(first.failures).toEqual([expect.objectContaining({ origin: expect.stringContaining(`NextToken=${encodeURIComponent((JSON.parse(fake.served[1]!.toString()) as { NextToken: string }).NextToken)}`) })]);
      fake.breakAfter('eu-west-1', undefined);
      const before = fake.lookups.length;

      // Act
      const second = await collect(store, source(store));

      // Assess: one request, with page 2's token; pages 1-2 recorded as already preserved
      expect(second.failures).toEqual([]);
      expect(second.created).toBe(1);
      expect(second.reacquired).toBe(2);
      const resumedWith = fake.lookups.slice(before).filter((l) => l.status === 200);
      expect(resumedWith).toHaveLength(1);
      expect(resumedWith[0]!.input.NextToken).toBe((JSON.parse(fake.served[1]!.toString()) as { NextToken: string }).NextToken);
      const keys = [...(await CustodyLedger.open(store, CASE)).items().keys()].sort();
      expect(keys).toEqual([1, 2, 3].map((n) => `${FOLDER}/page-0000${n}.json`));
      expect(await stored(store, keys[2]!)).toEqual(fake.served.at(-1));
    });

    it('asks for a page only once the page before it is stored, so an interruption never leaves a gap', async () => {
      // Prepare: at each request, note which earlier pages are already in the locker
      fake.addEvents('eu-west-1', 200, NEWEST);
      const store = await locker();
      const storedBefore: boolean[] = [];
      let page = 0;
      fake.onLookup = () => {
        page += 1;
        if (page > 1) storedBefore.push(existsSync(join(root, `${FOLDER}/page-0000${page - 1}.json`)));
      };

      // Act
      await collect(store, source(store));

      // Assess
      expect(storedBefore).toEqual([true, true, true]);
    });

    it('re-runs a completed window from the locker alone: no API call, every page already preserved', async () => {
      // Prepare
      fake.addEvents('eu-west-1', 60, NEWEST);
      const store = await locker();
      await collect(store, source(store));
      const before = fake.lookups.length;

      // Act
      const again = await collect(store, source(store));

      // Assess
      expect(again).toMatchObject({ created: 0, reacquired: 2, failures: [] });
      expect(fake.lookups.length).toBe(before);
    });

    it('keeps every region under 2 requests per second, retries included', async () => {
      // Prepare: a virtual clock that sleeping advances
      const clock = { now: 0 };
      fake.clock = clock;
      fake.addEvents('eu-west-1', 400, NEWEST).throttle('eu-west-1', 1);
      const store = await locker();

      // Act
      await collect(store, source(store, { now: () => clock.now, sleep: async (ms) => void (clock.now += ms) }));

      // Assess: any three consecutive requests span at least a second
      const at = fake.lookups.map((l) => l.at!);
      expect(at).toHaveLength(9);
      for (let i = 0; i + 2 < at.length; i += 1) expect(at[i + 2]! - at[i]!).toBeGreaterThanOrEqual(1000);
    });

    it('leaves pages that the CloudTrail parser reads: recognised as CloudTrail, one record per event', async () => {
      // Prepare
      fake.addEvents('eu-west-1', 3, NEWEST, { 1: { eventName: 'StopLogging', eventSource: 'cloudtrail.amazonaws.com' } });
      const store = await locker();
      await collect(store, source(store));

      // Act
      const page = await stored(store, `${FOLDER}/page-00001.json`);
      const parsed = parseCloudTrail(page, 'page-00001.json');

      // Assess
      expect(recogniseSource(page, 'page-00001.json')).toBe('cloudtrail');
      expect(parsed.shape).toBe('lookup-events');
      expect(parsed.rejected).toEqual([]);
      expect(parsed.records.map((r) => r.record.eventName)).toEqual(['DescribeInstances', 'StopLogging', 'DescribeInstances']);
    });
  });
});

describe('Class: TokenBucket', () => {
  it('spaces requests half a second apart at 2 per second, so no second holds three', async () => {
    // Prepare
    let now = 0;
    const bucket = new TokenBucket(2, () => now, async (ms) => void (now += ms));

    // Act
    const times: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      await bucket.take();
      times.push(now);
    }

    // Assess
    expect(times).toEqual([0, 500, 1000, 1500, 2000]);
  });
});
