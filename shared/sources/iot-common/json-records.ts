/**
 * Splits a JSON evidence object into records, whatever container it uses, keeping each record's position
 * (for the finding's evidence_record) and its exact text (for the table's whole-entry column). Shared by the
 * IoT sources. Nothing is dropped quietly: a line that is not JSON, or damage inside a container (a
 * truncated download), is a problem with its line, and every complete record before the damage is kept.
 *
 * | shape          | what it is                                                         | record index               |
 * |----------------|--------------------------------------------------------------------|----------------------------|
 * | `jsonl`        | one JSON value a line (blank lines allowed)                        | 0-based physical line      |
 * | `array`        | one JSON array                                                     | position in the array      |
 * | `single`       | one JSON value, pretty-printed over several lines                  | 0                          |
 * | `concatenated` | JSON values back to back (`{...}{...}`, as Firehose writes them)   | position in the sequence   |
 */
import { findJsonSyntaxError, lineAndColumn, scanArray, skipValue, skipWhitespace } from '../cloudtrail/json-scan.ts';
import type { SourceProblem } from '../log-source.ts';

export type JsonShape = 'jsonl' | 'array' | 'single' | 'concatenated' | 'empty';

/** One JSON record of the object. */
export interface JsonRecord {
  readonly index: number;
  /** 1-based line where the record starts. */
  readonly line: number;
  /** Where the record sits, for messages: `line 7`, `[3]`. */
  readonly locator: string;
  /** The record's text exactly as in the object (without the line break, and without a stripped prefix). */
  readonly text: string;
  readonly value: unknown;
  /** The prefix stripped from the line by `linePrefix`, when there was one. */
  readonly prefix?: string;
}

export interface JsonRead {
  readonly shape: JsonShape;
  readonly records: readonly JsonRecord[];
  readonly problems: readonly SourceProblem[];
}

export interface JsonReadOptions {
  /**
   * A prefix some lines carry before their JSON (CloudWatch Logs exports write `<ISO time> <message>`); it is
   * stripped and returned in `prefix`. Must match at the start of the line and include its separator.
   */
  readonly linePrefix?: RegExp;
}

const BOM = 0xfeff;

/** Splits `text` into JSON records; see the table at the top of this file. */
export function readJsonRecords(text: string, options: JsonReadOptions = {}): JsonRead {
  const body = text.charCodeAt(0) === BOM ? ` ${text.slice(1)}` : text; // keeps offsets and lines unchanged
  const start = skipWhitespace(body, 0);
  if (start >= body.length) return { shape: 'empty', records: [], problems: [] };
  if (body[start] === '[') return readArray(body, start);
  if (body[start] === '{') {
    const first = skipValue(body, start);
    if ('end' in first) {
      // A first value that spans lines is a pretty-printed document (or several back to back); values that
      // follow one another on the first line are a sequence (Firehose writes `{...}{...}` without breaks).
      // Anything else is read line by line, so one broken line costs one record, not the file.
      const next = skipWhitespace(body, first.end);
      const nl = body.indexOf('\n', first.end);
      const multiline = body.slice(start, first.end).includes('\n');
      if ((multiline && parses(body.slice(start, first.end))) || (next < body.length && (nl === -1 || next < nl))) return readSequence(body, start);
    }
  }
  return readLines(body, options);
}

