/** A case opened for analysis on the embedded engine: the locker, its ledger (one writer), DuckDB, tables. */
import { UsageError } from '../../shared/errors.ts';
import { CustodyLedger } from '../../shared/evidence/ledger.ts';
import { LocalObjectStore } from '../../shared/evidence/local-object-store.ts';
import { CachedLocker } from '../../shared/evidence/read-cache.ts';
import type { ObjectStore } from '../../shared/ports/object-store.ts';
import type { AnalysisLocker } from '../../shared/sources/verified-inputs.ts';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Actor } from '../../shared/evidence/model.ts';
import type { Signer } from '../../shared/ports/signer.ts';
import { validateCaseName } from '../../shared/evidence/names.ts';
import { assertCaseExists } from '../../shared/evidence/verify.ts';
import { sha256Hex } from '../../shared/evidence/hashing.ts';
import { loadCatalogue, type Detection, type TimeWindow } from '../../shared/detections/catalogue.ts';
import { withParameters } from '../../shared/detections/parameters.ts';
import { timelineCondition } from '../../shared/timeline/filters.ts';
import { enrichFindings, findingsSha256, RepeatGroups, runCatalogue, sortFindings, type CatalogueRun, type DetectionError, type Finding } from '../../shared/detections/run.ts';
import { applySuppressions, parseSuppressions, type SuppressedFinding, type Suppressions } from '../../shared/detections/suppress.ts';
import { InvalidInputError } from '../../shared/errors.ts';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ANALYTICS, runAnalytics } from '../../shared/analytics/index.ts';
import { MmdbGeoLocator } from '../../shared/geo/mmdb-geo-locator.ts';
import { timelineSql } from '../../shared/timeline/timeline.ts';
import { DuckDbQueryEngine, type DuckDbQueryEngineOptions } from '../../shared/query/duckdb-engine.ts';
import { loadCaseTables, type CaseTables } from '../../shared/sources/case-tables.ts';
import type { InputLimits } from '../../shared/sources/input-scan.ts';
import { formatBytes, ProgressBar, type Io } from './io.ts';
import { actorFrom, lockerSpec, openLocker } from './context.ts';

export interface CaseSession {
  readonly caseName: string;
  /** The locker: a local folder, or a remote locker read through the local cache (writes go to the remote). */
  readonly store: AnalysisLocker;
  /** The local folder of a local locker (outputs may not be written inside it); undefined for a remote one. */
  readonly localRoot?: string;
  readonly ledger: CustodyLedger;
  readonly engine: DuckDbQueryEngine;
  readonly tables: CaseTables;
  readonly actor: Actor;
  /** Anchors what this session recorded, closes DuckDB and releases the case. */
  close(): Promise<void>;
}

/**
 * Where a remote locker's objects are cached for analysis: AMBER_CACHE_DIR, else $XDG_CACHE_HOME/amber/objects,
 * else ~/.cache/amber/objects. Content-addressed by SHA-256, so it can be shared by cases and removed any time.
 */
export function cacheDir(io: Io): string {
  if (io.env.AMBER_CACHE_DIR) return resolve(io.cwd, io.env.AMBER_CACHE_DIR);
  const base = io.env.XDG_CACHE_HOME ? resolve(io.cwd, io.env.XDG_CACHE_HOME) : join(io.env.HOME ?? homedir(), '.cache');
  return join(base, 'amber', 'objects');
}

/**
 * A locker the embedded engine can analyse: a local one as it is; a remote one (s3://, ...) behind the local
 * read-through cache, its objects downloaded once and checked against their custody record before any use.
 */
export async function analysisLocker(store: ObjectStore, io: Io): Promise<AnalysisLocker> {
  if (store instanceof LocalObjectStore) return store;
  const bar = new ProgressBar(io, `fetching from ${store.uri}`);
  return CachedLocker.open(store, cacheDir(io), {
    onProgress: (done, total, bytes) => bar.update(done, total, `${done}/${total} objects, ${formatBytes(bytes)} downloaded`),
  });
}

