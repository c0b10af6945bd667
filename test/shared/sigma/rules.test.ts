/** Reading a user's Sigma rules folder: what runs, and the reason for each rule document that does not. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DuckDbQueryEngine } from '../../../shared/query/duckdb-engine.ts';
import { loadCloudTrailTable } from '../../../shared/query/tables/cloudtrail.ts';
import { loadSigmaRules } from '../../../shared/sigma/rules.ts';
import { assertTrinoSql } from '../../helpers/trino-sql.ts';
import { tempDir } from '../../helpers/tmp.ts';

const base = (id: string, extra = ''): string => `title: Rule ${id}
id: ${id}
${extra}logsource: {product: aws, service: cloudtrail}
detection:
  selection: {eventName: DeleteTrail}
  condition: selection
`;

describe('Function: loadSigmaRules', () => {
  it('compiles every document of every .yml under the folder and lists the rest with their reason', async () => {
    const dir = await tempDir('amber-sigma-rules-');
    await mkdir(join(dir, 'nested'), { recursive: true });
    await writeFile(join(dir, 'a.yml'), base('a1', 'level: critical\ntags: [attack.defense-evasion, attack.t1562.008]\n'));
    await writeFile(join(dir, 'nested', 'b.yaml'), `${base('b1', 'name: b_base\n')}---\ntitle: Many trail deletions\nid: b2\ncorrelation:\n  type: event_count\n  rules: [b_base]\n  timespan: 10m\n  condition: {gte: 3}\n`);
    await writeFile(join(dir, 'c.yml'), base('c1', 'status: deprecated\n'));
    await writeFile(join(dir, 'd.yml'), 'title: [unclosed\n');
    await writeFile(join(dir, 'notes.txt'), 'not a rule');

    const set = await loadSigmaRules(dir);

    expect(set.entries.map((e) => [e.file, e.id, e.status])).toEqual([
      ['a.yml', 'a1', 'ok'],
      ['c.yml', 'c1', 'unsupported'],
      ['d.yml', 'd.yml', 'unsupported'],
      ['nested/b.yaml', 'b1', 'ok'],
      ['nested/b.yaml', 'b2', 'ok'],
    ]);
    const reason = (id: string): string | null | undefined => set.entries.find((e) => e.id === id)?.reason;
    expect(reason('c1')).toMatch(/Sigma status is deprecated/);
    expect(reason('d.yml')).toMatch(/^d\.yml: not valid YAML/);
    expect(set.detections.map((d) => [d.id, d.severity, d.mitre, d.table])).toEqual([
      ['sigma:a1', 'critical', ['T1562.008'], 'cloudtrail'],
      ['sigma:b2', 'medium', [], 'cloudtrail'],
    ]);
    // b1 is named by the correlation b2, which does not ask for it to run on its own as well.
    expect(reason('b1')).toBe('runs only inside correlation b2 (which does not set generate: true)');
  });

  it('runs event_count and value_count correlations per group and fixed window, citing the first record of the window', async () => {
    const dir = await tempDir('amber-sigma-corr-');
    await writeFile(
      join(dir, 'corr.yml'),
      `${base('r1', 'name: trail_deleted\n')}---
title: Trail deleted three times by one identity
id: c1
correlation: {type: event_count, rules: [trail_deleted], group-by: [userIdentity.arn], timespan: 10m, condition: {gte: 3}}
---
title: Trail deleted from two addresses
id: c2
correlation: {type: value_count, rules: [r1], timespan: 1h, condition: {field: sourceIPAddress, gte: 2}}
---
title: Temporal correlation
id: c3
correlation: {type: temporal, rules: [r1, r1], timespan: 1h}
`,
    );
    const set = await loadSigmaRules(dir);
    expect(set.detections.map((d) => d.id)).toEqual(['sigma:c1', 'sigma:c2']);
    expect(set.entries.find((e) => e.id === 'c3')?.reason).toMatch(/correlation type "temporal" is not compiled: only event_count and value_count/);
    const at = (minute: number, arn: string, ip = '198.51.100.1'): Record<string, unknown> => ({
      eventTime: `2026-05-01T10:${String(minute).padStart(2, '0')}:00Z`,
      eventSource: 'cloudtrail.amazonaws.com',
      eventName: 'DeleteTrail',
      sourceIPAddress: ip,
      userIdentity: { type: 'IAMUser', arn },
    });
    // alice: 3 deletions in 10:00-10:09 (a finding), bob: 2 (none); alice's 4th at 10:12 is in the next window.
    const records = [at(1, 'alice'), at(2, 'bob'), at(3, 'alice', '203.0.113.9'), at(4, 'bob'), at(5, 'alice'), at(12, 'alice')];
    const path = join(dir, 'records.json');
    await writeFile(path, JSON.stringify({ Records: records }));
    const engine = await DuckDbQueryEngine.create({ threads: 1 });
    try {
      await loadCloudTrailTable(engine, [{ path, key: 'k.json', shape: 'records' }]);
      const run = async (id: string): Promise<Array<Record<string, unknown>>> => {
        const sql = set.detections.find((d) => d.id === `sigma:${id}`)!.sql;
        assertTrinoSql(sql);
        return engine.query(sql);
      };
      expect((await run('c1')).map((r) => [r.actor, r.evidence_record, r.detail])).toEqual([['alice', 0, 'sigma c1: Trail deleted three times by one identity: 3 events in one 10m window']]);
      expect((await run('c2')).map((r) => [r.evidence_record, r.detail])).toEqual([[0, 'sigma c2: Trail deleted from two addresses: 2 distinct values in one 1h window']]);
    } finally {
      await engine.close();
    }
  });
});
