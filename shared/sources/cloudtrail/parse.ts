/**
 * CloudTrail ingestion: recognise every common shape CloudTrail events arrive in, gzip-compressed or
 * not, and turn each into records that keep their position in the evidence object.
 *
 * Shapes (`CloudTrailShape`) and what `index` means in each, so an analyst can find the record again:
 *
 * | shape           | what it is                                                          | index                         | locator            |
 * |-----------------|---------------------------------------------------------------------|-------------------------------|--------------------|
 * | `records`       | S3-delivered log file `{"Records":[...]}` (also Insights, console download) | position in `Records`   | `.Records[i]`      |
 * | `array`         | a JSON array of records (TrailDiscover, SIEM exports)               | position in the array         | `.[i]`             |
 * | `single`        | one pretty-printed record                                           | 0                             | `.`                |
 * | `jsonl`         | JSON Lines, one record a line (Logstash/Firehose/SIEM exports; `@timestamp` fallback) | 0-based physical line number (blank lines count, hold no record) | `line i+1` |
 * | `lookup-events` | `aws cloudtrail lookup-events` output `{"Events":[{"CloudTrailEvent":"..."}]}` or its bare `Events` array | position in `Events` | `.Events[i]` |
 * | `lake`          | CloudTrail Lake `get-query-results` output `{"QueryResultRows":[[{col:val}...]]}` or its bare rows array | row position | `.QueryResultRows[i]` |
 * | `digest`        | a log file integrity digest (no records; see digest.ts)             | —                             | —                  |
 *
 * Evidence is sacred, so nothing is dropped quietly: a record that cannot be used goes to `rejected`
 * with its index and the reason; damage to the file as a whole (truncated gzip, malformed JSON) goes to
 * `errors` as a ParseError naming the file and position, and the complete records before the damage are
 * still returned. Content that is not CloudTrail at all raises UnsupportedFormatError.
 */
import { ParseError, UnsupportedFormatError } from '../../errors.ts';
import {
  DEFAULT_MAX_INFLATED_BYTES,
  decodeUtf8,
  firstInvalidUtf8,
  inflateGzip,
  inflateHead,
  isGzip,
  toUtf8Bytes,
} from './bytes.ts';
import { parseCloudTrailDigestContent, type ParsedCloudTrailDigest } from './digest.ts';
import { findJsonSyntaxError, lineAndColumn, scanArray, scanObject, skipWhitespace } from './json-scan.ts';

/** The shapes CloudTrail events arrive in; see the table at the top of this file. */
export type CloudTrailShape = 'records' | 'array' | 'single' | 'jsonl' | 'lookup-events' | 'lake' | 'digest';

