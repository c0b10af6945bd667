/**
 * The embedded engine's memory bound: DuckDB runs under memory_limit and spills to a private folder that is gone
 * when the engine closes, so a case larger than the limit still loads and no evidence rows are left on disk.
 */
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { DuckDbQueryEngine } from '../../../shared/query/duckdb-engine.ts';
import { QueryError } from '../../../shared/query/errors.ts';

describe('Class: DuckDbQueryEngine (memory bound)', () => {
  it('runs under a 1GB memory_limit unless told otherwise, and takes the limit it is given', async () => {
    // Prepare
    const byDefault = await DuckDbQueryEngine.create();
    const given = await DuckDbQueryEngine.create({ memoryLimit: '256MB' });

    // Act
    const [a] = await byDefault.query<{ v: string }>("SELECT current_setting('memory_limit') AS v");
    const [b] = await given.query<{ v: string }>("SELECT current_setting('memory_limit') AS v");
    await byDefault.close();
    await given.close();

    // Assess (DuckDB reports the limit in binary units)
    expect(a!.v).toMatch(/^9\d\d\.\d MiB$/);
    expect(b!.v).toMatch(/^2\d\d\.\d MiB$/);
  });

  it('refuses a limit that is not a size, naming the value and the fix', async () => {
    // Act
    const created = DuckDbQueryEngine.create({ memoryLimit: 'lots' });

    // Assess
    await expect(created).rejects.toThrow(QueryError);
    await expect(created).rejects.toThrow(/"lots".*/);
    await expect(created).rejects.toMatchObject({ hint: expect.stringMatching(/AMBER_DUCKDB_MEMORY=2GB/) });
  });

  it('spills a sort larger than the limit to a private folder, finishes, and removes the folder on close', async () => {
    // Prepare
    const engine = await DuckDbQueryEngine.create({ memoryLimit: '64MB', threads: 1 });
    const [setting] = await engine.query<{ dir: string }>("SELECT current_setting('temp_directory') AS dir");
    const dir = setting!.dir;

    // Act: ~250 MB of rows sorted on a 64 MB budget.
    await engine.exec("CREATE TABLE big AS SELECT md5(i::VARCHAR) || repeat('x', 200) AS s FROM range(1000000) t(i) ORDER BY s");
    const [sorted] = await engine.query<{ n: number }>('SELECT count(*) AS n FROM big');
    const mode = (await stat(dir)).mode & 0o777;
    await engine.close();

    // Assess
    expect(sorted!.n).toBe(1000000);
    expect(mode).toBe(0o700);
    expect(existsSync(dir)).toBe(false);
  });

  it('runs what onClose registered when it closes, once', async () => {
    // Prepare
    const engine = await DuckDbQueryEngine.create();
    let calls = 0;
    engine.onClose(async () => {
      calls += 1;
    });

    // Act
    await engine.close();
    await engine.close();

    // Assess
    expect(calls).toBe(1);
  });
  it('keeps a case\'s tables in a database file in its private folder (compressed, evictable), removed on close', async () => {
    // Prepare
    const engine = await DuckDbQueryEngine.create({ scratchFile: true, memoryLimit: '64MB', threads: 1 });
    await engine.exec("CREATE TABLE t AS SELECT i, repeat('evidence row ', 20) || i AS text FROM range(300000) r(i)");

    // Act
    const [db] = await engine.query<{ path: string | null }>('SELECT path FROM duckdb_databases() WHERE database_name = current_database()');
    const [{ n }] = (await engine.query<{ n: number }>('SELECT count(DISTINCT text) AS n FROM t')) as [{ n: number }];
    const folder = db!.path!.slice(0, db!.path!.lastIndexOf('/'));
    const mode = (await stat(folder)).mode & 0o777;
    await engine.close();

    // Assess: a file, not memory; only this user can read its folder; nothing left after close
    expect(db!.path).toMatch(/case\.duckdb$/);
    expect(Number(n)).toBe(300000);
    expect(mode).toBe(0o700);
    expect(existsSync(folder)).toBe(false);
  });
});
