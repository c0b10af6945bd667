import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { collectEvidence } from '../../../shared/evidence/collect.ts';
import { CustodyLedger } from '../../../shared/evidence/ledger.ts';
import { LocalEvidenceSource } from '../../../shared/evidence/local-source.ts';
import { LocalObjectStore } from '../../../shared/evidence/local-object-store.ts';
import { verifyCase } from '../../../shared/evidence/verify.ts';
import { DuckDbQueryEngine } from '../../../shared/query/duckdb-engine.ts';
import { loadCaseTables } from '../../../shared/sources/case-tables.ts';
import { tempDir } from '../../helpers/tmp.ts';

const actor = { principal: 'analyst@test', tool: 'amber/test' };
const rec = (name: string, time: string | undefined, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  eventVersion: '1.09',
  ...(time ? { eventTime: time } : {}),
  eventSource: 'iam.amazonaws.com',
  eventName: name,
  awsRegion: 'us-east-1',
  sourceIPAddress: '198.51.100.9',
  userAgent: 'test',
  userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/u', accountId: '111122223333', userName: 'u' },
  eventID: `id-${name}`,
  recipientAccountId: '111122223333',
  ...extra,
});

let engine: DuckDbQueryEngine | undefined;
afterEach(async () => engine?.close());

/** A case holding one file of every kind the loader must handle. */
async function mixedCase() {
  const base = await tempDir();
  const src = join(base, 'export');
  const day = join(src, 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20');
  await mkdir(day, { recursive: true });
  await writeFile(join(day, 'delivered.json.gz'), gzipSync(JSON.stringify({ Records: [rec('ListUsers', '2026-11-20T01:00:00Z'), rec('GetUser', '2026-11-20T01:01:00Z')] })));
  // A delivery file cut short in transit: the gzip stream ends partway through its records.
  const many = Array.from({ length: 400 }, (_, i) => rec(`Call${i}`, `2026-11-20T02:${String(i % 60).padStart(2, '0')}:00Z`, { requestID: `r-${i}-${(i * 7919) % 104729}` }));
  const gz = gzipSync(JSON.stringify({ Records: many }));
  await writeFile(join(day, 'truncated.json.gz'), gz.subarray(0, Math.floor(gz.length / 2)));
  await writeFile(join(src, 'lookup.json'), JSON.stringify({ Events: [{ EventId: 'e1', CloudTrailEvent: JSON.stringify(rec('StopLogging', '2026-11-20T03:00:00Z')) }] }));
  await writeFile(join(src, 'shipped.jsonl'), `${JSON.stringify({ ...rec('DeleteTrail', undefined), '@timestamp': '2026-11-20T04:00:00.000Z' })}\n${JSON.stringify(rec('GetTrail', undefined))}\n`);
  await writeFile(join(src, 'notes.csv'), 'a,b\n1,2\n');
  const store = await LocalObjectStore.open(join(base, 'locker'), { create: true });
  await collectEvidence({ store, caseName: 'mix', sources: [await LocalEvidenceSource.open(src)], actor });
  return store;
}

async function load(store: LocalObjectStore) {
  const ledger = await CustodyLedger.open(store, 'mix');
  engine = await DuckDbQueryEngine.create();
  const tables = await loadCaseTables({ store, ledger, engine, actor });
  await ledger.checkpoint();
  return { tables, ledger, engine };
}

describe('Use case: loadCaseTables', () => {
  it('loads every CloudTrail shape into one table, each row pointing at its original object and record', async () => {
    const store = await mixedCase();
    const { tables, engine } = await load(store);
    const rows = await engine.query<{ eventname: string; evidence_key: string; evidence_record: number }>('SELECT eventname, evidence_key, evidence_record FROM cloudtrail ORDER BY eventtime');
    const recovered = rows.filter((r) => r.evidence_key.endsWith('truncated.json.gz'));
    expect(recovered.length).toBeGreaterThan(0); // complete records before the damage are recovered...
    expect(recovered.length).toBeLessThan(400); // ...and nothing after it is invented
    expect(recovered.map((r) => r.evidence_record).sort((a, b) => a - b)).toEqual(recovered.map((_, i) => i));
    expect(rows.filter((r) => !r.evidence_key.endsWith('truncated.json.gz'))).toEqual([
      { eventname: 'ListUsers', evidence_key: expect.stringMatching(/delivered\.json\.gz$/), evidence_record: 0 },
      { eventname: 'GetUser', evidence_key: expect.stringMatching(/delivered\.json\.gz$/), evidence_record: 1 },
      { eventname: 'StopLogging', evidence_key: 'cases/mix/export/lookup.json', evidence_record: 0 },
      { eventname: 'DeleteTrail', evidence_key: 'cases/mix/export/shipped.jsonl', evidence_record: 0 },
    ]);
    expect(tables.events.cloudtrail).toBe(4 + recovered.length);
  });

  it('reports what it could not parse, naming the object and record, and never hides it', async () => {
    const store = await mixedCase();
    const { tables } = await load(store);
    expect(tables.problems).toContainEqual(expect.objectContaining({ key: expect.stringMatching(/truncated\.json\.gz$/), reason: expect.stringMatching(/gzip|truncat|damage/i) }));
    expect(tables.problems).toContainEqual(expect.objectContaining({ key: 'cases/mix/export/shipped.jsonl', record: 1 }));
    expect(tables.unrecognised).toEqual([expect.objectContaining({ key: 'cases/mix/export/notes.csv' })]);
  });

  it('preserves derived copies as evidence (recorded `derived`, hashed, verified) and does not derive twice', async () => {
    const store = await mixedCase();
    await (await load(store)).engine.close();
    engine = undefined;
    const { ledger } = await load(store);
    const derived = ledger.entries.filter((e) => e.action === 'derived');
    // The damaged delivery file is read through Amber's parser too, so its recovered records get a derived copy.
    expect(derived.map((e) => String(e.detail?.from)).sort()).toEqual([
      'cases/mix/export/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/truncated.json.gz',
      'cases/mix/export/lookup.json',
      'cases/mix/export/shipped.jsonl',
    ]);
    for (const e of derived) expect(e.items![0]).toMatchObject({ derivedFrom: expect.stringMatching(/^ev-/), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const report = await verifyCase({ store, caseName: 'mix', actor });
    expect(report.failures).toEqual([]);
    expect(report.items.filter((i) => i.key.includes('/_amber/derived/'))).toHaveLength(3);
  });
});
