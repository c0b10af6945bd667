/**
 * The Athena (Trino) compatibility layer for DuckDB: session settings plus TEMP macros, so detection SQL written
 * for Athena runs unchanged on the embedded engine and returns the same answers.
 *
 * How the shadowing works (checked on DuckDB 1.5.5 and 1.5.6): a macro in the `temp` schema is found before the
 * built-in function of the same name, so `CREATE OR REPLACE TEMP MACRO date_diff(...)` replaces DuckDB's `date_diff`
 * for this connection, and a macro body reaches the original through its qualified name `system.main.<name>`.
 * No rewriting of the SQL text is needed. TEMP (not `main`) keeps the macros out of a file-backed database, so a
 * database written by Amber never changes the meaning of DuckDB's functions for another client.
 *
 * Macros are overloaded by arity only. DuckDB also offers overloads by declared parameter type, but it picks them
 * before the argument is bound, so an aggregate argument (`to_iso8601(min(t))`) is ambiguous or, worse, matched to
 * the wrong overload; per-type behaviour is written as `CASE typeof(x) ...` instead, which DuckDB folds at bind time,
 * with every branch written so it binds for every type. Lambdas cannot be passed through a macro (DuckDB rejects
 * them at CREATE time), which is why Trino's lambda functions are listed in ATHENA_UNSUPPORTED; DuckDB's own
 * `filter(array, x -> ...)` already matches Trino.
 *
 * Every shim states the Trino behaviour it reproduces; test/shared/query/athena-compat.test.ts checks each one on
 * concrete values taken from Trino's documentation and source.
 */

/** One Trino function emulated on DuckDB. */
export interface AthenaShim {
  /** Trino function name (lower case). */
  readonly name: string;
  /** `override`: DuckDB has the name with another meaning; `added`: DuckDB lacks it. */
  readonly kind: 'override' | 'added';
  /** What Trino does, which the macro reproduces. */
  readonly trino: string;
  /** Macro overloads: `(params) AS body`, joined with commas into one CREATE MACRO. */
  readonly overloads: readonly string[];
  /** Known residual difference, when there is one. */
  readonly caveat?: string;
}

/** An Athena feature that cannot be emulated, or that differs in a way a macro cannot fix. */
export interface AthenaGap {
  readonly feature: string;
  readonly reason: string;
  /** The portable way to write it. */
  readonly instead: string;
}

// Trino `$n` group references become RE2's `\n`; Trino's `\x` escape becomes a literal x (a literal backslash is
// `\\` for RE2). Tokenising left to right reproduces Trino's own scan of the replacement string.
const TRINO_REPLACEMENT_TO_RE2 = String.raw`array_to_string(list_transform(regexp_extract_all(r, '(?s)\\.|\$\d|.', 0), lambda t: CASE WHEN left(t, 1) = '\' THEN (CASE WHEN substr(t, 2, 1) = '\' THEN '\\' ELSE substr(t, 2, 1) END) WHEN left(t, 1) = '$' AND length(t) = 2 THEN '\' || substr(t, 2, 1) ELSE t END), '')`;

// Trino's JSON path accepts `$["key"]`; DuckDB spells it `$."key"`. Constant paths are folded once per query.
const TRINO_JSON_PATH = String.raw`system.main.regexp_replace(p, '\["([^"]*)"\]', '."\1"', 'g')`;

// MySQL-style specifiers of Trino's date_format/date_parse, mapped to DuckDB strftime/strptime. Trino documents
// %D %U %u %V %w %X as unsupported, so they raise here too; any other `%x` is the literal x, as in Trino.
const MYSQL_TO_STRFTIME: ReadonlyArray<readonly [string, string]> = [
  ['%a', '%a'], ['%b', '%b'], ['%c', '%-m'], ['%d', '%d'], ['%e', '%-d'], ['%f', '%f'], ['%H', '%H'], ['%h', '%I'],
  ['%I', '%I'], ['%i', '%M'], ['%j', '%j'], ['%k', '%-H'], ['%l', '%-I'], ['%M', '%B'], ['%m', '%m'], ['%p', '%p'],
  ['%r', '%I:%M:%S %p'], ['%S', '%S'], ['%s', '%S'], ['%T', '%H:%M:%S'], ['%v', '%V'], ['%W', '%A'], ['%x', '%G'],
  ['%Y', '%Y'], ['%y', '%y'], ['%%', '%%'],
];
const MYSQL_UNSUPPORTED = ['%D', '%U', '%u', '%V', '%w', '%X'];

