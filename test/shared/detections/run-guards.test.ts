/**
 * runCatalogue over an engine that answers each detection with fixed rows: the most severe findings come
 * first, a query that leaves out a column every finding needs is its detection's error (no finding without
 * its citation), and a detection whose table the case does not hold is listed as skipped, not run.
 */
import { describe, expect, it } from 'vitest';
import type { Detection } from '../../../shared/detections/catalogue.ts';
import { groupRepeats, RepeatGroups, runCatalogue, type Finding } from '../../../shared/detections/run.ts';
import type { QueryEngine } from '../../../shared/ports/query-engine.ts';

const detection = (id: string, severity: Detection['severity'], table = 'cloudtrail'): Detection => ({
  id,
  title: id,
  description: id,
  severity,
  mitre: [],
  table,
  schedule: 'rate(1 hour)',
  window: 'PT1H',
  falsePositives: [],
  runbook: '',
  expectedMatches: 1,
  sql: `SELECT '${id}' AS marker FROM ${table}`,
  dir: '',
});

const row = (time: string, record: number): Record<string, unknown> => ({
  event_time: time,
  actor: 'arn:aws:iam::111122223333:user/mallory',
  source_ip: '203.0.113.9',
  action: 'CreateAccessKey',
  target: 'user/bob',
  detail: 'x',
  evidence_key: 'cases/c/a.json',
  evidence_record: record,
});

/** Answers each detection's query by the id its SQL names; remembers which were asked. */
function engine(rows: Record<string, Array<Record<string, unknown>>>): QueryEngine & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async query<T>(sql: string): Promise<T[]> {
      const id = Object.keys(rows).find((k) => sql.includes(`'${k}' AS marker`))!;
      asked.push(id);
      return rows[id] as T[];
    },
    async close() {},
  };
}

const sha256ByKey = new Map([['cases/c/a.json', 'a'.repeat(64)]]);

