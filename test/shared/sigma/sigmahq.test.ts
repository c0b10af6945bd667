/**
 * SigmaHQ's cloud rules, read in place at run time (never copied into the repository): every rule of a logsource
 * Amber has a table for either compiles to SQL that parses as Trino and runs on an empty table of its logsource,
 * or is listed with a specific reason. The share compiled per logsource is printed.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { windowedSql } from '../../../shared/detections/catalogue.ts';
import { tableTime } from '../../../shared/detections/run.ts';
import { unportableFunctions } from '../../../shared/query/athena-compat.ts';
import { DuckDbQueryEngine } from '../../../shared/query/duckdb-engine.ts';
import { loadCloudTrailTable } from '../../../shared/query/tables/cloudtrail.ts';
import { loadSigmaRules, type SigmaRuleSet } from '../../../shared/sigma/rules.ts';
import { LOG_SOURCES } from '../../../shared/sources/registry.ts';
import { loadSourceTable } from '../../../shared/sources/source-table.ts';
import { assertTrinoSql } from '../../helpers/trino-sql.ts';

/** The SigmaHQ checkout beside the repository (../shared/data/sigma-cloud-rules from the repository root). */
const RULES = fileURLToPath(new URL('../../../../shared/data/sigma-cloud-rules', import.meta.url));
const present = existsSync(RULES);
if (!present) console.warn(`SigmaHQ rules not found at ${RULES}: the SigmaHQ compile test is skipped`);

const MAPPED = /^(aws\/cloudtrail|azure\/(activitylogs|signinlogs|auditlogs)|gcp\/gcp\.audit|m365\/.+)$/;
/** Reason families the compiler gives; anything else would be an unexplained failure. */
const SPECIFIC = [
  /^Sigma status is (deprecated|unsupported)/,
  /^logsource \S+ has no Amber table/,
  /^field "[^"]+" (has no column in|is a Microsoft Defender for Cloud Apps alert field)/,
  /^field "[^"]+": \S+ is a list; a field of its elements cannot be compared as one value/,
  /^modifier \|\w+ /,
];

describe.skipIf(!present)('SigmaHQ cloud rules', () => {
  let engine: DuckDbQueryEngine;
  let set: SigmaRuleSet;

  beforeAll(async () => {
    set = await loadSigmaRules(RULES);
    engine = await DuckDbQueryEngine.create({ threads: 2 });
    await loadCloudTrailTable(engine, []);
    for (const source of LOG_SOURCES) await loadSourceTable(engine, source, []);
  });
  afterAll(async () => {
    await engine?.close();
  });

  it('compiles every rule of a mapped logsource, or gives a specific reason for it', () => {
    const share = new Map<string, { ok: number; total: number; deprecated: number }>();
    for (const e of set.entries) {
      const s = share.get(e.logsource) ?? { ok: 0, total: 0, deprecated: 0 };
      s.total++;
      if (e.status === 'ok') s.ok++;
      if (e.reason?.startsWith('Sigma status is deprecated')) s.deprecated++;
      share.set(e.logsource, s);
    }
    console.log(
      `SigmaHQ rules compiled per logsource (${RULES}):\n${[...share]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([ls, s]) => `  ${ls.padEnd(28)} ${s.ok}/${s.total - s.deprecated} non-deprecated compiled${s.deprecated ? ` (+${s.deprecated} deprecated, not run)` : ''}`)
        .join('\n')}`,
    );
    const unexplained = set.entries.filter((e) => e.status !== 'ok' && !SPECIFIC.some((re) => re.test(e.reason ?? '')));
    expect(unexplained.map((e) => `${e.file}: ${e.reason}`)).toEqual([]);
    const mapped = set.entries.filter((e) => MAPPED.test(e.logsource) && !e.reason?.startsWith('Sigma status is deprecated'));
    expect(mapped.length).toBeGreaterThan(0);
    expect(mapped.filter((e) => e.status === 'ok').length).toBeGreaterThan(0);
  });

  it('gives every compiled rule SQL that parses as Trino and runs on an empty table of its logsource', async () => {
    expect(set.detections.length).toBeGreaterThan(0);
    const failures: string[] = [];
    for (const d of set.detections) {
      try {
        assertTrinoSql(d.sql);
        const unportable = unportableFunctions(d.sql);
        if (unportable.length > 0) throw new Error(`functions DuckDB and Athena disagree on: ${unportable.join(', ')}`);
        const rows = await engine.query(windowedSql(d.sql, d.table, `main.${d.table}`, undefined, tableTime(d.table)));
        if (rows.length !== 0) throw new Error(`${rows.length} rows from an empty table`);
      } catch (error) {
        failures.push(`${d.dir} (${d.id}): ${(error as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('gives each compiled rule its own detection id, sigma:<rule id>', () => {
    const ids = set.detections.map((d) => d.id);
    expect(ids.every((id) => id.startsWith('sigma:'))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
