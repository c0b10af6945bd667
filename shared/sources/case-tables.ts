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
import { decodeUtf8, inflateGzip, isGzip } from './cloudtrail/bytes.ts';
import { headText, RECOGNITION_BYTES } from './recognise.ts';
import type { LogSource } from './log-source.ts';
import { detectSource, LOG_SOURCES, sourceById } from './registry.ts';
import { loadSourceTable, sourceRowLine } from './source-table.ts';

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
  /** The log sources to recognise. @default every registered source (LOG_SOURCES) */
  readonly logSources?: readonly LogSource[];
}

const SNIFF_BYTES = RECOGNITION_BYTES;

/** Loads every CloudTrail object of the case into the engine's `cloudtrail` table. */
export async function loadCaseTables(options: LoadCaseOptions): Promise<CaseTables> {
  const { store, ledger, engine, actor } = options;
  const logSources = options.logSources ?? LOG_SOURCES;
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
  const sourcePaths = new Map<LogSource, string[]>();

  /** Stores a derived NDJSON copy of an item (once: a later run reuses it) and records it as `derived`. */
  const preserveDerived = async (item: EvidenceItem, sourceId: string, ndjsonText: string, detail: Record<string, unknown>): Promise<EvidenceItem> => {
    const existing = derivedByOrigin.get(item.id);
    if (existing) return existing;
    const key = `${derivedPrefix}${sourceId}/${item.id}.ndjson.gz`;
    const stored = await store.putImmutable(key, gzipSync(ndjsonText), { mediaType: 'application/x-ndjson' });
    const derived: EvidenceItem = {
      id: itemId(key),
      case: ledger.caseName,
      origin: `amber:derive?from=${encodeURIComponent(item.key)}&parser=${sourceId}`,
      key,
      size: stored.size,
      sha256: stored.sha256,
      acquiredAt: clock().toISOString(),
      acquiredBy: actor.principal,
      retainUntil: item.retainUntil,
      mediaType: 'application/x-ndjson',
      derivedFrom: item.id,
    };
    await ledger.append('derived', actor, clock(), { items: [derived], detail: { from: item.key, fromSha256: item.sha256, parser: sourceId, ...detail } });
    derivedByOrigin.set(item.id, derived);
    return derived;
  };

  /** Parses an object with Amber's CloudTrail parser and exposes it through a derived NDJSON copy. */
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
    const derived = await preserveDerived(item, 'cloudtrail', toNdjsonLines(result, item.key), { shape: result.shape, records: result.records.length, rejected: result.rejected.length });
    ndjson.push({ path: store.pathOf(derived.key), key: derived.key, shape: 'ndjson' });
  };

  /** Parses an object with another source's parser into its table's derived rows. */
  const deriveSource = async (item: EvidenceItem, source: LogSource, bytes: Buffer): Promise<void> => {
    let raw: Uint8Array = bytes;
    if (isGzip(bytes)) {
      const inflated = inflateGzip(bytes);
      raw = inflated.data;
      if (inflated.damage !== undefined) problems.push({ key: item.key, reason: `${inflated.damage}; rows before the damage are kept` });
    }
    const { text, invalidAt } = decodeUtf8(raw);
    if (invalidAt >= 0) problems.push({ key: item.key, reason: `invalid UTF-8 at byte ${invalidAt}; replaced with U+FFFD for parsing (the preserved bytes are unchanged)` });
    const result = source.parse(text, item.key);
    for (const p of result.problems) {
      const where = p.line !== undefined ? `line ${p.line}: ` : '';
      problems.push({ key: item.key, ...(p.index === undefined ? {} : { record: p.index }), reason: `${where}${p.reason}` });
    }
    if (result.rows.length === 0) return;
    const lines = result.rows.map((r) => `${sourceRowLine(item.key, r.index, r.row)}\n`).join('');
    const derived = await preserveDerived(item, source.id, lines, { variant: result.variant, rows: result.rows.length, problems: result.problems.length });
    const paths = sourcePaths.get(source) ?? [];
    paths.push(store.pathOf(derived.key));
    sourcePaths.set(source, paths);
  };

  for (const item of items.values()) {
    if (item.derivedFrom || item.key.startsWith(derivedPrefix)) continue;
    sha256ByKey.set(item.key, item.sha256);
    const head = await readHead(store.pathOf(item.key));
    const forced = item.source && item.source !== 'cloudtrail' ? sourceById(item.source, logSources) : undefined;
    const sniff = forced ? { shape: undefined } : sniffCloudTrail(head, item.key);
    if (sniff.shape === 'records') records.push({ path: store.pathOf(item.key), key: item.key, shape: 'records' });
    else if (sniff.shape === 'digest') digests.push(item.key);
    else if (sniff.shape) await derive(item, await readFile(store.pathOf(item.key)));
    else {
      const found = forced ? { source: forced } : detectSource(headText(head), item.key, logSources);
      if (found.source) await deriveSource(item, found.source, await readFile(store.pathOf(item.key)));
      else unrecognised.push({ key: item.key, reason: found.reason ?? 'not a format Amber parses yet' });
    }
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
  const events: Record<string, number> = { cloudtrail: loaded.rows };
  const sources: Record<string, string> = { cloudtrail: 'main.cloudtrail' };
  for (const [source, paths] of sourcePaths) {
    events[source.table] = await loadSourceTable(engine, source, paths);
    sources[source.table] = `main.${source.table}`;
  }
  await ledger.flush();
  return { events, sources, sha256ByKey, problems, digests, unrecognised };
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