/** `userIdentity` as CloudTrail documents it; every field optional because event types differ. */
export interface CloudTrailUserIdentity {
  type?: string;
  principalId?: string;
  arn?: string;
  accountId?: string;
  accessKeyId?: string;
  userName?: string;
  invokedBy?: string;
  identityProvider?: string;
  credentialId?: string;
  onBehalfOf?: { userId?: string; identityStoreArn?: string; [key: string]: unknown };
  sessionContext?: {
    sessionIssuer?: { type?: string; principalId?: string; arn?: string; accountId?: string; userName?: string; [key: string]: unknown };
    webIdFederationData?: { federatedProvider?: string; attributes?: Record<string, unknown>; [key: string]: unknown };
    attributes?: { creationDate?: string; mfaAuthenticated?: string; [key: string]: unknown };
    sourceIdentity?: string;
    ec2RoleDelivery?: string;
    assumedRoot?: string;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/**
 * One CloudTrail event as CloudTrail documents it (record contents reference). Loosely typed on purpose:
 * fields vary by event version and type, and unknown fields must survive untouched.
 */
export interface CloudTrailRecord {
  eventVersion?: string;
  eventTime?: string;
  eventSource?: string;
  eventName?: string;
  awsRegion?: string;
  sourceIPAddress?: string;
  userAgent?: string;
  userIdentity?: CloudTrailUserIdentity;
  requestParameters?: Record<string, unknown> | null;
  responseElements?: Record<string, unknown> | null;
  additionalEventData?: Record<string, unknown>;
  errorCode?: string;
  errorMessage?: string;
  requestID?: string;
  eventID?: string;
  readOnly?: boolean;
  resources?: Array<{ ARN?: string; accountId?: string; type?: string; [key: string]: unknown }>;
  eventType?: string;
  apiVersion?: string;
  managementEvent?: boolean;
  recipientAccountId?: string;
  sharedEventID?: string;
  vpcEndpointId?: string;
  vpcEndpointAccountId?: string;
  eventCategory?: string;
  tlsDetails?: { tlsVersion?: string; cipherSuite?: string; clientProvidedHostHeader?: string; [key: string]: unknown };
  sessionCredentialFromConsole?: string;
  serviceEventDetails?: Record<string, unknown>;
  insightDetails?: Record<string, unknown>;
  edgeDeviceDetails?: Record<string, unknown>;
  addendum?: Record<string, unknown>;
  /** Present only when Amber derived a field; see `AmberRecordMarker`. */
  __amber?: AmberRecordMarker;
  [key: string]: unknown;
}

/** How Amber derived `eventTime`, and the value it came from. */
export interface DerivedEventTime {
  /** `@timestamp`: the record had no eventTime (Logstash-shipped); `eventTime`: reformatted from Lake's `YYYY-MM-DD HH:MM:SS.fff`. */
  readonly from: '@timestamp' | 'eventTime';
  /** The value exactly as it was in the record. */
  readonly original: string;
}

/** The trace Amber leaves inside a record it changed, so the derived copy never hides the change. */
export interface AmberRecordMarker {
  readonly eventTime: DerivedEventTime;
}

/** A record accepted from the evidence object. */
export interface ParsedCloudTrailRecord {
  /** 0-based position within the evidence object (see the shape table). */
  readonly index: number;
  /** 1-based line, for JSON Lines. */
  readonly line?: number;
  readonly record: CloudTrailRecord;
  /** Set when Amber derived `eventTime`; the same trace is in `record.__amber`. */
  readonly derived?: AmberRecordMarker;
}

/** A record that was found but could not be used, and why. */
export interface RejectedCloudTrailRecord {
  readonly index: number;
  readonly line?: number;
  /** Where to find it: a jq path (`.Records[12]`) or `line 13`. */
  readonly locator: string;
  readonly reason: string;
  /** The same, as an error naming the file and record, ready to log or report. */
  readonly error: ParseError;
}

/** Everything parsing one evidence object produced. */
export interface CloudTrailParseResult {
  /** The name the caller gave (evidence key or path); every message names it. */
  readonly file: string;
  /** Undefined only when damage left nothing to recognise (see `errors`). */
  readonly shape: CloudTrailShape | undefined;
  readonly gzip: boolean;
  /** jq path of the array holding the records (`.Records`, `.Events`, `.QueryResultRows`, `.`); undefined for jsonl/single. */
  readonly container?: string;
  readonly records: ParsedCloudTrailRecord[];
  readonly rejected: RejectedCloudTrailRecord[];
  /** Damage to the object as a whole; records before the damage are still in `records`. */
  readonly errors: ParseError[];
  /** Things worth knowing that lose nothing (UTF-16 transcoded, Lake query not FINISHED). */
  readonly warnings: string[];
  /** The parsed digest, for the `digest` shape. */
  readonly digest?: ParsedCloudTrailDigest;
}

/** Limits that keep hostile input from exhausting memory; each error says which limit to raise. */
export interface CloudTrailParseOptions {
  /**
   * Longest JSON line accepted, in bytes; longer lines are rejected, not read.
   * @default 1 MiB (CloudTrail caps events at 256 KB for most destinations, so a longer line is suspect)
   */
  readonly maxRecordBytes?: number;
  /** Largest inflated size of a gzip object. @default 1 GiB */
  readonly maxInflatedBytes?: number;
  /** Largest whole-document (non-JSONL) object parsed in one piece; V8 strings stop near 512 MiB. @default 512 MiB */
  readonly maxDocumentBytes?: number;
}

/** Result of sniffing: the shape, whether gzip, and when unrecognised, why. */
export interface CloudTrailSniff {
  readonly shape: CloudTrailShape | undefined;
  readonly gzip: boolean;
  readonly reason?: string;
}

const MIB = 1024 * 1024;
const DEFAULT_MAX_RECORD_BYTES = MIB;
const DEFAULT_MAX_DOCUMENT_BYTES = 512 * MIB - 64;
const SNIFF_BYTES = 64 * 1024;
const SNIFF_COMPRESSED_BYTES = 8 * 1024;
// Deflate expands at most ~1032:1, so the head of 8 KB of gzip always fits.
const SNIFF_INFLATE_LIMIT = SNIFF_COMPRESSED_BYTES * 1100;

/** Keys of which a CloudTrail record has several; one in the first object is enough to call it CloudTrail. */
const RECORD_KEYS = new Set([
  'eventVersion',
  'eventTime',
  'eventSource',
  'eventName',
  'eventID',
  'eventType',
  'awsRegion',
  'userIdentity',
  'recipientAccountId',
  'sourceIPAddress',
  'requestParameters',
  'insightDetails',
]);

const DIGEST_PATH = /CloudTrail-Digest[/_]/;
const LAKE_TIME = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.\d+)?$/;
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}(?::?\d{2})?)$/;

