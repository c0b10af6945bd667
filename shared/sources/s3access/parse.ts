/**
 * Parses Amazon S3 server access log files: one record a line, split by S3_ACCESS_RECORD (the same pattern the
 * Athena table uses). `-` is NULL, quoted and bracketed fields are kept byte for byte without their quotes or
 * brackets, short records from before the later fields existed are accepted, and lifecycle and other
 * S3-internal operations (S3.EXPIRE.OBJECT, S3.TRANSITION_*.OBJECT, requester `AmazonS3`, no remote IP) are rows
 * like any other. A row's `index` is its 0-based line number (`line = index + 1`). A line that is not a record
 * is reported with its line and the reason, never dropped without a word.
 */
import type { SourceParseResult, SourceProblem, SourceRow } from '../log-source.ts';
import { REQUIRED_FIELDS, S3_ACCESS_FIELDS, S3_ACCESS_RECORD, s3TimeToIso } from './format.ts';

/** Longer lines are reported rather than matched (a pathological line must not stall the parse). */
const MAX_LINE = 256 * 1024;
const SNIFF = /^(?:[0-9a-f]{64}|-) [^ ]+ \[\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] [^ ]+ [^ ]+ [^ ]+ (?:REST|SOAP|WEBSITE|BATCH|S3)\.[A-Z0-9_.]+ /;

/**
 * True when one of the first lines is an S3 server access log record (canonical-id owner, bracketed time, an S3
 * operation): the first few decide, so one damaged line at the top does not hide the file's format.
 */
export function sniffS3Access(head: string): boolean {
  return head.split('\n').filter((l) => l.trim() !== '').slice(0, 5).some((l) => SNIFF.test(l));
}

/** Parses one server access log object (already gunzipped and decoded). */
export function parseS3AccessLogs(text: string, _key: string): SourceParseResult {
  const rows: SourceRow[] = [];
  const problems: SourceProblem[] = [];
  let fewest = Infinity;
  let most = 0;
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') continue;
    const at = { index: i, line: i + 1 };
    if (line.length > MAX_LINE) {
      problems.push({ ...at, reason: `line is ${line.length} characters, over the ${MAX_LINE} a server access log record can plausibly have` });
      continue;
    }
    const m = S3_ACCESS_RECORD.exec(line);
    if (!m) {
      problems.push({ ...at, reason: whyNot(line) });
      continue;
    }
    const row: Record<string, unknown> = {};
    let bad: string | undefined;
    let present = REQUIRED_FIELDS;
    for (const [k, field] of S3_ACCESS_FIELDS.entries()) {
      const value = m[k + 1];
      if (k >= REQUIRED_FIELDS && value !== undefined) present = k + 1;
      if (value === undefined || value === '-') {
        row[field.column] = null;
        continue;
      }
      if (field.type === 'VARCHAR') {
        row[field.column] = value;
        continue;
      }
      const n = Number(value);
      if (!Number.isSafeInteger(n) || (field.type === 'INTEGER' && n > 2_147_483_647)) {
        bad = `${field.documented} is too large a number: ${value.slice(0, 40)}`;
        break;
      }
      row[field.column] = n;
    }
    if (bad !== undefined) {
      problems.push({ ...at, reason: bad });
      continue;
    }
    const extra = m[S3_ACCESS_FIELDS.length + 1];
    row.extra_fields = extra === undefined || extra === '' ? null : extra;
    const time = s3TimeToIso(String(row.requestdatetime ?? ''));
    if (time === undefined) {
      problems.push({ ...at, reason: `time [${String(row.requestdatetime).slice(0, 60)}] is not dd/Mon/yyyy:HH:mm:ss +zzzz` });
      continue;
    }
    row.time = time;
    fewest = Math.min(fewest, present);
    most = Math.max(most, present);
    rows.push({ ...at, row });
  }
  const variant = rows.length === 0 ? 'none' : fewest === most ? `${most}-fields` : `${fewest}-${most}-fields`;
  return { variant, rows, problems };
}

/** A reason a line does not match, as specific as a cheap look allows. */
function whyNot(line: string): string {
  if (!/^[^ ]+ [^ ]+ \[[^\]]*\] /.test(line)) return 'not a server access log record: expected "<bucket owner> <bucket> [<time>] ..." at the start';
  const quotes = (line.match(/"/g) ?? []).length;
  if (quotes % 2 === 1) return 'a quoted field (Request-URI, Referer or User-Agent) is not closed: the line is cut short or damaged';
  return `not a server access log record: fewer than the ${REQUIRED_FIELDS} fields every record has (through User-Agent), or a status or byte count that is neither a number nor "-"`;
}
