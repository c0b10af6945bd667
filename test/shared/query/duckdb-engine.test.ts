import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAmberError } from '../../../shared/errors.ts';
import type { QueryEngine } from '../../../shared/ports/query-engine.ts';
import { DuckDbQueryEngine } from '../../../shared/query/duckdb-engine.ts';
import { QueryError } from '../../../shared/query/errors.ts';

describe('Class: DuckDbQueryEngine', () => {
  let engine: DuckDbQueryEngine;

  beforeAll(async () => {
    engine = await DuckDbQueryEngine.create({ threads: 2 });
  });

  afterAll(async () => {
    await engine.close();
  });

  describe('Method: query', () => {
    it('returns rows as plain objects in column order', async () => {
      // Act
      const rows = await engine.query("SELECT 1 AS a, 'x' AS b, true AS c, NULL AS d");

      // Assess
      expect(rows).toEqual([{ a: 1, b: 'x', c: true, d: null }]);
      expect(Object.keys(rows[0] ?? {})).toEqual(['a', 'b', 'c', 'd']);
    });

    it('turns BIGINT into a number when safe and into a decimal string beyond 2^53', async () => {
      const rows = await engine.query('SELECT CAST(42 AS BIGINT) AS small, CAST(9007199254740993 AS BIGINT) AS big, CAST(-9007199254740993 AS HUGEINT) AS neg');
      expect(rows).toEqual([{ small: 42, big: '9007199254740993', neg: '-9007199254740993' }]);
    });

    it('turns timestamps into ISO-8601 UTC strings, keeping microseconds only when present', async () => {
      const rows = await engine.query(`SELECT
        from_iso8601_timestamp('2024-03-01T12:34:56+02:00') AS tz,
        TIMESTAMP '2024-03-01 10:00:00' AS naive,
        TIMESTAMP '2024-03-01 10:00:00.123456' AS micros,
        TIMESTAMP '1969-12-31 23:59:59.999999' AS before_epoch,
        DATE '2024-03-01' AS d`);
      expect(rows).toEqual([{
        tz: '2024-03-01T10:34:56.000Z',
        naive: '2024-03-01T10:00:00.000Z',
        micros: '2024-03-01T10:00:00.123456Z',
        before_epoch: '1969-12-31T23:59:59.999999Z',
        d: '2024-03-01',
      }]);
    });

    it('turns structs, lists and maps into plain objects and arrays', async () => {
      const rows = await engine.query(`SELECT
        CAST(ROW('a', 1) AS ROW(name VARCHAR, n INTEGER)) AS s,
        ARRAY[ARRAY[1, 2], ARRAY[3]] AS nested,
        MAP(ARRAY['k'], ARRAY[ARRAY['v']]) AS m,
        CAST(1.25 AS DECIMAL(10, 2)) AS dec,
        CAST(0.5 AS DOUBLE) AS dbl`);
      expect(rows).toEqual([{ s: { name: 'a', n: 1 }, nested: [[1, 2], [3]], m: { k: ['v'] }, dec: 1.25, dbl: 0.5 }]);
    });

    it('binds positional parameters, integers as integers', async () => {
      const rows = await engine.query('SELECT ? AS s, ? AS n, ? / 2 AS half, ? AS b, ? AS z LIMIT ?', ['x', 7, 7, false, null, 1]);
      expect(rows).toEqual([{ s: 'x', n: 7, half: 3, b: false, z: null }]);
    });

    it('throws QueryError naming the statement and the cause', async () => {
      // Act
      const failure = await engine.query('SELECT * FROM no_such_table').catch((e: unknown) => e);

      // Assess
      expect(failure).toBeInstanceOf(QueryError);
      expect(isAmberError(failure)).toBe(true);
      expect(failure).toMatchObject({ code: 'QUERY_FAILED', sql: 'SELECT * FROM no_such_table' });
      expect((failure as Error).message).toMatch(/no_such_table[\s\S]*in: SELECT \* FROM no_such_table/);
    });

    it('runs concurrent calls one after another without mixing results', async () => {
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => engine.query<{ v: number }>(`SELECT ${i} AS v`)));
      expect(results.map((r) => r[0]?.v)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    });

    it('keeps working after a failed statement', async () => {
      await expect(engine.query('SELEC 1')).rejects.toBeInstanceOf(QueryError);
      expect(await engine.query('SELECT 2 AS v')).toEqual([{ v: 2 }]);
    });

    it('evaluates in UTC', async () => {
      expect(await engine.query("SELECT current_setting('TimeZone') AS tz, hour(from_iso8601_timestamp('2024-01-01T23:30:00-05:00')) AS h"))
        .toEqual([{ tz: 'UTC', h: 4 }]);
    });
  });

  describe('Method: create', () => {
    it('throws when threads is not a positive integer', async () => {
      await expect(DuckDbQueryEngine.create({ threads: 0 })).rejects.toMatchObject({ code: 'QUERY_FAILED', hint: expect.stringMatching(/threads/) });
    });

    it('keeps tables in a database file across engines', async () => {
      // Prepare
      const dir = await mkdtemp(join(tmpdir(), 'amber-engine-'));
      const path = join(dir, 'case.duckdb');
      const first = await DuckDbQueryEngine.create({ path });
      await first.exec('CREATE TABLE findings AS SELECT 1 AS n');
      await first.close();

      // Act
      const second = await DuckDbQueryEngine.create({ path });
      const rows = await second.query('SELECT n FROM findings');
      await second.close();

      // Assess
      expect(rows).toEqual([{ n: 1 }]);
      await rm(dir, { recursive: true, force: true });
    });

    it('names the path when the database cannot be opened', async () => {
      await expect(DuckDbQueryEngine.create({ path: '/nonexistent-dir/x/case.duckdb' })).rejects.toThrow(/\/nonexistent-dir\/x\/case\.duckdb/);
    });
  });

  describe('Method: close', () => {
    it('is idempotent and makes later queries fail with a hint', async () => {
      // Prepare
      const e: QueryEngine = await DuckDbQueryEngine.create();

      // Act
      await e.close();
      await e.close();

      // Assess
      await expect(e.query('SELECT 1')).rejects.toMatchObject({ code: 'QUERY_FAILED', hint: expect.stringMatching(/create a new/) });
    });
  });
});