/** Cheap shape detection from the first bytes (inflating only the head of gzip) and the object name. */
export function sniffCloudTrail(bytes: Uint8Array, name: string): CloudTrailSniff {
  const gzip = isGzip(bytes);
  const head = gzip ? inflateHead(bytes, SNIFF_COMPRESSED_BYTES, SNIFF_INFLATE_LIMIT) : bytes.subarray(0, SNIFF_BYTES * 2);
  if (gzip && head.length === 0) {
    return { shape: undefined, gzip, reason: 'gzip stream cannot be inflated from its start (damaged header or first block)' };
  }
  const { data } = toUtf8Bytes(head);
  const window = data.subarray(0, SNIFF_BYTES);
  const complete = !gzip ? bytes.length <= SNIFF_BYTES : false;
  const kind = classify(window, name, complete);
  return kind.shape === undefined ? { shape: undefined, gzip, reason: kind.reason } : { shape: kind.shape, gzip };
}

/**
 * Parses one evidence object into CloudTrail records. Never drops a record silently: see `rejected` and
 * `errors`. Throws UnsupportedFormatError only when the content is readable but is not CloudTrail.
 */
export function parseCloudTrail(bytes: Uint8Array, name: string, options: CloudTrailParseOptions = {}): CloudTrailParseResult {
  const limits = {
    maxRecordBytes: options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES,
    maxInflatedBytes: options.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES,
    maxDocumentBytes: options.maxDocumentBytes ?? DEFAULT_MAX_DOCUMENT_BYTES,
  };
  const gzip = isGzip(bytes);
  const out = new Collector(name, gzip);
  let raw = bytes;
  if (gzip) {
    const inflated = inflateGzip(bytes, limits.maxInflatedBytes);
    raw = inflated.data;
    if (inflated.damage !== undefined) {
      out.fileError(inflated.damage, 'the preserved object stays as it is; records recovered before the damage are reported and the rest is lost, so fetch a fresh copy from the source if it still exists');
    }
  }
  const { data, encoding } = toUtf8Bytes(raw);
  if (encoding !== 'utf-8') out.warnings.push(`content is ${encoding} (byte-order mark); transcoded to UTF-8 for parsing (record positions and line numbers are unchanged)`);

  // The window must hold the whole first record to tell one JSON line from a pretty-printed record.
  const window = Math.max(SNIFF_BYTES, limits.maxRecordBytes + 1024);
  const kind = classify(data.subarray(0, window), name, data.length <= window);
  if (kind.shape === undefined) {
    if (out.errors.length > 0) return out.result(undefined);
    throw new UnsupportedFormatError(`${name}: not a CloudTrail file: ${kind.reason}`, {
      hint: 'Amber reads CloudTrail as {"Records":[...]}, a JSON array, JSON Lines, lookup-events or CloudTrail Lake query-results output, gzip-compressed or not; the object is still preserved and hashed',
    });
  }
  out.shape = kind.shape;
  if (kind.shape === 'jsonl') {
    parseJsonLines(data, limits.maxRecordBytes, out);
    return out.result('jsonl');
  }
  if (data.length > limits.maxDocumentBytes) {
    out.fileError(
      `content is ${data.length} bytes, over the ${limits.maxDocumentBytes}-byte limit for a whole-document parse (maxDocumentBytes)`,
      'split the file, or convert it to JSON Lines (jq -c ".Records[]"), which is read line by line',
    );
    return out.result(kind.shape);
  }
  if (kind.shape === 'digest') {
    try {
      out.digest = parseCloudTrailDigestContent(raw, name);
    } catch (error) {
      if (error instanceof ParseError) out.errors.push(error);
      else throw error;
    }
    return out.result('digest');
  }
  parseDocument(data, kind.shape, out);
  return out.result(kind.shape);
}

