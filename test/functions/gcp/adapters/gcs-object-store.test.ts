/**
 * GcsObjectStore against the fake Cloud Storage JSON API on 127.0.0.1: the ObjectStore contract (write-once,
 * Amber's own SHA-256 in the storing pass, retention reported, compare-and-swap ledger appends) and GCS specifics
 * (generations, resumable uploads of large bodies, retries).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GcsObjectStore, SHA256_METADATA, SINGLE_UPLOAD_LIMIT, type GcsObjectStoreOptions } from '../../../../functions/gcp/adapters/gcs-object-store.ts';
import { GcsEvidenceSource } from '../../../../functions/gcp/adapters/gcs-source.ts';
import { ConcurrentWriteError, InvalidInputError, ObjectNotFoundError, WriteOnceViolationError } from '../../../../shared/errors.ts';
import { FakeGcs } from '../../../helpers/fake-gcs.ts';

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

let fake: FakeGcs;

beforeEach(async () => {
  fake = await new FakeGcs().start();
  fake.bucket('evidence', { versioning: true }).bucket('locked', { retentionSeconds: 86_400, retentionLocked: true }).bucket('per-object', { objectRetention: true });
});

afterEach(async () => {
  await fake.stop();
});

function open(bucket = 'evidence', overrides: Partial<GcsObjectStoreOptions> = {}): Promise<GcsObjectStore> {
  return GcsObjectStore.open({ bucket, prefix: 'amber', baseUrl: fake.url, token: async () => fake.token, retry: { sleep: async () => {} }, ...overrides });
}

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

describe('Class: GcsObjectStore', () => {
  describe('Method: putImmutable', () => {
    it('stores the bytes under the prefix with Amber\'s SHA-256 as metadata and returns the generation', async () => {
      const store = await open();
      const result = await store.putImmutable('cases/C/a.json', Readable.from([Buffer.from('{"a":'), Buffer.from('1}')]), { mediaType: 'application/json' });
      expect(result).toMatchObject({ key: 'cases/C/a.json', size: 7, sha256: sha('{"a":1}'), created: true });
      const [generation] = fake.generations('evidence', 'amber/cases/C/a.json');
      expect(generation).toMatchObject({ generation: result.versionId, metadata: { [SHA256_METADATA]: sha('{"a":1}') } });
      expect(generation!.bytes.toString()).toBe('{"a":1}');
      expect(await text(await store.get('cases/C/a.json'))).toBe('{"a":1}');
      expect(store.uri).toBe('gs://evidence/amber');
    });

    it('is idempotent for the same bytes and refuses other bytes, leaving the stored object as it was', async () => {
      const store = await open();
      const first = await store.putImmutable('k', Buffer.from('original'));
      const again = await store.putImmutable('k', Buffer.from('original'));
      const other = store.putImmutable('k', Buffer.from('changed!'));
      await expect(other).rejects.toBeInstanceOf(WriteOnceViolationError);
      await expect(other).rejects.toThrow(sha('original'));
      expect(again).toMatchObject({ created: false, sha256: first.sha256, versionId: first.versionId });
      expect(fake.generations('evidence', 'amber/k')).toHaveLength(1);
      expect(fake.read('evidence', 'amber/k')!.toString()).toBe('original');
    });

    it('lets exactly one of two racing writers create a key (ifGenerationMatch=0) and settles the other', async () => {
      const store = await open();
      const [a, b] = await Promise.allSettled([store.putImmutable('race', Buffer.from('one')), store.putImmutable('race', Buffer.from('two'))]);
      const outcomes = [a, b].map((r) => (r.status === 'fulfilled' ? 'created' : (r.reason as Error).name));
      expect(outcomes.sort()).toEqual(['WriteOnceViolationError', 'created']);
      const same = await Promise.all([store.putImmutable('same', Buffer.from('x')), store.putImmutable('same', Buffer.from('x'))]);
      expect(same.map((r) => r.created).sort()).toEqual([false, true]);
      expect(fake.generations('evidence', 'amber/race')).toHaveLength(1);
    });

    it('uploads a body larger than one request resumably, hashing it on the way, and records the hash afterwards', async () => {
      const store = await open();
      const big = Buffer.alloc(SINGLE_UPLOAD_LIMIT + 300_000);
      for (let i = 0; i < big.length; i += 1) big[i] = (i * 7919) % 251;
      const chunks = Array.from({ length: Math.ceil(big.length / 65_536) }, (_, i) => big.subarray(i * 65_536, (i + 1) * 65_536));
      const result = await store.putImmutable('big.bin', Readable.from(chunks));
      expect(result).toMatchObject({ size: big.length, sha256: sha(big), created: true });
      expect(fake.read('evidence', 'amber/big.bin')!.equals(big)).toBe(true);
      expect(fake.generations('evidence', 'amber/big.bin')[0]!.metadata).toEqual({ [SHA256_METADATA]: sha(big) });
      expect(fake.requests.filter((r) => r.url.includes('uploadType=resumable')).length).toBeGreaterThanOrEqual(3);
    });

    it('reports the retention the bucket\'s locked policy applies, and an object retention it set itself', async () => {
      const locked = await open('locked');
      const perObject = await open('per-object');
      const until = new Date(Date.now() + 10 * 86_400_000);
      const a = await locked.putImmutable('a', Buffer.from('a'), { retainUntil: until });
      const b = await perObject.putImmutable('b', Buffer.from('b'), { retainUntil: until });
      expect(Date.parse(a.retainUntil!) - Date.now()).toBeGreaterThan(86_000_000);
      expect(Date.parse(a.retainUntil!) - Date.now()).toBeLessThanOrEqual(86_400_000);
      expect(b.retainUntil).toBe(until.toISOString());
      expect((await (await open()).putImmutable('c', Buffer.from('c'), { retainUntil: until })).retainUntil).toBeUndefined();
    });

    it('retries 503 and still stores once', async () => {
      const store = await open();
      fake.failNext(503, 2);
      const result = await store.putImmutable('retry', Buffer.from('kept'));
      expect(result.created).toBe(true);
      expect(fake.generations('evidence', 'amber/retry')).toHaveLength(1);
    });
  });

  describe('Method: get / readText', () => {
    it('reads a given generation, and says when a key is absent', async () => {
      const store = await open();
      fake.put('evidence', 'amber/v', 'first');
      const [first] = fake.generations('evidence', 'amber/v');
      fake.put('evidence', 'amber/v', 'second');
      expect(await text(await store.get('v', first!.generation))).toBe('first');
      expect(await store.readText('v')).toBe('second');
      expect(await store.readText('missing')).toBeUndefined();
      await expect(store.get('missing')).rejects.toBeInstanceOf(ObjectNotFoundError);
    });
  });

  describe('Method: list', () => {
    it('lists every live object under a prefix across pages, and listGenerations every generation', async () => {
      const store = await open();
      for (let i = 0; i < 5; i += 1) await store.putImmutable(`cases/C/${i}.json`, Buffer.from(String(i)));
      await store.putImmutable('cases/D/x', Buffer.from('x'));
      fake.put('evidence', 'amber/cases/C/0.json', 'overwritten behind Amber');
      fake.listPageSize = 2;
      const listed = [];
      for await (const o of store.list('cases/C/')) listed.push(o);
      const generations = [];
      for await (const o of store.listGenerations('cases/C/0')) generations.push(o);
      expect(listed.map((o) => o.key)).toEqual(['cases/C/0.json', 'cases/C/1.json', 'cases/C/2.json', 'cases/C/3.json', 'cases/C/4.json']);
      expect(listed[0]!.size).toBe('overwritten behind Amber'.length);
      expect(generations.map((g) => g.live)).toEqual([false, true]);
      expect(fake.requests.filter((r) => r.url.includes('pageToken=')).length).toBeGreaterThanOrEqual(2);
    });
  });

  describe('Method: appendLog', () => {
    it('creates the log, appends to it, and keeps each earlier state as a generation', async () => {
      const store = await open();
      await store.appendLog('cases/C/ledger.jsonl', 'one\n');
      await store.appendLog('cases/C/ledger.jsonl', 'two\n');
      expect(await store.readText('cases/C/ledger.jsonl')).toBe('one\ntwo\n');
      expect(fake.generations('evidence', 'amber/cases/C/ledger.jsonl').map((g) => g.bytes.toString())).toEqual(['one\n', 'one\ntwo\n']);
    });

    it('throws ConcurrentWriteError, writing nothing, when another writer appended between its read and its write', async () => {
      // Prepare: the other writer gets in as this one asks for its third token (the upload, after two reads)
      await (await open()).appendLog('L', 'one\n');
      let calls = 0;
      const store = await open('evidence', {
        token: async () => {
          calls += 1;
          if (calls === 4) fake.put('evidence', 'amber/L', 'one\nother\n'); // call 1 is the bucket's settings
          return fake.token;
        },
      });

      // Act
      const append = store.appendLog('L', 'two\n');

      // Assess
      await expect(append).rejects.toBeInstanceOf(ConcurrentWriteError);
      expect(fake.read('evidence', 'amber/L')!.toString()).toBe('one\nother\n');
    });
  });

  describe('Method: open', () => {
    it('refuses a bucket that does not exist, naming it', async () => {
      await expect(open('no-such-bucket')).rejects.toThrow(InvalidInputError);
      await expect(open('no-such-bucket')).rejects.toThrow('gs://no-such-bucket does not exist');
    });
  });
});

describe('Class: GcsEvidenceSource', () => {
  it('lists live objects under a raw prefix, pinned to their generation, and every generation with allVersions', async () => {
    fake.bucket('logs', { versioning: true });
    fake.put('logs', 'cloudaudit.googleapis.com/activity/2026/03/01/00:00:00_00:59:59_S0.json', 'v1');
    fake.put('logs', 'cloudaudit.googleapis.com/activity/2026/03/01/00:00:00_00:59:59_S0.json', 'v2');
    fake.put('logs', 'other/x', 'x');
    const current = new GcsEvidenceSource({ uri: 'gs://logs/cloudaudit.googleapis.com/', baseUrl: fake.url, token: async () => fake.token });
    const every = new GcsEvidenceSource({ uri: 'gs://logs/cloudaudit', baseUrl: fake.url, token: async () => fake.token, allVersions: true });
    const gens = fake.generations('logs', 'cloudaudit.googleapis.com/activity/2026/03/01/00:00:00_00:59:59_S0.json').map((g) => g.generation);
    const read = async (s: GcsEvidenceSource) => {
      const out: Array<[string, string, string]> = [];
      for await (const o of s.list(() => {})) out.push([o.relPath, o.origin, await text(await o.open())]);
      return out;
    };
    const name = 'cloudaudit.googleapis.com/activity/2026/03/01/00:00:00_00:59:59_S0.json';
    expect(await read(current)).toEqual([[name, `gs://logs/${name}#${gens[1]}`, 'v2']]);
    expect(await read(every)).toEqual([
      [`noncurrent/${gens[0]}/${name}`, `gs://logs/${name}#${gens[0]}`, 'v1'],
      [name, `gs://logs/${name}#${gens[1]}`, 'v2'],
    ]);
  });
});
