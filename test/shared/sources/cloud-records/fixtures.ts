/**
 * Shared test helpers of the Azure, Entra ID, Microsoft 365 and Google Cloud sources: read a fixture as the loader
 * would (gunzipped), parse it under a realistic key, and load parsed rows into DuckDB through the product's own
 * table loader, so tests see the table exactly as detections do.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { LogSource, SourceParseResult } from '../../../../shared/sources/log-source.ts';
import { loadSourceTable, sourceRowLine } from '../../../../shared/sources/source-table.ts';
import type { DuckDbQueryEngine } from '../../../../shared/query/duckdb-engine.ts';
import { timelineSql } from '../../../../shared/timeline/timeline.ts';
import { tempDir } from '../../../helpers/tmp.ts';

/** test/fixtures, absolute. */
export const FIXTURES = fileURLToPath(new URL('../../../fixtures/', import.meta.url));

/** A fixture's text, gunzipped when it is gzip (the loader does that before parse). */
export function fixtureText(relative: string): string {
  const bytes = readFileSync(join(FIXTURES, relative));
  return (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8');
}

/** Parses a fixture with a source under the key it would have in a case. */
export function parseFixture(source: LogSource, relative: string): SourceParseResult {
  return source.parse(fixtureText(relative), `cases/c1/${relative}`);
}

/** Loads parsed results into the source's table (replacing it) as the case loader does; returns the row count. */
export async function loadParsed(engine: DuckDbQueryEngine, source: LogSource, results: ReadonlyArray<{ key: string; result: SourceParseResult }>): Promise<number> {
  const dir = await tempDir('amber-cloud-rows-');
  const paths: string[] = [];
  for (const [i, { key, result }] of results.entries()) {
    const path = join(dir, `${i}.ndjson`);
    await writeFile(path, result.rows.map((r) => `${sourceRowLine(key, r.index, r.row)}\n`).join(''));
    paths.push(path);
  }
  return loadSourceTable(engine, source, paths);
}

/** The case timeline over one source's table, composed by shared/timeline/timeline.ts as `amber timeline` does. */
export function sourceTimeline(source: LogSource): string {
  const sql = timelineSql({ [source.table]: `main.${source.table}` });
  if (sql === undefined) throw new Error(`${source.id} is not registered: the timeline does not read ${source.table}`);
  return `SELECT * FROM (${sql}) ORDER BY time, evidence_key, evidence_record`;
}

/** Every string the hostile fixtures carry, kept exact end to end. */
export const HOSTILE = '=cmd|\' /C calc\'!A0 "quoted" \\back\\slash\u0000nul \u202egnp.exe 👾 \'; DROP TABLE x; -- </script><script>alert(1)</script>';