/** Where a record sits in its evidence object, as a jq path or a line number. */
export function locateRecord(result: Pick<CloudTrailParseResult, 'shape' | 'container'>, index: number): string {
  if (result.shape === 'jsonl') return `line ${index + 1}`;
  if (result.shape === 'single') return '.';
  const container = result.container ?? '.';
  return container === '.' ? `.[${index}]` : `${container}[${index}]`;
}

/**
 * One NDJSON line per accepted record, `{"evidence_key","evidence_record","record"}`: the derived form
 * the query table reads for shapes other than `records`. Lazy, so huge results stream.
 */
export function* ndjsonLines(result: Pick<CloudTrailParseResult, 'records'>, evidenceKey: string): Generator<string> {
  for (const { index, record } of result.records) {
    yield JSON.stringify({ evidence_key: evidenceKey, evidence_record: index, record });
  }
}

/** The NDJSON of `ndjsonLines` as one string, each line ending in a newline. */
export function toNdjsonLines(result: Pick<CloudTrailParseResult, 'records'>, evidenceKey: string): string {
  let text = '';
  for (const line of ndjsonLines(result, evidenceKey)) text += `${line}\n`;
  return text;
}

// ---------------------------------------------------------------------------------------------------
// Classification

interface Classified {
  shape?: CloudTrailShape;
  reason?: string;
}

function classify(head: Uint8Array, name: string, complete: boolean): Classified {
  if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) {
    return { reason: 'it is a ZIP archive; extract it and collect the files inside' };
  }
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(head);
  const i = skipWhitespace(text, 0);
  if (i >= text.length) return { reason: 'it is empty (no content after any gzip and whitespace)' };
  const c = text[i];
  if (c === '{') {
    const scan = scanObject(text, i);
    const keys = new Set(scan.keys);
    if (DIGEST_PATH.test(name) || (keys.has('digestStartTime') && (keys.has('digestEndTime') || keys.has('logFiles')))) {
      return { shape: 'digest' };
    }
    if (keys.has('Records')) return { shape: 'records' };
    if (keys.has('Events')) return { shape: 'lookup-events' };
    if (keys.has('QueryResultRows') || keys.has('QueryStatus')) return { shape: 'lake' };
    if (looksLikeRecord(scan.keys)) return { shape: scan.multiline ? 'single' : 'jsonl' };
    if (scan.end === undefined && !complete && scan.keys.length === 0) {
      return { reason: 'its first JSON object has no key within the first bytes' };
    }
    return { reason: `its first JSON object is not a CloudTrail record (it needs eventVersion, or two of ${[...RECORD_KEYS].slice(1, 5).join(', ')}...); keys seen: ${describeKeys(scan.keys)}` };
  }
  if (c === '[') {
    const j = skipWhitespace(text, i + 1);
    const d = text[j];
    if (d === undefined) return complete ? { reason: 'it is a truncated JSON array' } : { shape: 'array' };
    if (d === ']') return { shape: 'array' };
    if (d === '[') return { shape: 'lake' };
    if (d === '{') {
      const scan = scanObject(text, j);
      if (scan.keys.includes('CloudTrailEvent')) return { shape: 'lookup-events' };
      if (looksLikeRecord(scan.keys)) return { shape: 'array' };
      return { reason: `it is a JSON array whose first object is not a CloudTrail record; keys seen: ${describeKeys(scan.keys)}` };
    }
    return { reason: `it is a JSON array of ${describeStart(d)} values, not of records` };
  }
  return { reason: notJsonReason(text, i) };
}

