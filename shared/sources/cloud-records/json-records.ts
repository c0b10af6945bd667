/**
 * Splits a JSON evidence object into its records, whatever container the export used, keeping each record's
 * position so a finding can point back to it. Shared by the Azure, Entra ID, Microsoft 365 and Google Cloud sources.
 *
 * | container       | what it is                                                      | index                                  |
 * |-----------------|-----------------------------------------------------------------|----------------------------------------|
 * | `.records`      | diagnostic-settings blob / Event Hubs batch `{"records":[...]}` | position in `records`                  |
 * | `.value`        | Azure REST / Microsoft Graph page `{"value":[...]}`              | position in `value`                    |
 * | `array`         | a JSON array (Management Activity API content, gcloud, exports) | position in the array                  |
 * | `jsonl`         | JSON Lines, one record a line                                   | 0-based physical line (blank lines count) |
 * | `jsonl-batches` | JSON Lines whose lines hold `{"records":[...]}` batches         | ordinal of the record in the file      |
 * | `single`        | one JSON object that is itself the record                       | 0                                      |
 *
 * Nothing is dropped quietly: a line that is not JSON, or damage inside a container (a truncated download), is
 * a problem with its position, and every complete record before the damage is still returned.
 */
import { findJsonSyntaxError, lineAndColumn, scanArray, scanObject, skipWhitespace } from '../cloudtrail/json-scan.ts';
import type { SourceProblem } from '../log-source.ts';
import { isObject, type JsonObject } from './fields.ts';

/** One record found in the object, before any source-specific reading. */
export interface JsonEntry {
  readonly index: number;
  /** 1-based line, for JSON Lines. */
  readonly line?: number;
  /** Where the record sits, for messages: `.records[3]`, `[0]`, `line 7`. */
  readonly locator: string;
  readonly value: unknown;
}

export type JsonContainer = 'array' | 'jsonl' | 'jsonl-batches' | 'single' | 'empty' | 'not-json' | `.${string}`;

export interface JsonRead {
  readonly container: JsonContainer;
  readonly entries: readonly JsonEntry[];
  readonly problems: readonly SourceProblem[];
  /** The enclosing document when records sit under a key (for `@odata.context` and the like). */
  readonly wrapper?: JsonObject;
}

export interface JsonReadOptions {
  /** Keys whose array holds the records when the document is an object, in order of preference. */
  readonly containers: readonly string[];
}

const BOM = 0xfeff;

/** Splits `text` into records; see the table at the top of this file. */
export function readJsonRecords(text: string, options: JsonReadOptions): JsonRead {
  const body = text.charCodeAt(0) === BOM ? ` ${text.slice(1)}` : text; // keeps offsets and lines unchanged
  const start = skipWhitespace(body, 0);
  if (start >= body.length) return { container: 'empty', entries: [], problems: [] };
  const c = body[start];
  if (c !== '{' && c !== '[') {
    return { container: 'not-json', entries: [], problems: [{ reason: `not JSON: the content starts with ${JSON.stringify(body.slice(start, start + 20))}` }] };
  }
  let doc: unknown;
  let whole = true;
  try {
    doc = JSON.parse(body);
  } catch {
    whole = false;
  }
  if (whole) return fromDocument(doc, options);
  if (c === '{' && looksLikeJsonLines(body, start)) return fromJsonLines(body, options);
  return salvage(body, start, options);
}

function containerKey(doc: JsonObject, options: JsonReadOptions): string | undefined {
  return options.containers.find((k) => Array.isArray(doc[k]));
}

function fromDocument(doc: unknown, options: JsonReadOptions): JsonRead {
  if (Array.isArray(doc)) {
    return { container: 'array', entries: doc.map((value, index) => ({ index, locator: `[${index}]`, value })), problems: [] };
  }
  const obj = doc as JsonObject;
  const key = containerKey(obj, options);
  if (key === undefined) return { container: 'single', entries: [{ index: 0, locator: '.', value: obj }], problems: [] };
  const records = obj[key] as unknown[];
  return {
    container: `.${key}`,
    entries: records.map((value, index) => ({ index, locator: `.${key}[${index}]`, value })),
    problems: [],
    wrapper: obj,
  };
}

