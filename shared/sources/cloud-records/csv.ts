/**
 * RFC 4180 CSV, as PowerShell's Export-Csv and the Microsoft Purview portal write audit exports: fields in double
 * quotes may hold commas, line breaks and doubled quotes (`""`); CRLF or LF line ends; an optional byte-order mark;
 * PowerShell 5's `#TYPE ...` line before the header. A record can span several physical lines, so each keeps the
 * line it starts on.
 */

/** One data record: its cells by header position and the 1-based physical line it starts on. */
export interface CsvRecord {
  /** 0-based position among the data records (header and blank lines excluded). */
  readonly ordinal: number;
  readonly line: number;
  readonly cells: readonly string[];
}

/** A record the reader could not split, with the line it starts on. */
export interface CsvProblem {
  readonly ordinal: number;
  readonly line: number;
  readonly reason: string;
}

export interface CsvRead {
  readonly header: readonly string[];
  /** Line of the header. */
  readonly headerLine: number;
  readonly records: readonly CsvRecord[];
  readonly problems: readonly CsvProblem[];
}

/** Splits CSV text into records (cells exactly as written, quotes removed, `""` unescaped). */
export function readCsv(text: string): CsvRead {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const rows: Array<{ line: number; cells: string[]; unterminated?: boolean }> = [];
  let i = 0;
  let line = 1;
  const n = body.length;
  while (i < n) {
    const rowLine = line;
    const cells: string[] = [];
    let cell = '';
    let quoted = false;
    let unterminated = false;
    let atCellStart = true;
    for (;;) {
      if (i >= n) {
        if (quoted) unterminated = true;
        cells.push(cell);
        break;
      }
      const ch = body[i] as string;
      if (quoted) {
        if (ch === '"') {
          if (body[i + 1] === '"') {
            cell += '"';
            i += 2;
            continue;
          }
          quoted = false;
          i += 1;
          continue;
        }
        if (ch === '\n') line += 1;
        cell += ch;
        i += 1;
        continue;
      }
      if (ch === '"' && atCellStart) {
        quoted = true;
        atCellStart = false;
        i += 1;
        continue;
      }
      if (ch === ',') {
        cells.push(cell);
        cell = '';
        atCellStart = true;
        i += 1;
        continue;
      }
      if (ch === '\r' && body[i + 1] === '\n') {
        i += 1;
        continue;
      }
      if (ch === '\n') {
        cells.push(cell);
        i += 1;
        line += 1;
        break;
      }
      // A quote inside an unquoted cell, or text after a closing quote: RFC 4180 forbids both; Excel and
      // PowerShell read them literally, and so does Amber.
      cell += ch;
      atCellStart = false;
      i += 1;
    }
    rows.push(unterminated ? { line: rowLine, cells, unterminated } : { line: rowLine, cells });
  }
  // Blank lines hold no record; PowerShell 5 writes a `#TYPE` line before the header.
  const content = rows.filter((r) => !(r.cells.length === 1 && r.cells[0] === ''));
  let h = 0;
  while (h < content.length && content[h]!.cells.length === 1 && content[h]!.cells[0]!.startsWith('#TYPE')) h += 1;
  const headerRow = content[h];
  if (headerRow === undefined) return { header: [], headerLine: 0, records: [], problems: [] };
  const records: CsvRecord[] = [];
  const problems: CsvProblem[] = [];
  for (const [ordinal, r] of content.slice(h + 1).entries()) {
    if (r.unterminated) {
      problems.push({ ordinal, line: r.line, reason: 'has a quoted field that is never closed (the file ends inside it); the record was not read' });
    } else if (r.cells.length !== headerRow.cells.length) {
      problems.push({ ordinal, line: r.line, reason: `has ${r.cells.length} fields where the header has ${headerRow.cells.length}; the record was not read` });
    } else {
      records.push({ ordinal, line: r.line, cells: r.cells });
    }
  }
  return { header: headerRow.cells, headerLine: headerRow.line, records, problems };
}
