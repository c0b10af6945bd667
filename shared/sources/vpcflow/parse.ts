/**
 * Parses VPC Flow Logs and Transit Gateway Flow Logs in every shape they reach an investigator:
 * - S3-delivered files (`AWSLogs/<acct>/vpcflowlogs/<region>/<yyyy>/<mm>/<dd>/...log.gz`): a header line naming
 *   the fields of the flow log's format, then one space-separated record a line;
 * - headerless lines (a CloudWatch Logs stream's messages saved as text): the layout is the default one whose
 *   number of fields matches (see DEFAULT_FORMATS), since a custom format cannot be known without its header;
 * - CloudWatch Logs export task output (`<ISO-8601 timestamp> <message>` a line);
 * - CloudWatch Logs JSON: `aws logs get-log-events` / `filter-log-events` output (`{"events":[{timestamp,
 *   message}]}`), JSON Lines of events, and subscription-filter payloads (`{"messageType":"DATA_MESSAGE",
 *   "logEvents":[...]}`, one a line or concatenated as Firehose writes them).
 * NODATA and SKIPDATA records are kept (their `log_status` says what they are). `-` is NULL.
 *
 * Positions: for line-oriented text a row's `index` is its 0-based line number (header included, so
 * `line = index + 1` and `sed -n '<line>p'` finds it); for JSON containers it is the 0-based ordinal of the log
 * event in the object. Every line or event that is not a record is reported with its position and reason.
 */
import type { SourceParseResult, SourceProblem, SourceRow } from '../log-source.ts';
import { DEFAULT_FORMATS, FIELD_BY_NAME, formatFromNames, type FlowField, type FlowFormat } from './fields.ts';

/** CloudWatch Logs export task lines: the event's timestamp, one space, the message. */
const EXPORT_PREFIX = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z) /;
const FIELD_NAME = /^[a-z][a-z0-9-]*$/;
const DIGITS = /^\d+$/;
/** Largest `start`/`end` a Date can render: 9999-12-31T23:59:59Z. */
const MAX_EPOCH_SECONDS = 253_402_300_799;

/** Where a message came from, for positions and the fallback time. */
interface Origin {
  readonly index: number;
  readonly line?: number;
  /** The log event's own time (CloudWatch), used when a record has neither start nor end. */
  readonly eventTimeMs?: number;
}

/** True when the tokens are a header line: field names only, at least two of them known. */
export function isHeader(tokens: readonly string[]): boolean {
  if (tokens.length < 2 || !tokens.every((t) => FIELD_NAME.test(t))) return false;
  return tokens.filter((t) => FIELD_BY_NAME.has(t)).length >= Math.max(2, Math.ceil(tokens.length / 2));
}

/** Cheap plausibility of a headerless record under the default format its field count selects. */
export function looksLikeFlowRecord(message: string): boolean {
  const tokens = message.split(' ');
  const format = DEFAULT_FORMATS.get(tokens.length);
  if (!format) return false;
  const value = (name: string): string | undefined => tokens[format.fields.findIndex((f) => f.name === name)];
  for (const [i, f] of format.fields.entries()) {
    if (f.type !== 'VARCHAR' && tokens[i] !== '-' && !DIGITS.test(tokens[i] ?? '')) return false;
  }
  if (!DIGITS.test(value('version') ?? '')) return false;
  if (!/^(OK|NODATA|SKIPDATA|-)$/.test(value('log-status') ?? '')) return false;
  // Account ids are 12 digits; anonymised samples shorten them, which is no reason to refuse the file.
  if (!/^(\d+|unknown|-)$/.test(value('account-id') ?? '')) return false;
  if (format.name === 'transit-gateway') {
    return /^(TransitGateway|TransitGatewayAttachment|-)$/.test(value('resource-type') ?? '') && /^(tgw-|-$)/.test(value('tgw-id') ?? '');
  }
  return /^(ACCEPT|REJECT|-)$/.test(value('action') ?? '') && /^(eni-|-$)/.test(value('interface-id') ?? '');
}

/**
 * True when the first bytes are flow log records (a header line, headerless records, export-task lines, or
 * CloudWatch Logs JSON whose first message is a flow record). Specific: a header needs known field names, a
 * record must fit a default layout with plausible values.
 */
export function sniffVpcFlow(head: string): boolean {
  const start = head.search(/\S/);
  if (start < 0) return false;
  if (head[start] === '{' || head[start] === '[') {
    // The first messages decide (a subscription stream can open with CloudWatch's control message).
    let seen = 0;
    for (const m of head.matchAll(/"message"\s*:\s*"((?:[^"\\]|\\.)*)"/g)) {
      try {
        if (looksLikeFlowRecord(JSON.parse(`"${m[1]}"`) as string)) return true;
      } catch {
        // an escape cut by the end of the head: not evidence either way
      }
      if (++seen >= 20) break;
    }
    return false;
  }
  // The first few complete lines decide, so one damaged line at the top does not hide the file's format.
  const lines = head.slice(start).split('\n');
  const complete = lines.length > 1 ? lines.slice(0, -1) : lines;
  for (const raw of complete.filter((l) => l.trim() !== '').slice(0, 5)) {
    const line = raw.replace(/\r$/, '').replace(EXPORT_PREFIX, '');
    const tokens = line.split(' ');
    if (isHeader(tokens)) return tokens.some((t) => ['srcaddr', 'dstaddr', 'interface-id', 'log-status', 'tgw-id', 'action'].includes(t));
    if (looksLikeFlowRecord(line)) return true;
  }
  return false;
}