/**
 * eventVersion is CloudTrail's own; otherwise two record keys are needed, because one alone is common
 * elsewhere (AWS IoT Core logs have `eventType`, many logs have `awsRegion`).
 */
function looksLikeRecord(keys: string[]): boolean {
  return keys.includes('eventVersion') || keys.filter((k) => RECORD_KEYS.has(k)).length >= 2;
}

function describeKeys(keys: string[]): string {
  if (keys.length === 0) return 'none';
  const shown = keys.slice(0, 8).map((k) => JSON.stringify(k.length > 40 ? `${k.slice(0, 40)}...` : k));
  return shown.join(', ') + (keys.length > 8 ? ', ...' : '');
}

function describeStart(c: string): string {
  if (c === '"') return 'string';
  if (c === 't' || c === 'f') return 'boolean';
  if (c === 'n') return 'null';
  return 'number';
}

function notJsonReason(text: string, i: number): string {
  const start = text.slice(i, i + 200);
  if (start.startsWith('<')) return 'it is not JSON: it starts with "<" (XML or HTML)';
  const firstLine = start.split('\n', 1)[0] ?? '';
  if (firstLine.split(',').length >= 3) {
    const lake = /eventtime/i.test(firstLine) ? ' (CloudTrail Lake saves query results to S3 as CSV)' : '';
    return `it looks like CSV${lake}, which the CloudTrail parser does not read; its header starts ${JSON.stringify(firstLine.slice(0, 40))}`;
  }
  return `it is not JSON: it starts with ${JSON.stringify(text.slice(i, i + 24))}`;
}

// ---------------------------------------------------------------------------------------------------
// Parsing

class Collector {
  shape: CloudTrailShape | undefined;
  container: string | undefined;
  digest: ParsedCloudTrailDigest | undefined;
  readonly records: ParsedCloudTrailRecord[] = [];
  readonly rejected: RejectedCloudTrailRecord[] = [];
  readonly errors: ParseError[] = [];
  readonly warnings: string[] = [];

  constructor(
    readonly file: string,
    readonly gzip: boolean,
  ) {}

  fileError(message: string, hint: string): void {
    this.errors.push(new ParseError(message, this.file, undefined, { hint }));
  }

  reject(index: number, line: number | undefined, locator: string, reason: string): void {
    const where = line === undefined ? `(${locator})` : `(line ${line})`;
    const error = new ParseError(`${where} ${reason}`, this.file, index, {
      hint: 'the record stays in the preserved object; it is not loaded into the query tables',
    });
    this.rejected.push(line === undefined ? { index, locator, reason, error } : { index, line, locator, reason, error });
  }

  /** Accepts a value as a record or rejects it with the reason. */
  admit(value: unknown, index: number, line: number | undefined, locator: string): void {
    if (!isObject(value)) {
      this.reject(index, line, locator, `is not a JSON object (it is ${kindOf(value)})`);
      return;
    }
    // A record that already carries Amber's marker key could fake the trace of a derived field.
    if (Object.hasOwn(value, '__amber')) {
      this.reject(index, line, locator, 'carries the key "__amber", which Amber reserves for its own trace of derived fields');
      return;
    }
    const time = resolveEventTime(value, this.shape === 'lake');
    if ('reason' in time) {
      this.reject(index, line, locator, time.reason);
      return;
    }
    const record = value as CloudTrailRecord;
    if (time.derived === undefined) {
      this.records.push(line === undefined ? { index, record } : { index, line, record });
      return;
    }
    const derived: AmberRecordMarker = { eventTime: time.derived };
    record.eventTime = time.value;
    setOwn(record, '__amber', derived);
    this.records.push(line === undefined ? { index, record, derived } : { index, line, record, derived });
  }

  result(shape: CloudTrailShape | undefined): CloudTrailParseResult {
    return {
      file: this.file,
      shape,
      gzip: this.gzip,
      ...(this.container === undefined ? {} : { container: this.container }),
      records: this.records,
      rejected: this.rejected,
      errors: this.errors,
      warnings: this.warnings,
      ...(this.digest === undefined ? {} : { digest: this.digest }),
    };
  }
}

