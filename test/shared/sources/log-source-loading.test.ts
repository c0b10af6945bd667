import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { caseWith } from '../../helpers/case.ts';
import type { LogSource } from '../../../shared/sources/log-source.ts';


/** A made-up line format ("PING <iso-time> <host> <ms>") standing for any line-oriented log source. */
const PING: LogSource = {
  id: 'ping',
  title: 'Ping log',
  cloud: 'aws',
  table: 'ping_log',
  timeColumn: 'time',
  columns: [
    { name: 'time', type: 'VARCHAR' },
    { name: 'host', type: 'VARCHAR' },
    { name: 'ms', type: 'BIGINT' },
  ],
  sniff: (head) => head.startsWith('PING '),
  parse(text) {
    const rows = [];
    const problems = [];
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (lines[i] === '') continue;
      const m = /^PING (\S+) (\S+) (\d+)$/.exec(lines[i]!);
      if (m) rows.push({ index: i, line: i + 1, row: { time: m[1], host: m[2], ms: Number(m[3]) } });
      else problems.push({ index: i, line: i + 1, reason: 'not a PING line' });
    }
    return { variant: 'v1', rows, problems };
  },
  timelineSql: 'SELECT time, \'aws\' AS cloud, \'ping\' AS source FROM ping_log',
};

describe('Use case: loadCaseTables with a registered log source', () => {
  it('recognises files by content (gzipped too) and loads them into the source table, rows pointing at their line', async () => {
    const { tables, engine } = await caseWith({
      'a.log': 'PING 2026-11-20T01:00:00Z db1 12\nPING 2026-11-20T01:00:05Z db2 40\n',
      'b.log.gz': gzipSync('PING 2026-11-20T02:00:00Z web 7\n'),
    }, { logSources: [PING] });
    expect(tables.events.ping_log).toBe(3);
    expect(tables.sources.ping_log).toBe('main.ping_log');
    const rows = await engine.query('SELECT host, ms, evidence_key, evidence_record FROM ping_log ORDER BY time');
    expect(rows).toEqual([
      { host: 'db1', ms: 12, evidence_key: 'cases/c/src/a.log', evidence_record: 0 },
      { host: 'db2', ms: 40, evidence_key: 'cases/c/src/a.log', evidence_record: 1 },
      { host: 'web', ms: 7, evidence_key: 'cases/c/src/b.log.gz', evidence_record: 0 },
    ]);
  });

  it('reports bad lines with file and line, keeps the rest, and records the derived copy as evidence', async () => {
    const { tables, ledger } = await caseWith({ 'a.log': 'PING 2026-11-20T01:00:00Z db1 12\nPING garbage\n' }, { logSources: [PING] });
    expect(tables.problems).toEqual([{ key: 'cases/c/src/a.log', record: 1, reason: 'line 2: not a PING line' }]);
    const derived = ledger.entries.filter((e) => e.action === 'derived');
    expect(derived).toEqual([expect.objectContaining({ detail: expect.objectContaining({ parser: 'ping', from: 'cases/c/src/a.log', rows: 1, problems: 1 }) })]);
  });

  it('honours a source forced at collection (--source) over recognition', async () => {
    const { tables } = await caseWith({ 'odd.txt': 'PING 2026-11-20T01:00:00Z db1 12\n' }, { logSources: [PING], source: 'ping' });
    expect(tables.events.ping_log).toBe(1);
    const { tables: unforced } = await caseWith({ 'odd.txt': 'ping lowercase is not recognised\n' }, { logSources: [PING] });
    expect(unforced.unrecognised).toEqual([expect.objectContaining({ key: 'cases/c/src/odd.txt', reason: 'not a format Amber parses yet' })]);
  });
});