// Translates a MySQL-style format to DuckDB's strftime/strptime syntax, in TypeScript (for constant formats).
function mysqlFormatToStrftime(format: string): string {
  const table = new Map(MYSQL_TO_STRFTIME);
  return (format.match(/%[\s\S]|[^%]+/g) ?? []).map((token) => {
    if (!token.startsWith('%')) return token;
    if (MYSQL_UNSUPPORTED.includes(token)) throw new Error(`date format specifier ${token} is not supported by Athena either`);
    const mapped = table.get(token);
    if (mapped !== undefined) return mapped;
    const literal = token.slice(1);
    return literal === '%' ? '%%' : literal;
  }).join('');
}

// DuckDB validates a macro body when it is created and rejects strptime whose format is derived from a parameter,
// so date_parse cannot translate its format in SQL (date_format can: strftime checks later, after constant folding).
// It accepts these formats, translated here once; any other format fails with a message naming them.
const DATE_PARSE_FORMATS = [
  '%Y-%m-%d %H:%i:%s', '%Y-%m-%d %H:%i:%s.%f', '%Y-%m-%d %H:%i', '%Y-%m-%d', '%Y-%m-%dT%H:%i:%sZ',
  '%Y-%m-%dT%H:%i:%s.%fZ', '%Y-%m-%dT%H:%i:%s', '%Y/%m/%d', '%Y/%m/%d %H:%i:%s', '%Y%m%d', '%Y%m%d%H%i%s',
  '%d/%m/%Y', '%m/%d/%Y', '%d/%b/%Y:%H:%i:%s',
];

function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

const DATE_PARSE_BODY = `CASE f ${DATE_PARSE_FORMATS.map((f) => `WHEN ${sqlString(f)} THEN strptime(s, ${sqlString(mysqlFormatToStrftime(f))})`).join(' ')} `
  + `ELSE error('date_parse: format ' || f || ' is not one of the formats Amber supports offline: ${DATE_PARSE_FORMATS.join(' | ').replace(/'/g, "''")}') END`;

function mysqlFormatToStrftimeSql(formatParam: string): string {
  const cases = MYSQL_TO_STRFTIME.map(([from, to]) => `WHEN '${from}' THEN '${to}'`).join(' ');
  const unsupported = MYSQL_UNSUPPORTED.map((s) => `'${s}'`).join(', ');
  return `array_to_string(list_transform(regexp_extract_all(${formatParam}, '(?s)%.|[^%]+', 0), lambda t: CASE `
    // error() would make the format non-constant (it is volatile), which strftime rejects; an invalid specifier
    // fails instead, and DuckDB's message quotes it: "Unrecognized format ... %{Athena does not support %D}".
    + `WHEN t IN (${unsupported}) THEN '%{Athena does not support ' || t || '}' `
    + `WHEN left(t, 1) <> '%' THEN t ELSE CASE t ${cases} ELSE (CASE WHEN substr(t, 2, 1) = '%' THEN '%%' ELSE substr(t, 2, 1) END) END END), '')`;
}

const DATE_ADD_BODY = `t + CASE lower(unit)
  WHEN 'millisecond' THEN n * INTERVAL 1 MILLISECOND WHEN 'second' THEN n * INTERVAL 1 SECOND
  WHEN 'minute' THEN n * INTERVAL 1 MINUTE WHEN 'hour' THEN n * INTERVAL 1 HOUR WHEN 'day' THEN n * INTERVAL 1 DAY
  WHEN 'week' THEN n * INTERVAL 7 DAY WHEN 'month' THEN n * INTERVAL 1 MONTH WHEN 'quarter' THEN n * INTERVAL 3 MONTH
  WHEN 'year' THEN n * INTERVAL 1 YEAR ELSE error('date_add: unknown unit ' || unit) END`;