function parses(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

function readLines(body: string, options: JsonReadOptions): JsonRead {
  const records: JsonRecord[] = [];
  const problems: SourceProblem[] = [];
  let offset = 0;
  let index = 0;
  while (offset <= body.length) {
    const nl = body.indexOf('\n', offset);
    const end = nl === -1 ? body.length : nl;
    let line = body.slice(offset, end);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const lineNo = index + 1;
    if (line.trim() !== '') {
      let prefix: string | undefined;
      let json = line;
      const m = options.linePrefix?.exec(line);
      if (m && m.index === 0) {
        prefix = m[0];
        json = line.slice(m[0].length);
      }
      try {
        const value: unknown = JSON.parse(json);
        records.push({ index, line: lineNo, locator: `line ${lineNo}`, text: json, value, ...(prefix === undefined ? {} : { prefix }) });
      } catch {
        problems.push({ index, line: lineNo, reason: describeBadJson(json) });
      }
    }
    if (nl === -1) break;
    offset = nl + 1;
    index += 1;
  }
  return { shape: 'jsonl', records, problems };
}

function readArray(body: string, open: number): JsonRead {
  const records: JsonRecord[] = [];
  const problems: SourceProblem[] = [];
  const scan = scanArray(body, open);
  scan.elements.forEach((el, i) => {
    const text = body.slice(el.start, el.end);
    const line = lineAndColumn(body, el.start).line;
    try {
      records.push({ index: i, line, locator: `[${i}]`, text, value: JSON.parse(text) as unknown });
    } catch {
      problems.push({ index: i, line, reason: `[${i}]: ${describeBadJson(text)}` });
    }
  });
  if (scan.stop !== 'closed') {
    const at = lineAndColumn(body, scan.stopAt);
    const what = scan.stop === 'incomplete' ? 'the JSON array is truncated' : 'the JSON array is malformed';
    problems.push({ index: scan.elements.length, line: at.line, reason: `${what} at line ${at.line} column ${at.column}; the ${scan.elements.length} complete record(s) before it are kept` });
  } else {
    const after = skipWhitespace(body, scan.stopAt + 1);
    if (after < body.length) {
      const at = lineAndColumn(body, after);
      problems.push({ line: at.line, reason: `unexpected content after the JSON array at line ${at.line} column ${at.column}: ${JSON.stringify(body.slice(after, after + 20))}` });
    }
  }
  return { shape: 'array', records, problems };
}

function readSequence(body: string, start: number): JsonRead {
  const records: JsonRecord[] = [];
  const problems: SourceProblem[] = [];
  let i = start;
  while (i < body.length) {
    const v = skipValue(body, i);
    const at = lineAndColumn(body, i);
    if (!('end' in v)) {
      const what = 'incomplete' in v ? 'truncated' : `malformed (${v.malformed})`;
      problems.push({ index: records.length, line: at.line, reason: `JSON value ${records.length} starting at line ${at.line} column ${at.column} is ${what}; the ${records.length} complete value(s) before it are kept` });
      break;
    }
    const text = body.slice(i, v.end);
    try {
      records.push({ index: records.length, line: at.line, locator: `value ${records.length} (line ${at.line})`, text, value: JSON.parse(text) as unknown });
    } catch {
      problems.push({ index: records.length, line: at.line, reason: `JSON value ${records.length} at line ${at.line}: ${describeBadJson(text)}` });
      break;
    }
    i = skipWhitespace(body, v.end);
  }
  return { shape: records.length + problems.length > 1 ? 'concatenated' : 'single', records, problems };
}

/** Why a text is not JSON, with the column where it stops being JSON. */
export function describeBadJson(text: string): string {
  const bad = findJsonSyntaxError(text);
  if (!bad) return 'not JSON';
  const column = lineAndColumn(text, bad.position).column;
  return `not JSON at column ${column}: ${bad.message}`;
}

/** Problems in file order (by line, then record), as an analyst reads them. */
export function inFileOrder(problems: readonly SourceProblem[]): SourceProblem[] {
  return [...problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.index ?? 0) - (b.index ?? 0));
}

/**
 * `<where>: <reason>` for a problem, where the position within the record's line is worth saying
 * (`.events[2]`, `[3]`); the line itself is reported beside the problem, so a bare `line N` is left out.
 */
export function located(locator: string, reason: string): string {
  const inner = locator.replace(/^line \d+\s*/, '');
  return inner === '' ? reason : `${inner}: ${reason}`;
}
