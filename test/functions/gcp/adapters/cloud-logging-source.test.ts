/**
 * CloudLoggingSource against the fake Cloud Logging API on 127.0.0.1, with a virtual clock: pacing within the
 * read quota, 429/503 retried with backoff, and a page reported by number when the retries run out.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CloudLoggingSource, loggingFilter, type CloudLoggingSourceOptions } from '../../../../functions/gcp/adapters/cloud-logging-source.ts';
import type { SourceProblem } from '../../../../shared/ports/evidence-source.ts';
import { FAKE_PROJECT, FakeGcpLogging } from '../../../helpers/fake-gcp-logging.ts';

const SINCE = new Date('2026-03-01T00:00:00Z');
const UNTIL = new Date('2026-03-02T00:00:00Z');

let fake: FakeGcpLogging;
let clock: { now: number; at: number[] };

beforeEach(async () => {
  fake = await new FakeGcpLogging().start();
  clock = { now: 0, at: [] };
});

afterEach(async () => {
  await fake.stop();
});

function source(overrides: Partial<CloudLoggingSourceOptions> = {}): CloudLoggingSource {
  const sleep = async (ms: number): Promise<void> => void (clock.now += ms);
  return new CloudLoggingSource({
    project: FAKE_PROJECT,
    logs: ['activity', 'system_event'],
    since: SINCE,
    until: UNTIL,
    pageSize: 10,
    baseUrl: fake.url,
    token: async () => {
      clock.at.push(clock.now); // the token is asked for on every attempt: it marks when each one went out
      return fake.token;
    },
    now: () => clock.now,
    sleep,
    retry: { sleep, random: () => 0 },
    ...overrides,
  });
}

async function drain(s: CloudLoggingSource): Promise<{ pages: Buffer[]; problems: SourceProblem[] }> {
  const problems: SourceProblem[] = [];
  const pages: Buffer[] = [];
  for await (const object of s.list((p) => problems.push(p))) {
    const chunks: Buffer[] = [];
    for await (const c of await object.open()) chunks.push(c as Buffer);
    pages.push(Buffer.concat(chunks));
  }
  return { pages, problems };
}

describe('Class: CloudLoggingSource', () => {
  describe('Method: list', () => {
    it('sends at most one request a second, retries included', async () => {
      // Prepare: 3 pages, the second asked for through two 429s
      fake.addEntries(25, new Date(SINCE.getTime() + 60_000));
      let calls = 0;
      const s = source({
        token: async () => {
          clock.at.push(clock.now);
          calls += 1;
          if (calls === 2) fake.throttle(2);
          return fake.token;
        },
      });

      // Act
      const { pages, problems } = await drain(s);

      // Assess
      expect(problems).toEqual([]);
      expect(pages).toEqual(fake.served);
      expect(pages).toHaveLength(3);
      expect(fake.requests.map((r) => r.status)).toEqual([200, 429, 429, 200, 200]);
      const gaps = clock.at.slice(1).map((t, i) => t - clock.at[i]!);
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1000);
    });

    it('retries 503 UNAVAILABLE and keeps every page', async () => {
      fake.addEntries(5, new Date(SINCE.getTime() + 60_000)).unavailable(3);
      const { pages, problems } = await drain(source());
      expect(problems).toEqual([]);
      expect(pages).toHaveLength(1);
      expect(fake.requests.map((r) => r.status)).toEqual([503, 503, 503, 200]);
    });

    it('reports the page it gave up on, by number and request, after a bounded number of 429s', async () => {
      // Prepare: page 1 is served, then the quota stays exhausted
      fake.addEntries(15, new Date(SINCE.getTime() + 60_000));
      let calls = 0;
      const s = source({
        retry: { attempts: 4, sleep: async (ms) => void (clock.now += ms), random: () => 0 },
        token: async () => {
          calls += 1;
          if (calls === 2) fake.throttle(100);
          return fake.token;
        },
      });

      // Act
      const { pages, problems } = await drain(s);

      // Assess
      expect(pages).toHaveLength(1);
      expect(fake.requests).toHaveLength(5);
      expect(problems).toHaveLength(1);
      expect(problems[0]!.origin).toMatch(/^api:gcp-logging\?resourceNames=projects%2Famber-test-prod&filter=.*&page=2&pageToken=pt-10-1$/);
      expect(problems[0]!.reason).toMatch(/^page 2 was not read \(the pages before it are preserved\): HTTP 429 RESOURCE_EXHAUSTED: Quota exceeded.*on all 4 attempts; run the same command again later/);
    });

    it('preserves a body that is not JSON as received, and says the pages after it could not be asked for', async () => {
      // Prepare: a server answering HTML with 200 (a proxy in the way)
      const { createServer } = await import('node:http');
      const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>proxy login</html>'));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

      // Act
      const { pages, problems } = await drain(source({ baseUrl: url }));
      await new Promise<void>((r) => server.close(() => r()));

      // Assess
      expect(pages.map((p) => p.toString())).toEqual(['<html>proxy login</html>']);
      expect(problems[0]!.reason).toMatch(/page 2 was not read.*page-00001\.json is not JSON at character 0 \(.*\); it is preserved as received/);
    });
  });

  describe('Function: loggingFilter', () => {
    it('writes the same filter for the same flags, with the extra expression in parentheses', () => {
      const f = loggingFilter({ project: 'p-123456', logs: ['data_access', 'policy'], since: SINCE, until: UNTIL, filter: 'severity>=ERROR OR protoPayload.serviceName="iam.googleapis.com"' });
      expect(f).toBe(
        'logName=("projects/p-123456/logs/cloudaudit.googleapis.com%2Fdata_access" OR "projects/p-123456/logs/cloudaudit.googleapis.com%2Fpolicy") AND timestamp>="2026-03-01T00:00:00.000Z" AND timestamp<"2026-03-02T00:00:00.000Z" AND (severity>=ERROR OR protoPayload.serviceName="iam.googleapis.com")',
      );
    });

    it('gives pages of an extra filter their own folder', () => {
      const plain = source().folder();
      const filtered = source({ filter: 'severity>=ERROR' }).folder();
      expect(plain).toBe(`gcp/logging-api/${FAKE_PROJECT}/activity+system_event/20260301T000000Z_20260302T000000Z`);
      expect(filtered).toMatch(new RegExp(`^${plain.replace(/[+]/g, '\\+')}/filter-[0-9a-f]{16}$`));
    });
  });
});