// Trino's ISO parser accepts `THH:mm` and `THH`; DuckDB's cast wants seconds, so those forms get `:00` added. The
// try_cast fast path keeps the regexes off CloudTrail's always-complete `eventtime`.
const ISO_NORMALISED = String.raw`system.main.regexp_replace(system.main.regexp_replace(s, '^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})([^:\d]|$)', '\1:00\2'), '^(\d{4}-\d{2}-\d{2}T\d{2})([^:\d]|$)', '\1:00:00\2')`;

const NULL_IF_ANY = (args: readonly string[]): string => args.map((a) => `${a} IS NULL`).join(' OR ');
const argList = (n: number): string[] => Array.from({ length: n }, (_, i) => `a${i + 1}`);
const nullPropagating = (fn: string, from: number, to: number): string[] => {
  const out: string[] = [];
  for (let n = from; n <= to; n++) {
    const args = argList(n);
    out.push(`(${args.join(', ')}) AS CASE WHEN ${NULL_IF_ANY(args)} THEN NULL ELSE system.main.${fn}(${args.join(', ')}) END`);
  }
  return out;
};

const JSON_ARRAY_CONTAINS_BODY = `CASE WHEN try(json_type(j)) = 'ARRAY' THEN list_contains(CAST(json_extract(j, '$[*]') AS VARCHAR[]), CAST(to_json(v) AS VARCHAR)) END`;

