/** `amber query`: one read-only Athena-dialect SELECT over a case's verified tables. */
import { UsageError } from '../../shared/errors.ts';
import { createHash } from 'node:crypto';
import { CLOUDTRAIL_COLUMNS } from '../../shared/query/tables/cloudtrail.ts';
import { LOG_SOURCES } from '../../shared/sources/registry.ts';
import { TIMELINE_COLUMNS } from '../../shared/timeline/timeline.ts';
import { cellJson, cellText, checkReadOnly } from '../../shared/query/read-only.ts';
import { csvCell } from '../../shared/text/escape.ts';
import { counted } from '../../shared/text/plural.ts';
import type { QueryRow } from '../../shared/ports/query-engine.ts';
import type { Values } from '../amber.ts';
import { optionalString, requireString } from './args.ts';
import { openCaseSession, timelineTable } from './case-session.ts';
import { signerFrom } from './context.ts';
import { t, terminalSafe, type Io } from './io.ts';

export const QUERY_USAGE = 'amber query --case C "SELECT ..." [--format table|csv|json] [--locker DIR]';
const FORMATS = ['table', 'csv', 'json'] as const;
type Format = (typeof FORMATS)[number];

/** Most characters a table cell shows (csv and json keep every character). */
const TABLE_CELL = 60;

/** The tables a query can read and their columns, for `amber query --help`. */
export function queryTablesHelp(): string {
  const wrap = (names: readonly string[]): string => {
    const lines: string[] = [];
    let line = '';
    for (const n of names) {
      if (line && line.length + n.length + 2 > 96) {
        lines.push(line);
        line = '';
      }
      line += line ? `, ${n}` : n;
    }
    if (line) lines.push(line);
    return lines.map((l) => `      ${l}`).join(',\n');
  };
  const tables: Array<[string, string, readonly string[]]> = [
    ['cloudtrail', 'AWS CloudTrail, as the AWS-documented Athena table', CLOUDTRAIL_COLUMNS.map((c) => c.name)],
    ...LOG_SOURCES.map((s): [string, string, readonly string[]] => [s.table, s.title, [...s.columns.map((c) => c.name), 'evidence_key', 'evidence_record']]),
    ['timeline', 'every event of every source, normalised (what amber timeline exports)', TIMELINE_COLUMNS],
  ];
  const seen = new Set<string>();
  const out: string[] = [];
  for (const [name, title, columns] of tables) {
    if (seen.has(name)) continue;
    seen.add(name);
    out.push(`  ${name}: ${title}\n${wrap(columns)}`);
  }
  return `Tables (a table the case holds no events for does not exist in it):\n${out.join('\n')}`;
}

/** Runs `amber query`. */
export async function runQuery(values: Values, positionals: string[], io: Io): Promise<number> {
  const caseName = requireString(values, 'case', QUERY_USAGE);
  const format = (optionalString(values, 'format') ?? 'table') as Format;
  if (!FORMATS.includes(format)) throw new UsageError(`unknown --format ${JSON.stringify(format)}`, { hint: `use one of ${FORMATS.join(', ')}` });
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length === 0 ? 'no query given' : `${positionals.length} queries given; amber query runs one`, {
      hint: `put the SELECT in one quoted argument: ${QUERY_USAGE}`,
    });
  }
  const sql = positionals[0]!;
  const querySha256 = createHash('sha256').update(sql).digest('hex');
  // Opening the session verifies every object the tables read (exit 3 on a mismatch) before any query.
  const session = await openCaseSession(caseName, optionalString(values, 'locker'), io, {}, await signerFrom(optionalString(values, 'signing-key'), io));
  try {
    await timelineTable(session);
    // Locked before the user's statement is even prepared: only the verified copies the views read stay readable.
    await session.engine.lockDown(await session.engine.viewFiles());
    const columns = await checkReadOnly(session.engine, sql);
    const output = createHash('sha256');
    let rows = 0;
    const emit = (text: string): void => {
      const safe = terminalSafe(text);
      output.update(safe);
      io.out(safe);
    };
    const table: string[][] = [];
    if (format === 'csv') emit(`${columns.map(csvCell).join(',')}\n`);
    if (format === 'json') emit('[');
    for await (const chunk of session.engine.stream<QueryRow>(sql)) {
      for (const row of chunk) {
        // Values by position: two columns may share a name (SELECT a.x, b.x).
        const cells = Object.values(row);
        if (format === 'csv') emit(`${cells.map((v) => csvCell(v instanceof Uint8Array ? cellText(v) : v)).join(',')}\n`);
        else if (format === 'json') emit(`${rows === 0 ? '\n' : ',\n'}  ${JSON.stringify(Object.fromEntries(columns.map((c, i) => [c, cellJson(cells[i])])))}`);
        else table.push(cells.map((v) => clipCell(t(cellText(v)))));
        rows++;
      }
    }
    if (format === 'json') emit(rows === 0 ? ']\n' : '\n]\n');
    if (format === 'table') emit(renderTable(columns.map((c) => clipCell(t(c))), table, rows));
    await session.ledger.append('accessed', session.actor, new Date(), {
      detail: { purpose: 'query', querySha256, query: sql.length > 2000 ? `${sql.slice(0, 2000)}…` : sql, rows, format, outputSha256: output.digest('hex') },
    });
    return 0;
  } finally {
    await session.close();
  }
}

function clipCell(text: string): string {
  return text.length > TABLE_CELL ? `${text.slice(0, TABLE_CELL - 1)}…` : text;
}

/** Columns padded to their widest cell, a rule under the header, and the row count. */
function renderTable(header: readonly string[], rows: readonly string[][], count: number): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line), `(${counted(count, 'row')})`, ''].join('\n');
}
