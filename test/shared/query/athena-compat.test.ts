/**
 * Each shim is checked against Trino's documented behaviour on concrete values. Expected values come from the
 * Trino function documentation (examples quoted where the docs give one) or from Trino's implementation (Joda
 * getDifference for date_diff, Jackson token types for json_array_contains). Every expression is also checked to
 * be valid Trino syntax, so these tests cannot drift into DuckDB-only SQL.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ATHENA_NATIVE_FUNCTIONS,
  ATHENA_SHIMS,
  ATHENA_UNSUPPORTED,
  athenaCompatStatements,
  unportableFunctions,
} from '../../../shared/query/athena-compat.ts';
import { DuckDbQueryEngine } from '../../../shared/query/duckdb-engine.ts';
import { assertTrinoSql } from '../../helpers/trino-sql.ts';

let engine: DuckDbQueryEngine;

beforeAll(async () => {
  engine = await DuckDbQueryEngine.create();
});

afterAll(async () => {
  await engine.close();
});

/** Evaluates one Trino expression on DuckDB after checking it is valid Trino syntax. */
async function evaluate(expression: string): Promise<unknown> {
  const sql = `SELECT ${expression} AS v`;
  assertTrinoSql(sql);
  const rows = await engine.query<{ v: unknown }>(sql);
  return rows[0]?.v;
}

type Case = readonly [expression: string, expected: unknown];

function cases(name: string, table: readonly Case[]): void {
  describe(`Function: ${name}`, () => {
    it.each(table)('%s = %j', async (expression, expected) => {
      expect(await evaluate(expression)).toEqual(expected);
    });
  });
}