/** Every Trino function Amber emulates on DuckDB, with the Trino behaviour each one reproduces. */
export const ATHENA_SHIMS: readonly AthenaShim[] = [
  // --- same name in DuckDB, different meaning ---
  {
    name: 'date_diff', kind: 'override',
    trino: 'whole units between two times (Joda getDifference): 23:00 to 01:00 next day is 0 days; DuckDB counts boundaries (1)',
    overloads: ['(unit, t1, t2) AS date_sub(unit, t1, t2)'],
  },
  {
    name: 'datediff', kind: 'override', trino: 'alias of date_diff',
    overloads: ['(unit, t1, t2) AS date_sub(unit, t1, t2)'],
  },
  {
    name: 'regexp_replace', kind: 'override',
    trino: 'replaces every match (DuckDB: the first only); 2 arguments remove the matches; `$n` in the replacement is group n',
    overloads: [
      `(s, p) AS system.main.regexp_replace(s, p, '', 'g')`,
      `(s, p, r) AS system.main.regexp_replace(s, p, ${TRINO_REPLACEMENT_TO_RE2}, 'g')`,
    ],
    caveat: 'named references `${name}` and group numbers above 9 are not translated; patterns are RE2 (no lookaround, no backreferences)',
  },
  {
    name: 'regexp_extract', kind: 'override',
    trino: 'first match (or its group), NULL when nothing matches (DuckDB returns an empty string)',
    overloads: [
      '(s, p) AS CASE WHEN regexp_matches(s, p) THEN system.main.regexp_extract(s, p) END',
      '(s, p, g) AS CASE WHEN regexp_matches(s, p) THEN system.main.regexp_extract(s, p, g) END',
    ],
    caveat: 'a group that did not take part in the match gives an empty string here, NULL in Trino',
  },
  {
    name: 'split_part', kind: 'override',
    trino: 'field `index` (1-based) of the split string, NULL when index exceeds the number of fields (DuckDB returns an empty string)',
    overloads: ['(s, d, i) AS string_split(s, d)[i]'],
  },
  {
    name: 'element_at', kind: 'override',
    trino: 'array element at a 1-based index (negative counts from the end), NULL out of range; map value for a key, NULL when absent',
    overloads: ['(c, k) AS c[k]'],
    caveat: 'index 0 is an error in Trino, NULL here',
  },
  {
    name: 'cardinality', kind: 'override',
    trino: 'number of elements of an array or entries of a map (DuckDB: maps only)',
    // len() does not bind for a MAP and map_keys() not for a LIST, and a macro's dead CASE branch must still bind;
    // to_json accepts both, and typeof() is folded so only one branch runs.
    overloads: [
      `(c) AS CASE WHEN typeof(c) LIKE 'MAP(%' THEN len(json_keys(to_json(c))) ELSE system.main.json_array_length(to_json(c)) END`,
    ],
  },
  {
    name: 'json_array_length', kind: 'override',
    trino: 'length of a JSON array; NULL when the value is not an array or not valid JSON (DuckDB returns 0 or fails)',
    overloads: [`(j) AS CASE WHEN try(json_type(j)) = 'ARRAY' THEN system.main.json_array_length(j) END`],
  },
  {
    name: 'arbitrary', kind: 'override',
    trino: 'an arbitrary non-NULL value of the group (DuckDB\'s arbitrary is first(), which can be NULL)',
    overloads: ['(x) AS any_value(x)'],
  },
  {
    name: 'min_by', kind: 'override',
    trino: 'x of the row with the smallest y, NULL when that row\'s x is NULL; rows with a NULL y are ignored (DuckDB skips rows whose x is NULL, so the value can come from another row)',
    overloads: ['(x, y) AS arg_min_null(x, y)'],
  },
  {
    name: 'max_by', kind: 'override',
    trino: 'x of the row with the largest y, NULL when that row\'s x is NULL; rows with a NULL y are ignored (DuckDB skips rows whose x is NULL)',
    overloads: ['(x, y) AS arg_max_null(x, y)'],
  },
  {
    name: 'array_position', kind: 'override',
    trino: '1-based position of the first occurrence, 0 when absent (DuckDB returns NULL)',
    overloads: ['(a, x) AS CASE WHEN a IS NULL OR x IS NULL THEN NULL ELSE coalesce(list_position(a, x), 0) END'],
  },
  {
    name: 'array_distinct', kind: 'override',
    trino: 'distinct elements in first-occurrence order, one NULL kept (DuckDB sorts and drops NULLs)',
    overloads: ['(a) AS list_filter(a, lambda e, i: list_position(a, e) = i)'],
  },
  {
    name: 'millisecond', kind: 'override',
    trino: 'millisecond of the second, 0-999 (DuckDB adds the seconds: 0-59999)',
    overloads: ['(t) AS system.main.millisecond(t) % 1000'],
  },
  {
    name: 'date_add', kind: 'override',
    trino: 'date_add(unit, value, timestamp): adds whole units, clamping month ends (2024-01-31 + 1 month = 2024-02-29)',
    overloads: [`(unit, n, t) AS ${DATE_ADD_BODY}`],
    caveat: 'a DATE argument gives a timestamp at midnight (Trino keeps a DATE); comparisons are unaffected',
  },
  {
    name: 'replace', kind: 'override',
    trino: 'replace(string, search) removes every occurrence; with a third argument replaces every occurrence',
    overloads: [`(s, f) AS system.main.replace(s, f, '')`, '(s, f, r) AS system.main.replace(s, f, r)'],
  },
  {
    name: 'concat', kind: 'override',
    trino: 'NULL when any argument is NULL (DuckDB skips NULLs); strings or arrays',
    overloads: nullPropagating('concat', 2, 8),
    caveat: 'up to 8 arguments',
  },
  {
    name: 'greatest', kind: 'override', trino: 'NULL when any argument is NULL (DuckDB ignores NULLs)',
    overloads: nullPropagating('greatest', 2, 6), caveat: 'up to 6 arguments',
  },
  {
    name: 'least', kind: 'override', trino: 'NULL when any argument is NULL (DuckDB ignores NULLs)',
    overloads: nullPropagating('least', 2, 6), caveat: 'up to 6 arguments',
  },
  {
    name: 'sequence', kind: 'override',
    trino: 'integers from start to stop inclusive, stepping +1 or -1 towards stop when no step is given',
    overloads: ['(a, b) AS generate_series(a, b, CASE WHEN a <= b THEN 1 ELSE -1 END)', '(a, b, s) AS generate_series(a, b, s)'],
    caveat: 'integers only (no date or timestamp sequences)',
  },
  // --- missing in DuckDB ---
  {
    name: 'from_iso8601_timestamp', kind: 'added',
    trino: 'timestamp(3) with time zone from ISO-8601 text; no offset means the session zone (UTC)',
    overloads: [`(s) AS date_trunc('millisecond', coalesce(try_cast(s AS TIMESTAMPTZ), CAST(${ISO_NORMALISED} AS TIMESTAMPTZ)))`],
    caveat: 'the value keeps the instant, not the original offset (DuckDB has no per-value zone); basic format 20240101T1200Z is not accepted',
  },
  { name: 'from_iso8601_date', kind: 'added', trino: 'date from ISO-8601 text', overloads: ['(s) AS CAST(s AS DATE)'] },
  {
    name: 'to_iso8601', kind: 'added',
    trino: 'ISO-8601 text: 2024-01-02T03:04:05.000Z for timestamp(3) with time zone in UTC, no zone for a timestamp, YYYY-MM-DD for a date',
    overloads: [
      `(t) AS CASE typeof(t) WHEN 'TIMESTAMP WITH TIME ZONE' THEN strftime(t, '%Y-%m-%dT%H:%M:%S.%gZ') WHEN 'DATE' THEN strftime(t, '%Y-%m-%d') ELSE strftime(t, '%Y-%m-%dT%H:%M:%S.%g') END`,
    ],
    caveat: 'always three fractional digits (Trino prints the type\'s precision, 3 for CloudTrail times)',
  },
  { name: 'to_unixtime', kind: 'added', trino: 'seconds since the epoch as DOUBLE', overloads: ['(t) AS epoch(t)'] },
  {
    name: 'from_unixtime', kind: 'added', trino: 'timestamp with time zone from seconds since the epoch',
    overloads: ['(n) AS to_timestamp(n)'],
  },
  { name: 'day_of_week', kind: 'added', trino: 'ISO day of week, Monday = 1 .. Sunday = 7', overloads: ['(t) AS isodow(t)'] },
  { name: 'dow', kind: 'added', trino: 'alias of day_of_week', overloads: ['(t) AS isodow(t)'] },
  { name: 'day_of_month', kind: 'added', trino: 'day of the month', overloads: ['(t) AS day(t)'] },
  { name: 'day_of_year', kind: 'added', trino: 'day of the year, 1-366', overloads: ['(t) AS dayofyear(t)'] },
  { name: 'doy', kind: 'added', trino: 'alias of day_of_year', overloads: ['(t) AS dayofyear(t)'] },
  { name: 'week_of_year', kind: 'added', trino: 'ISO week of the year (alias of week)', overloads: ['(t) AS week(t)'] },
  { name: 'year_of_week', kind: 'added', trino: 'ISO week-numbering year', overloads: ['(t) AS isoyear(t)'] },
  { name: 'yow', kind: 'added', trino: 'alias of year_of_week', overloads: ['(t) AS isoyear(t)'] },
  { name: 'last_day_of_month', kind: 'added', trino: 'last day of the month, as a date', overloads: ['(t) AS last_day(t)'] },
  {
    name: 'date_format', kind: 'added', trino: 'formats a timestamp with MySQL-style specifiers (%Y-%m-%d %H:%i:%s)',
    overloads: [`(t, f) AS strftime(t, ${mysqlFormatToStrftimeSql('f')})`],
    caveat: 'the format must be a constant (DuckDB requires it)',
  },
  {
    name: 'date_parse', kind: 'added', trino: 'parses text with MySQL-style specifiers into a timestamp',
    overloads: [`(s, f) AS ${DATE_PARSE_BODY}`],
    caveat: `only these formats: ${DATE_PARSE_FORMATS.join(' | ')} (DuckDB checks strptime formats when the macro is created)`,
  },
  {
    name: 'json_extract_scalar', kind: 'added',
    trino: 'the scalar at a JSON path as varchar; NULL for objects, arrays, JSON null, a missing path or malformed JSON',
    overloads: [
      `(j, p) AS CASE WHEN left(try(json_extract_string(j, ${TRINO_JSON_PATH})), 1) IN ('{', '[') AND try(json_type(j, ${TRINO_JSON_PATH})) IN ('OBJECT', 'ARRAY') THEN NULL ELSE try(json_extract_string(j, ${TRINO_JSON_PATH})) END`,
    ],
    caveat: 'numbers come back re-serialised (1e2 -> 100.0) where Trino returns the original text',
  },
  { name: 'json_parse', kind: 'added', trino: 'validates text and returns it as JSON (fails on malformed input)', overloads: ['(s) AS json(s)'] },
  { name: 'json_format', kind: 'added', trino: 'JSON value as its text', overloads: ['(j) AS CAST(j AS VARCHAR)'] },
  {
    name: 'is_json_scalar', kind: 'added', trino: 'true unless the JSON value is an object or an array',
    overloads: [`(j) AS json_type(j) NOT IN ('OBJECT', 'ARRAY')`],
  },
  {
    name: 'json_size', kind: 'added',
    trino: 'size of the object or array at a JSON path, 0 for a scalar, NULL for a missing path or malformed JSON',
    overloads: [
      `(j, p) AS CASE WHEN try(json_type(j, ${TRINO_JSON_PATH})) IS NULL THEN NULL WHEN try(json_type(j, ${TRINO_JSON_PATH})) = 'ARRAY' THEN system.main.json_array_length(j, ${TRINO_JSON_PATH}) WHEN try(json_type(j, ${TRINO_JSON_PATH})) = 'OBJECT' THEN len(json_keys(j, ${TRINO_JSON_PATH})) ELSE 0 END`,
    ],
  },
  {
    name: 'json_array_contains', kind: 'added',
    trino: 'whether a JSON array holds the value (strings match strings, bigint matches integer tokens, double matches float tokens); NULL when not an array',
    // to_json renders the value as the array's elements are rendered: "a", 2, 2.5, true; so an integer matches only
    // integer tokens and a double only float tokens, as in Trino.
    overloads: [`(j, v) AS ${JSON_ARRAY_CONTAINS_BODY}`],
  },
  { name: 'regexp_like', kind: 'added', trino: 'true when the pattern matches anywhere in the string', overloads: ['(s, p) AS regexp_matches(s, p)'] },
  { name: 'regexp_count', kind: 'added', trino: 'number of matches', overloads: ['(s, p) AS len(regexp_extract_all(s, p))'] },
  { name: 'regexp_split', kind: 'added', trino: 'splits on a pattern, keeping empty fields', overloads: ['(s, p) AS regexp_split_to_array(s, p)'] },
  {
    name: 'url_extract_host', kind: 'added', trino: 'host of an absolute URL (java.net.URI), NULL when there is none',
    overloads: [String.raw`(u) AS nullif(system.main.regexp_extract(u, '^[A-Za-z][A-Za-z0-9+.\-]*://(?:[^/?#@]*@)?(\[[^\]]*\]|[^:/?#]*)', 1), '')`],
    caveat: 'does not reject URLs java.net.URI would (spaces, bad escapes): Trino returns NULL for those',
  },
  {
    name: 'approx_distinct', kind: 'added', trino: 'approximate count of distinct values (HyperLogLog, 2.3% standard error)',
    overloads: ['(x) AS count(DISTINCT x)', '(x, e) AS count(DISTINCT x)'],
    caveat: 'exact here, so it can differ from Athena by the estimate\'s error',
  },
  {
    name: 'approx_percentile', kind: 'added', trino: 'approximate percentile (or array of percentiles) of the group',
    overloads: ['(x, p) AS quantile_disc(x, p)'],
    caveat: 'exact nearest-rank here (a value of the group); Athena\'s t-digest may return a neighbouring value',
  },
  {
    name: 'array_join', kind: 'added', trino: 'joins array elements with a delimiter, skipping NULLs unless a replacement is given',
    overloads: [
      '(a, sep) AS array_to_string(a, sep)',
      '(a, sep, nullrep) AS array_to_string(list_transform(a, lambda e: coalesce(CAST(e AS VARCHAR), nullrep)), sep)',
    ],
    caveat: 'use on varchar arrays: doubles print differently (Trino 1.0E0, DuckDB 1.0)',
  },
  {
    name: 'arrays_overlap', kind: 'added', trino: 'true when the arrays share a non-NULL element',
    overloads: ['(a, b) AS list_has_any(a, b)'],
    caveat: 'Trino returns NULL (not false) when there is no common element but a NULL is present',
  },
  { name: 'levenshtein_distance', kind: 'added', trino: 'edit distance between two strings', overloads: ['(a, b) AS levenshtein(a, b)'] },
];

