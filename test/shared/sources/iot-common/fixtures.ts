/** Reading the IoT fixtures (test/fixtures/iot/<source>/<variant>/...) and loading parsed rows into DuckDB. */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DuckDbQueryEngine } from '../../../../shared/query/duckdb-engine.ts';
import type { LogSource, SourceParseResult } from '../../../../shared/sources/log-source.ts';
import { loadSourceTable, sourceRowLine } from '../../../../shared/sources/source-table.ts';
import { tempDir } from '../../../helpers/tmp.ts';

export const IOT_FIXTURES = fileURLToPath(new URL('../../../fixtures/iot/', import.meta.url));

/** A fixture's bytes. */
export function fixtureBytes(path: string): Buffer {
  return readFileSync(join(IOT_FIXTURES, path));
}

/** A fixture's text (UTF-8). */
export function fixture(path: string): string {
  return fixtureBytes(path).toString('utf8');
}

/** Non-empty physical lines of a text with their 0-based index, line ends removed. */
export function linesOf(text: string): Array<{ index: number; text: string }> {
  return text
    .split('\n')
    .map((t, index) => ({ index, text: t.replace(/\r$/, '') }))
    .filter((l) => l.text.trim() !== '');
}

/** Loads parsed rows into the source's DuckDB table as the case loader does, under `key`. */
export async function loadParsed(engine: DuckDbQueryEngine, source: LogSource, parsed: readonly { key: string; result: SourceParseResult }[]): Promise<number> {
  const dir = await tempDir('amber-iot-');
  const paths: string[] = [];
  for (const [i, p] of parsed.entries()) {
    const path = join(dir, `${i}.ndjson`);
    await writeFile(path, p.result.rows.map((r) => `${sourceRowLine(p.key, r.index, r.row)}\n`).join(''));
    paths.push(path);
  }
  return loadSourceTable(engine, source, paths);
}
