/**
 * `runDetections` in Azure: the detection catalogue on the embedded DuckDB engine, inside the timer-triggered
 * function, over the preserved objects of each case and the events of the window before the scheduled time.
 *
 * DuckDB reads local files, so each case is first staged into a private temporary locker: every object under
 * `cases/<case>/` copied from the evidence store, each hashed in the copying pass and checked against the SHA-256
 * the case's ledger records for it (a mismatch or a missing object stops that case's analysis with IntegrityError
 * naming the object; the other cases go on). The case's tables are then loaded exactly as `amber detect` loads
 * them (every object verified again as it is read) and runScheduledDetections writes the findings JSON to the
 * evidence store and records an `accessed` entry in the ledger of every case the findings cite. The staged copy,
 * and what loading derives in it, is removed afterwards: the evidence store is the only record.
 *
 * The scheduled time is the invocation time rounded down to the window (PT1H: the hour), so a retried
 * invocation computes the same run id and writes nothing twice.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { durationMs, type Detection } from '../../shared/detections/catalogue.ts';
import { runScheduledDetections, type ScheduledRunResult } from '../../shared/detections/scheduled-run.ts';
import { IntegrityError, isAmberError } from '../../shared/errors.ts';
import { CustodyLedger } from '../../shared/evidence/ledger.ts';
import { LocalObjectStore } from '../../shared/evidence/local-object-store.ts';
import type { Actor } from '../../shared/evidence/model.ts';
import { casePrefix, ledgerKey } from '../../shared/evidence/names.ts';
import type { ObjectStore } from '../../shared/ports/object-store.ts';
import type { Signer } from '../../shared/ports/signer.ts';
import { DuckDbQueryEngine } from '../../shared/query/duckdb-engine.ts';
import { loadCaseTables } from '../../shared/sources/case-tables.ts';

export interface DetectCasesOptions {
  readonly store: ObjectStore;
  readonly catalogue: readonly Detection[];
  readonly actor: Actor;
  /** ISO-8601 duration looked back from the scheduled time. */
  readonly window: string;
  readonly signer?: () => Promise<Signer>;
  /** @default () => new Date() */
  readonly clock?: () => Date;
  /** DuckDB threads. @default DuckDB's */
  readonly threads?: number;
}

/** One case's run, or why it did not run. */
export type CaseRun =
  | { readonly case: string; readonly status: 'analysed'; readonly events: Readonly<Record<string, number>>; readonly result: ScheduledRunResult }
  | { readonly case: string; readonly status: 'skipped'; readonly reason: string }
  | { readonly case: string; readonly status: 'failed'; readonly code: string; readonly message: string };

/** The scheduled time of an invocation at `now`: rounded down to a whole window. */
export function scheduledTimeFor(now: Date, window: string): string {
  const ms = durationMs(window);
  return new Date(Math.floor(now.getTime() / ms) * ms).toISOString();
}

/** Case names in the store (`cases/<name>/...`), sorted. */
async function caseNames(store: ObjectStore): Promise<string[]> {
  const names = new Set<string>();
  for await (const obj of store.list('cases/')) {
    const name = obj.key.split('/')[1];
    if (name) names.add(name);
  }
  return [...names].sort();
}

/** Copies a case into `local`, hashing every object and checking it against the ledger's record. */
async function stageCase(store: ObjectStore, local: LocalObjectStore, caseName: string): Promise<number> {
  const ledgerText = (await store.readText(ledgerKey(caseName))) ?? '';
  if (ledgerText !== '') await local.appendLog(ledgerKey(caseName), ledgerText);
  const ledger = await CustodyLedger.open(local, caseName);
  const items = ledger.items();
  const seen = new Set<string>();
  for await (const obj of store.list(casePrefix(caseName))) {
    if (obj.key === ledgerKey(caseName)) continue;
    const stored = await local.putImmutable(obj.key, await store.get(obj.key, obj.versionId));
    seen.add(obj.key);
    const item = items.get(obj.key);
    if (item && item.sha256 !== stored.sha256) {
      throw new IntegrityError(`case ${caseName}: ${obj.key} does not match its custody record (sha256 ${stored.sha256}, recorded ${item.sha256})`, {
        hint: `run \`amber verify --case ${caseName} --locker ${store.uri}\`; nothing was analysed for this case`,
      });
    }
  }
  const missing = [...items.keys()].filter((k) => !seen.has(k));
  if (missing.length > 0) {
    throw new IntegrityError(`case ${caseName}: ${missing.length} preserved object(s) are missing from the evidence store: ${missing.slice(0, 5).join(', ')}`, {
      hint: `run \`amber verify --case ${caseName} --locker ${store.uri}\`; nothing was analysed for this case`,
    });
  }
  return items.size;
}

/** Runs the catalogue over every case of the store, one case at a time, each on its own DuckDB engine. */
export async function detectCases(options: DetectCasesOptions): Promise<CaseRun[]> {
  const clock = options.clock ?? (() => new Date());
  const scheduledTime = scheduledTimeFor(clock(), options.window);
  const runs: CaseRun[] = [];
  for (const caseName of await caseNames(options.store)) {
    const dir = await mkdtemp(join(tmpdir(), 'amber-stage-'));
    let engine: DuckDbQueryEngine | undefined;
    try {
      const local = await LocalObjectStore.open(dir);
      const items = await stageCase(options.store, local, caseName);
      if (items === 0) {
        runs.push({ case: caseName, status: 'skipped', reason: 'the case holds no preserved object yet' });
        continue;
      }
      const ledger = await CustodyLedger.openForWriting(local, caseName, options.actor, clock());
      engine = await DuckDbQueryEngine.create(options.threads === undefined ? {} : { threads: options.threads });
      const tables = await loadCaseTables({ store: local, ledger, engine, actor: options.actor, clock });
      if (Object.keys(tables.sources).length === 0) {
        runs.push({ case: caseName, status: 'skipped', reason: 'no preserved object of the case is a log Amber reads' });
        continue;
      }
      const result = await runScheduledDetections(
        { engine, store: options.store, catalogue: options.catalogue, sources: tables.sources, actor: options.actor, clock, ...(options.signer ? { signer: options.signer } : {}) },
        { detections: options.catalogue.map((d) => d.id), window: options.window, scheduledTime },
      );
      runs.push({ case: caseName, status: 'analysed', events: tables.events, result });
    } catch (error) {
      runs.push({ case: caseName, status: 'failed', code: isAmberError(error) ? error.code : 'UNEXPECTED', message: (error as Error).message });
    } finally {
      await engine?.close();
      // Staged files are read-only (0444), but their folders are not: rm removes them.
      await rm(dir, { recursive: true, force: true });
    }
  }
  return runs;
}