/** Session settings that make DuckDB evaluate like Athena. */
export const ATHENA_SESSION_SETTINGS: readonly string[] = [
  // Athena runs in UTC; DuckDB would otherwise use the machine's zone for TIMESTAMPTZ parts and casts.
  `SET TimeZone = 'UTC'`,
  // Trino divides integers as integers (5 / 2 = 2); DuckDB's default gives 2.5.
  'SET integer_division = true',
];

/** Functions that behave the same natively in DuckDB and in Athena (checked), besides the shims above. */
export const ATHENA_NATIVE_FUNCTIONS: readonly string[] = [
  'abs', 'array_agg', 'avg', 'bool_and', 'bool_or', 'ceil', 'ceiling', 'chr', 'coalesce', 'concat_ws', 'contains',
  'count', 'count_if', 'cume_dist', 'date', 'date_trunc', 'day', 'dense_rank', 'exp', 'filter', 'first_value',
  'floor', 'hour', 'json_extract', 'lag', 'last_value', 'lead', 'length', 'ln', 'log10', 'log2', 'lower', 'lpad',
  'ltrim', 'map_keys', 'map_values', 'max', 'min', 'minute', 'mod', 'month', 'now', 'nth_value',
  'ntile', 'nullif', 'percent_rank', 'power', 'quarter', 'rank', 'regexp_extract_all', 'reverse', 'round',
  'row_number', 'rpad', 'rtrim', 'second', 'sign', 'split', 'sqrt', 'starts_with', 'stddev', 'stddev_pop',
  'stddev_samp', 'strpos', 'substr', 'substring', 'sum', 'trim', 'try', 'upper', 'var_pop', 'var_samp', 'variance',
  'week', 'year',
];

