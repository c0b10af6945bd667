/**
 * The BigQuery compatibility layer for DuckDB: BigQuery Standard SQL (GoogleSQL) rewritten token by token into
 * DuckDB SQL, plus TEMP macros prefixed `bq_`, so a detection's `query.bigquery.sql` runs offline on the same
 * fixtures as its Athena SQL and returns the same findings.
 *
 * Why a rewrite and not only macros (as athena-compat.ts does for Trino): BigQuery's lexical rules differ from
 * DuckDB's. `"text"` is a string in BigQuery and an identifier in DuckDB; `'\{'` is an escape in BigQuery and two
 * characters in DuckDB; `r'...'` raw strings and backquoted table paths (`project.dataset.table`) do not exist in
 * DuckDB; `SAFE_CAST` and `TIMESTAMP_DIFF(a, b, SECOND)` are syntax, not calls. The rewrite handles those; every
 * BigQuery function whose DuckDB namesake means something else is renamed to a `bq_` macro, so the Athena macros
 * installed on the same connection keep their meaning.
 *
 * Every shim states the BigQuery behaviour it reproduces (cloud.google.com/bigquery/docs/reference/standard-sql);
 * test/shared/query/bigquery-compat.test.ts checks each one on concrete values.
 */
import { InvalidInputError } from '../errors.ts';

/** One BigQuery function emulated on DuckDB. */
export interface BigQueryShim {
  /** BigQuery function name (lower case); calls to it are renamed to `bq_<name>`. */
  readonly name: string;
  /** What BigQuery does, which the macro reproduces. */
  readonly bigquery: string;
  /** Macro overloads: `(params) AS body`. */
  readonly overloads: readonly string[];
  readonly caveat?: string;
}

// A pattern holds a capturing group when it has a `(` that is neither escaped nor the start of `(?...)`.
const HAS_GROUP = String.raw`regexp_matches(p, '(^|[^\\])\((?:[^?]|$)')`;

const nullPropagatingConcat = (from: number, to: number): string[] => {
  const out: string[] = [];
  for (let n = from; n <= to; n++) {
    const args = Array.from({ length: n }, (_, i) => `a${i + 1}`);
    out.push(`(${args.join(', ')}) AS CASE WHEN ${args.map((a) => `${a} IS NULL`).join(' OR ')} THEN NULL ELSE system.main.concat(${args.join(', ')}) END`);
  }
  return out;
};

/** Every BigQuery function Amber emulates on DuckDB. */
export const BIGQUERY_SHIMS: readonly BigQueryShim[] = [
  { name: 'regexp_contains', bigquery: 'true when the RE2 pattern matches anywhere in the value; NULL for a NULL value', overloads: ['(s, p) AS regexp_matches(s, p)'] },
  {
    name: 'regexp_extract', bigquery: 'the first match, or its capturing group when the pattern has one; NULL when nothing matches',
    overloads: [`(s, p) AS CASE WHEN regexp_matches(s, p) THEN (CASE WHEN ${HAS_GROUP} THEN system.main.regexp_extract(s, p, 1) ELSE system.main.regexp_extract(s, p, 0) END) END`],
    caveat: 'a group is recognised by an unescaped `(` not followed by `?`; a `\\\\(` (escaped backslash, then a group) is misread',
  },
  {
    name: 'regexp_extract_all', bigquery: 'every match (or its capturing group), an empty array when nothing matches',
    overloads: [`(s, p) AS CASE WHEN s IS NULL THEN NULL WHEN ${HAS_GROUP} THEN system.main.regexp_extract_all(s, p, 1) ELSE system.main.regexp_extract_all(s, p, 0) END`],
  },
  { name: 'regexp_replace', bigquery: 'replaces every match; `\\1` in the replacement is group 1', overloads: [`(s, p, r) AS system.main.regexp_replace(s, p, r, 'g')`] },
  {
    name: 'json_value', bigquery: 'the scalar at a JSONPath as STRING; NULL for an object, an array, JSON null, a missing path or malformed JSON',
    overloads: [`(j, p) AS CASE WHEN try(json_type(j, p)) IN ('OBJECT', 'ARRAY', 'NULL') THEN NULL ELSE try(json_extract_string(j, p)) END`],
  },
  {
    name: 'json_query', bigquery: 'the JSON value at a JSONPath as compact JSON text; NULL for a missing path or malformed JSON',
    overloads: [`(j, p) AS CAST(try(json_extract(j, p)) AS VARCHAR)`],
  },
  { name: 'to_json_string', bigquery: 'a value as compact JSON text', overloads: ['(x) AS CAST(to_json(x) AS VARCHAR)'] },
  {
    name: 'timestamp_diff', bigquery: 'whole units from the second timestamp to the first (TIMESTAMP_DIFF(later, earlier, SECOND) > 0)',
    overloads: ['(a, b, unit) AS date_sub(unit, b, a)'],
  },
  { name: 'timestamp_sub', bigquery: 'a timestamp minus an INTERVAL', overloads: ['(t, i) AS t - i'] },
  { name: 'timestamp_add', bigquery: 'a timestamp plus an INTERVAL', overloads: ['(t, i) AS t + i'] },
  { name: 'timestamp', bigquery: 'TIMESTAMP from ISO-8601 text (UTC when no zone is given)', overloads: ['(s) AS CAST(s AS TIMESTAMPTZ)'] },
  { name: 'array_length', bigquery: 'number of elements; NULL for a NULL array', overloads: ['(a) AS len(a)'] },
  { name: 'array_to_string', bigquery: 'joins the elements with a delimiter, skipping NULLs', overloads: ['(a, sep) AS system.main.array_to_string(a, sep)'] },
  { name: 'logical_or', bigquery: 'true when any value of the group is true', overloads: ['(x) AS bool_or(x)'] },
  { name: 'logical_and', bigquery: 'true when every value of the group is true', overloads: ['(x) AS bool_and(x)'] },
  { name: 'countif', bigquery: 'rows of the group where the condition holds', overloads: ['(x) AS count_if(x)'] },
  { name: 'concat', bigquery: 'NULL when any argument is NULL (DuckDB skips NULLs)', overloads: nullPropagatingConcat(1, 8), caveat: 'up to 8 arguments' },
  { name: 'split', bigquery: 'splits text on a delimiter (default `,`)', overloads: ["(s) AS string_split(s, ',')", '(s, d) AS string_split(s, d)'] },
  { name: 'format', bigquery: 'printf-style text from a format string (%s, %d, %.2f with two decimals)', overloads: ['(f, a) AS printf(f, a)'], caveat: 'one value after the format only' },
  { name: 'format_timestamp', bigquery: 'formats a timestamp with strftime specifiers, in UTC', overloads: ['(f, t) AS strftime(t, f)', "(f, t, z) AS strftime(timezone(z, t), f)"], caveat: '%E*S and %Ez are not translated' },
];

