/**
 * Opens a case for querying on the embedded engine: every preserved object is recognised by its content,
 * CloudTrail delivery files (`{"Records":[...]}`) are read by DuckDB straight from the locker, and every
 * other CloudTrail shape is parsed once into a derived NDJSON copy, itself preserved, hashed and recorded in
 * the ledger as `derived`. A file DuckDB cannot read (truncated gzip, broken JSON) is isolated, parsed by
 * Amber's own parser to recover what it can, and reported: nothing is dropped without a word.
 */
import { open as openFile, readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { isAmberError } from '../errors.ts';
import type { CustodyLedger } from '../evidence/ledger.ts';
import type { LocalObjectStore } from '../evidence/local-object-store.ts';
import type { Actor, EvidenceItem } from '../evidence/model.ts';
import { amberPrefix } from '../evidence/names.ts';
import { itemId } from '../evidence/collect.ts';
import type { DuckDbQueryEngine } from '../query/duckdb-engine.ts';
import { loadCloudTrailTable, type CloudTrailInput } from '../query/tables/cloudtrail.ts';
import { parseCloudTrail, sniffCloudTrail, toNdjsonLines } from './cloudtrail/index.ts';

/** A record or file Amber could not turn into events; the object stays preserved and hashed. */
export interface ParseProblem {
  readonly key: string;
  readonly record?: number;
  readonly reason: string;
}

export interface CaseTables {
  /** Events loaded, per logical table. */
  readonly events: Readonly<Record<string, number>>;
  /** Qualified name of each logical table in the engine (for runCatalogue's `sources`). */
  readonly sources: Readonly<Record<string, string>>;
  /** SHA-256 of every preserved object by key (findings cite it). */
  readonly sha256ByKey: ReadonlyMap<string, string>;
  readonly problems: readonly ParseProblem[];
  /** CloudTrail digest files found (validated by their own command, not loaded as events). */
  readonly digests: readonly string[];
  /** Objects no parser recognises yet: preserved, hashed, not queried. */
  readonly unrecognised: readonly { readonly key: string; readonly reason: string }[];
}

export interface LoadCaseOptions {
  readonly store: LocalObjectStore;
  readonly ledger: CustodyLedger;
  readonly engine: DuckDbQueryEngine;
  readonly actor: Actor;
  readonly clock?: () => Date;
}

const SNIFF_BYTES = 64 * 1024;

/** Loads every CloudTrail object of the case into the engine's `cloudtrail` table. */
export async function loadCaseTables(options: LoadCaseOptions): Promise<CaseTables> {
  const { store, ledger, engine, actor } = options;
  const clock = options.clock ?? (() => new Date());
  const items = ledger.items();
  const derivedPrefix = `${amberPrefix(ledger.caseName)}derived/`;
  const derivedByOrigin = new Map<string, EvidenceItem>();
  for (const item of items.values()) if (item.derivedFrom) derivedByOrigin.set(item.derivedFrom, item);

  const records: CloudTrailInput[] = [];
  const ndjson: CloudTrailInput[] = [];
  const problems: ParseProblem[] = [];
  const digests: string[] = [];
  const unrecognised: { key: string; reason: string }[] = [];
  const sha256ByKey = new Map<string, string>();

  /** Parses an object with Amber's parser and exposes it through a preserved, derived NDJSON copy. */
  const derive = async (item: EvidenceItem, bytes: Buffer): Promise<void> => {
    let result;
    try {
      result = parseCloudTrail(bytes, item.key);
    } catch (error) {
      unrecognised.push({ key: item.key, reason: isAmberError(error) ? error.message : String(error) });
      return;
    }
    for (const e of result.errors) problems.push({ key: item.key, reason: e.message });
    for (const r of result.rejected) problems.push({ key: item.key, record: r.index, reason: `${r.locator}: ${r.reason}` });
    if (result.records.length === 0) return;
    let derived = derivedByOrigin.get(item.id);
    if (!derived) {
      const key = `${derivedPrefix}cloudtrail/${item.id}.ndjson.gz`;
      const stored = await store.putImmutable(key, gzipSync(toNdjsonLines(result, item.key)), { mediaType: 'application/x-ndjson' });
      derived = {
        id: itemId(key),
        case: ledger.caseName,
        origin: `amber:derive?from=${encodeURIComponent(item.key)}&parser=cloudtrail`,
        key,
        size: stored.size,
        sha256: stored.sha256,
        acquiredAt: clock().toISOString(),
        acquiredBy: actor.principal,
        retainUntil: item.retainUntil,
        mediaType: 'application/x-ndjson',
        derivedFrom: item.id,
      };
      await ledger.append('derived', actor, clock(), {
        items: [derived],
        detail: { from: item.key, fromSha256: item.sha256, shape: result.shape, records: result.records.length, rejected: result.rejected.length },
      });
    }
    ndjson.push({ path: store.pathOf(derived.key), key: derived.key, shape: 'ndjson' });
  };

  for (const item of items.values()) {
    if (item.derivedFrom || item.key.startsWith(derivedPrefix)) continue;
    sha256ByKey.set(item.key, item.sha256);
    const head = await readHead(store.pathOf(item.key));
    const sniff = sniffCloudTrail(head, item.key);
    if (sniff.shape === 'records') records.push({ path: store.pathOf(item.key), key: item.key, shape: 'records' });
    else if (sniff.shape === 'digest') digests.push(item.key);
    else if (sniff.shape) await derive(item, await readFile(store.pathOf(item.key)));
    else unrecognised.push({ key: item.key, reason: sniff.reason ?? 'not a format Amber parses yet' });
  }

  // One bulk load; when DuckDB refuses a file, find which, and let Amber's parser recover those.
  let loaded;
  try {
    loaded = await loadCloudTrailTable(engine, [...records, ...ndjson]);
  } catch (error) {
    if (records.length === 0) throw error;
    const good: CloudTrailInput[] = [];
    for (const input of records) {
      try {
        await loadCloudTrailTable(engine, [input]); // materialised, so the file is really read
        good.push(input);
      } catch {
        await derive(items.get(input.key)!, await readFile(input.path));
      }
    }
    loaded = await loadCloudTrailTable(engine, [...good, ...ndjson]);
  }
  await ledger.flush();
  return { events: { cloudtrail: loaded.rows }, sources: { cloudtrail: 'main.cloudtrail' }, sha256ByKey, problems, digests, unrecognised };
}

async function readHead(path: string): Promise<Buffer> {
  const fh = await openFile(path, 'r');
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await fh.read(buffer, 0, SNIFF_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}
