/**
 * The Azure, Entra ID, Microsoft 365 and Google Cloud sources end to end: fixtures of every shape (some gzipped)
 * collected into a case, recognised by content among all registered sources, parsed into derived rows recorded in
 * the ledger, loaded into their tables, and read back as one cross-cloud timeline beside CloudTrail.
 */
import { cp, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectEvidence } from '../../../shared/evidence/collect.ts';
import { CustodyLedger } from '../../../shared/evidence/ledger.ts';
import { LocalEvidenceSource } from '../../../shared/evidence/local-source.ts';
import { LocalObjectStore } from '../../../shared/evidence/local-object-store.ts';
import { DuckDbQueryEngine } from '../../../shared/query/duckdb-engine.ts';
import { loadCaseTables, type CaseTables } from '../../../shared/sources/case-tables.ts';
import { detectSource, LOG_SOURCES } from '../../../shared/sources/registry.ts';
import { queryTimeline } from '../../../shared/timeline/timeline.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { FIXTURES, fixtureText } from './cloud-records/fixtures.ts';

const actor = { principal: 'analyst@test', tool: 'amber/test' };
const CLOUDS = ['azure', 'm365', 'gcp'];
const SOURCE_OF_DIR: Record<string, string> = {
  'azure/azure-activity': 'azure-activity', 'azure/entra-signin': 'entra-signin', 'azure/entra-audit': 'entra-audit', 'm365/m365-audit': 'm365-audit', 'gcp/gcp-audit': 'gcp-audit', 'azure/azure-state': 'azure-state',
};

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(relative(FIXTURES, join(entry.parentPath, entry.name)));
  }
  return out.sort();
}

