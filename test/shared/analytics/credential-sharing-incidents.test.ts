/**
 * Credential sharing at scale: one finding per incident (an identity's overlapping activity on one UTC day),
 * whatever the number of overlapping address pairs, with the incident's counts, span, and first and last records.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { credentialSharing } from '../../../shared/analytics/credential-sharing.ts';
import { DuckDbQueryEngine } from '../../../shared/query/duckdb-engine.ts';
import { timelineTable } from '../../helpers/timeline-table.ts';

type Row = [time: string, actor: string, ip: string];
const ALICE = 'arn:aws:iam::111122223333:user/alice';
const BOB = 'arn:aws:iam::111122223333:user/bob';

let engine: DuckDbQueryEngine;
beforeEach(async () => {
  engine = await DuckDbQueryEngine.create();
});
afterEach(async () => engine.close());

/** A timeline whose records are numbered in the order given, all in one object. */
async function timeline(rows: Row[]): Promise<string> {
  return timelineTable(engine, rows.map(([time, actor, ip], i) => ({ time, actor, action: `Call${i}`, ip, key: 'cases/c/ct.json' })));
}

const DAY1: Row[] = [
  // 10:00 window: three addresses interleaved, two events each: three overlapping pairs.
  ['2026-11-20T10:03:00Z', ALICE, '81.2.69.160'], // 0
  ['2026-11-20T10:01:00Z', ALICE, '5.5.5.5'], // 1: the earliest record of the incident
  ['2026-11-20T10:02:00Z', ALICE, '1.1.1.1'], // 2
  ['2026-11-20T10:08:00Z', ALICE, '81.2.69.160'], // 3
  ['2026-11-20T10:09:00Z', ALICE, '5.5.5.5'], // 4
  ['2026-11-20T10:10:00Z', ALICE, '1.1.1.1'], // 5
  // A single stray event from a fourth address: in no pair, so not part of the incident.
  ['2026-11-20T10:04:00Z', ALICE, '9.9.9.9'], // 6
  // 11:00 window: one more pair, the last record at 11:07.
  ['2026-11-20T11:01:00Z', ALICE, '81.2.69.160'], // 7
  ['2026-11-20T11:02:00Z', ALICE, '5.5.5.5'], // 8
  ['2026-11-20T11:06:00Z', ALICE, '81.2.69.160'], // 9
  ['2026-11-20T11:07:00Z', ALICE, '5.5.5.5'], // 10
];
const DAY2: Row[] = [
  ['2026-11-21T09:01:00Z', ALICE, '81.2.69.160'], // 11
  ['2026-11-21T09:02:00Z', ALICE, '5.5.5.5'], // 12
  ['2026-11-21T09:05:00Z', ALICE, '81.2.69.160'], // 13
  ['2026-11-21T09:06:00Z', ALICE, '5.5.5.5'], // 14
];

describe('Analytic: credential-sharing, one finding per incident', () => {
  it('makes one finding of every overlapping pair of an identity on one day, counting its records, pairs, addresses and windows', async () => {
    const rows = await credentialSharing.run({ engine, timeline: await timeline(DAY1) });
    expect(rows).toHaveLength(1);
    const [r] = rows;
    // Cites the earliest record of the incident, and takes actor, address and action from it.
    expect(r).toMatchObject({ evidence_key: 'cases/c/ct.json', evidence_record: 1, event_time: '2026-11-20T10:01:00Z', source_ip: '5.5.5.5', action: 'Call1', target: ALICE });
    // Ten records in pairs (the stray one is not), from the first to the last of them.
    expect(r).toMatchObject({ records: 10, first_time: '2026-11-20T10:01:00Z', last_time: '2026-11-20T11:07:00Z' });
    expect(r!.detail).toContain('in all on 2026-11-20: 4 overlapping pairs of 3 addresses (1.1.1.1, 5.5.5.5, 81.2.69.160) in 2 15-minute windows, 10 events');
    expect(r!.detail).toContain('last record cases/c/ct.json record 10 at 2026-11-20T11:07:00Z');
    expect(r!.detail).not.toContain('9.9.9.9');
  });

  it('makes a separate finding for each day and for each identity', async () => {
    const bob = DAY2.map(([time, , ip]): Row => [time.replace('09:', '13:'), BOB, ip]);
    const rows = await credentialSharing.run({ engine, timeline: await timeline([...DAY1, ...DAY2, ...bob]) });
    expect(rows.map((r) => [r.target, r.first_time, r.last_time, r.records, r.evidence_record])).toEqual([
      [ALICE, '2026-11-20T10:01:00Z', '2026-11-20T11:07:00Z', 10, 1],
      [ALICE, '2026-11-21T09:01:00Z', '2026-11-21T09:06:00Z', 4, 11],
      [BOB, '2026-11-21T13:01:00Z', '2026-11-21T13:06:00Z', 4, 15],
    ]);
    // A one-pair incident reads as before: both addresses with their spans.
    expect(rows[1]!.detail).toBe(`${ALICE} active from 5.5.5.5 (2 events 2026-11-21T09:02:00Z..2026-11-21T09:06:00Z) and from 81.2.69.160 (2 events 2026-11-21T09:01:00Z..2026-11-21T09:05:00Z) at overlapping times [cloudtrail]`);
  });

  it('gives the same rows on every thread count', async () => {
    const single = await DuckDbQueryEngine.create({ threads: 1 });
    try {
      const many: Row[] = [];
      for (let h = 0; h < 6; h++) for (let i = 0; i < 8; i++) many.push([`2026-11-20T1${h}:0${i}:00Z`, ALICE, `5.5.5.${i % 4}`]);
      const t = await timeline(many);
      const values = (await engine.query<Record<string, unknown>>('SELECT * FROM main.t')).map((r) => `('${String(r.time)}', '${String(r.actor)}', '${String(r.identity)}', '${String(r.action)}', '${String(r.source_ip)}', '${String(r.source)}', 'cases/c/ct.json', ${Number(r.evidence_record)})`);
      await single.exec(`CREATE TABLE t AS SELECT time, actor, identity, action, source_ip, source, evidence_key, CAST(evidence_record AS INTEGER) AS evidence_record FROM (VALUES ${values.join(', ')}) v(time, actor, identity, action, source_ip, source, evidence_key, evidence_record)`);
      const a = await credentialSharing.run({ engine, timeline: t });
      const b = await credentialSharing.run({ engine: single, timeline: 'main.t' });
      expect(a).toHaveLength(1);
      expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    } finally {
      await single.close();
    }
  });
});
