/**
 * The read-through cache that lets the embedded engine analyse a case kept in a remote locker (s3://, ...).
 * The "remote" here is a local locker reached only through the ObjectStore port (every read counted), so the
 * tests see exactly what a remote locker would be asked; the real S3 path is in test/integration.
 */
import { chmod, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { IntegrityError } from '../../../shared/errors.ts';
import { CustodyLedger } from '../../../shared/evidence/ledger.ts';
import type { LocalObjectStore } from '../../../shared/evidence/local-object-store.ts';
import { CachedLocker } from '../../../shared/evidence/read-cache.ts';
import type { ObjectStore } from '../../../shared/ports/object-store.ts';
import { DuckDbQueryEngine } from '../../../shared/query/duckdb-engine.ts';
import { loadCaseTables } from '../../../shared/sources/case-tables.ts';
import { caseWith, TEST_ACTOR } from '../../helpers/case.ts';
import { tempDir } from '../../helpers/tmp.ts';

const rec = (name: string, i = 0): Record<string, unknown> => ({
  eventVersion: '1.09',
  eventTime: `2026-11-20T01:0${i}:00Z`,
  eventSource: 'cloudtrail.amazonaws.com',
  eventName: name,
  awsRegion: 'us-east-1',
  sourceIPAddress: '198.51.100.9',
  userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/u', accountId: '111122223333', userName: 'u' },
  eventID: `id-${name}-${i}`,
});
const DAY = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20';

/** A locker seen only through the port, counting the object reads a remote locker would serve. */
function remoteView(store: LocalObjectStore): ObjectStore & { reads: string[] } {
  const reads: string[] = [];
  const view: ObjectStore & { reads: string[] } = {
    reads,
    uri: `remote+${store.uri}`,
    putImmutable: (key, body, options) => store.putImmutable(key, body, options),
    get: (key: string): Promise<Readable> => {
      reads.push(key);
      return store.get(key);
    },
    readText: (key) => store.readText(key),
    list: (prefix) => store.list(prefix),
    appendLog: (key, text) => store.appendLog(key, text),
    lock: (name) => store.lock(name),
    exists: () => store.exists(),
  };
  return view;
}

async function analyse(locker: CachedLocker) {
  const ledger = await CustodyLedger.open(locker, 'c');
  const engine = await DuckDbQueryEngine.create();
  try {
    const tables = await loadCaseTables({ store: locker, ledger, engine, actor: TEST_ACTOR, columnar: true });
    const rows = await engine.query(`SELECT eventname, evidence_key, evidence_record FROM ${tables.sources.cloudtrail} ORDER BY eventname`);
    return { tables, rows };
  } finally {
    await engine.close();
  }
}

async function tamper(path: string, body: string | Buffer): Promise<void> {
  await chmod(path, 0o644);
  await writeFile(path, body);
}

describe('CachedLocker: analysing a remote locker through a local cache', () => {
  it('downloads each object once, analyses it, and on the next run reads the cached copies and the Parquet set written back to the remote', async () => {
    const { store } = await caseWith({ [`${DAY}/a.json.gz`]: gzipSync(JSON.stringify({ Records: [rec('StopLogging'), rec('DeleteTrail', 1)] })) });
    const remote = remoteView(store);
    const cache = await tempDir();
    const first = await CachedLocker.open(remote, cache);
    const one = await analyse(first);
    await first.close();
    expect(one.rows.map((r) => r.eventname)).toEqual(['DeleteTrail', 'StopLogging']);
    expect(first.totals.downloaded).toBeGreaterThan(0);
    // The Parquet set was written to the remote locker and recorded in its ledger, like any derived evidence.
    const ledger = await CustodyLedger.open(store, 'c');
    const parquet = [...ledger.items().values()].filter((i) => i.key.includes('/columnar/'));
    expect(parquet.length).toBeGreaterThan(0);

    remote.reads.length = 0;
    const second = await CachedLocker.open(remote, cache);
    const two = await analyse(second);
    await second.close();
    expect(two.rows).toEqual(one.rows);
    expect(two.tables.columnar).toMatchObject({ materialised: false });
    // Only the Parquet set (new since the first run) came from the remote; the originals were cache hits.
    expect(remote.reads.every((key) => key.includes('/_amber/derived/columnar/'))).toBe(true);
    expect(second.totals.cached).toBeGreaterThan(0);
  });

  it('refuses (exit 3) an object the remote answers with other bytes, naming it with the hash of what the remote holds, and caches nothing of it', async () => {
    const { store, ledger } = await caseWith({ [`${DAY}/a.json`]: JSON.stringify({ Records: [rec('StopLogging')] }) });
    const item = [...ledger.items().values()].find((i) => i.key.endsWith('a.json'))!;
    const forged = JSON.stringify({ Records: [rec('Forged')] });
    await tamper(store.pathOf(item.key), forged);
    const cache = await tempDir();
    const locker = await CachedLocker.open(remoteView(store), cache);
    const failure = await analyse(locker).catch((error: unknown) => error);
    await locker.close();
    expect(failure).toBeInstanceOf(IntegrityError);
    expect((failure as IntegrityError).exitCode).toBe(3);
    const { createHash } = await import('node:crypto');
    expect((failure as Error).message).toContain(`${item.key}: altered: sha256 ${createHash('sha256').update(forged).digest('hex')}`);
    // Nothing under the forged object's recorded name was cached, and no run folder is left behind.
    expect(await readdir(join(cache, item.sha256.slice(0, 2))).catch(() => [])).not.toContain(`${item.sha256}-${item.size}`);
    expect((await readdir(cache)).filter((n) => n.startsWith('.run-'))).toEqual([]);
  });

  it('names an object missing from the remote as missing', async () => {
    const { store, ledger } = await caseWith({ [`${DAY}/a.json`]: JSON.stringify({ Records: [rec('StopLogging')] }) });
    const item = [...ledger.items().values()].find((i) => i.key.endsWith('a.json'))!;
    await chmod(store.pathOf(item.key), 0o644);
    await rm(store.pathOf(item.key));
    const locker = await CachedLocker.open(remoteView(store), await tempDir());
    await expect(analyse(locker)).rejects.toThrow(`${item.key}: missing from the locker`);
    await locker.close();
  });

  it('never blames the evidence for a damaged cache: a cached copy that no longer matches is fetched again', async () => {
    const { store, ledger } = await caseWith({ [`${DAY}/a.json`]: JSON.stringify({ Records: [rec('StopLogging')] }) });
    const item = [...ledger.items().values()].find((i) => i.key.endsWith('a.json'))!;
    const remote = remoteView(store);
    const cache = await tempDir();
    const first = await CachedLocker.open(remote, cache);
    await first.fetch([item]);
    await first.close();
    const cached = join(cache, item.sha256.slice(0, 2), `${item.sha256}-${item.size}`);
    await writeFile(cached, 'bit rot');
    remote.reads.length = 0;
    const second = await CachedLocker.open(remote, cache);
    const summary = await second.fetch([item]);
    expect(summary).toMatchObject({ cached: 0, downloaded: 1 });
    expect(remote.reads).toEqual([item.key]);
    expect(await readFile(second.pathOf(item.key), 'utf8')).toBe(JSON.stringify({ Records: [rec('StopLogging')] }));
    await second.close();
  });

  it('refuses to hand out a path for an object it was never asked to fetch', async () => {
    const { store } = await caseWith({ 'x.jsonl': `${JSON.stringify(rec('StopLogging'))}\n` });
    const locker = await CachedLocker.open(remoteView(store), await tempDir());
    expect(() => locker.pathOf('cases/c/x.jsonl')).toThrow(/without being fetched/);
  });
});