/** JSON Lines when the first non-blank line is a whole object on its own; a pretty-printed document's is not. */
function looksLikeJsonLines(text: string, start: number): boolean {
  const nl = text.indexOf('\n', start);
  if (nl === -1) return false;
  const firstLine = text.slice(start, nl).trim();
  return firstLine.startsWith('{') && firstLine.endsWith('}');
}

function fromJsonLines(text: string, options: JsonReadOptions): JsonRead {
  type Parsed = { line: number; value?: unknown; error?: string; batch?: { key: string; records: unknown[] } };
  const parsed: Parsed[] = [];
  let lineStart = 0;
  let lineIndex = 0;
  while (lineStart <= text.length) {
    let nl = text.indexOf('\n', lineStart);
    if (nl === -1) nl = text.length;
    const raw = text.slice(lineStart, nl);
    if (raw.trim() !== '') {
      try {
        const value = JSON.parse(raw) as unknown;
        const key = isObject(value) ? containerKey(value, options) : undefined;
        parsed.push(key === undefined ? { line: lineIndex, value } : { line: lineIndex, batch: { key, records: (value as JsonObject)[key] as unknown[] } });
      } catch (error) {
        const problem = findJsonSyntaxError(raw);
        const detail = problem === undefined ? (error as Error).message : `${problem.message} at column ${problem.position + 1}`;
        parsed.push({ line: lineIndex, error: `is not valid JSON: ${detail}` });
      }
    }
    lineStart = nl + 1;
    lineIndex += 1;
  }
  const batches = parsed.some((p) => p.batch !== undefined);
  const entries: JsonEntry[] = [];
  const problems: SourceProblem[] = [];
  let ordinal = 0;
  for (const p of parsed) {
    const line = p.line + 1;
    if (p.error !== undefined) {
      const index = batches ? ordinal++ : p.line;
      problems.push({ index, line, reason: p.error });
    } else if (p.batch !== undefined) {
      p.batch.records.forEach((value, i) => entries.push({ index: ordinal++, line, locator: `line ${line} .${p.batch!.key}[${i}]`, value }));
    } else {
      entries.push({ index: batches ? ordinal++ : p.line, line, locator: `line ${line}`, value: p.value });
    }
  }
  return { container: batches ? 'jsonl-batches' : 'jsonl', entries, problems };
}

/**
 * A document that does not parse: the complete elements of its record array before the damage are kept (elements
 * after it are not trusted, their boundaries may be wrong), and the damage is reported with its line and column.
 */
function salvage(text: string, start: number, options: JsonReadOptions): JsonRead {
  const damage = findJsonSyntaxError(text);
  const damageAt = damage?.position ?? text.length;
  const where = lineAndColumn(text, damageAt);
  const what = damage?.message ?? 'the JSON ends before it is complete';
  let open: number | undefined;
  let container: JsonContainer = 'array';
  if (text[start] === '[') {
    open = start;
  } else {
    const scan = scanObject(text, start);
    const key = options.containers.find((k) => scan.arrayStarts.has(k));
    if (key !== undefined) {
      open = scan.arrayStarts.get(key);
      container = `.${key}`;
    }
  }
  if (open === undefined || open >= damageAt) {
    return {
      container: 'single',
      entries: [],
      problems: [{ index: 0, line: where.line, reason: `the JSON is damaged at line ${where.line} column ${where.column} (${what}); no record could be read before it` }],
    };
  }
  const prefix = container === 'array' ? '' : container;
  const scan = scanArray(text, open);
  const entries: JsonEntry[] = [];
  let damagedIndex: number = scan.elements.length;
  for (const [index, { start: s, end }] of scan.elements.entries()) {
    if (end > damageAt) {
      damagedIndex = index;
      break;
    }
    try {
      entries.push({ index, locator: `${prefix}[${index}]`, value: JSON.parse(text.slice(s, end)) as unknown });
    } catch {
      damagedIndex = index;
      break;
    }
  }
  return {
    container,
    entries,
    problems: [{
      index: damagedIndex,
      line: where.line,
      reason: `the JSON is damaged at line ${where.line} column ${where.column} (${what}) in ${prefix}[${damagedIndex}]; the ${entries.length} complete record(s) before it were kept, anything after it could not be read`,
    }],
  };
}