/** BigQuery features the layer does not emulate, with the portable way to write them. */
export const BIGQUERY_UNSUPPORTED: readonly { readonly feature: string; readonly instead: string }[] = [
  { feature: 'arr[OFFSET(n)] / arr[SAFE_OFFSET(n)]', instead: 'ARRAY_TO_STRING or a scalar subquery over UNNEST' },
  { feature: 'UNNEST ... WITH OFFSET', instead: 'STRING_AGG(x ORDER BY x) or ARRAY(SELECT ... ORDER BY a total key)' },
  { feature: 'QUALIFY', instead: 'a subquery with a WHERE on the window function (node-sql-parser rejects QUALIFY without WHERE too)' },
  { feature: 'STRUCT(x AS name) literals', instead: 'JSON text built with CONCAT, or separate columns' },
  { feature: 'triple-quoted strings', instead: "single-line r'...' raw strings" },
];

/** Date parts TIMESTAMP_DIFF and friends take as bare words; turned into strings for the macros. */
const DATE_PARTS = new Set(['MICROSECOND', 'MILLISECOND', 'SECOND', 'MINUTE', 'HOUR', 'DAY', 'WEEK', 'MONTH', 'QUARTER', 'YEAR']);
const NOT_ALIASES = new Set(['where', 'join', 'on', 'group', 'order', 'limit', 'cross', 'left', 'inner', 'union', 'with', 'having', 'window']);
const RENAMED = new Map(BIGQUERY_SHIMS.map((s) => [s.name, `bq_${s.name}`]));

/** The statements that install the `bq_` macros on a DuckDB connection (TEMP: never written into a database file). */
export function bigqueryCompatStatements(): string[] {
  return BIGQUERY_SHIMS.map((s) => `CREATE OR REPLACE TEMP MACRO bq_${s.name} ${s.overloads.join(', ')}`);
}

type Token =
  | { kind: 'ws' | 'comment' | 'punct' | 'other'; text: string }
  | { kind: 'ident'; text: string }
  | { kind: 'string'; value: string }
  | { kind: 'path'; parts: string[] };

/** Error for SQL the layer cannot read, naming the position. */
function unreadable(sql: string, at: number, what: string): never {
  const line = sql.slice(0, at).split('\n').length;
  throw new InvalidInputError(`BigQuery SQL line ${line}: ${what}`, { hint: 'keep detection SQL within what shared/query/bigquery-compat.ts documents' });
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '`': '`', '?': '?' };

