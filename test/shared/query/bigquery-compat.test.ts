/**
 * The BigQuery compatibility layer on DuckDB: each emulated function checked on concrete values from BigQuery's
 * documentation, and the lexical rewrite (raw strings, escapes, backquoted paths, SAFE_CAST, UNNEST aliases).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIGQUERY_SHIMS, bigqueryCompatStatements, bigqueryToDuckDb } from '../../../shared/query/bigquery-compat.ts';
import { DuckDbQueryEngine } from '../../../shared/query/duckdb-engine.ts';

describe('Module: bigquery-compat', () => {
  let engine: DuckDbQueryEngine;
  const one = async (bigquery: string): Promise<unknown> => {
    const rows = await engine.query<{ v: unknown }>(bigqueryToDuckDb(`SELECT ${bigquery} AS v`));
    return rows[0]?.v;
  };

  beforeAll(async () => {
    engine = await DuckDbQueryEngine.create({ threads: 1 });
    for (const statement of bigqueryCompatStatements()) await engine.exec(statement);
  });

  afterAll(async () => {
    await engine?.close();
  });

  describe('Method: bigqueryToDuckDb', () => {
    it('reads raw strings verbatim and decodes escaped ones, as BigQuery does', async () => {
      // Act / Assess
      expect(await one(String.raw`r'\d+\.'`)).toBe(String.raw`\d+\.`);
      expect(await one(String.raw`'it\'s\\'`)).toBe("it's\\");
      expect(await one(`"double quoted is a string"`)).toBe('double quoted is a string');
    });

    it('refuses an escape BigQuery would reject, naming the line', () => {
      // Act / Assess
      expect(() => bigqueryToDuckDb("SELECT 1\nWHERE x = '\\{'")).toThrow(/line 2: escape \\\{ is not supported/);
    });

    it('maps a backquoted project.dataset.table path to the local table', async () => {
      // Prepare
      await engine.exec(`CREATE OR REPLACE TABLE gcp_things AS SELECT 'a' AS name UNION ALL SELECT 'b'`);

      // Act
      const rows = await engine.query(bigqueryToDuckDb('SELECT name FROM `amber-evidence.amber.gcp_things` ORDER BY name'));

      // Assess
      expect(rows).toEqual([{ name: 'a' }, { name: 'b' }]);
    });

    it('runs SAFE_CAST as a cast that yields NULL on bad input', async () => {
      // Act / Assess
      expect(await one("SAFE_CAST('x1' AS INT64)")).toBeNull();
      expect(await one("SAFE_CAST('12' AS INT64)")).toBe(12);
    });

    it('names the column of UNNEST(...) AS e after its alias, so ARRAY(SELECT e ...) filters elements', async () => {
      // Act / Assess
      expect(await one("ARRAY(SELECT e FROM UNNEST(['ab', 'b', 'ac']) AS e WHERE STARTS_WITH(e, 'a'))")).toEqual(['ab', 'ac']);
      expect(await one("(SELECT STRING_AGG(DISTINCT e, ',' ORDER BY e) FROM UNNEST(['b', 'a', 'b']) e)")).toBe('a,b');
    });
  });

  describe('Function shims', () => {
    it.each([
      ["REGEXP_CONTAINS('foo@example.com', r'@[a-z]+\\.com$')", true],
      ["REGEXP_CONTAINS(NULL, r'a')", null],
      ["REGEXP_EXTRACT('foo@example.com', r'^[a-z]+')", 'foo'],
      ["REGEXP_EXTRACT('foo@example.com', r'^([a-z]+)@')", 'foo'],
      ["REGEXP_EXTRACT('foo', r'\\d')", null],
      ["REGEXP_EXTRACT_ALL('a1 b22 c', r'([a-z])\\d+')", ['a', 'b']],
      ["REGEXP_EXTRACT_ALL('a1 b22', r'\\d+')", ['1', '22']],
      ["REGEXP_REPLACE('a  b   c', r'\\s+', ' ')", 'a b c'],
      ["REGEXP_REPLACE('ab', r'(a)(b)', r'\\2\\1')", 'ba'],
      [`JSON_VALUE('{"a":{"b":"x"}}', '$.a.b')`, 'x'],
      [`JSON_VALUE('{"a":{"b":"x"}}', '$.a')`, null],
      [`JSON_VALUE('{"a":null}', '$.a')`, null],
      [`JSON_VALUE('not json', '$.a')`, null],
      [`JSON_VALUE('{"n":10}', '$.n')`, '10'],
      [`JSON_QUERY('{"a": [1, 2]}', '$.a')`, '[1,2]'],
      [`JSON_QUERY('{"a": 1}', '$.b')`, null],
      ["TIMESTAMP_DIFF(TIMESTAMP '2026-01-02 01:00:00+00', TIMESTAMP '2026-01-01 23:00:00+00', DAY)", 0],
      ["TIMESTAMP_DIFF(TIMESTAMP '2026-01-01 00:01:30+00', TIMESTAMP '2026-01-01 00:00:00+00', SECOND)", 90],
      ["CONCAT('a', NULL)", null],
      ["CONCAT('a', 'b', 'c')", 'abc'],
      ["ARRAY_LENGTH(['a', 'b'])", 2],
      ["ARRAY_TO_STRING(['a', NULL, 'b'], '; ')", 'a; b'],
      ["SPLIT('a,b')", ['a', 'b']],
      ["TO_JSON_STRING(['a', 'b'])", '["a","b"]'],
      ["FORMAT('%.2f', ROUND(1610612736 / 1073741824.0, 2))", '1.50'],
      ["FORMAT('%.2f', 2.0)", '2.00'],
    ])('%s is %j', async (expression, expected) => {
      // Act / Assess
      expect(await one(expression as string)).toEqual(expected);
    });

    it('states the BigQuery behaviour of every shim', () => {
      // Assess
      for (const shim of BIGQUERY_SHIMS) expect(shim.bigquery.length, shim.name).toBeGreaterThan(15);
    });
  });
});
