/** A case opened for analysis on the embedded engine: the locker, its ledger (one writer), DuckDB, tables. */
import { NotImplementedError } from '../../shared/errors.ts';
import { CustodyLedger } from '../../shared/evidence/ledger.ts';
import { LocalObjectStore } from '../../shared/evidence/local-object-store.ts';
import type { Actor } from '../../shared/evidence/model.ts';
import { validateCaseName } from '../../shared/evidence/names.ts';
import { assertCaseExists } from '../../shared/evidence/verify.ts';
import { canonicalJson } from '../../shared/evidence/canonical-json.ts';
import { sha256Hex } from '../../shared/evidence/hashing.ts';
import { loadCatalogue, type Detection } from '../../shared/detections/catalogue.ts';
import { runCatalogue, sortFindings, type CatalogueRun } from '../../shared/detections/run.ts';
import { ANALYTICS, runAnalytics } from '../../shared/analytics/index.ts';
import { MmdbGeoLocator } from '../../shared/geo/mmdb-geo-locator.ts';
import { timelineSql } from '../../shared/timeline/timeline.ts';
import { DuckDbQueryEngine } from '../../shared/query/duckdb-engine.ts';
import { loadCaseTables, type CaseTables } from '../../shared/sources/case-tables.ts';
import type { Io } from './io.ts';
import { actorFrom, lockerSpec, openLocker } from './context.ts';

export interface CaseSession {
  readonly caseName: string;
  readonly store: LocalObjectStore;
  readonly ledger: CustodyLedger;
  readonly engine: DuckDbQueryEngine;
  readonly tables: CaseTables;
  readonly actor: Actor;
  /** Anchors what this session recorded, closes DuckDB and releases the case. */
  close(): Promise<void>;
}

/** Opens a case of a local locker for querying. */
export async function openCaseSession(caseName: string, lockerFlag: string | undefined, io: Io): Promise<CaseSession> {
  validateCaseName(caseName);
  const store = await openLocker(lockerSpec(lockerFlag, io), io, { create: false });
  if (!(store instanceof LocalObjectStore)) {
    throw new NotImplementedError(`querying an S3 locker (${store.uri}) on the embedded engine is not built yet`, {
      hint: 'collect the case into a local locker (--locker DIR) for offline analysis; Athena tables over S3 lockers come with the AWS deployment',
    });
  }
  await assertCaseExists(store, caseName);
  const release = await store.lock(`case-${caseName}`);
  let engine: DuckDbQueryEngine | undefined;
  try {
    const actor = actorFrom(io);
    const ledger = await CustodyLedger.open(store, caseName);
    engine = await DuckDbQueryEngine.create();
    const tables = await loadCaseTables({ store, ledger, engine, actor });
    const opened = engine;
    return {
      caseName,
      store,
      ledger,
      engine: opened,
      tables,
      actor,
      close: async () => {
        try {
          await ledger.checkpoint();
        } finally {
          await opened.close();
          await release();
        }
      },
    };
  } catch (error) {
    await engine?.close();
    await release();
    throw error;
  }
}

/** Materialises the cross-source timeline once per session (analytics and reports read it). */
export async function timelineTable(session: CaseSession): Promise<string | undefined> {
  const sql = timelineSql(session.tables.sources);
  if (!sql) return undefined;
  await session.engine.exec(`CREATE OR REPLACE TABLE timeline AS ${sql}`);
  return 'main.timeline';
}

/** Runs the whole catalogue and the analytics over the session and records the access in the ledger. */
export async function detectInSession(session: CaseSession, extra: readonly Detection[] = []): Promise<CatalogueRun & { detections: number }> {
  // `extra`: compiled Sigma rules (amber detect --sigma), run exactly like the catalogue's own detections.
  const detections = [...(await loadCatalogue()), ...extra];
  const sql = await runCatalogue(session.engine, detections, { sources: session.tables.sources, sha256ByKey: session.tables.sha256ByKey });
  const timeline = await timelineTable(session);
  const analytics = timeline
    ? await runAnalytics(ANALYTICS, { engine: session.engine, timeline, geo: new MmdbGeoLocator() }, session.tables.sha256ByKey)
    : { findings: [], errors: [] };
  const run: CatalogueRun = {
    findings: sortFindings([...sql.findings, ...analytics.findings]),
    errors: [...sql.errors, ...analytics.errors],
    timings: sql.timings,
    skipped: sql.skipped ?? [],
  };
  await session.ledger.append('accessed', session.actor, new Date(), {
    detail: {
      purpose: 'detect',
      detections: detections.length,
      events: session.tables.events,
      findings: run.findings.length,
      findingsSha256: sha256Hex(canonicalJson(run.findings)),
      errors: run.errors.length,
      skipped: run.skipped?.length ?? 0,
    },
  });
  // Detections for tables the case has no data for did not run: they do not count as run.
  return { ...run, detections: detections.length + ANALYTICS.length - (run.skipped?.length ?? 0) };
}

/** Total events across tables. */
export function eventCount(tables: CaseTables): number {
  return Object.values(tables.events).reduce((a, b) => a + b, 0);
}