function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    const rest = sql.slice(i);
    let m: RegExpExecArray | null;
    if ((m = /^\s+/.exec(rest))) {
      out.push({ kind: 'ws', text: m[0] });
    } else if ((m = /^(?:--|#)[^\n]*/.exec(rest))) {
      out.push({ kind: 'comment', text: `--${m[0].replace(/^(--|#)/, '')}` });
    } else if ((m = /^\/\*[\s\S]*?\*\//.exec(rest))) {
      out.push({ kind: 'comment', text: m[0] });
    } else if (/^('''|""")/.test(rest)) {
      unreadable(sql, i, 'triple-quoted strings are not supported');
    } else if ((m = /^[rR](['"])/.exec(rest))) {
      const q = m[1]!;
      const end = sql.indexOf(q, i + 2);
      if (end < 0) unreadable(sql, i, 'unterminated raw string');
      out.push({ kind: 'string', value: sql.slice(i + 2, end) });
      m = { 0: sql.slice(i, end + 1) } as RegExpExecArray;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      let value = '';
      for (;;) {
        if (j >= sql.length) unreadable(sql, i, 'unterminated string');
        const d = sql[j]!;
        if (d === c) break;
        if (d === '\\') {
          const e = sql[j + 1] ?? '';
          const mapped = ESCAPES[e];
          if (mapped === undefined) unreadable(sql, j, `escape \\${e} is not supported (use a raw string r'...' for regular expressions)`);
          value += mapped;
          j += 2;
        } else {
          value += d;
          j++;
        }
      }
      out.push({ kind: 'string', value });
      m = { 0: sql.slice(i, j + 1) } as RegExpExecArray;
    } else if (c === '`') {
      const end = sql.indexOf('`', i + 1);
      if (end < 0) unreadable(sql, i, 'unterminated backquoted name');
      out.push({ kind: 'path', parts: sql.slice(i + 1, end).split('.') });
      m = { 0: sql.slice(i, end + 1) } as RegExpExecArray;
    } else if ((m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest))) {
      out.push({ kind: 'ident', text: m[0] });
    } else if ((m = /^[(),]/.exec(rest))) {
      out.push({ kind: 'punct', text: m[0] });
    } else {
      m = /^(?:\d+(?:\.\d+)?|<>|!=|<=|>=|\|\||.)/.exec(rest)!;
      out.push({ kind: 'other', text: m[0] });
    }
    i += m[0].length;
  }
  return out;
}

const quoteString = (v: string): string => `'${v.replace(/'/g, "''")}'`;
const quoteIdent = (v: string): string => `"${v.replace(/"/g, '""')}"`;

/**
 * Rewrites BigQuery Standard SQL into DuckDB SQL over local tables: a backquoted path `project.dataset.table`
 * becomes the local table `table`; strings (raw or escaped) become DuckDB strings; `SAFE_CAST` becomes TRY_CAST;
 * `UNNEST(x) AS e` names its column `e` as BigQuery does; emulated functions become their `bq_` macros.
 */
export function bigqueryToDuckDb(sql: string): string {
  const tokens = tokenize(sql);
  const significant = (from: number, step: 1 | -1): Token | undefined => {
    for (let k = from; k >= 0 && k < tokens.length; k += step) if (tokens[k]!.kind !== 'ws' && tokens[k]!.kind !== 'comment') return tokens[k];
    return undefined;
  };
  const unnestDepths: number[] = [];
  let depth = 0;
  let pendingUnnestAlias = false;
  let out = '';
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (t.kind === 'string') out += quoteString(t.value);
    // `project.dataset.table` is the local table in the main schema (a CTE of the same name may shadow a bare name).
    else if (t.kind === 'path') out += t.parts.length > 1 ? `main.${quoteIdent(t.parts[t.parts.length - 1]!)}` : quoteIdent(t.parts[0]!);
    else if (t.kind === 'ident') {
      const lower = t.text.toLowerCase();
      const next = significant(k + 1, 1);
      const prev = significant(k - 1, -1);
      const isCall = next?.kind === 'punct' && next.text === '(';
      if (pendingUnnestAlias && lower !== 'as' && !NOT_ALIASES.has(lower)) {
        out += `${t.text}(${t.text})`;
        pendingUnnestAlias = false;
        continue;
      }
      if (isCall && lower === 'safe_cast') out += 'TRY_CAST';
      else if (isCall && lower === 'unnest') {
        out += t.text;
        unnestDepths.push(depth + 1);
      } else if (isCall && RENAMED.has(lower)) out += RENAMED.get(lower)!;
      else if (DATE_PARTS.has(t.text.toUpperCase()) && prev?.kind === 'punct' && prev.text === ',' && next?.kind === 'punct' && next.text === ')') {
        out += quoteString(t.text.toLowerCase());
      } else out += t.text;
      if (lower !== 'as') pendingUnnestAlias = false;
    } else if (t.kind === 'punct') {
      if (t.text === '(') depth++;
      if (t.text === ')') {
        if (unnestDepths[unnestDepths.length - 1] === depth) {
          unnestDepths.pop();
          pendingUnnestAlias = true;
          out += ')';
          depth--;
          continue;
        }
        depth--;
      }
      pendingUnnestAlias = false;
      out += t.text;
    } else {
      if (t.kind === 'other') pendingUnnestAlias = false;
      out += t.text;
    }
  }
  return out;
}

/** Table names (last path segment, lower case) a BigQuery statement reads through backquoted paths. */
export function bigqueryTablePaths(sql: string): string[] {
  return tokenize(sql).flatMap((t) => (t.kind === 'path' ? [t.parts.join('.')] : []));
}