type TimeResolution = { value: string; derived?: DerivedEventTime } | { reason: string };

/** eventTime as CloudTrail writes it, or derived from `@timestamp` when absent; otherwise a reason to reject. */
function resolveEventTime(record: Record<string, unknown>, lake: boolean): TimeResolution {
  const eventTime = record['eventTime'];
  if (typeof eventTime === 'string' && eventTime !== '') {
    const m = lake ? LAKE_TIME.exec(eventTime) : null;
    if (m !== null) return { value: `${m[1]}T${m[2]}Z`, derived: { from: 'eventTime', original: eventTime } };
    return { value: eventTime };
  }
  if (eventTime !== undefined) {
    return { reason: `has an eventTime that is not a non-empty string (it is ${kindOf(eventTime)})` };
  }
  const stamp = record['@timestamp'];
  if (stamp === undefined) return { reason: 'has no eventTime, and no @timestamp to fall back on' };
  if (typeof stamp !== 'string') return { reason: `has no eventTime, and its @timestamp is not a string (it is ${kindOf(stamp)})` };
  const normalized = normalizeTimestamp(stamp);
  if (normalized === undefined) {
    return { reason: `has no eventTime, and its @timestamp ${JSON.stringify(stamp.slice(0, 64))} is not an ISO-8601 timestamp with a time zone` };
  }
  return { value: normalized, derived: { from: '@timestamp', original: stamp } };
}

/** ISO-8601 with a zone, to CloudTrail's `YYYY-MM-DDTHH:MM:SSZ` in UTC (fractions dropped: CloudTrail has none). */
export function normalizeTimestamp(value: string): string | undefined {
  const m = ISO_TIME.exec(value);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s, , zone] = m;
  const millis = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const check = new Date(millis);
  // Reject dates that Date.UTC silently rolls over (2023-02-30, 24:61).
  if (check.getUTCDate() !== Number(d) || check.getUTCHours() !== Number(h) || check.getUTCMinutes() !== Number(mi) || check.getUTCSeconds() !== Number(s)) {
    return undefined;
  }
  let offsetMinutes = 0;
  if (zone !== undefined && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'));
  }
  const utc = new Date(millis - offsetMinutes * 60_000);
  if (Number.isNaN(utc.getTime())) return undefined;
  return `${utc.toISOString().slice(0, 19)}Z`;
}

function parseJsonLines(data: Uint8Array, maxRecordBytes: number, out: Collector): void {
  const decoder = new TextDecoder('utf-8');
  const truncated = out.errors.length > 0;
  let start = 0;
  let lineIndex = 0;
  while (start <= data.length) {
    let newline = data.indexOf(0x0a, start);
    if (newline === -1) newline = data.length;
    const end = newline > start && data[newline - 1] === 0x0d ? newline - 1 : newline;
    const index = lineIndex;
    const line = index + 1;
    const locator = `line ${line}`;
    const isLast = newline >= data.length;
    lineIndex += 1;
    if (!isBlank(data, start, end)) {
      const length = end - start;
      if (length > maxRecordBytes) {
        out.reject(index, line, locator, `is ${length} bytes long, over the ${maxRecordBytes}-byte limit (maxRecordBytes); it was not read`);
      } else {
        const bytes = data.subarray(start, end);
        const invalidAt = firstInvalidUtf8(bytes);
        if (invalidAt !== -1) {
          out.reject(index, line, locator, `is not valid UTF-8 (bad byte at column ${invalidAt + 1})`);
        } else {
          const text = decoder.decode(bytes);
          let value: unknown;
          let parsed = false;
          try {
            value = JSON.parse(text);
            parsed = true;
          } catch (error) {
            const problem = findJsonSyntaxError(text);
            const detail = problem === undefined ? errorMessage(error) : `${problem.message} at column ${columnOf(text, problem.position)}`;
            const note = truncated && isLast ? ' (the last line of a damaged gzip stream: cut short by the damage)' : '';
            out.reject(index, line, locator, `is not valid JSON: ${detail}${note}`);
          }
          if (parsed) out.admit(value, index, line, locator);
        }
      }
    }
    if (isLast) break;
    start = newline + 1;
  }
}

