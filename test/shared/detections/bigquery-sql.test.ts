/**
 * Every detection's BigQuery SQL (`query.bigquery.sql`): valid BigQuery syntax for node-sql-parser, and on DuckDB
 * through the BigQuery compatibility layer the same findings, column for column, as its Athena SQL on the same
 * must / must-not fixtures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodeSqlParser from 'node-sql-parser';
import { AGGREGATE_COLUMNS, FINDING_COLUMNS, loadCatalogue, windowedSql, type Detection } from '../../../shared/detections/catalogue.ts';
import { tableTime } from '../../../shared/detections/run.ts';
import { bigqueryCompatStatements, bigqueryToDuckDb } from '../../../shared/query/bigquery-compat.ts';
import { DuckDbQueryEngine } from '../../../shared/query/duckdb-engine.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { loadFixtures, readFixture, runDetection, type FindingRow } from './helpers.ts';

const catalogue = await loadCatalogue();
const withBigQuery = catalogue.filter((d): d is Detection & { bigquerySql: string } => d.bigquerySql !== undefined);
const scratch = await tempDir('amber-bq-fixtures-');
const parser = new nodeSqlParser.Parser();

/** The rows in a total order (the runner's own order), so two engines' answers compare as lists. */
const ordered = (rows: readonly FindingRow[]): FindingRow[] =>
  [...rows].sort((a, b) => String(a.event_time).localeCompare(String(b.event_time)) || String(a.evidence_key).localeCompare(String(b.evidence_key)) || Number(a.evidence_record) - Number(b.evidence_record));

describe('BigQuery detection SQL', () => {
  let engine: DuckDbQueryEngine;
  const runBigQuery = async (detection: Detection & { bigquerySql: string }, window?: { since: Date; until: Date }): Promise<FindingRow[]> =>
    engine.query<FindingRow>(bigqueryToDuckDb(windowedSql(detection.bigquerySql, detection.table, `\`amber-evidence.amber.${detection.table}\``, window, tableTime(detection.table))));

  beforeAll(async () => {
    engine = await DuckDbQueryEngine.create({ threads: 2 });
    for (const statement of bigqueryCompatStatements()) await engine.exec(statement);
  });

  afterAll(async () => {
    await engine?.close();
  });

  it('covers every gcp-* detection', () => {
    // Assess
    const gcp = catalogue.filter((d) => d.id.startsWith('gcp-')).map((d) => d.id);
    expect(gcp.length).toBeGreaterThan(0);
    expect(withBigQuery.map((d) => d.id)).toEqual(expect.arrayContaining(gcp));
  });

  describe.each(withBigQuery.map((d) => [d.id, d] as const))('Detection: %s', (_id, detection) => {
    it('parses as BigQuery SQL, windowed as the scheduled run sends it', () => {
      // Prepare
      const window = { since: new Date('2026-03-14T00:00:00Z'), until: new Date('2026-03-15T00:00:00Z') };
      const sent = windowedSql(detection.bigquerySql, detection.table, `\`amber-evidence.amber.${detection.table}\``, window, tableTime(detection.table));

      // Act / Assess
      expect(() => parser.astify(detection.bigquerySql, { database: 'bigquery' })).not.toThrow();
      expect(() => parser.astify(sent, { database: 'bigquery' })).not.toThrow();
    });

    it('finds on the match fixture exactly what the Athena SQL finds, with the same columns', async () => {
      // Prepare
      const match = await readFixture(detection, 'match', scratch);
      await loadFixtures(engine, detection.table, [match]);
      const athena = await runDetection(engine, detection);

      // Act
      const bigquery = await runBigQuery(detection);
      const windowed = await runBigQuery(detection, match.window);

      // Assess
      expect(bigquery).toHaveLength(detection.expectedMatches);
      // Aggregates (one finding standing for several records) add first_time, last_time and records, as in Athena.
      expect(Object.keys(bigquery[0] ?? {})).toEqual('records' in (athena[0] ?? {}) ? [...FINDING_COLUMNS, ...AGGREGATE_COLUMNS] : [...FINDING_COLUMNS]);
      expect(ordered(bigquery)).toEqual(ordered(athena));
      expect(windowed).toEqual(bigquery);
    });

    it('raises nothing on the no-match fixture', async () => {
      // Prepare
      const noMatch = await readFixture(detection, 'no-match', scratch);
      await loadFixtures(engine, detection.table, [noMatch]);

      // Act
      const rows = await runBigQuery(detection);

      // Assess
      expect(rows).toEqual([]);
    });

    it('gives byte-identical findings on a second run', async () => {
      // Prepare
      const match = await readFixture(detection, 'match', scratch);
      const noMatch = await readFixture(detection, 'no-match', scratch);
      await loadFixtures(engine, detection.table, [match, noMatch]);

      // Act
      const first = JSON.stringify(await runBigQuery(detection));
      const second = JSON.stringify(await runBigQuery(detection));

      // Assess
      expect(second).toBe(first);
    });
  });
});