/** Athena features the embedded engine cannot run the same way; detection SQL must stay clear of them. */
export const ATHENA_UNSUPPORTED: readonly AthenaGap[] = [
  {
    feature: 'parse_datetime, format_datetime',
    reason: 'Joda-Time patterns (yyyy-MM-dd) have no DuckDB counterpart a macro could translate reliably',
    instead: 'from_iso8601_timestamp / to_iso8601, or date_parse / date_format with a constant MySQL-style format',
  },
  {
    feature: 'date_format with a non-constant format; date_parse with a format outside its supported list',
    reason: 'DuckDB strftime/strptime require a constant format, and checks strptime\'s when the macro is created',
    instead: 'a literal format; for parsing, from_iso8601_timestamp or one of the date_parse formats in ATHENA_SHIMS',
  },
  {
    feature: 'transform, any_match, all_match, none_match, reduce, zip_with, transform_keys, transform_values, map_filter, regexp_replace with a lambda',
    reason: 'a lambda cannot be passed through a DuckDB macro, and DuckDB has no function of these names',
    instead: 'filter(array, x -> ...) (native in both) with cardinality(...) > 0 for any_match; or json_array_contains',
  },
  {
    feature: 'if(condition, value) with two arguments',
    reason: 'DuckDB parses IF itself and requires three arguments',
    instead: 'if(condition, value, NULL) or CASE WHEN',
  },
  {
    feature: 'CAST(x AS ARRAY(...)), the array(varchar) type syntax',
    reason: 'DuckDB cannot parse Trino\'s ARRAY(type) (ROW(...) and MAP(k, v) parse in both)',
    instead: 'json_extract_scalar, json_array_contains, or CAST(json_parse(x) AS MAP(VARCHAR, VARCHAR))',
  },
  {
    feature: 'CROSS JOIN UNNEST(<array of rows>) AS t(a, b, c), e.g. over resources',
    reason: 'Trino expands the row fields into columns; DuckDB returns one struct column, so `a` silently becomes the whole row',
    instead: 'element_at(resources, 1).arn, or match on requestparameters with json_extract_scalar; UNNEST of scalar arrays is portable',
  },
  {
    feature: 'CAST(varchar AS JSON), CAST(json AS VARCHAR) of a JSON string',
    reason: 'Trino makes a JSON string of the text and unquotes JSON strings; DuckDB parses the text and keeps the quotes',
    instead: 'json_parse(text) and json_extract_scalar(json, \'$\')',
  },
  {
    feature: 'timestamp literals with a zone (TIMESTAMP \'2024-01-01 00:00:00 UTC\'), AT TIME ZONE, with_timezone, at_timezone',
    reason: 'DuckDB turns them into naive timestamps or rejects non-UTC offsets',
    instead: 'from_iso8601_timestamp(\'2024-01-01T00:00:00Z\'); all Amber times are UTC',
  },
  {
    feature: 'IPADDRESS type, contains(cidr, ip), is_subnet_of',
    reason: 'DuckDB has no IP address type without the inet extension, which would need a download',
    instead: 'regexp_like(sourceipaddress, \'^10\\.\') or an explicit list',
  },
  {
    feature: 'varbinary functions: to_utf8, from_utf8, md5, sha256, to_hex, from_hex, to_base64, from_base64',
    reason: 'DuckDB\'s functions of these names take or return text, not varbinary',
    instead: 'compare the text itself; hashing belongs in Amber, not in detection SQL',
  },
  {
    feature: 'format(), listagg(...) WITHIN GROUP, string_agg',
    reason: 'format is Java-style in Trino and fmt-style in DuckDB; listagg/string_agg exist in only one of them',
    instead: 'concat / || and array_join(array_agg(x ORDER BY x), \',\')',
  },
  {
    feature: 'from_unixtime(n, zone), from_unixtime(n, hours, minutes), approx_percentile with weight or accuracy, concat of more than 8 arguments',
    reason: 'not emulated (DuckDB values carry no zone; the other forms are rare)',
    instead: 'from_unixtime(n), approx_percentile(x, p), nested concat',
  },
  {
    feature: 'integer division by zero, json_extract on malformed JSON',
    reason: 'Athena raises an error; DuckDB returns NULL (division) or raises (json_extract); results can differ on bad data',
    instead: 'guard with NULLIF(divisor, 0); CloudTrail free-form fields are always valid JSON',
  },
];