function isBlank(data: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i += 1) {
    const b = data[i];
    if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return false;
  }
  return true;
}

/** 1-based column counted in bytes of UTF-8, which is what editors and `cut -b` show for these files. */
function columnOf(text: string, position: number): number {
  return Buffer.byteLength(text.slice(0, position), 'utf8') + 1;
}

interface ContainerSpec {
  /** Key of the array in the top-level object, or undefined when the document itself is the array. */
  readonly key?: string;
  readonly path: string;
  readonly toRecord: (element: unknown) => { record: unknown } | { reason: string };
}

function containerFor(shape: CloudTrailShape, topIsArray: boolean): ContainerSpec | undefined {
  const asIs = (element: unknown): { record: unknown } => ({ record: element });
  switch (shape) {
    case 'records':
      return { key: 'Records', path: '.Records', toRecord: asIs };
    case 'array':
      return { path: '.', toRecord: asIs };
    case 'lookup-events':
      return topIsArray ? { path: '.', toRecord: lookupEventToRecord } : { key: 'Events', path: '.Events', toRecord: lookupEventToRecord };
    case 'lake':
      return topIsArray ? { path: '.', toRecord: lakeRowToRecord } : { key: 'QueryResultRows', path: '.QueryResultRows', toRecord: lakeRowToRecord };
    default:
      return undefined;
  }
}

function parseDocument(data: Uint8Array, shape: CloudTrailShape, out: Collector): void {
  const { text, invalidAt } = decodeUtf8(data);
  if (invalidAt !== -1) {
    out.fileError(
      `is not valid UTF-8 (first bad byte at offset ${invalidAt}); it was parsed with U+FFFD in place of the bad bytes`,
      'compare the affected records with the preserved bytes; CloudTrail itself always writes valid UTF-8, so this points to damage or tampering',
    );
  }
  const start = skipWhitespace(text, 0);
  const topIsArray = text[start] === '[';
  const spec = containerFor(shape, topIsArray);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    const problem = findJsonSyntaxError(text) ?? { position: text.length, message: errorMessage(error) };
    const { line, column } = lineAndColumn(text, problem.position);
    const salvaged = spec === undefined ? undefined : salvage(text, start, spec, problem.position, out);
    const recovered = salvaged === undefined ? '' : `; ${salvaged}`;
    out.fileError(
      `malformed JSON at line ${line} column ${column} (character ${problem.position}): ${problem.message}${recovered}`,
      shape === 'single'
        ? 'if the file holds several pretty-printed records one after another, convert it to JSON Lines (jq -c . FILE) and collect that copy too'
        : 'the preserved object stays as it is; only complete records before the damage were read',
    );
    return;
  }
  if (spec === undefined) {
    // `single`: the document is the record.
    out.admit(doc, 0, undefined, '.');
    return;
  }
  let elements: unknown;
  if (spec.key === undefined) {
    elements = doc;
  } else if (isObject(doc)) {
    elements = doc[spec.key];
    if (shape === 'lake') lakeWarnings(doc, out);
  }
  if (!Array.isArray(elements)) {
    out.fileError(`${spec.path} is not an array (it is ${kindOf(elements)})`, 'check that the object really is CloudTrail in the detected shape');
    return;
  }
  out.container = spec.path;
  elements.forEach((element, index) => admitElement(element, index, spec, out));
}

function admitElement(element: unknown, index: number, spec: ContainerSpec, out: Collector): void {
  const locator = spec.path === '.' ? `.[${index}]` : `${spec.path}[${index}]`;
  const converted = spec.toRecord(element);
  if ('reason' in converted) out.reject(index, undefined, locator, converted.reason);
  else out.admit(converted.record, index, undefined, locator);
}

/**
 * Recovers the complete elements that end before the first syntax error. Elements after the damage are
 * not trusted even when they parse: once the structure is broken their boundaries may be wrong, and a
 * nested object mistaken for a record would carry a false index.
 */
