/**
 * The catalogue, table-driven: every detection folder under shared/detections is checked the same way, on its
 * own fixtures, through the product's table loader and the runner's window injection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGGREGATE_COLUMNS, CATALOGUE_DIR, FINDING_COLUMNS, SEVERITIES, durationMs, loadCatalogue, windowedSql } from '../../../shared/detections/catalogue.ts';
import { runCatalogue, tableTime } from '../../../shared/detections/run.ts';
import { unportableFunctions } from '../../../shared/query/athena-compat.ts';
import { DuckDbQueryEngine } from '../../../shared/query/duckdb-engine.ts';
import { assertTrinoSql } from '../../helpers/trino-sql.ts';
import { LOG_SOURCES } from '../../../shared/sources/registry.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { loadFixtures, readFixture, runDetection, type Fixture, type FindingRow } from './helpers.ts';

const catalogue = await loadCatalogue();
const TABLES = ['cloudtrail', ...LOG_SOURCES.map((s) => s.table)];
const scratch = await tempDir('amber-fixtures-');
const fixturesOf = async (d: (typeof catalogue)[number]): Promise<{ match: Fixture; noMatch: Fixture }> => ({
  match: await readFixture(d, 'match', scratch),
  noMatch: await readFixture(d, 'no-match', scratch),
});

/** Table names a statement reads (after FROM / JOIN), with comments and string literals removed. */
function tablesRead(sql: string): { tables: string[]; ctes: string[] } {
  const bare = sql.replace(/--[^\n]*/g, ' ').replace(/'(?:[^']|'')*'/g, "''");
  const tables = [...bare.matchAll(/\b(?:FROM|JOIN)\s+([A-Za-z_"][\w."]*)(\s*\()?/gi)]
    .filter((m) => !(m[2] && /^unnest$/i.test(m[1] ?? '')))
    .map((m) => (m[1] ?? '').toLowerCase());
  const ctes = [...bare.matchAll(/(?:\bWITH|,)\s*([A-Za-z_]\w*)\s+AS\s*\(/gi)].map((m) => (m[1] ?? '').toLowerCase());
  return { tables, ctes };
}

const show = (rows: readonly FindingRow[]): string => JSON.stringify(rows, null, 2);

describe('Detection catalogue', () => {
  let engine: DuckDbQueryEngine;

  beforeAll(async () => {
    engine = await DuckDbQueryEngine.create({ threads: 2 });
  });

  afterAll(async () => {
    await engine?.close();
  });

  it('ships a catalogue of at least 18 detections with unique ids', () => {
    // Assess
    expect(catalogue.length).toBeGreaterThanOrEqual(18);
    expect(new Set(catalogue.map((d) => d.id)).size).toBe(catalogue.length);
    expect(catalogue.every((d) => d.dir.startsWith(CATALOGUE_DIR.replace(/\/$/, '')))).toBe(true);
  });

  describe.each(catalogue.map((d) => [d.id, d] as const))('Detection: %s', (_id, detection) => {
    it('has complete metadata for a table Amber loads', () => {
      // Assess
      expect(detection.id).toBe(detection.dir.replace(/\/$/, '').split('/').pop());
      expect(SEVERITIES).toContain(detection.severity);
      expect(TABLES).toContain(detection.table);
      expect(detection.schedule).toMatch(/^(rate\(1 (minute|hour|day)\)|rate\([1-9]\d* (minutes|hours|days)\)|cron\(.+\))$/);
      expect(durationMs(detection.window)).toBeGreaterThanOrEqual(60 * 60_000);
      expect(detection.falsePositives.length).toBeGreaterThan(0);
      expect(detection.runbook.length).toBeGreaterThan(80);
      expect(detection.mitre.length).toBeGreaterThan(0);
    });

    it('is Athena SQL inside the portable subset, reading only its logical table', () => {
      // Prepare
      const window = { since: new Date('2026-03-14T00:00:00Z'), until: new Date('2026-03-15T00:00:00Z') };
      const { tables, ctes } = tablesRead(detection.sql);

      // Act / Assess
      assertTrinoSql(detection.sql);
      assertTrinoSql(windowedSql(detection.sql, detection.table, `"amber"."${detection.table}"`, window, tableTime(detection.table)));
      expect(unportableFunctions(detection.sql)).toEqual([]);
      expect(tables).toContain(detection.table);
      expect(tables.filter((t) => t !== detection.table && !ctes.includes(t))).toEqual([]);
      expect(ctes).not.toContain(detection.table);
    });

    it('finds exactly tests.match findings on its match fixture, each pointing at a record of that file', async () => {
      // Prepare
      const { match } = await fixturesOf(detection);
      await loadFixtures(engine, detection.table, [match]);

      // Act
      const rows = await runDetection(engine, detection);
      const windowed = await runDetection(engine, detection, match.window);

      // Assess
      expect(rows, show(rows)).toHaveLength(detection.expectedMatches);
      expect(windowed).toEqual(rows);
      for (const row of rows) {
        // Single-record queries return the 8 columns; aggregates add first_time, last_time and records.
        const aggregate = 'records' in row;
        expect(Object.keys(row)).toEqual(aggregate ? [...FINDING_COLUMNS, ...AGGREGATE_COLUMNS] : [...FINDING_COLUMNS]);
        if (aggregate) {
          const r = row as Record<string, unknown>;
          // The cited record is the group's earliest: its time is the group's first time.
          expect(r.first_time, show([row])).toBe(row.event_time);
          expect(String(r.last_time) >= String(r.first_time), show([row])).toBe(true);
          expect(Number.isInteger(Number(r.records)) && Number(r.records) >= 1, show([row])).toBe(true);
        }
        expect(row.actor, show([row])).toEqual(expect.any(String));
        expect(row.action, show([row])).toEqual(expect.any(String));
        expect(row.detail, show([row])).toEqual(expect.any(String));
        expect(row.event_time, show([row])).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
        expect(row.evidence_key).toBe(match.key);
        expect(match.indexes.has(row.evidence_record as number), show([row])).toBe(true);
        const action = match.actionAt(row.evidence_record as number);
        if (action !== undefined) expect(action, show([row])).toBe(row.action);
      }
    });

    it('raises nothing on its no-match fixture', async () => {
      // Prepare
      const { noMatch } = await fixturesOf(detection);
      await loadFixtures(engine, detection.table, [noMatch]);

      // Act
      const rows = await runDetection(engine, detection);

      // Assess
      expect(rows, show(rows)).toEqual([]);
    });

    it('adds no finding when the near misses sit beside the matches, windowed as the runner does', async () => {
      // Prepare
      const { match, noMatch } = await fixturesOf(detection);
      await loadFixtures(engine, detection.table, [match]);
      const alone = await runDetection(engine, detection);
      await loadFixtures(engine, detection.table, [match, noMatch]);

      // Act
      const run = await runCatalogue(engine, [detection], {
        sources: { [detection.table]: `main.${detection.table}` },
        sha256ByKey: new Map([[match.key, 'a'.repeat(64)]]),
        window: { since: new Date(Math.min(+match.window.since, +noMatch.window.since)), until: new Date(Math.max(+match.window.until, +noMatch.window.until)) },
      });

      // Assess
      expect(run.errors).toEqual([]);
      expect(run.findings).toHaveLength(detection.expectedMatches);
      const pointer = (f: { evidence_key: unknown; evidence_record: unknown; event_time: unknown; actor: unknown }): string =>
        `${String(f.evidence_key)}#${String(f.evidence_record)}@${String(f.event_time)} ${String(f.actor)}`;
      expect(run.findings.map(pointer).sort()).toEqual(alone.map(pointer).sort());
      expect(run.findings.every((f) => f.evidence_sha256 === 'a'.repeat(64))).toBe(true);
    });
  });
});