/** The SQL that installs the layer: session settings, then one CREATE OR REPLACE TEMP MACRO per shim. */
export function athenaCompatStatements(): string[] {
  const macros = ATHENA_SHIMS.map((shim) => `CREATE OR REPLACE TEMP MACRO ${shim.name}${shim.overloads.join(',\n  ')}`);
  return [...ATHENA_SESSION_SETTINGS, ...macros];
}

/** Names of every function detection SQL may call and get the same answer from Athena and DuckDB. */
export const ATHENA_PORTABLE_FUNCTIONS: ReadonlySet<string> = new Set([
  ...ATHENA_NATIVE_FUNCTIONS,
  ...ATHENA_SHIMS.map((s) => s.name),
]);

// Words followed by `(` that are SQL syntax, not function calls.
const SQL_WORDS = new Set([
  'all', 'and', 'any', 'array', 'as', 'between', 'by', 'case', 'cast', 'cross', 'distinct', 'else', 'end', 'except',
  'exists', 'extract', 'filter', 'from', 'group', 'having', 'if', 'in', 'intersect', 'interval', 'is', 'join', 'lateral',
  'like', 'map', 'not', 'on', 'or', 'order', 'over', 'partition', 'row', 'select', 'some', 'then', 'try_cast', 'union',
  'unnest', 'using', 'values', 'when', 'where', 'with', 'within',
]);

