import { describe, expect, it } from 'vitest';
import { StoreError, WriteOnceViolationError } from '../../../shared/errors.ts';
import type { EvidenceSource, SourceObject } from '../../../shared/ports/evidence-source.ts';
import {
  cloudTrailPrefixes,
  copyLogObjects,
  CopyBatchError,
  inWindow,
  listLogObjects,
  preserveLogs,
  type LogObjectRef,
} from '../../../shared/preservation/preserve-logs.ts';
import type { LogTask } from '../../../shared/preservation/request.ts';
import { MemoryObjectStore } from '../../helpers/memory-store.ts';

const ACTOR = { principal: 'arn:aws:lambda:eu-west-1:999988887777:function:amber-copy-log-objects', tool: 'amber/test' };
const TRAIL = { bucket: 'org-trail', prefix: 'ct', organizationId: 'o-abc123' };
const TASK: LogTask = { case: 'INC-7', requestId: 'req-1', accounts: ['111122223333'], regions: ['eu-west-1'], since: '2026-03-01T10:00:00Z', until: '2026-03-01T12:00:00Z' };
const base = 'ct/AWSLogs/o-abc123/111122223333/CloudTrail/eu-west-1/2026/03/01/';
const file = (hhmm: string, id: string): string => `${base}111122223333_CloudTrail_eu-west-1_20260301T${hhmm}Z_${id}.json.gz`;

/** Sources over a fixed bucket listing, as S3EvidenceSource lists a prefix. */
function bucketOf(keys: string[]): (uri: string) => EvidenceSource {
  return (uri) => {
    const prefix = uri.slice(`s3://${TRAIL.bucket}/`.length);
    return {
      spec: uri,
      async *list(): AsyncIterable<SourceObject> {
        for (const key of keys.filter((k) => k.startsWith(prefix))) {
          yield { origin: `s3://${TRAIL.bucket}/${key}`, relPath: key, s3: { bucket: TRAIL.bucket, key }, open: async () => { throw new Error('not read'); } };
        }
      },
    };
  };
}

describe('Function: cloudTrailPrefixes', () => {
  it('lists log and digest prefixes per account, region and day, for an organization trail with a key prefix', () => {
    // Act
    const prefixes = cloudTrailPrefixes(TRAIL, { ...TASK, until: '2026-03-01T23:30:00Z' });

    // Assess: the delivery slack reaches into the next day
    expect(prefixes).toEqual([
      'ct/AWSLogs/o-abc123/111122223333/CloudTrail/eu-west-1/2026/03/01/',
      'ct/AWSLogs/o-abc123/111122223333/CloudTrail-Digest/eu-west-1/2026/03/01/',
      'ct/AWSLogs/o-abc123/111122223333/CloudTrail/eu-west-1/2026/03/02/',
      'ct/AWSLogs/o-abc123/111122223333/CloudTrail-Digest/eu-west-1/2026/03/02/',
    ]);
  });

  it('leaves out the organization and prefix for an account trail', () => {
    expect(cloudTrailPrefixes({ bucket: 'b', prefix: '' }, TASK)[0]).toBe('AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/01/');
  });

  it('refuses a bad account id naming it', () => {
    expect(() => cloudTrailPrefixes(TRAIL, { ...TASK, accounts: ['1234'] })).toThrow(/12 digits, got "1234"/);
  });
});

describe('Function: inWindow', () => {
  it('keeps files named within the window and its delivery slack, and anything not named like a log file', () => {
    expect(inWindow(file('0955', 'a'), TASK.since, TASK.until)).toBe(true);
    expect(inWindow(file('0900', 'a'), TASK.since, TASK.until)).toBe(false);
    expect(inWindow(file('1255', 'a'), TASK.since, TASK.until)).toBe(true);
    expect(inWindow(file('1400', 'a'), TASK.since, TASK.until)).toBe(false);
    expect(inWindow(`${base}notes.txt`, TASK.since, TASK.until)).toBe(true);
  });
});

describe('Function: listLogObjects', () => {
  it('writes the window\'s objects, sorted, as a JSON array outside the case folder', async () => {
    // Prepare
    const store = new MemoryObjectStore();
    const keys = [file('1105', 'b'), file('1005', 'a'), file('0800', 'old')];

    // Act
    const listed = await listLogObjects({ store, trail: TRAIL, sourceFor: bucketOf(keys) }, TASK);

    // Assess
    expect(listed.count).toBe(2);
    expect(listed.itemsKey).toMatch(/^_work\/log-listings\/INC-7\/req-1-[0-9a-f]{16}\.json$/);
    expect(JSON.parse(store.text(listed.itemsKey)!)).toEqual([
      { bucket: 'org-trail', key: file('1005', 'a') },
      { bucket: 'org-trail', key: file('1105', 'b') },
    ]);
  });

  it('writes nothing new when a retry lists the same objects', async () => {
    // Prepare
    const store = new MemoryObjectStore();
    const sourceFor = bucketOf([file('1005', 'a')]);
    const first = await listLogObjects({ store, trail: TRAIL, sourceFor }, TASK);

    // Act
    const second = await listLogObjects({ store, trail: TRAIL, sourceFor }, TASK);

    // Assess
    expect(second.itemsKey).toBe(first.itemsKey);
    expect([...store.objects.keys()]).toHaveLength(1);
  });

  it('reports an object that cannot be kept under its key instead of dropping it', async () => {
    // Prepare
    const store = new MemoryObjectStore();

    // Act
    const listed = await listLogObjects({ store, trail: TRAIL, sourceFor: bucketOf([`${base}x/../y.json`]) }, TASK);

    // Assess
    expect(listed.count).toBe(0);
    expect(listed.skipped).toEqual([{ origin: `s3://org-trail/${base}x/../y.json`, reason: expect.stringContaining('".." path segment') }]);
  });
});

