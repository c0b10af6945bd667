/** Zip archives: opened at analysis time, each member preserved as a derived item and analysed like any object. */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CustodyLedger } from '../../../shared/evidence/ledger.ts';
import { verifyCase } from '../../../shared/evidence/verify.ts';
import { DuckDbQueryEngine } from '../../../shared/query/duckdb-engine.ts';
import { loadCaseTables } from '../../../shared/sources/case-tables.ts';
import { caseWith, TEST_ACTOR } from '../../helpers/case.ts';
import { makeZip } from '../../helpers/zip.ts';

const rec = (name: string) => ({
  eventVersion: '1.09', eventTime: '2026-11-20T01:00:00Z', eventSource: 'iam.amazonaws.com', eventName: name, awsRegion: 'us-east-1', eventID: name,
  userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/u' },
});
const FLOW = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n2 111122223333 eni-1 10.0.0.1 198.51.100.7 443 50000 6 10 840 1763600000 1763600060 ACCEPT OK\n';

describe('Zip archives in a case', () => {
  it('analyses each member, preserved as a derived item naming the archive\'s SHA-256 and the member, and does it once', async () => {
    const zip = makeZip([
      { name: 'export/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/a.json.gz', data: gzipSync(JSON.stringify({ Records: [rec('ListUsers'), rec('GetUser')] })), deflate: false },
      { name: 'export/flow.log', data: Buffer.from(FLOW) },
      { name: 'export/', data: Buffer.alloc(0), deflate: false },
    ]);
    const loaded = await caseWith({ 'logs.zip': zip });
    const zipItem = [...loaded.ledger.items().values()].find((i) => i.key.endsWith('logs.zip'))!;
    const rows = await loaded.engine.query<{ e: string; k: string; r: number }>('SELECT eventname AS e, evidence_key AS k, evidence_record AS r FROM cloudtrail ORDER BY r');
    expect(rows.map((r) => [r.e, r.r])).toEqual([['ListUsers', 0], ['GetUser', 1]]);
    expect(rows[0]!.k).toMatch(new RegExp(`_amber/derived/zip/${zipItem.id}/0-export_AWSLogs_.*a\\.json\\.gz$`));
    expect(loaded.tables.events.vpc_flow_logs).toBe(1);
    const unzipped = loaded.ledger.entries.filter((e) => e.action === 'derived' && (e.detail as { member?: string } | undefined)?.member !== undefined);
    expect(unzipped.map((e) => (e.detail as { member: string }).member).sort()).toEqual(['export/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/a.json.gz', 'export/flow.log']);
    for (const e of unzipped) expect(e.detail).toMatchObject({ from: zipItem.key, fromSha256: zipItem.sha256 });
    expect(loaded.tables.sha256ByKey.get(rows[0]!.k)).toBe(unzipped.find((e) => (e.detail as { member: string }).member.endsWith('a.json.gz'))!.items![0]!.sha256);
    expect(loaded.tables.coverage.objects).toMatchObject({ total: 2, analysed: 2 });
    await loaded.ledger.checkpoint();

    // A second run finds the members already preserved: no new derived entry, the same rows.
    const ledger = await CustodyLedger.open(loaded.store, 'c');
    const before = ledger.entries.length;
    const engine = await DuckDbQueryEngine.create();
    try {
      const again = await loadCaseTables({ store: loaded.store, ledger, engine, actor: TEST_ACTOR });
      expect(again.events.cloudtrail).toBe(2);
      expect(ledger.entries.filter((e) => e.action === 'derived').length).toBe(loaded.ledger.entries.filter((e) => e.action === 'derived').length);
      expect(ledger.entries.length).toBe(before);
    } finally {
      await engine.close();
    }
    expect((await verifyCase({ store: loaded.store, caseName: 'c', actor: TEST_ACTOR })).intact).toBe(true);
  });

  it('reports zip-slip names, a zip bomb and a nested zip by member, and still analyses the safe members', async () => {
    const zip = makeZip([
      { name: '../../etc/evil.json', data: Buffer.from(JSON.stringify({ Records: [rec('Evil')] })) },
      { name: '/abs/evil2.json', data: Buffer.from(JSON.stringify({ Records: [rec('Evil2')] })) },
      { name: 'bomb.bin', data: Buffer.alloc(3 * 1024 * 1024) },
      { name: 'inner.zip', data: makeZip([{ name: 'x.json', data: Buffer.from('{}') }]) },
      { name: 'ok.json', data: Buffer.from(JSON.stringify({ Records: [rec('Fine')] })) },
    ]);
    const loaded = await caseWith({ 'hostile.zip': zip }, { limits: { maxInflatedBytes: 1024 * 1024 } });
    const key = [...loaded.ledger.items().values()].find((i) => i.key.endsWith('hostile.zip'))!.key;
    const reasons = loaded.tables.problems.filter((p) => p.key === key).map((p) => p.reason);
    expect(reasons).toEqual([
      expect.stringMatching(/^member 0 "\.\.\/\.\.\/etc\/evil\.json": .*\(zip-slip\); it was not extracted$/),
      expect.stringMatching(/^member 1 "\/abs\/evil2\.json": .*\(zip-slip\); it was not extracted$/),
      expect.stringMatching(/^member 2 "bomb\.bin" would take the archive past 1048576 inflated bytes \(limit maxInflatedBytes; possible zip bomb\)/),
    ]);
    expect(loaded.tables.unrecognised).toContainEqual({ key: expect.stringMatching(/3-inner\.zip$/), reason: expect.stringMatching(/a zip archive inside .*hostile\.zip .*not opened/) });
    const rows = await loaded.engine.query<{ e: string }>('SELECT eventname AS e FROM cloudtrail');
    expect(rows).toEqual([{ e: 'Fine' }]);
  });
});
