/**
 * The catalogue, table-driven: every detection folder under shared/detections is checked the same way, on its
 * own fixtures, through the product's table loader and the runner's window injection.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOGUE_DIR, FINDING_COLUMNS, SEVERITIES, durationMs, loadCatalogue, windowedSql } from '../../../shared/detections/catalogue.ts';
import { runCatalogue } from '../../../shared/detections/run.ts';
import { unportableFunctions } from '../../../shared/query/athena-compat.ts';
import { DuckDbQueryEngine } from '../../../shared/query/duckdb-engine.ts';
import { assertTrinoSql } from '../../helpers/trino-sql.ts';
import { coveringWindow, deliveryKey, loadFiles, readRecords, runDetection, type FindingRow, type RecordsFile } from './helpers.ts';

const catalogue = await loadCatalogue();

/** The fixture files of a detection, with the evidence keys they are loaded under. */
async function fixturesOf(dir: string, id: string): Promise<{ match: RecordsFile; noMatch: RecordsFile }> {
  const matchPath = join(dir, 'fixtures', 'match.json');
  const noMatchPath = join(dir, 'fixtures', 'no-match.json');
  const match = await readRecords(matchPath);
  const noMatch = await readRecords(noMatchPath);
  return {
    match: { path: matchPath, key: deliveryKey(match, `${id}-match`), records: match },
    noMatch: { path: noMatchPath, key: deliveryKey(noMatch, `${id}-no-match`), records: noMatch },
  };
}

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

  it('ships a catalogue of 18 to 22 detections with unique ids', () => {
    // Assess
    expect(catalogue.length).toBeGreaterThanOrEqual(18);
    expect(catalogue.length).toBeLessThanOrEqual(22);
    expect(new Set(catalogue.map((d) => d.id)).size).toBe(catalogue.length);
    expect(catalogue.every((d) => d.dir.startsWith(CATALOGUE_DIR.replace(/\/$/, '')))).toBe(true);
  });

  describe.each(catalogue.map((d) => [d.id, d] as const))('Detection: %s', (_id, detection) => {
    it('has complete metadata for the cloudtrail table', () => {
      // Assess
      expect(detection.id).toBe(detection.dir.replace(/\/$/, '').split('/').pop());
      expect(SEVERITIES).toContain(detection.severity);
      expect(detection.table).toBe('cloudtrail');
      expect(detection.schedule).toMatch(/^(rate\(1 (minute|hour|day)\)|rate\([1-9]\d* (minutes|hours|days)\)|cron\(.+\))$/);
      expect(durationMs(detection.window)).toBeGreaterThanOrEqual(60 * 60_000);
      expect(detection.falsePositives.length).toBeGreaterThan(0);
      expect(detection.runbook.length).toBeGreaterThan(80);
      expect(detection.mitre.length).toBeGreaterThan(0);
    });

    it('is Athena SQL inside the portable subset, reading only the logical cloudtrail table', () => {
      // Prepare
      const window = { since: new Date('2026-03-14T00:00:00Z'), until: new Date('2026-03-15T00:00:00Z') };
      const { tables, ctes } = tablesRead(detection.sql);

      // Act / Assess
      assertTrinoSql(detection.sql);
      assertTrinoSql(windowedSql(detection.sql, detection.table, '"amber"."cloudtrail"', window));
      expect(unportableFunctions(detection.sql)).toEqual([]);
      expect(tables).toContain('cloudtrail');
      expect(tables.filter((t) => t !== 'cloudtrail' && !ctes.includes(t))).toEqual([]);
      expect(ctes).not.toContain('cloudtrail');
    });

    it('finds exactly tests.match findings on its match fixture, each pointing at a record of that file', async () => {
      // Prepare
      const { match } = await fixturesOf(detection.dir, detection.id);
      await loadFiles(engine, [match]);

      // Act
      const rows = await runDetection(engine, detection);
      const windowed = await runDetection(engine, detection, coveringWindow(match.records));

      // Assess
      expect(rows, show(rows)).toHaveLength(detection.expectedMatches);
      expect(windowed).toEqual(rows);
      for (const row of rows) {
        expect(Object.keys(row)).toEqual([...FINDING_COLUMNS]);
        expect(row.actor, show([row])).toEqual(expect.any(String));
        expect(row.action, show([row])).toEqual(expect.any(String));
        expect(row.detail, show([row])).toEqual(expect.any(String));
        expect(row.event_time, show([row])).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
        expect(row.evidence_key).toBe(match.key);
        expect(Number.isInteger(row.evidence_record)).toBe(true);
        const record = match.records[row.evidence_record as number];
        expect(record?.eventName, show([row])).toBe(row.action);
      }
    });

    it('raises nothing on its no-match fixture', async () => {
      // Prepare
      const { noMatch } = await fixturesOf(detection.dir, detection.id);
      await loadFiles(engine, [noMatch]);

      // Act
      const rows = await runDetection(engine, detection);

      // Assess
      expect(rows, show(rows)).toEqual([]);
    });

    it('adds no finding when the near misses sit beside the matches, windowed as the runner does', async () => {
      // Prepare
      const { match, noMatch } = await fixturesOf(detection.dir, detection.id);
      await loadFiles(engine, [match]);
      const alone = await runDetection(engine, detection);
      await loadFiles(engine, [match, noMatch]);

      // Act
      const run = await runCatalogue(engine, [detection], {
        sources: { cloudtrail: 'main.cloudtrail' },
        sha256ByKey: new Map([[match.key, 'a'.repeat(64)]]),
        window: coveringWindow([...match.records, ...noMatch.records]),
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