function salvage(text: string, start: number, spec: ContainerSpec, damageAt: number, out: Collector): string {
  let open: number | undefined;
  if (spec.key === undefined) {
    if (text[start] === '[') open = start;
  } else if (text[start] === '{') {
    open = scanObject(text, start).arrayStarts.get(spec.key);
  }
  if (open === undefined || open >= damageAt) return `no record could be recovered: the damage comes before ${spec.path} begins`;
  out.container = spec.path;
  const scan = scanArray(text, open);
  let recovered = 0;
  let damagedIndex: number | undefined;
  for (const [index, { start: s, end }] of scan.elements.entries()) {
    if (end > damageAt) {
      damagedIndex = index;
      break;
    }
    let element: unknown;
    try {
      element = JSON.parse(text.slice(s, end));
    } catch {
      damagedIndex = index;
      break;
    }
    admitElement(element, index, spec, out);
    recovered += 1;
  }
  damagedIndex ??= scan.stop === 'closed' ? undefined : scan.elements.length;
  const where = damagedIndex === undefined ? 'after the last element' : `in element ${damagedIndex} (${spec.path === '.' ? '' : spec.path}[${damagedIndex}])`;
  return `${recovered} complete record(s) before the damage were recovered; the damage is ${where}`;
}

function lakeWarnings(doc: Record<string, unknown>, out: Collector): void {
  const status = doc['QueryStatus'];
  if (status !== undefined && status !== 'FINISHED') {
    out.warnings.push(`CloudTrail Lake QueryStatus is ${JSON.stringify(status)}, not FINISHED: the rows may be partial`);
  }
  if (typeof doc['NextToken'] === 'string') {
    out.warnings.push('CloudTrail Lake output has a NextToken: this is one page of the results; collect the other pages too');
  }
  if (typeof doc['ErrorMessage'] === 'string') out.warnings.push(`CloudTrail Lake reported: ${doc['ErrorMessage']}`);
}

/** `lookup-events` keeps the full event as a JSON string in `CloudTrailEvent`; the other fields are a summary. */
function lookupEventToRecord(element: unknown): { record: unknown } | { reason: string } {
  if (!isObject(element)) return { reason: `is not a lookup-events entry (it is ${kindOf(element)})` };
  const raw = element['CloudTrailEvent'];
  if (typeof raw !== 'string') return { reason: `has no CloudTrailEvent string holding the full event (it is ${kindOf(raw)})` };
  try {
    return { record: JSON.parse(raw) as unknown };
  } catch (error) {
    const problem = findJsonSyntaxError(raw);
    const detail = problem === undefined ? errorMessage(error) : `${problem.message} at character ${problem.position}`;
    return { reason: `has a CloudTrailEvent that is not valid JSON: ${detail}` };
  }
}

/**
 * A Lake row is an array of one-key objects (`[{"eventID":"..."},{"eventTime":"..."}]`). Columns are
 * merged into one record as returned; `SELECT eventJson` rows carry the original event as a string.
 */
function lakeRowToRecord(element: unknown): { record: unknown } | { reason: string } {
  if (!Array.isArray(element)) return { reason: `is not a Lake result row, an array of {column: value} objects (it is ${kindOf(element)})` };
  const record: Record<string, unknown> = {};
  for (const [i, cell] of element.entries()) {
    if (!isObject(cell)) return { reason: `has cell ${i} that is not a {column: value} object (it is ${kindOf(cell)})` };
    for (const [column, value] of Object.entries(cell)) {
      if (Object.hasOwn(record, column)) return { reason: `has the column ${JSON.stringify(column)} twice` };
      setOwn(record, column, value);
    }
  }
  const columns = Object.keys(record);
  const only = columns[0];
  if (columns.length === 1 && only !== undefined && only.toLowerCase() === 'eventjson' && typeof record[only] === 'string') {
    try {
      return { record: JSON.parse(record[only] as string) as unknown };
    } catch (error) {
      return { reason: `has an ${only} column that is not valid JSON: ${errorMessage(error)}` };
    }
  }
  return { record };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return value === '' ? 'an empty string' : 'a string';
  if (value === undefined) return 'missing';
  return `a ${typeof value}`;
}

/** Defines an own property even for `__proto__`, which plain assignment would turn into a prototype change. */
function setOwn(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