describe('Module: athena-compat', () => {
  describe('same name, different meaning in DuckDB', () => {
    cases('date_diff (Trino counts whole units, not boundaries)', [
      ["date_diff('day', TIMESTAMP '2024-01-01 23:00:00', TIMESTAMP '2024-01-02 01:00:00')", 0],
      ["date_diff('day', TIMESTAMP '2024-01-01 00:00:00', TIMESTAMP '2024-01-03 00:00:00')", 2],
      ["date_diff('day', TIMESTAMP '2024-01-03 00:00:00', TIMESTAMP '2024-01-01 12:00:00')", -1],
      ["date_diff('hour', from_iso8601_timestamp('2024-01-01T10:59:59Z'), from_iso8601_timestamp('2024-01-01T12:00:00Z'))", 1],
      ["date_diff('second', TIMESTAMP '2024-01-01 00:00:00.900', TIMESTAMP '2024-01-01 00:00:01.100')", 0],
      ["date_diff('week', DATE '2024-01-01', DATE '2024-01-14')", 1],
      // Joda treats a month-end minuend as covering later days: Jan 31 -> Feb 29 is one month.
      ["date_diff('month', DATE '2024-01-31', DATE '2024-02-29')", 1],
      ["date_diff('month', TIMESTAMP '2024-01-31 10:00:00', TIMESTAMP '2024-02-29 09:00:00')", 0],
      ["date_diff('year', DATE '2024-02-29', DATE '2025-02-28')", 1],
      ["date_diff('DAY', DATE '2024-01-01', DATE '2024-01-02')", 1],
      ["datediff('day', TIMESTAMP '2024-01-01 23:00:00', TIMESTAMP '2024-01-02 01:00:00')", 0],
    ]);

    cases('regexp_replace (every match; $n group references)', [
      // Trino docs: regexp_replace('1a 2b 14m', '\d+[ab] ') -> '14m'
      [String.raw`regexp_replace('1a 2b 14m', '\d+[ab] ')`, '14m'],
      // Trino docs: regexp_replace('1a 2b 14m', '(\d+)([ab]) ', '3c$2 ') -> '3ca 3cb 14m'
      [String.raw`regexp_replace('1a 2b 14m', '(\d+)([ab]) ', '3c$2 ')`, '3ca 3cb 14m'],
      [String.raw`regexp_replace('a.b.c', '\.', '\$')`, 'a$b$c'],
      [String.raw`regexp_replace('a-b', '-', '\\')`, 'a\\b'],
      ["regexp_replace('aaa', 'a', 'b')", 'bbb'],
      ["regexp_replace(CAST(NULL AS VARCHAR), 'a', 'b')", null],
    ]);

    cases('regexp_extract (NULL when nothing matches)', [
      // Trino docs: regexp_extract('1a 2b 14m', '\d+') -> '1'; with group 2 of '(\d+)([a-z]+)' -> 'a'
      [String.raw`regexp_extract('1a 2b 14m', '\d+')`, '1'],
      [String.raw`regexp_extract('1a 2b 14m', '(\d+)([a-z]+)', 2)`, 'a'],
      ["regexp_extract('abc', 'x')", null],
      ["regexp_extract('abc', '(x)', 1)", null],
    ]);

    cases('split_part (NULL past the last field)', [
      ["split_part('a,b,c', ',', 2)", 'b'],
      ["split_part('a,b,c', ',', 4)", null],
      ["split_part('a,,c', ',', 2)", ''],
    ]);

    cases('element_at (1-based, negative from the end, NULL out of range; map lookup)', [
      ["element_at(ARRAY['a', 'b', 'c'], 1)", 'a'],
      ["element_at(ARRAY['a', 'b', 'c'], -1)", 'c'],
      ["element_at(ARRAY['a', 'b', 'c'], 4)", null],
      ["element_at(MAP(ARRAY['k1', 'k2'], ARRAY['v1', 'v2']), 'k2')", 'v2'],
      ["element_at(MAP(ARRAY['k1'], ARRAY['v1']), 'missing')", null],
    ]);

    cases('cardinality (arrays and maps)', [
      ["cardinality(ARRAY['a', 'b', 'c'])", 3],
      ['cardinality(ARRAY[1, 2])', 2],
      ["cardinality(MAP(ARRAY['k1', 'k2'], ARRAY[1, 2]))", 2],
      ['cardinality(filter(ARRAY[1, 2, 3], x -> x > 5))', 0],
      ["cardinality(split('a,b,c', ','))", 3],
    ]);

    cases('json_array_length (NULL unless a JSON array)', [
      ["json_array_length('[1, 2, 3]')", 3],
      ["json_array_length('{\"a\": 1}')", null],
      ["json_array_length('{bad')", null],
    ]);

    cases('array_position (0 when absent)', [
      ["array_position(ARRAY['a', 'b'], 'b')", 2],
      ["array_position(ARRAY['a', 'b'], 'z')", 0],
    ]);

    cases('array_distinct (first-occurrence order, one NULL kept)', [
      ['array_distinct(ARRAY[3, 1, 3, NULL, 1, NULL])', [3, 1, null]],
      ["array_distinct(ARRAY['b', 'a', 'b'])", ['b', 'a']],
    ]);

    cases('millisecond (of the second)', [
      ["millisecond(TIMESTAMP '2024-01-01 00:00:05.123')", 123],
      ["millisecond(from_iso8601_timestamp('2024-01-01T00:00:59.999Z'))", 999],
    ]);

    cases('date_add(unit, value, timestamp)', [
      ["date_add('month', 1, TIMESTAMP '2024-01-31 00:00:00')", '2024-02-29T00:00:00.000Z'],
      ["date_add('hour', -2, from_iso8601_timestamp('2024-01-01T01:00:00Z'))", '2023-12-31T23:00:00.000Z'],
      ["date_add('week', 1, TIMESTAMP '2024-01-01 00:00:00')", '2024-01-08T00:00:00.000Z'],
      ["date_add('quarter', 1, TIMESTAMP '2024-11-30 12:00:00')", '2025-02-28T12:00:00.000Z'],
      ["date_add('millisecond', 1500, TIMESTAMP '2024-01-01 00:00:00')", '2024-01-01T00:00:01.500Z'],
    ]);

    cases('replace (two arguments remove)', [
      ["replace('abcabc', 'b')", 'acac'],
      ["replace('abcabc', 'b', 'x')", 'axcaxc'],
    ]);

    cases('concat (NULL when any argument is NULL)', [
      ["concat('a', CAST(NULL AS VARCHAR))", null],
      ["concat('a', 'b', 'c')", 'abc'],
      ['concat(ARRAY[1], ARRAY[2, 3])', [1, 2, 3]],
    ]);

    cases('greatest / least (NULL when any argument is NULL)', [
      ['greatest(1, 5, 3)', 5],
      ['greatest(1, NULL, 3)', null],
      ['least(2, 1)', 1],
      ['least(2, NULL)', null],
    ]);

    cases('sequence (steps towards stop)', [
      ['sequence(1, 3)', [1, 2, 3]],
      ['sequence(3, 1)', [3, 2, 1]],
      ['sequence(1, 10, 4)', [1, 5, 9]],
    ]);

    it('arbitrary returns a non-NULL value of the group (DuckDB\'s arbitrary is first())', async () => {
      // Act
      const rows = await engine.query<{ v: unknown }>('SELECT arbitrary(x) AS v FROM (VALUES (NULL), (7)) AS t(x)');

      // Assess
      expect(rows).toEqual([{ v: 7 }]);
    });

    it('divides integers as integers, as Trino does', async () => {
      expect(await evaluate('7 / 2')).toBe(3);
      expect(await evaluate('7.0 / 2')).toBe(3.5);
    });
  });

  describe('missing in DuckDB', () => {
    cases('from_iso8601_timestamp', [
      // Trino docs example: from_iso8601_timestamp('2020-05-11T11:15:05.055+01:00')
      ["from_iso8601_timestamp('2020-05-11T11:15:05.055+01:00')", '2020-05-11T10:15:05.055Z'],
      ["from_iso8601_timestamp('2024-01-02T03:04:05Z')", '2024-01-02T03:04:05.000Z'],
      ["from_iso8601_timestamp('2020-05-11')", '2020-05-11T00:00:00.000Z'],
      ["from_iso8601_timestamp('2024-01-02T03:04Z')", '2024-01-02T03:04:00.000Z'],
      ["from_iso8601_timestamp('2024-01-02T03Z')", '2024-01-02T03:00:00.000Z'],
      // timestamp(3): sub-millisecond digits are dropped
      ["from_iso8601_timestamp('2024-01-02T03:04:05.123456Z')", '2024-01-02T03:04:05.123Z'],
      ['from_iso8601_timestamp(CAST(NULL AS VARCHAR))', null],
    ]);

    cases('from_iso8601_date / to_iso8601', [
      ["from_iso8601_date('2020-05-11')", '2020-05-11'],
      ["to_iso8601(from_iso8601_timestamp('2024-01-02T03:04:05Z'))", '2024-01-02T03:04:05.000Z'],
      ["to_iso8601(DATE '2024-01-02')", '2024-01-02'],
      ["to_iso8601(TIMESTAMP '2024-01-02 03:04:05.120')", '2024-01-02T03:04:05.120'],
    ]);

    it('to_iso8601 accepts an aggregate argument', async () => {
      const rows = await engine.query<{ v: unknown }>(
        "SELECT to_iso8601(min(from_iso8601_timestamp(t))) AS v FROM (VALUES ('2024-01-02T00:00:00Z'), ('2024-01-01T00:00:00Z')) AS x(t)",
      );
      expect(rows).toEqual([{ v: '2024-01-01T00:00:00.000Z' }]);
    });

    cases('to_unixtime / from_unixtime', [
      ["to_unixtime(from_iso8601_timestamp('1970-01-01T00:01:00.500Z'))", 60.5],
      ['from_unixtime(60)', '1970-01-01T00:01:00.000Z'],
      ['from_unixtime(1709251200)', '2024-03-01T00:00:00.000Z'],
    ]);

    cases('day_of_week and the other date parts', [
      ["day_of_week(DATE '2024-01-07')", 7], // a Sunday: ISO numbering
      ["dow(DATE '2024-01-08')", 1], // a Monday
      ["day_of_month(DATE '2024-02-29')", 29],
      ["day_of_year(DATE '2024-02-01')", 32],
      ["doy(DATE '2024-12-31')", 366],
      ["week_of_year(DATE '2024-12-30')", 1],
      ["year_of_week(DATE '2024-12-30')", 2025],
      ["yow(DATE '2021-01-01')", 2020],
      ["last_day_of_month(DATE '2024-02-10')", '2024-02-29'],
    ]);

    cases('date_format (MySQL specifiers)', [
      ["date_format(TIMESTAMP '2024-01-02 03:04:05', '%Y-%m-%d %H:%i:%s')", '2024-01-02 03:04:05'],
      ["date_format(TIMESTAMP '2024-01-02 15:04:05', '%b %e, %Y %l:%i %p')", 'Jan 2, 2024 3:04 PM'],
      ["date_format(TIMESTAMP '2024-01-02 03:04:05', '%W %M %j')", 'Tuesday January 002'],
      ["date_format(from_iso8601_timestamp('2024-01-02T03:04:05Z'), '%T 100%%')", '03:04:05 100%'],
      ["date_format(TIMESTAMP '2024-01-02 03:04:05.250', '%c/%k %f')", '1/3 250000'],
    ]);

    cases('date_parse (the supported MySQL formats)', [
      ["date_parse('2024-01-02 03:04:05', '%Y-%m-%d %H:%i:%s')", '2024-01-02T03:04:05.000Z'],
      ["date_parse('02/01/2024', '%d/%m/%Y')", '2024-01-02T00:00:00.000Z'],
    ]);

    it('date_format rejects the specifiers Trino does not support', async () => {
      await expect(evaluate("date_format(TIMESTAMP '2024-01-02 03:04:05', '%D')")).rejects.toThrow(/Athena does not support %D/);
    });

    it('date_parse names the supported formats when given another one', async () => {
      await expect(evaluate("date_parse('2024', '%Y')")).rejects.toThrow(/not one of the formats Amber supports offline: %Y-%m-%d %H:%i:%s/);
    });

    cases('json_extract_scalar (scalars only; NULL otherwise)', [
      // Trino docs: json_extract_scalar(json, '$.store.book[0].author')
      ["json_extract_scalar('{\"store\": {\"book\": [{\"author\": \"Nigel Rees\"}]}}', '$.store.book[0].author')", 'Nigel Rees'],
      ["json_extract_scalar('{\"a\": {\"b\": 1}}', '$.a')", null],
      ["json_extract_scalar('{\"a\": [1]}', '$.a')", null],
      ["json_extract_scalar('{\"a\": \"[not an array]\"}', '$.a')", '[not an array]'],
      ["json_extract_scalar('{\"a\": 12}', '$.a')", '12'],
      ["json_extract_scalar('{\"a\": true}', '$.a')", 'true'],
      ["json_extract_scalar('{\"a\": null}', '$.a')", null],
      ["json_extract_scalar('{\"a\": 1}', '$.missing')", null],
      ["json_extract_scalar('{\"a b\": \"x\"}', '$[\"a b\"]')", 'x'],
      ["json_extract_scalar('{not json', '$.a')", null],
      ["json_extract_scalar(CAST(NULL AS VARCHAR), '$.a')", null],
    ]);

    cases('json_parse / json_format / is_json_scalar / json_size', [
      ["json_format(json_parse('{ \"a\" : [1, 2] }'))", '{"a":[1,2]}'],
      ["is_json_scalar('1')", true],
      ["is_json_scalar('\"s\"')", true],
      ["is_json_scalar('[1, 2]')", false],
      ["is_json_scalar('{\"a\": 1}')", false],
      // Trino docs: json_size examples
      ["json_size('{\"x\": {\"a\": 1, \"b\": 2}}', '$.x')", 2],
      ["json_size('{\"x\": [1, 2, 3]}', '$.x')", 3],
      ["json_size('{\"x\": {\"a\": 1, \"b\": 2}}', '$.x.a')", 0],
      ["json_size('{\"x\": 1}', '$.missing')", null],
    ]);

    it('json_parse fails on malformed JSON, as in Trino', async () => {
      await expect(evaluate("json_parse('{bad')")).rejects.toThrow(/Malformed JSON/);
    });

    cases('json_array_contains (strings, integer tokens, float tokens, booleans)', [
      // Trino docs: json_array_contains('[1, 2, 3]', 2) -> true
      ["json_array_contains('[1, 2, 3]', 2)", true],
      ["json_array_contains('[\"a\", \"b\"]', 'b')", true],
      ["json_array_contains('[\"a\", \"b\"]', 'c')", false],
      ["json_array_contains('[1.5, 2.5]', 2.5)", true],
      ["json_array_contains('[1.0]', 1)", false], // a float token does not match a bigint
      ["json_array_contains('[true]', true)", true],
      ["json_array_contains('{\"a\": 1}', 'a')", null],
    ]);

    cases('regexp_like / regexp_count / regexp_split / regexp_extract_all', [
      // Trino docs examples for each
      [String.raw`regexp_like('1a 2b 14m', '\d+b')`, true],
      [String.raw`regexp_count('1a 2b 14m', '\s*[a-z]+\s*')`, 3],
      [String.raw`regexp_split('1a 2b 14m', '\s*[a-z]+\s*')`, ['1', '2', '14', '']],
      [String.raw`regexp_extract_all('1a 2b 14m', '\d+')`, ['1', '2', '14']],
    ]);

    cases('url_extract_host', [
      ["url_extract_host('https://user@Example.com:8443/path?q=1#f')", 'Example.com'],
      ["url_extract_host('http://[2001:db8::1]:80/')", '[2001:db8::1]'],
      ["url_extract_host('example.com/path')", null],
      ["url_extract_host('file:///etc/passwd')", null],
    ]);

    cases('array_join / arrays_overlap / levenshtein_distance', [
      ["array_join(ARRAY['a', NULL, 'b'], ',')", 'a,b'],
      ["array_join(ARRAY['a', NULL, 'b'], ',', 'N')", 'a,N,b'],
      ['arrays_overlap(ARRAY[1, 2], ARRAY[2, 3])', true],
      ['arrays_overlap(ARRAY[1, 2], ARRAY[3])', false],
      ["levenshtein_distance('kitten', 'sitting')", 3],
    ]);

    it('approx_distinct counts distinct non-NULL values (exactly, offline)', async () => {
      const rows = await engine.query<{ v: unknown }>('SELECT approx_distinct(x) AS v FROM (VALUES (1), (1), (2), (NULL)) AS t(x)');
      expect(rows).toEqual([{ v: 2 }]);
    });

    it('approx_percentile returns a value of the group near the requested rank, and accepts an array of percentiles', async () => {
      const rows = await engine.query<{ p50: number; ps: number[] }>(
        'SELECT approx_percentile(x, 0.5) AS p50, approx_percentile(x, ARRAY[0.1, 0.9]) AS ps FROM UNNEST(sequence(1, 100)) AS t(x)',
      );
      expect(rows[0]?.p50).toBe(50);
      expect(rows[0]?.ps).toEqual([10, 90]);
    });
  });

  describe('Athena behaviour DuckDB shares natively', () => {
    cases('native functions relied on by detections', [
      ["strpos('abc', 'c')", 3],
      ["strpos('abc', 'z')", 0],
      ["date_trunc('hour', from_iso8601_timestamp('2024-01-01T10:59:00Z'))", '2024-01-01T10:00:00.000Z'],
      ["contains(ARRAY['a', 'b'], 'b')", true],
      ['filter(ARRAY[1, 2, 3], x -> x > 1)', [2, 3]],
      ["try(CAST('x' AS INTEGER))", null],
      ["try_cast('12' AS INTEGER)", 12],
      ["split('a,b', ',')", ['a', 'b']],
      ["starts_with('arn:aws:iam', 'arn:')", true],
      ["lower('ABC') || upper('d')", 'abcD'],
      ["substr('abcdef', 2, 3)", 'bcd'],
      ["concat_ws(',', 'a', NULL, 'b')", 'a,b'],
      ["json_format(json_extract('{\"a\": {\"b\": 1}}', '$.a'))", '{"b":1}'],
      ["CAST(json_parse('{\"a\": \"x\", \"b\": \"y\"}') AS MAP(VARCHAR, VARCHAR))", { a: 'x', b: 'y' }],
    ]);

    it('count_if, max_by and min_by aggregate as in Trino', async () => {
      const rows = await engine.query('SELECT count_if(x > 1) AS c, max_by(y, x) AS mx, min_by(y, x) AS mn FROM (VALUES (1, \'a\'), (2, \'b\'), (3, \'c\')) AS t(x, y)');
      expect(rows).toEqual([{ c: 2, mx: 'c', mn: 'a' }]);
    });

    it('min_by and max_by return the x of the extreme row even when it is NULL, so every column comes from one record', async () => {
      // Trino keeps a NULL x; DuckDB's own min_by would skip to the next row and mix two records.
      const rows = await engine.query(
        "SELECT min_by(x, y) AS mn, max_by(x, y) AS mx, min_by(x, CASE WHEN y > 1 THEN y END) AS later FROM (VALUES (CAST(NULL AS VARCHAR), 1), ('mid', 2), ('late', 3), (NULL, 4)) AS t(x, y)",
      );
      expect(rows).toEqual([{ mn: null, mx: null, later: 'mid' }]);
    });
  });

  describe('Function: athenaCompatStatements', () => {
    it('installs the macros as TEMP, leaving a database file with DuckDB\'s own meanings', async () => {
      // Prepare
      const dir = await mkdtemp(join(tmpdir(), 'amber-compat-'));
      const path = join(dir, 'cases.duckdb');
      const athena = await DuckDbQueryEngine.create({ path });
      await athena.exec('CREATE TABLE t AS SELECT 1 AS x');
      expect(await athena.query("SELECT regexp_replace('aa', 'a', 'b') AS v")).toEqual([{ v: 'bb' }]);
      await athena.close();

      // Act: a plain DuckDB client opens the same file
      const instance = await DuckDBInstance.create(path);
      const connection = await instance.connect();
      const reader = await connection.runAndReadAll("SELECT regexp_replace('aa', 'a', 'b') AS v, (SELECT count(*) FROM t) AS n");

      // Assess
      expect(reader.getRowObjectsJson()).toEqual([{ v: 'ba', n: '1' }]);
      connection.closeSync();
      instance.closeSync();
      await rm(dir, { recursive: true, force: true });
    });

    it('creates one macro per shim after the session settings', () => {
      const statements = athenaCompatStatements();
      expect(statements[0]).toMatch(/TimeZone = 'UTC'/);
      expect(statements.filter((s) => s.startsWith('CREATE OR REPLACE TEMP MACRO'))).toHaveLength(ATHENA_SHIMS.length);
      expect(new Set(ATHENA_SHIMS.map((s) => s.name)).size).toBe(ATHENA_SHIMS.length);
    });

    it('leaves no function both shimmed and listed as native', () => {
      const shimmed = new Set(ATHENA_SHIMS.map((s) => s.name));
      expect(ATHENA_NATIVE_FUNCTIONS.filter((n) => shimmed.has(n))).toEqual([]);
    });
  });

  describe('Athena features that cannot be emulated', () => {
    it('fails a lambda function with a hint naming the portable alternative', async () => {
      await expect(engine.query('SELECT transform(ARRAY[1], x -> x + 1) AS v')).rejects.toMatchObject({
        code: 'QUERY_FAILED',
        hint: expect.stringMatching(/transform is not available offline.*filter\(array/),
      });
    });

    it('documents every gap with a reason and an alternative', () => {
      for (const gap of ATHENA_UNSUPPORTED) {
        expect(gap.reason.length).toBeGreaterThan(10);
        expect(gap.instead.length).toBeGreaterThan(5);
      }
      const features = ATHENA_UNSUPPORTED.map((g) => g.feature).join(' ');
      for (const name of ['parse_datetime', 'format_datetime', 'date_parse', 'any_match', 'transform']) expect(features).toContain(name);
    });
  });

  describe('Function: unportableFunctions', () => {
    it('reports functions outside the portable subset', () => {
      const sql = "SELECT string_agg(eventname, ','), transform(ARRAY[1], x -> x), lower(eventname) FROM cloudtrail";
      expect(unportableFunctions(sql)).toEqual(['string_agg', 'transform']);
    });

    it('ignores literals, quoted identifiers, comments, syntax words and alias column lists', () => {
      const sql = `-- md5(x) in a comment
SELECT "sha256"(1), 'format(x)' /* to_hex(y) */, CAST(a AS VARCHAR), count(*) FILTER (WHERE b IN (1, 2))
FROM cloudtrail CROSS JOIN UNNEST(split(useragent, ' ')) WITH ORDINALITY AS t(part, n)
WHERE EXISTS (SELECT 1) AND x.y(1) = 1`;
      expect(unportableFunctions(sql)).toEqual([]);
    });
  });
});