/** Accumulates rows, problems and the layouts seen while parsing one object. */
class FlowParser {
  readonly rows: SourceRow[] = [];
  readonly problems: SourceProblem[] = [];
  readonly layouts = new Set<string>();
  private header: FlowFormat | undefined;
  private headerSeen = false;

  constructor(private readonly container: string | undefined) {}

  /** One message: a header line (switches the layout) or a record. */
  message(text: string, at: Origin): void {
    const tokens = text.split(' ');
    if (isHeader(tokens)) {
      this.useHeader(tokens, at);
      return;
    }
    const format = this.header ?? DEFAULT_FORMATS.get(tokens.length);
    if (!format) {
      const counts = [...DEFAULT_FORMATS.entries()].map(([n, f]) => `${f.name}: ${n}`).join(', ');
      this.problem(at, `${tokens.length} space-separated fields and no header line naming them: not one of the default layouts (${counts}); a custom-format flow log can only be read with its header line (S3 delivery writes it; for CloudWatch Logs data, collect the flow log's format with it)`);
      return;
    }
    if (tokens.length !== format.fields.length) {
      this.problem(at, `${tokens.length} fields where the header names ${format.fields.length}`);
      return;
    }
    this.record(tokens, format, at);
  }

  private useHeader(names: readonly string[], at: Origin): void {
    const { format, unknown } = formatFromNames(names);
    const duplicates = names.filter((n, i) => names.indexOf(n) !== i);
    const fields: FlowField[] = format.fields.map((f, i) => (duplicates.includes(f.name) && names.indexOf(f.name) !== i ? { ...f, column: '' } : f));
    this.header = { name: format.name, fields };
    this.headerSeen = true;
    if (unknown.length > 0) {
      this.problem(at, `header names field(s) Amber does not know: ${unknown.join(', ')}; their values are not loaded into columns (the preserved file keeps them), the other fields are`);
    }
    if (duplicates.length > 0) this.problem(at, `header names ${[...new Set(duplicates)].join(', ')} more than once; the first occurrence is loaded`);
  }

  private record(tokens: readonly string[], format: FlowFormat, at: Origin): void {
    const row: Record<string, unknown> = {};
    for (const [i, f] of format.fields.entries()) {
      if (f.column === '') continue;
      const token = tokens[i] as string;
      if (token === '') {
        this.problem(at, `field ${i + 1} (${f.name}) is empty: two spaces in a row`);
        return;
      }
      if (token === '-') {
        row[f.column] = null;
        continue;
      }
      if (f.type === 'VARCHAR') {
        row[f.column] = token;
        continue;
      }
      const n = DIGITS.test(token) ? Number(token) : NaN;
      if (!Number.isSafeInteger(n) || (f.type === 'INTEGER' && n > 2_147_483_647)) {
        this.problem(at, `field ${f.name} is not ${f.type === 'INTEGER' ? 'a 32-bit' : 'an'} unsigned integer: ${JSON.stringify(token.slice(0, 80))}`);
        return;
      }
      row[f.column] = n;
    }
    const seconds = (row.start ?? row.end) as number | null | undefined;
    let time: string | undefined;
    if (typeof seconds === 'number') {
      if (seconds > MAX_EPOCH_SECONDS) {
        this.problem(at, `start/end ${seconds} is not a Unix time in seconds`);
        return;
      }
      time = isoSeconds(seconds * 1000);
    } else if (at.eventTimeMs !== undefined) {
      time = isoSeconds(at.eventTimeMs);
    }
    if (time === undefined) {
      this.problem(at, 'the record has neither start nor end, and no log event time: it cannot be placed in time');
      return;
    }
    row.time = time;
    this.layouts.add(format.name);
    this.rows.push({ index: at.index, ...(at.line === undefined ? {} : { line: at.line }), row });
  }

  problem(at: Origin, reason: string): void {
    this.problems.push({ index: at.index, ...(at.line === undefined ? {} : { line: at.line }), reason });
  }

  /** The rows and problems, with the variant: `<container>/<layouts>`, or the layouts alone for S3-delivered files. */
  result(container: string | undefined = this.container): SourceParseResult {
    const layouts = [...this.layouts].sort().join('+') || 'none';
    const prefix = container ?? (this.headerSeen ? '' : 'no-header');
    return { variant: prefix ? `${prefix}/${layouts}` : layouts, rows: this.rows, problems: this.problems };
  }
}

/** A log event time Date can render (1970 to 9999): anything else is not used as a fallback time. */
function plausibleMs(ms: number): boolean {
  return Number.isFinite(ms) && ms >= 0 && ms <= MAX_EPOCH_SECONDS * 1000;
}