/** Opens a case for querying, local or remote (engine options: e.g. a thread count, for tests of determinism). */
export async function openCaseSession(caseName: string, lockerFlag: string | undefined, io: Io, engineOptions: DuckDbQueryEngineOptions = {}, signer?: Signer): Promise<CaseSession> {
  validateCaseName(caseName);
  const opened = await openLocker(lockerSpec(lockerFlag, io), io, { create: false });
  await assertCaseExists(opened, caseName);
  const store = await analysisLocker(opened, io);
  const release = await store.lock(`case-${caseName}`);
  let engine: DuckDbQueryEngine | undefined;
  try {
    const actor = actorFrom(io);
    // detect, timeline and report record what they read and wrote: never on top of an unanchored or torn tail,
    // which that record's checkpoint would otherwise anchor as if it were Amber's own.
    // A keyed case needs its key for the `accessed` checkpoint: refused here, before anything is written.
    const ledger = await CustodyLedger.openForWriting(store, caseName, actor, new Date(), signer ? { signer } : {});
    // AMBER_DUCKDB_MEMORY bounds DuckDB (default 1GB; past it, DuckDB spills to a private folder).
    const memoryLimit = io.env.AMBER_DUCKDB_MEMORY;
    engine = await DuckDbQueryEngine.create({ scratchFile: true, ...(memoryLimit ? { memoryLimit } : {}), ...engineOptions });
    // Columnar once: the first query of a case writes its rows to derived Parquet; later ones read only that.
    const tables = await loadCaseTables({ store, ledger, engine, actor, limits: inputLimits(io), columnar: true });
    const ready = engine;
    return {
      caseName,
      store,
      ...(store instanceof LocalObjectStore ? { localRoot: store.root } : {}),
      ledger,
      engine: ready,
      tables,
      actor,
      close: async () => {
        try {
          await ledger.checkpoint();
        } finally {
          await ready.close();
          await release();
          if (store instanceof CachedLocker) await store.close();
        }
      },
    };
  } catch (error) {
    await engine?.close();
    await release();
    if (store instanceof CachedLocker) await store.close();
    throw error;
  }
}

/** Materialises the cross-source timeline once per session (analytics and reports read it). */
export async function timelineTable(session: CaseSession, window?: TimeWindow): Promise<string | undefined> {
  const sql = timelineSql(session.tables.sources);
  if (!sql) return undefined;
  // A windowed run's analytics see only the window's events, as its detections do.
  const within = window ? timelineCondition({ since: window.since, until: window.until }) : undefined;
  await session.engine.exec(`CREATE OR REPLACE TABLE timeline AS ${within ? `SELECT * FROM (${sql}) WHERE ${within.sql}` : sql}`, within?.params ?? []);
  return 'main.timeline';
}

/** What part of the case a run analyses, and with which detection parameters. */
export interface DetectScope {
  /** Only events in [since, until): findings outside it cannot appear. */
  readonly window?: TimeWindow;
  /** Parameter overrides, `detection-id.name` -> value as given (checked by withParameters). */
  readonly parameters?: ReadonlyMap<string, string>;
}

/** A detection run as `detect` and `report` show it: kept findings, and those a suppression rule left out. */
export type SessionRun = CatalogueRun & { detections: number; suppressed: readonly SuppressedFinding[] };

/** Findings enriched from the timeline at a time (each slice's cited records are read, used and let go). */
const ENRICH_SLICE = 10_000;

/**
 * Runs the whole catalogue and the analytics over the session, gives each finding what its cited record
 * says (account, region, user agent, outcome), groups repeats, applies the responder's suppressions, and
 * records the access (with the suppression file's SHA-256) in the ledger. `extra` adds compiled Sigma rules.
 */