/**
 * Function names called in a statement that are neither shimmed nor known to match Athena natively. Skips string
 * literals, quoted identifiers, comments, and alias column lists (`AS t(x, n)`), so it reports only real calls.
 */
export function unportableFunctions(sql: string): string[] {
  const found = new Set<string>();
  let previousWord = '';
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i] as string;
    if (ch === "'" || ch === '"') {
      const end = sql.indexOf(ch, i + 1);
      // A doubled quote continues the literal; the next search starts after it.
      let j = end;
      while (j !== -1 && sql[j + 1] === ch) j = sql.indexOf(ch, j + 2);
      i = j === -1 ? sql.length : j + 1;
      previousWord = '';
      continue;
    }
    if (ch === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end + 1;
      continue;
    }
    if (ch === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 2;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i, i + 128));
    if (word) {
      const name = word[0].toLowerCase();
      let k = i + word[0].length;
      while (k < sql.length && /\s/.test(sql[k] as string)) k++;
      const qualified = i > 0 && sql[i - 1] === '.';
      if (sql[k] === '(' && !qualified && previousWord !== 'as' && !SQL_WORDS.has(name) && !ATHENA_PORTABLE_FUNCTIONS.has(name)) {
        found.add(name);
      }
      previousWord = name;
      i += word[0].length;
      continue;
    }
    if (!/\s/.test(ch)) previousWord = '';
    i++;
  }
  return [...found].sort();
}
