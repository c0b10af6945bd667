/**
 * What credential-sharing must not call one shared credential: two people each at their own address, a single
 * stray event beside a session, and AWS service hostnames (which CloudTrail puts where an address would be).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { credentialSharing } from '../../../shared/analytics/credential-sharing.ts';
import { DuckDbQueryEngine } from '../../../shared/query/duckdb-engine.ts';
import { timelineTable } from '../../helpers/timeline-table.ts';

type Row = [time: string, actor: string, action: string, ip: string, key?: string];
const ALICE = 'arn:aws:iam::111122223333:user/alice';
const BOB = 'arn:aws:iam::111122223333:user/bob';

let engine: DuckDbQueryEngine;
beforeEach(async () => {
  engine = await DuckDbQueryEngine.create();
});
afterEach(async () => engine.close());

async function timeline(rows: Row[]): Promise<string> {
  return timelineTable(engine, rows.map(([time, actor, action, ip, key]) => ({ time, actor, action, ip, ...(key ? { key } : {}) })));
}

describe('Analytic: credential-sharing, what is not one shared credential', () => {
  it('does not flag two people working at the same time, each from their own address', async () => {
    const t = await timeline([
      ['2026-11-20T10:01:00Z', ALICE, 'ListBuckets', '81.2.69.160'],
      ['2026-11-20T10:02:00Z', BOB, 'GetObject', '5.5.5.5'],
      ['2026-11-20T10:05:00Z', ALICE, 'ListBuckets', '81.2.69.160'],
      ['2026-11-20T10:06:00Z', BOB, 'GetObject', '5.5.5.5'],
    ]);
    expect(await credentialSharing.run({ engine, timeline: t })).toEqual([]);
  });

  it('flags only the person whose identity is used from two addresses when another works alongside', async () => {
    const t = await timeline([
      ['2026-11-20T10:01:00Z', ALICE, 'ListBuckets', '81.2.69.160'],
      ['2026-11-20T10:02:00Z', BOB, 'GetObject', '1.1.1.1'],
      ['2026-11-20T10:03:00Z', ALICE, 'GetObject', '5.5.5.5'],
      ['2026-11-20T10:05:00Z', ALICE, 'ListBuckets', '81.2.69.160'],
      ['2026-11-20T10:06:00Z', BOB, 'GetObject', '1.1.1.1'],
      ['2026-11-20T10:07:00Z', ALICE, 'GetObject', '5.5.5.5'],
    ]);
    const rows = await credentialSharing.run({ engine, timeline: t });
    expect(rows.map((r) => [r.target, r.actor])).toEqual([[ALICE, ALICE]]);
    expect(rows[0]!.detail).toMatch(/from 5\.5\.5\.5 .* and from 81\.2\.69\.160 /);
  });

  it('does not flag a single stray event from another address during a session', async () => {
    // The stray address sorts before the session's for one person and after it for the other.
    const t = await timeline([
      ['2026-11-20T10:01:00Z', ALICE, 'ListBuckets', '81.2.69.160'],
      ['2026-11-20T10:03:00Z', ALICE, 'GetObject', '5.5.5.5'],
      ['2026-11-20T10:05:00Z', ALICE, 'ListBuckets', '81.2.69.160'],
      ['2026-11-20T10:07:00Z', ALICE, 'ListBuckets', '81.2.69.160'],
      ['2026-11-20T10:01:00Z', BOB, 'ListBuckets', '81.2.69.161'],
      ['2026-11-20T10:03:00Z', BOB, 'GetObject', '9.9.9.9'],
      ['2026-11-20T10:05:00Z', BOB, 'ListBuckets', '81.2.69.161'],
    ]);
    expect(await credentialSharing.run({ engine, timeline: t })).toEqual([]);
  });

  it('does not count an AWS service acting for the identity as a second place', async () => {
    const t = await timeline([
      ['2026-11-20T10:01:00Z', ALICE, 'ListBuckets', '81.2.69.160'],
      ['2026-11-20T10:02:00Z', ALICE, 'Decrypt', 's3.amazonaws.com'],
      ['2026-11-20T10:05:00Z', ALICE, 'ListBuckets', '81.2.69.160'],
      ['2026-11-20T10:06:00Z', ALICE, 'Decrypt', 's3.amazonaws.com'],
    ]);
    expect(await credentialSharing.run({ engine, timeline: t })).toEqual([]);
  });
});

describe('Analytic: credential-sharing, the record it cites', () => {
  it('cites the object holding the earliest record when the two addresses were logged in different objects', async () => {
    const t = await timeline([
      ['2026-11-20T10:02:00Z', ALICE, 'ListBuckets', '5.5.5.5', 'cases/c/early.log'],
      ['2026-11-20T10:01:00Z', ALICE, 'GetObject', '81.2.69.160', 'cases/c/late.log'],
      ['2026-11-20T10:05:00Z', ALICE, 'ListBuckets', '5.5.5.5', 'cases/c/early.log'],
      ['2026-11-20T10:06:00Z', ALICE, 'GetObject', '81.2.69.160', 'cases/c/later.log'],
    ]);
    const rows = await credentialSharing.run({ engine, timeline: t });
    // The earliest record is record 1 (10:01, from 81.2.69.160), in late.log; its address's later record is in later.log.
    expect(rows).toEqual([expect.objectContaining({ evidence_key: 'cases/c/late.log', evidence_record: 1, source_ip: '81.2.69.160', action: 'GetObject' })]);
  });
});