describe('Use case: loadCaseTables with the Azure, Entra ID, Microsoft 365 and Google Cloud sources', () => {
  let engine: DuckDbQueryEngine;
  let tables: CaseTables;
  let ledger: CustodyLedger;
  let fixtures: string[];

  beforeAll(async () => {
    // Prepare: every fixture of the five sources, the CloudTrail records fixture beside them, and a gzipped copy
    // of one JSON Lines file (the loader inflates before parsing).
    fixtures = (await Promise.all(CLOUDS.map((cloud) => filesUnder(join(FIXTURES, cloud))))).flat();
    const base = await tempDir('amber-cloud-case-');
    const src = join(base, 'src');
    for (const f of fixtures) {
      await mkdir(join(src, f, '..'), { recursive: true });
      await cp(join(FIXTURES, f), join(src, f));
    }
    await mkdir(join(src, 'aws'), { recursive: true });
    await cp(join(FIXTURES, 'aws/cloudtrail/records/123456789012_CloudTrail_us-east-1_20240305T1005Z_AmbrFixtureRec01.json'), join(src, 'aws/records.json'));
    await writeFile(join(src, 'gcp/sink-copy.json.gz'), gzipSync(fixtureText('gcp/gcp-audit/malformed/bad.jsonl')));
    const store = await LocalObjectStore.open(join(base, 'locker'), { create: true });
    await collectEvidence({ store, caseName: 'c', sources: [await LocalEvidenceSource.open(src)], actor });
    ledger = await CustodyLedger.open(store, 'c');
    engine = await DuckDbQueryEngine.create({ threads: 2 });

    // Act
    tables = await loadCaseTables({ store, ledger, engine, actor });
  });

  afterAll(async () => engine?.close());

  it('recognises every fixture as its own source among all registered sources, never ambiguously', () => {
    // Act / Assess
    for (const f of fixtures) {
      const dir = Object.keys(SOURCE_OF_DIR).find((d) => f.startsWith(`${d}/`));
      const found = detectSource(fixtureText(f).slice(0, 65536), f, LOG_SOURCES);
      expect([f, found.source?.id ?? found.reason]).toEqual([f, SOURCE_OF_DIR[dir!]]);
    }
  });

  it('loads every readable record into its table and leaves nothing unrecognised', () => {
    // Assess
    expect(tables.unrecognised).toEqual([]);
    expect(tables.events).toEqual({ cloudtrail: 3, azure_activity: 14, entra_signin: 12, entra_audit: 7, m365_audit: 16, gcp_audit: 15, azure_state: 3 });
    expect(tables.sources).toMatchObject({ azure_activity: 'main.azure_activity', gcp_audit: 'main.gcp_audit' });
  });

  it('reports every record it could not read with the preserved key and the record index', () => {
    // Assess
    const problems = tables.problems.filter((p) => p.key.endsWith('/sink-copy.json.gz'));
    expect(problems).toEqual([
      { key: 'cases/c/src/gcp/sink-copy.json.gz', record: 1, reason: 'line 2: has no protoPayload object: it is not a Cloud Audit Logs entry' },
      { key: 'cases/c/src/gcp/sink-copy.json.gz', record: 2, reason: expect.stringMatching(/^line 3: has a protoPayload of type .*BigQueryAuditMetadata/) },
      { key: 'cases/c/src/gcp/sink-copy.json.gz', record: 4, reason: 'line 5: has no protoPayload.methodName' },
      { key: 'cases/c/src/gcp/sink-copy.json.gz', record: 5, reason: expect.stringMatching(/^line 6: is not valid JSON/) },
    ]);
    const byFile = new Map<string, number>();
    for (const p of tables.problems) byFile.set(p.key, (byFile.get(p.key) ?? 0) + 1);
    expect(Object.fromEntries([...byFile].map(([k, n]) => [k.replace(/^cases\/c\/src\//, ''), n]))).toEqual({
      'azure/azure-activity/malformed/PT1H.json': 5,
      'azure/azure-activity/truncated/records.json': 1,
      'azure/entra-audit/malformed/PT1H.json': 2,
      'azure/entra-signin/malformed/PT1H.json': 4,
      'gcp/gcp-audit/malformed/bad.jsonl': 4,
      'gcp/sink-copy.json.gz': 4,
      'm365/m365-audit/malformed-csv/export.csv': 5,
    });
  });

  it('records each derived copy in the ledger with its parser, rows and problems', () => {
    // Assess
    const derived = ledger.entries.filter((e) => e.action === 'derived').map((e) => e.detail as Record<string, unknown>);
    expect(derived.find((d) => d.from === 'cases/c/src/m365/m365-audit/malformed-csv/export.csv')).toMatchObject({ parser: 'm365-audit', variant: 'search-unifiedauditlog-csv', rows: 2, problems: 5 });
    expect(derived.filter((d) => d.parser !== 'cloudtrail').map((d) => d.parser).sort()).toEqual(fixtures.map((f) => SOURCE_OF_DIR[f.split('/').slice(0, 2).join('/')]).concat('gcp-audit').sort());
  });

  it('reads all five sources and CloudTrail back as one timeline, in time order, correlating one person across clouds', async () => {
    // Act
    const all = await queryTimeline(engine, tables.sources);
    const alice = await queryTimeline(engine, tables.sources, 'alice@contoso.example');

    // Assess
    expect(all).toHaveLength(3 + 14 + 12 + 7 + 16 + 15 + 3);
    expect(new Set(all.map((r) => `${r.cloud}:${r.source}`))).toEqual(new Set(['aws:cloudtrail', 'azure:azure-activity', 'azure:entra-signin', 'azure:entra-audit', 'm365:m365-audit', 'gcp:gcp-audit', 'azure:azure-state']));
    expect(all.map((r) => r.time)).toEqual([...all.map((r) => r.time)].sort());
    expect(all.every((r) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(r.time) && Number.isInteger(r.evidence_record))).toBe(true);
    expect(new Set(alice.map((r) => r.source))).toEqual(new Set(['azure-activity', 'entra-signin', 'm365-audit', 'gcp-audit']));
  });
});