describe('Function: runCatalogue', () => {
  it('puts the most severe findings first, whatever order the detections ran in', async () => {
    const e = engine({ 'low-first': [row('2026-11-20T09:00:00Z', 1)], 'then-critical': [row('2026-11-20T11:00:00Z', 2)], 'then-high': [row('2026-11-20T10:00:00Z', 3)] });
    const run = await runCatalogue(e, [detection('low-first', 'low'), detection('then-critical', 'critical'), detection('then-high', 'high')], { sources: { cloudtrail: 'main.cloudtrail' }, sha256ByKey });
    expect(run.findings.map((f) => [f.severity, f.detection])).toEqual([
      ['critical', 'then-critical'],
      ['high', 'then-high'],
      ['low', 'low-first'],
    ]);
    expect(run.findings[0]).toMatchObject({ evidence_key: 'cases/c/a.json', evidence_record: 2, evidence_sha256: 'a'.repeat(64) });
  });

  it('reports a query that returns no evidence_record column as its error and makes no finding of it', async () => {
    const { evidence_record: _dropped, ...uncited } = row('2026-11-20T10:00:00Z', 1);
    const e = engine({ uncited: [uncited], sound: [row('2026-11-20T10:00:00Z', 4)] });
    const run = await runCatalogue(e, [detection('uncited', 'critical'), detection('sound', 'low')], { sources: { cloudtrail: 'main.cloudtrail' }, sha256ByKey });
    expect(run.findings.map((f) => f.detection)).toEqual(['sound']);
    expect(run.errors).toEqual([{ detection: 'uncited', error: expect.stringMatching(/^detection uncited returns no evidence_record column/) }]);
  });

  it('lists a detection whose table the case does not hold as skipped, without running it or calling it an error', async () => {
    const e = engine({ trail: [row('2026-11-20T10:00:00Z', 1)], flows: [] });
    const run = await runCatalogue(e, [detection('trail', 'low'), detection('flows', 'high', 'vpcflow')], { sources: { cloudtrail: 'main.cloudtrail' }, sha256ByKey });
    expect(run.skipped).toEqual(['flows']);
    expect(run.errors).toEqual([]);
    expect(e.asked).toEqual(['trail']);
    expect(run.findings.map((f) => f.detection)).toEqual(['trail']);
  });
  it('hands each detection\'s findings to reduce as its query returns, keeping only what reduce keeps, and gives the same groups as grouping at the end', async () => {
    // Prepare: one detection repeats one incident 500 times, another matches once
    const many = Array.from({ length: 500 }, (_, i) => row(`2026-11-20T09:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`, i));
    const rows = { 'repeats': many, 'once': [row('2026-11-20T12:00:00Z', 900)] };
    const detections = [detection('repeats', 'medium'), detection('once', 'high')];
    const seen: Array<[string, number]> = [];
    let held = 0;

    // Act
    const reduced = await runCatalogue(engine(rows), detections, {
      sources: { cloudtrail: 'main.cloudtrail' },
      sha256ByKey,
      reduce: async (d, found: Finding[]) => {
        seen.push([d.id, found.length]);
        const grouped = groupRepeats(found);
        held += grouped.length;
        return { findings: grouped, errors: d.id === 'once' ? [{ detection: d.id, error: 'cited record not found' }] : [] };
      },
    });
    const atTheEnd = groupRepeats([...(await runCatalogue(engine(rows), detections, { sources: { cloudtrail: 'main.cloudtrail' }, sha256ByKey })).findings]);

    // Assess: one call per detection with only its own findings; the run holds the grouped findings only
    expect(seen).toEqual([['repeats', 500], ['once', 1]]);
    expect(held).toBe(2);
    expect(reduced.findings.map((f) => [f.detection, f.repeats, f.evidence_record])).toEqual([['once', 1, 900], ['repeats', 500, 0]]);
    expect(reduced.findings).toEqual(atTheEnd);
    expect(reduced.errors).toEqual([{ detection: 'once', error: 'cited record not found' }]);
  });
  it('folds repeats one finding at a time into the groups groupRepeats gives, whatever order they arrive in', async () => {
    // Prepare: two incidents of one detection, interleaved, plus a failed attempt that is its own group
    const e = engine({ mixed: [...Array.from({ length: 40 }, (_, i) => ({ ...row(`2026-11-20T10:00:${String(59 - i).padStart(2, '0')}Z`, i), target: i % 2 ? 'user/bob' : 'user/eve' }))] });
    const { findings } = await runCatalogue(e, [detection('mixed', 'medium')], { sources: { cloudtrail: 'main.cloudtrail' }, sha256ByKey });
    const withFailure = [...findings, { ...findings[3]!, outcome: 'failure' as const, error_code: 'AccessDenied' }];

    // Act: the same findings in three orders
    const fold = (list: Finding[]): Finding[] => {
      const g = new RepeatGroups();
      for (const f of list) g.add(f);
      return g.result();
    };
    const forward = fold(withFailure);
    const backward = fold([...withFailure].reverse());
    const shuffled = fold(withFailure.map((f, i) => [(i * 17) % withFailure.length, f] as const).sort((a, b) => a[0] - b[0]).map(([, f]) => f));

    // Assess
    expect(forward).toEqual(groupRepeats(withFailure));
    expect(backward).toEqual(forward);
    expect(shuffled).toEqual(forward);
    expect(forward.map((f) => [f.target, f.outcome, f.repeats])).toEqual([['user/bob', null, 20], ['user/eve', null, 20], ['user/eve', 'failure', 1]]);
    // Each group cites its earliest record and spans its first to last time
    const bob = forward.find((f) => f.target === 'user/bob' && f.outcome === null)!;
    expect(bob.event_time).toBe('2026-11-20T10:00:20Z');
    expect([bob.first_time, bob.last_time]).toEqual(['2026-11-20T10:00:20Z', '2026-11-20T10:00:58Z']);
  });
});
