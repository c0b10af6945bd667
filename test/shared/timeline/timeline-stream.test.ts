/**
 * The timeline export streams: `amber timeline` writes the same bytes, in the same order, as rendering the whole
 * ordered timeline at once, across many of DuckDB's chunks, and records the number of rows it wrote.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openCaseSession } from '../../../scripts/cli/case-session.ts';
import type { Io } from '../../../scripts/cli/io.ts';
import { DuckDbQueryEngine } from '../../../shared/query/duckdb-engine.ts';
import { queryTimeline, renderTimeline, type TimelineFormat } from '../../../shared/timeline/timeline.ts';
import { writeSyntheticCloudTrail } from '../../helpers/cloudtrail-synth.ts';
import { runCli } from '../../helpers/cli.ts';
import { tempDir } from '../../helpers/tmp.ts';

const io: Io = { out: () => {}, err: () => {}, interactive: false, env: { AMBER_ACTOR: 'analyst@test' }, cwd: '/' };
const EVENTS = 6000;
let cwd: string;
let locker: string;

beforeAll(async () => {
  cwd = await tempDir();
  locker = join(cwd, 'locker');
  await writeSyntheticCloudTrail({ dir: join(cwd, 'src'), events: EVENTS, files: 3 });
  const run = await runCli(['collect', '--case', 'c', '--from', join(cwd, 'src', 'AWSLogs'), '--locker', locker], { cwd });
  expect(run.code, run.stderr).toBe(0);
}, 120_000);

/** The export as rendered from the whole timeline in one piece. */
async function whole(format: TimelineFormat): Promise<string> {
  const session = await openCaseSession('c', locker, io);
  try {
    return [...renderTimeline(await queryTimeline(session.engine, session.tables.sources), format)].join('');
  } finally {
    await session.close();
  }
}

describe('Command: amber timeline, streamed', () => {
  it.each(['csv', 'jsonl'] as const)('writes every event as %s, byte for byte what the whole timeline renders to, and records the row count', async (format) => {
    const run = await runCli(['timeline', '--case', 'c', '--locker', locker, '--format', format, '--out', `t.${format}`], { cwd });
    expect(run.code, run.stderr).toBe(0);
    const written = await readFile(join(cwd, `t.${format}`), 'utf8');
    expect(written).toBe(await whole(format));
    expect(written.trimEnd().split('\n')).toHaveLength(EVENTS + (format === 'csv' ? 1 : 0));
    expect(run.stderr).toContain(`Wrote ${EVENTS} events (${format})`);
    const ledger = (await readFile(join(locker, 'cases', 'c', 'custody-ledger.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { action: string; detail?: Record<string, unknown> });
    expect(ledger.filter((e) => e.action === 'exported').at(-1)!.detail).toMatchObject({ what: 'timeline', format, rows: EVENTS });
  }, 120_000);
});

describe('Method: DuckDbQueryEngine.stream', () => {
  it('yields every row in order over several chunks, and frees the connection when the reader stops early', async () => {
    const engine = await DuckDbQueryEngine.create();
    try {
      const seen: number[] = [];
      let chunks = 0;
      for await (const rows of engine.stream<{ n: number }>('SELECT n FROM range(CAST(? AS BIGINT)) t(n) ORDER BY n', [5000])) {
        chunks += 1;
        seen.push(...rows.map((r) => r.n));
      }
      expect(chunks).toBeGreaterThan(1);
      expect(seen).toEqual(Array.from({ length: 5000 }, (_, i) => i));
      for await (const rows of engine.stream('SELECT n FROM range(10000) t(n)')) {
        expect(rows.length).toBeGreaterThan(0);
        break;
      }
      expect(await engine.query<{ one: number }>('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await engine.close();
    }
  });
});