describe('Function: copyLogObjects', () => {
  const refs: LogObjectRef[] = [
    { bucket: 'org-trail', key: file('1105', 'b') },
    { bucket: 'org-trail', key: file('1005', 'a') },
  ];
  function storeWithSources(): MemoryObjectStore {
    const store = new MemoryObjectStore();
    for (const r of refs) store.addSource(r.bucket, r.key, `bytes of ${r.key}`);
    return store;
  }

  it('copies each object under cases/<case>/<source key> and returns its evidence item, sorted by key', async () => {
    // Prepare
    const store = storeWithSources();

    // Act
    const copied = await copyLogObjects({ store, actor: ACTOR }, { case: 'INC-7', requestId: 'req-1', items: refs });

    // Assess
    expect(copied.items.map((i) => i.key)).toEqual([`cases/INC-7/${file('1005', 'a')}`, `cases/INC-7/${file('1105', 'b')}`]);
    expect(copied.items[0]).toMatchObject({ origin: `s3://org-trail/${file('1005', 'a')}`, mediaType: 'application/gzip', acquiredBy: ACTOR.principal });
    expect(copied).toMatchObject({ failures: [], alreadyPreserved: 0 });
  });

  it('returns the same items, copying nothing twice, when the batch is retried', async () => {
    // Prepare
    const store = storeWithSources();
    const first = await copyLogObjects({ store, actor: ACTOR }, { case: 'INC-7', requestId: 'req-1', items: refs });

    // Act
    const second = await copyLogObjects({ store, actor: ACTOR }, { case: 'INC-7', requestId: 'req-1', items: refs });

    // Assess
    expect(second.alreadyPreserved).toBe(2);
    expect(second.items.map((i) => [i.id, i.key, i.sha256])).toEqual(first.items.map((i) => [i.id, i.key, i.sha256]));
    expect(store.objects.size).toBe(2);
  });

  it('reports objects that can never be copied as failures, and the rest as items', async () => {
    // Prepare
    const store = storeWithSources();
    store.failCopies.set(`org-trail/${refs[0]!.key}`, new WriteOnceViolationError(`cases/INC-7/${refs[0]!.key}`, 'a'.repeat(64), 'b'.repeat(64)));

    // Act
    const copied = await copyLogObjects({ store, actor: ACTOR }, { case: 'INC-7', requestId: 'req-1', items: [...refs, { bucket: 'org-trail', key: `${base}gone.json.gz` }] });

    // Assess
    expect(copied.items).toHaveLength(1);
    expect(copied.failures.map((f) => f.code).sort()).toEqual(['ACQUISITION_FAILED', 'WRITE_ONCE_VIOLATION']);
  });

  it('copies what it can, then throws CopyBatchError for failures that may pass, so the batch is retried', async () => {
    // Prepare
    const store = storeWithSources();
    store.failCopies.set(`org-trail/${refs[0]!.key}`, new StoreError('S3 copy failed: SlowDown (HTTP 503)'));

    // Act
    const copying = copyLogObjects({ store, actor: ACTOR }, { case: 'INC-7', requestId: 'req-1', items: refs });

    // Assess
    await expect(copying).rejects.toThrow(CopyBatchError);
    await expect(copying).rejects.toThrow(/SlowDown/);
    expect(store.objects.has(`cases/INC-7/${refs[1]!.key}`)).toBe(true);
  });

  it('refuses a store that cannot copy server-side', async () => {
    await expect(copyLogObjects({ store: new MemoryObjectStore(false), actor: ACTOR }, { case: 'INC-7', requestId: 'r', items: refs })).rejects.toThrow(/cannot copy server-side/);
  });
});

describe('Function: preserveLogs', () => {
  it('lists and copies the window in batches', async () => {
    // Prepare
    const keys = [file('1005', 'a'), file('1010', 'b'), file('1015', 'c')];
    const store = new MemoryObjectStore();
    for (const k of keys) store.addSource('org-trail', k, k);

    // Act
    const done = await preserveLogs({ store, trail: TRAIL, sourceFor: bucketOf(keys), actor: ACTOR, batchSize: 2 }, TASK);

    // Assess
    expect(done.items).toHaveLength(3);
    expect(done.failures).toEqual([]);
  });
});
