/**
 * The Amazon S3 server access log record: space-separated fields in a fixed order, the time in brackets
 * (`[06/Feb/2019:00:00:38 +0000]`), the Request-URI, Referer and User-Agent in double quotes, `-` for a value
 * that is unknown or not applicable, and fields appended at the end over the years (older records stop
 * earlier). Column names are those of the Athena table AWS documents for these logs.
 *
 * One regular expression describes a record. The parser uses it, and the Athena DDL (athena.ts) gives the very
 * same expression to Athena's RegexSerDe, so both engines split a line the same way, hostile lines included.
 * It only uses syntax whose meaning is identical in JavaScript and Java: `[^ ]`, `[\s\S]`, `[0-9]`, lazy and
 * greedy quantifiers, non-capturing groups, anchors.
 */

export type S3ColumnType = 'VARCHAR' | 'INTEGER' | 'BIGINT';

export interface S3AccessField {
  /** Column name (Athena's). */
  readonly column: string;
  readonly type: S3ColumnType;
  /** Name in the AWS log format documentation. */
  readonly documented: string;
}

const f = (column: string, documented: string, type: S3ColumnType = 'VARCHAR'): S3AccessField => ({ column, type, documented });

/** The fields in record order. The first 17 are in every record; the rest were appended over time. */
export const S3_ACCESS_FIELDS: readonly S3AccessField[] = [
  f('bucketowner', 'Bucket owner'),
  f('bucket_name', 'Bucket'),
  f('requestdatetime', 'Time'),
  f('remoteip', 'Remote IP'),
  f('requester', 'Requester'),
  f('requestid', 'Request ID'),
  f('operation', 'Operation'),
  f('key', 'Key'),
  f('request_uri', 'Request-URI'),
  f('httpstatus', 'HTTP status', 'INTEGER'),
  f('errorcode', 'Error Code'),
  f('bytessent', 'Bytes Sent', 'BIGINT'),
  f('objectsize', 'Object Size', 'BIGINT'),
  f('totaltime', 'Total Time', 'BIGINT'),
  f('turnaroundtime', 'Turn-Around Time', 'BIGINT'),
  f('referrer', 'Referer'),
  f('useragent', 'User-Agent'),
  f('versionid', 'Version Id'),
  f('hostid', 'Host Id'),
  f('sigv', 'Signature Version'),
  f('ciphersuite', 'Cipher Suite'),
  f('authtype', 'Authentication Type'),
  f('endpoint', 'Host Header'),
  f('tlsversion', 'TLS version'),
  f('accesspointarn', 'Access Point ARN'),
  f('aclrequired', 'aclRequired'),
  f('sourceregion', 'Source region'),
];

/** Fields every record has (through User-Agent); a shorter line is not a server access log record. */
export const REQUIRED_FIELDS = 17;

/** The columns of the `s3_access_logs` table: the record fields, anything appended after them, and `time`. */
export const S3_ACCESS_COLUMNS: readonly { readonly name: string; readonly type: string }[] = [
  ...S3_ACCESS_FIELDS.map((x) => ({ name: x.column, type: x.type })),
  // Text after the last field Amber knows (fields AWS may append later): kept, not lost.
  { name: 'extra_fields', type: 'VARCHAR' },
  { name: 'time', type: 'VARCHAR' },
];

const TOKEN = '([^ ]+)';
const NUMBER = '(?:([0-9]+)|-)';
// Request-URI and Referer end at the first quote that lets the rest of the line parse (lazy); the User-Agent,
// the last quoted field, ends at the last quote of the line (greedy): the fields after it (ids, base64,
// ARNs, regions) never hold a quote, so a User-Agent with quotes in it is kept whole.
const QUOTED_LAZY = '(?:"([\\s\\S]*?)"|-)';
const QUOTED_GREEDY = '(?:"([\\s\\S]*)"|-)';

/** Optional trailing fields, each present only if the one before it is. */
function trailing(count: number): string {
  let out = '';
  for (let i = 0; i < count; i++) out = `(?: ${TOKEN}${out})?`;
  return out;
}

/**
 * The record pattern, one capture group per column of S3_ACCESS_FIELDS, then one for extra_fields. A group
 * that does not take part (a `-` number, a missing trailing field) is undefined in JavaScript and NULL in Athena.
 */
export const S3_ACCESS_RECORD_PATTERN = [
  `^${TOKEN} ${TOKEN} \\[([^\\]]*)\\] ${TOKEN} ${TOKEN} ${TOKEN} ${TOKEN} ${TOKEN} ${QUOTED_LAZY}`,
  ` ${NUMBER} ${TOKEN} ${NUMBER} ${NUMBER} ${NUMBER} ${NUMBER} ${QUOTED_LAZY} ${QUOTED_GREEDY}`,
  trailing(S3_ACCESS_FIELDS.length - REQUIRED_FIELDS),
  '(?: ([\\s\\S]*))?$',
].join('');

export const S3_ACCESS_RECORD = new RegExp(S3_ACCESS_RECORD_PATTERN);

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `06/Feb/2019:00:00:38 +0000` as `2019-02-06T00:00:38Z` (converted to UTC), or undefined when invalid. */
export function s3TimeToIso(text: string): string | undefined {
  const m = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(text);
  if (!m) return undefined;
  const month = MONTHS.indexOf(m[2] as string);
  const [day, year, hh, mm, ss, oh, om] = [m[1], m[3], m[4], m[5], m[6], m[8], m[9]].map(Number) as [number, number, number, number, number, number, number];
  // Date.UTC reads years 0-99 as 1900-1999; S3 logs start in 2006, so anything before 1970 is not a log time.
  if (year < 1970 || month < 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 || oh > 23 || om > 59) return undefined;
  const local = Date.UTC(year, month, day, hh, mm, ss);
  const check = new Date(local);
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month) return undefined;
  const offset = (m[7] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  return `${new Date(local - offset).toISOString().slice(0, 19)}Z`;
}