export async function detectInSession(session: CaseSession, suppressions?: Suppressions, extra: readonly Detection[] = [], scope: DetectScope = {}): Promise<SessionRun> {
  // `extra`: compiled Sigma rules (amber detect --sigma), run exactly like the catalogue's own detections.
  const detections = [...(await loadCatalogue()), ...extra].map((d) => (scope.parameters ? withParameters(d, scope.parameters) : d));
  const { window } = scope;
  // The timeline first: each detection's findings are enriched from it and grouped as soon as its query returns,
  // so the run holds the findings it reports, never every matching row of every detection at once.
  const timeline = await timelineTable(session, window);
  const tables = Object.values(session.tables.sources).sort();
  const reduce = async (_d: unknown, found: Finding[]): Promise<{ findings: Finding[]; errors: DetectionError[] }> => {
    // Enriched a slice at a time and folded into the groups: what a slice read from the timeline is let go before
    // the next, so memory follows the groups, not the detection's matching records (150k of one detection at 10M).
    const groups = new RepeatGroups();
    const errors: DetectionError[] = [];
    for (let i = 0; i < found.length; i += ENRICH_SLICE) {
      const slice = found.slice(i, i + ENRICH_SLICE);
      const enriched = timeline ? await enrichFindings(session.engine, timeline, slice, tables) : { findings: slice, errors: [] };
      for (const f of enriched.findings) groups.add(f);
      errors.push(...enriched.errors);
    }
    return { findings: groups.result(), errors };
  };
  const sql = await runCatalogue(session.engine, detections, { sources: session.tables.sources, sha256ByKey: session.tables.sha256ByKey, ...(window ? { window } : {}), reduce });
  const analytics = timeline
    ? await runAnalytics(ANALYTICS, { engine: session.engine, timeline, geo: new MmdbGeoLocator() }, session.tables.sha256ByKey)
    : { findings: [], errors: [] };
  // Every source with a table is in the timeline, so every cited record must be found there.
  const analysed = await reduce(undefined, analytics.findings);
  // Groups never span detections: grouping each detection's findings apart gives the groups one pass would.
  const grouped = sortFindings([...sql.findings, ...analysed.findings]);
  const { findings, suppressed } = applySuppressions(grouped, suppressions?.rules ?? []);
  const run = {
    findings,
    suppressed,
    errors: [...sql.errors, ...analytics.errors, ...analysed.errors],
    timings: sql.timings,
    skipped: sql.skipped ?? [],
  };
  await session.ledger.append('accessed', session.actor, new Date(), {
    detail: {
      purpose: 'detect',
      detections: detections.length,
      events: session.tables.events,
      findings: run.findings.length,
      findingsSha256: findingsSha256(run.findings),
      errors: run.errors.length,
      skipped: run.skipped.length,
      ...(window ? { since: window.since.toISOString(), until: window.until.toISOString() } : {}),
      ...(scope.parameters && scope.parameters.size > 0 ? { parameters: Object.fromEntries([...scope.parameters].sort(([a], [b]) => (a < b ? -1 : 1))) } : {}),
      // What the responder's rules left out is as much a part of the run as what they kept.
      ...(suppressions
        ? { suppressionFile: suppressions.file, suppressionSha256: suppressions.sha256, suppressed: suppressed.length, suppressedSha256: findingsSha256(suppressed) }
        : {}),
    },
  });
  // Detections for tables the case has no data for did not run: they do not count as run.
  return { ...run, detections: detections.length + ANALYTICS.length - run.skipped.length };
}

/** Reads `--suppress FILE` (undefined when the flag is absent); its SHA-256 is of the exact bytes read. */
export async function loadSuppressionFile(path: string | undefined, cwd: string): Promise<Suppressions | undefined> {
  if (path === undefined) return undefined;
  const bytes = await readFile(resolve(cwd, path)).catch((error: NodeJS.ErrnoException) => {
    throw new InvalidInputError(`cannot read the suppression file ${path}: ${error.code ?? error.message}`, { hint: 'give --suppress the path of a YAML or JSON file with a `suppress:` list' });
  });
  return parseSuppressions(bytes.toString('utf8'), path, sha256Hex(bytes));
}

/** Total events across tables. */
export function eventCount(tables: CaseTables): number {
  return Object.values(tables.events).reduce((a, b) => a + b, 0);
}

/** The environment variable that sets each input limit (defaults in shared/sources/input-scan.ts and the README). */
export const LIMIT_VARIABLES: Readonly<Record<keyof InputLimits, string>> = {
  maxDepth: 'AMBER_MAX_DEPTH',
  maxRecordBytes: 'AMBER_MAX_RECORD_BYTES',
  maxFieldBytes: 'AMBER_MAX_FIELD_BYTES',
  maxInflatedBytes: 'AMBER_MAX_INFLATED_BYTES',
};

/** Input limits a responder raised (or lowered) for a case whose real records need it. */
export function inputLimits(io: Io): Partial<InputLimits> {
  const limits: Partial<Record<keyof InputLimits, number>> = {};
  for (const [name, variable] of Object.entries(LIMIT_VARIABLES) as Array<[keyof InputLimits, string]>) {
    const raw = io.env[variable];
    if (raw === undefined || raw === '') continue;
    if (!/^[1-9]\d*$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
      throw new UsageError(`${variable}=${JSON.stringify(raw)} is not a positive whole number`, { hint: `set ${variable} to a number of ${name === 'maxDepth' ? 'levels' : 'bytes'}, or unset it for the default` });
    }
    limits[name] = Number(raw);
  }
  return limits;
}
