/**
 * Stratus Red Team coverage: every AWS, Azure, Entra ID, GCP and CloudTrail-visible EKS technique of the public technique list (our own list
 * of its ids and documented API calls, test/fixtures/stratus/techniques.json) is claimed by at least one detection
 * (`stratus:` in detection.yml), and that detection's must fixture holds records of the technique's documented calls
 * which the detection needs: with those records taken out, it raises fewer findings.
 */
import { cp, readFile, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOGUE_DIR, loadCatalogue, loadDetection, windowedSql, type Detection } from '../../../shared/detections/catalogue.ts';
import { tableTime } from '../../../shared/detections/run.ts';
import { DuckDbQueryEngine } from '../../../shared/query/duckdb-engine.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { loadFixtures, readFixture } from './helpers.ts';

interface TechniqueList {
  readonly techniques: readonly { readonly id: string; readonly calls: readonly string[] }[];
  readonly outOfScope: readonly { readonly id: string; readonly reason: string }[];
}

const LIST = JSON.parse(readFileSync(new URL('../../fixtures/stratus/techniques.json', import.meta.url), 'utf8')) as TechniqueList;
const catalogue = await loadCatalogue();
const scratch = await tempDir('amber-stratus-');

/** The column naming the API call or operation of a record, per table. */
const ACTION_COLUMN: Readonly<Record<string, string>> = {
  cloudtrail: 'eventname',
  azure_activity: 'operation_name',
  entra_audit: 'activity_display_name',
  gcp_audit: 'method_name',
};

const literal = (s: string): string => `'${s.toLowerCase().replace(/'/g, "''")}'`;

/**
 * SQL true for a record of one of the calls: the same name (case aside), the name with an API version suffix
 * (UpdateFunctionConfiguration20150331v2), a longer activity of the same opening ("Update application – ..."),
 * or a fully qualified method ending in it (google.cloud....SecretManagerService.AccessSecretVersion).
 */
function isCall(column: string, calls: readonly string[]): string {
  return calls.map((c) => `(starts_with(lower(${column}), ${literal(c)}) OR ends_with(lower(${column}), ${literal(`.${c}`)}))`).join(' OR ');
}

const platformOf = (id: string): string => id.split('.')[0]!;

describe('Stratus Red Team coverage', () => {
  let engine: DuckDbQueryEngine;

  beforeAll(async () => {
    engine = await DuckDbQueryEngine.create({ threads: 2 });
  });

  afterAll(async () => {
    await engine?.close();
  });

  it('rejects a detection.yml whose stratus list holds something other than technique ids, naming the file and field', async () => {
    // Prepare: a copy of a real detection folder with a misspelt id.
    const folder = join(await tempDir('amber-stratus-bad-'), 'sts-federation-token');
    await cp(join(CATALOGUE_DIR, 'sts-federation-token'), folder, { recursive: true });
    const yml = join(folder, 'detection.yml');
    await writeFile(yml, (await readFile(yml, 'utf8')).replace('stratus: [aws.persistence.sts-federation-token]', 'stratus: [AWS persistence sts federation token]'));

    // Act / Assess
    await expect(loadDetection(folder)).rejects.toThrow(/detection\.yml: field "stratus" must list Stratus Red Team technique ids/);
    expect((await loadDetection(join(CATALOGUE_DIR, 'sts-federation-token'))).stratus).toEqual(['aws.persistence.sts-federation-token']);
  });

  it('lists each technique once, in scope or out of it with a reason, and the catalogue claims no other id', () => {
    // Prepare
    const inScope = LIST.techniques.map((t) => t.id);
    const out = LIST.outOfScope.map((t) => t.id);
    const claimed = new Set(catalogue.flatMap((d) => d.stratus ?? []));

    // Assess
    expect(new Set([...inScope, ...out]).size).toBe(inScope.length + out.length);
    expect(LIST.outOfScope.every((t) => t.reason.length > 40)).toBe(true);
    expect([...claimed].filter((id) => !inScope.includes(id))).toEqual([]);
    expect(LIST.techniques.every((t) => t.calls.length > 0)).toBe(true);
  });

  it('covers every in-scope technique of every cloud', () => {
    // Prepare
    const byPlatform = new Map<string, { total: number; covered: number }>();

    // Act
    for (const t of LIST.techniques) {
      const p = byPlatform.get(platformOf(t.id)) ?? { total: 0, covered: 0 };
      p.total += 1;
      if (catalogue.some((d) => d.stratus?.includes(t.id))) p.covered += 1;
      byPlatform.set(platformOf(t.id), p);
    }
    console.info(`Stratus Red Team coverage: ${[...byPlatform].map(([p, c]) => `${p} ${c.covered}/${c.total}`).join(', ')}; `
      + `out of scope: ${LIST.outOfScope.length} (${[...new Set(LIST.outOfScope.map((t) => platformOf(t.id)))].join(', ')})`);

    // Assess
    expect([...byPlatform.keys()].sort()).toEqual(['aws', 'azure', 'eks', 'entra-id', 'gcp']);
    for (const [platform, c] of byPlatform) expect(c.covered, platform).toBe(c.total);
  });

  describe.each(LIST.techniques.map((t) => [t.id, t] as const))('%s', (id, technique) => {
    it('is caught by a detection whose must fixture needs the technique\'s documented calls', async () => {
      // Prepare
      const claiming: Detection[] = catalogue.filter((d) => d.stratus?.includes(id));
      expect(claiming.map((d) => d.id), `no detection lists ${id} under stratus:`).not.toEqual([]);
      const outcomes: string[] = [];
      let needed = false;

      // Act
      for (const detection of claiming) {
        const column = ACTION_COLUMN[detection.table];
        if (!column) {
          outcomes.push(`${detection.id}: table ${detection.table} has no action column here`);
          continue;
        }
        const match = await readFixture(detection, 'match', scratch);
        await loadFixtures(engine, detection.table, [match]);
        const run = async (source: string): Promise<number> =>
          (await engine.query(windowedSql(detection.sql, detection.table, source, undefined, tableTime(detection.table)))).length;
        const [calls] = await engine.query<{ n: number }>(`SELECT count(*) AS n FROM main.${detection.table} WHERE ${isCall(column, technique.calls)}`);
        const all = await run(`main.${detection.table}`);
        const without = await run(`(SELECT * FROM main.${detection.table} WHERE NOT (${isCall(column, technique.calls)}))`);
        outcomes.push(`${detection.id}: ${Number(calls?.n)} records of ${technique.calls.join('/')}, ${all} findings, ${without} without them`);
        if (Number(calls?.n) > 0 && all > 0 && without < all) needed = true;
      }

      // Assess
      expect(needed, outcomes.join('\n')).toBe(true);
    });
  });
});
