/** `amber timeline`: one normalised row per event, as CSV, JSON Lines or Timesketch JSONL. */
import { UsageError } from '../../shared/errors.ts';
import { renderTimeline, streamTimeline, type TimelineFormat, type TimelineRow } from '../../shared/timeline/timeline.ts';
import type { Values } from '../amber.ts';
import { optionalString, requireString } from './args.ts';
import { openCaseSession } from './case-session.ts';
import { signerFrom } from './context.ts';
import { writeExport } from './export.ts';
import { t, type Io } from './io.ts';
import { checkWindow, parseInstant, parseIp, parseText, type TimelineFilter } from '../../shared/timeline/filters.ts';

const USAGE = 'amber timeline --case C --format csv|jsonl|timesketch [--identity ID] [--ip ADDR ...] [--actor TEXT ...] [--action NAME ...] [--since T] [--until T] [--out FILE] [--signing-key FILE] [--locker DIR]';

/** The values of a repeatable flag. */
function many(values: Values, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

/** The --ip/--actor/--action/--since/--until filter, every value checked before the case is opened. */
export function timelineFilterFrom(values: Values): TimelineFilter {
  const since = optionalString(values, 'since');
  const until = optionalString(values, 'until');
  const filter: TimelineFilter = {
    ips: many(values, 'ip').map(parseIp),
    actors: many(values, 'actor').map((a) => parseText('actor', a)),
    actions: many(values, 'action').map((a) => parseText('action', a)),
    ...(since === undefined ? {} : { since: parseInstant('since', since) }),
    ...(until === undefined ? {} : { until: parseInstant('until', until) }),
  };
  checkWindow(filter.since, filter.until);
  return filter;
}

/** The filter as the ledger records it (only what was given). */
function filterDetail(f: TimelineFilter): Record<string, unknown> {
  return {
    ...(f.ips?.length ? { ips: f.ips } : {}),
    ...(f.actors?.length ? { actors: f.actors } : {}),
    ...(f.actions?.length ? { actions: f.actions } : {}),
    ...(f.since ? { since: f.since.toISOString() } : {}),
    ...(f.until ? { until: f.until.toISOString() } : {}),
  };
}
const FORMATS: readonly TimelineFormat[] = ['csv', 'jsonl', 'timesketch'];

/** Runs `amber timeline`. */
export async function runTimeline(values: Values, _positionals: string[], io: Io): Promise<number> {
  const caseName = requireString(values, 'case', USAGE);
  const format = (optionalString(values, 'format') ?? 'csv') as TimelineFormat;
  if (!FORMATS.includes(format)) throw new UsageError(`unknown --format ${JSON.stringify(format)}`, { hint: `use one of ${FORMATS.join(', ')}` });
  const out = optionalString(values, 'out');
  const filter = timelineFilterFrom(values);
  const session = await openCaseSession(caseName, optionalString(values, 'locker'), io, {}, await signerFrom(optionalString(values, 'signing-key'), io));
  try {
    const identity = optionalString(values, 'identity');
    // Rows come from DuckDB a chunk at a time and leave as text at once: memory stays flat whatever the event count.
    // The ledger's detail is read after the last chunk, so its row count is the number written.
    const detail = { what: 'timeline', format, rows: 0, ...(identity ? { identity } : {}), ...filterDetail(filter) };
    async function* text(chunks: AsyncIterable<TimelineRow[]>): AsyncGenerator<string> {
      if (format === 'csv') yield [...renderTimeline([], format)].join('');
      for await (const rows of chunks) {
        detail.rows += rows.length;
        yield [...renderTimeline(rows, format, false)].join('');
      }
    }
    const written = await writeExport(session, io, text(streamTimeline(session.engine, session.tables.sources, identity, filter)), out, detail);
    if (written.path) io.err(`Wrote ${detail.rows} events (${format}) to ${t(written.path)}, sha256 ${written.sha256}\n`);
    return 0;
  } finally {
    await session.close();
  }
}