function isoSeconds(ms: number): string {
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}

/** Parses one flow log object (already gunzipped and decoded). Bad lines are reported, never thrown. */
export function parseVpcFlowLogs(text: string, _key: string): SourceParseResult {
  const start = text.search(/\S/);
  if (start >= 0 && (text[start] === '{' || text[start] === '[')) return parseCloudWatchJson(text);
  const lines = text.split('\n');
  const exported = lines.some((l) => EXPORT_PREFIX.test(l));
  const parser = new FlowParser(exported ? 'cloudwatch-export' : undefined);
  for (const [i, raw] of lines.entries()) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') continue;
    const m = EXPORT_PREFIX.exec(line);
    const eventTimeMs = m ? Date.parse(m[1] as string) : NaN;
    const at: Origin = { index: i, line: i + 1, ...(plausibleMs(eventTimeMs) ? { eventTimeMs } : {}) };
    parser.message(m ? line.slice(m[0].length) : line, at);
  }
  return parser.result();
}

/** One top-level JSON value found in a text holding one document, JSON Lines, or concatenated objects. */
interface JsonValue {
  readonly line: number;
  readonly value?: unknown;
  readonly error?: string;
}

/** Splits concatenated JSON values (`{..}{..}`, `{..}\n{..}`, or one document), string- and nesting-aware. */
function splitJson(text: string): JsonValue[] {
  const out: JsonValue[] = [];
  let i = 0;
  let line = 1;
  const advanceLines = (from: number, to: number): void => {
    for (let k = from; k < to; k++) if (text.charCodeAt(k) === 10) line++;
  };
  while (i < text.length) {
    const next = text.slice(i).search(/\S/);
    if (next < 0) break;
    advanceLines(i, i + next);
    i += next;
    const open = text[i];
    if (open !== '{' && open !== '[') {
      const end = text.indexOf('\n', i);
      out.push({ line, error: `expected a JSON object or array, found ${JSON.stringify(text.slice(i, Math.min(i + 40, end < 0 ? text.length : end)))}` });
      if (end < 0) break;
      advanceLines(i, end);
      i = end;
      continue;
    }
    let depth = 0;
    let inString = false;
    let j = i;
    for (; j < text.length; j++) {
      const c = text[j];
      if (inString) {
        if (c === '\\') j++;
        else if (c === '"') inString = false;
        continue;
      }
      if (c === '"') inString = true;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) break;
      }
    }
    if (j >= text.length) {
      out.push({ line, error: 'JSON value is not terminated (truncated file?)' });
      break;
    }
    const slice = text.slice(i, j + 1);
    try {
      out.push({ line, value: JSON.parse(slice) });
    } catch (error) {
      out.push({ line, error: `invalid JSON: ${(error as Error).message}` });
    }
    advanceLines(i, j + 1);
    i = j + 1;
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** CloudWatch Logs JSON: get/filter-log-events output, JSON Lines of events, subscription payloads. */
function parseCloudWatchJson(text: string): SourceParseResult {
  const values = splitJson(text);
  const kinds = new Set<string>();
  const parser = new FlowParser(undefined);
  let ordinal = 0;
  const event = (e: unknown, line: number | undefined): void => {
    const at: Origin = { index: ordinal++, ...(line === undefined ? {} : { line }) };
    if (!isObject(e) || typeof e.message !== 'string') {
      parser.problem(at, 'log event has no string "message"');
      return;
    }
    const ts = typeof e.timestamp === 'number' && plausibleMs(e.timestamp) ? e.timestamp : undefined;
    const message = e.message.endsWith('\n') ? e.message.slice(0, -1) : e.message;
    parser.message(message, { ...at, ...(ts === undefined ? {} : { eventTimeMs: ts }) });
  };
  const top = (v: unknown, line: number, many: boolean): void => {
    // A per-line location is only meaningful when each value sits on its own line(s).
    const where = many ? line : undefined;
    if (Array.isArray(v)) {
      for (const item of v) top(item, line, false);
      return;
    }
    if (isObject(v) && Array.isArray(v.logEvents)) {
      kinds.add('cloudwatch-subscription');
      if (v.messageType === 'CONTROL_MESSAGE') {
        ordinal += v.logEvents.length; // CloudWatch's own reachability check: positions count it, rows do not
        return;
      }
      for (const e of v.logEvents) event(e, where);
      return;
    }
    if (isObject(v) && Array.isArray(v.events)) {
      kinds.add('cloudwatch-events');
      for (const e of v.events) event(e, where);
      return;
    }
    kinds.add(many ? 'cloudwatch-jsonl' : 'cloudwatch-events');
    event(v, where);
  };
  const many = values.length > 1;
  for (const v of values) {
    if (v.error !== undefined) parser.problem({ index: ordinal++, line: v.line }, v.error);
    else top(v.value, v.line, many);
  }
  return parser.result([...kinds].sort().join('+') || 'cloudwatch-json');
}
