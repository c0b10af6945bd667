/**
 * Opens a case for querying on the embedded engine. First every object the analysis reads (the preserved
 * originals and Amber's derived copies) is read once from the locker, hashed as it streams, and copied into a
 * private folder (verified-inputs.ts); a missing or altered object stops everything with an IntegrityError before
 * any parser or query runs. Parsers and DuckDB then read only those private copies, so the bytes analysed are the
 * bytes hashed. Each object is recognised by its content: CloudTrail delivery files (`{"Records":[...]}`) are read
 * by DuckDB, every other shape is parsed once into a derived NDJSON copy, itself preserved, hashed and recorded in
 * the ledger as `derived`. Objects over the input limits (input-scan.ts), records of a type the table cannot hold
 * and files DuckDB cannot read are set aside and reported with their object and position; the rest of the case is
 * still analysed, and `coverage` says how much was.
 */
import { createReadStream } from 'node:fs';
import { open as openFile, readFile, rename } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { isAmberError } from '../errors.ts';
import type { CustodyLedger } from '../evidence/ledger.ts';
import type { Actor, EvidenceItem } from '../evidence/model.ts';
import type { PutResult } from '../ports/object-store.ts';
import { amberPrefix } from '../evidence/names.ts';
import { itemId } from '../evidence/collect.ts';
import { sha256Hex } from '../evidence/hashing.ts';
import type { DuckDbQueryEngine } from '../query/duckdb-engine.ts';
import { columnarIdentity, findColumnarSet, materialiseColumnar, openColumnarSet } from './columnar.ts';
import { findDerivedEntry } from './derive-object.ts';
import { cloudTrailRecordProblem, loadCloudTrailTable, type CloudTrailInput } from '../query/tables/cloudtrail.ts';
import { parseCloudTrail, sniffCloudTrail, toNdjsonLines, type CloudTrailParseResult } from './cloudtrail/index.ts';
import { decodeUtf8, inflateGzip, isGzip } from './cloudtrail/bytes.ts';
import { DEFAULT_INPUT_LIMITS, type InputLimits } from './input-scan.ts';
import { headText, RECOGNITION_BYTES } from './recognise.ts';
import type { LogSource } from './log-source.ts';
import { detectSource, LOG_SOURCES, sourceById } from './registry.ts';
import { loadSourceTable, sourceRowLine, sourceRowProblem } from './source-table.ts';
import { checkInPlace, scanFile, VerifiedInputs, type AnalysisLocker, type VerifiedObject } from './verified-inputs.ts';
import { extractZip, isZip } from './zip-members.ts';

/** A record or file Amber could not turn into events; the object stays preserved and hashed. */
export interface ParseProblem {
  readonly key: string;
  readonly record?: number;
  readonly reason: string;
}

/** How much of one source's evidence was analysed. */
export interface SourceCoverage {
  /** Objects recognised as this source whose records were read (some or all). */
  readonly objects: number;
  readonly records: {
    /** Records loaded into the source's table. */
    readonly loaded: number;
    /** Records found but set aside (each is a ParseProblem with its record index). */
    readonly rejected: number;
  };
}

/**
 * What the analysis covered: shown by `amber detect` (text and `--json` under `coverage`) and the HTML report,
 * so "0 findings" can never hide "nothing was read". Shape (stable; the report renders it):
 * - `objects.total`: preserved objects in the case (Amber's derived copies not included);
 *   `total = analysed + unrecognised + unparsable + digests`;
 * - `objects.analysed`: recognised as a log source, and records read from them;
 * - `objects.unrecognised`: no source claims them (listed in CaseTables.unrecognised);
 * - `objects.unparsable`: recognised, but nothing could be read (damage, input limits; see problems);
 * - `objects.digests`: CloudTrail digest files (checked by `amber validate-logs`, not events);
 * - `objects.derived`: Amber's derived copies read (hash-checked like every object);
 * - `records.loaded` / `records.rejected`: over all sources; `sources[id]` per source id (`cloudtrail`, `vpcflow`...).
 */
export interface CaseCoverage {
  readonly objects: {
    readonly total: number;
    readonly analysed: number;
    readonly unrecognised: number;
    readonly unparsable: number;
    readonly digests: number;
    readonly derived: number;
  };
  readonly records: { readonly loaded: number; readonly rejected: number };
  readonly sources: Readonly<Record<string, SourceCoverage>>;
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
  /** How much of the case was analysed. */
  readonly coverage: CaseCoverage;
  /**
   * With `columnar`: the ledger entry (seq) recording the Parquet set the tables were read from, and whether this
   * load wrote it (the first query of this state of the case) or reused it.
   */
  readonly columnar?: { readonly set: number; readonly materialised: boolean };
}

export interface LoadCaseOptions {
  readonly store: AnalysisLocker;
  readonly ledger: CustodyLedger;
  readonly engine: DuckDbQueryEngine;
  readonly actor: Actor;
  readonly clock?: () => Date;
  /** The log sources to recognise. @default every registered source (LOG_SOURCES) */
  readonly logSources?: readonly LogSource[];
  /** Input limits (depth, record, field, inflated size). @default DEFAULT_INPUT_LIMITS */
  readonly limits?: Partial<InputLimits>;
  /**
   * Columnar once (columnar.ts): query the case through its derived Parquet set, materialising it first when no
   * recorded set covers the case's current objects. Without it, every load reads the originals.
   * @default false
   */
  readonly columnar?: boolean;
}

const SNIFF_BYTES = RECOGNITION_BYTES;

interface Tally {
  objects: number;
  loaded: number;
  rejected: number;
}

/**
 * Loads every log source of the case into the engine. With `columnar`, from the case's derived Parquet set (verified
 * file by file; materialised first, once, when none covers the case); otherwise from the originals, every object
 * verified before anything is parsed.
 */
export async function loadCaseTables(options: LoadCaseOptions): Promise<CaseTables> {
  if (!options.columnar) return loadFromOriginals(options);
  const { store, ledger, engine, actor } = options;
  const logSources = options.logSources ?? LOG_SOURCES;
  const limits: InputLimits = { ...DEFAULT_INPUT_LIMITS, ...options.limits };
  const derivedPrefix = `${amberPrefix(ledger.caseName)}derived/`;
  const originals = [...ledger.items().values()].filter((item) => !item.derivedFrom && !item.key.startsWith(derivedPrefix));
  const id = columnarIdentity(originals, limits, logSources);
  const entry = findColumnarSet(ledger, id.identity);
  if (!entry) {
    const tables = await loadFromOriginals(options);
    const timeColumns: Record<string, string> = { cloudtrail: 'eventtime' };
    for (const source of logSources) timeColumns[source.table] = source.timeColumn;
    const made = await materialiseColumnar({ store, ledger, engine, actor, clock: options.clock ?? (() => new Date()), tables, timeColumns, id, originals });
    // This run queries the tables it loaded from the verified originals, which hold exactly the rows it wrote to
    // Parquet (the types round-trip): reading them back would cost a load for nothing. Later runs read the Parquet;
    // the tests hold the first and later runs' findings byte-identical.
    return { ...tables, columnar: { set: made.seq, materialised: true } };
  }
  // The originals are not read for analysis any more, but a case whose evidence no longer matches its custody
  // record is still refused before anything is analysed (exit 3): each object is hashed where it lies.
  const columnarPrefix = `${derivedPrefix}columnar/`;
  await checkInPlace(store, [...ledger.items().values()].filter((item) => !item.key.startsWith(columnarPrefix)));
  const tables = await openColumnarSet(store, engine, entry, id.identity);
  return { ...tables, columnar: { set: entry.seq, materialised: false } };
}

/** Verifies every object the case's analysis reads, then loads every log source of the case into the engine. */
async function loadFromOriginals(options: LoadCaseOptions): Promise<CaseTables> {
  const { store, ledger, engine, actor } = options;
  const logSources = options.logSources ?? LOG_SOURCES;
  const limits: InputLimits = { ...DEFAULT_INPUT_LIMITS, ...options.limits };
  const clock = options.clock ?? (() => new Date());
  const items = ledger.items();
  const derivedPrefix = `${amberPrefix(ledger.caseName)}derived/`;
  const derivedByOrigin = new Map<string, EvidenceItem>();
  for (const item of items.values()) if (item.derivedFrom) derivedByOrigin.set(item.derivedFrom, item);
  const isDerived = (item: EvidenceItem): boolean => Boolean(item.derivedFrom) || item.key.startsWith(derivedPrefix);
  /** The record of a copy Amber derived from `from` (parsed rows, a zip member): an evidence item of its own. */
  const derivedItem = (from: EvidenceItem, key: string, stored: PutResult, origin: string, mediaType: string): EvidenceItem => ({
    id: itemId(key),
    case: ledger.caseName,
    origin,
    key,
    size: stored.size,
    sha256: stored.sha256,
    acquiredAt: clock().toISOString(),
    acquiredBy: actor.principal,
    retainUntil: from.retainUntil,
    mediaType,
    derivedFrom: from.id,
  });

  // Every object read below is checked first, all of them, before anything is parsed or queried.
  // Parquet sets are never read here (a new set is being built); everything else the analysis may read is.
  const columnarPrefix = `${derivedPrefix}columnar/`;
  const read = [...items.values()].filter((item) => !item.key.startsWith(columnarPrefix));
  const inputs = await VerifiedInputs.open(store, read, { limits, scan: (item) => !isDerived(item) });
  try {
    const records: CloudTrailInput[] = [];
    // DuckDB's JSON reader allocates buffers of about twice maximum_object_size per thread, inside memory_limit:
    // sized to the largest document really read (a delivery file is one document; derived lines are records within
    // maxRecordBytes), not to a fixed 256 MiB that alone would take a 1 GB limit on two threads.
    let largestDocument = 2 * limits.maxRecordBytes;
    const ndjson: CloudTrailInput[] = [];
    const problems: ParseProblem[] = [];
    const digests: string[] = [];
    const unrecognised: { key: string; reason: string }[] = [];
    const sha256ByKey = new Map<string, string>();
    const sourcePaths = new Map<LogSource, string[]>();
    const tallies = new Map<string, Tally>();
    const unparsable = new Set<string>();
    const analysed = new Set<string>();
    let derivedRead = 0;
    let objectsTotal = 0;
    const objectsByKey = new Map(items);
    const tally = (id: string): Tally => {
      const found = tallies.get(id) ?? { objects: 0, loaded: 0, rejected: 0 };
      tallies.set(id, found);
      return found;
    };
    const recordProblem = (sourceId: string, problem: ParseProblem): void => {
      problems.push(problem);
      if (problem.record !== undefined) tally(sourceId).rejected += 1;
    };

    /**
     * Stores a derived NDJSON copy of an item (once: a later run finds it, checked like every object) and records it
     * as `derived`. Returns the private path DuckDB reads: the derivation of this run, whose bytes were hashed here.
     */
    const preserveDerived = async (item: EvidenceItem, sourceId: string, ndjsonText: string, detail: Record<string, unknown>): Promise<string> => {
      const body = Buffer.from(ndjsonText, 'utf8');
      const path = await inputs.writePrivate(`${sourceId}.ndjson`, body);
      derivedRead += 1;
      if (derivedByOrigin.has(item.id)) return path;
      const key = `${derivedPrefix}${sourceId}/${item.id}.ndjson.gz`;
      const stored = await store.putImmutable(key, gzipSync(body), { mediaType: 'application/x-ndjson' });
      const derived = derivedItem(item, key, stored, `amber:derive?from=${encodeURIComponent(item.key)}&parser=${sourceId}`, 'application/x-ndjson');
      await ledger.append('derived', actor, clock(), {
        items: [derived],
        detail: { from: item.key, fromSha256: item.sha256, parser: sourceId, ndjsonSha256: sha256Hex(body), ...detail },
      });
      derivedByOrigin.set(item.id, derived);
      return path;
    };

    /** Reports what parsing found, sets aside records the table cannot hold, and exposes the rest as derived NDJSON. */
    const exposeCloudTrail = async (item: EvidenceItem, result: CloudTrailParseResult): Promise<void> => {
      for (const e of result.errors) problems.push({ key: item.key, reason: e.message });
      for (const r of result.rejected) recordProblem('cloudtrail', { key: item.key, record: r.index, reason: `${r.locator}: ${r.reason}` });
      const kept = [];
      for (const r of result.records) {
        const problem = cloudTrailRecordProblem(r.record);
        if (problem) recordProblem('cloudtrail', { key: item.key, record: r.index, reason: `${problem}; the record was set aside, the file's other records are analysed` });
        else kept.push(r);
      }
      if (kept.length === 0) {
        unparsable.add(item.key);
        return;
      }
      analysed.add(item.key);
      tally('cloudtrail').objects += 1;
      const path = await preserveDerived(item, 'cloudtrail', toNdjsonLines({ records: kept }, item.key), {
        shape: result.shape,
        records: kept.length,
        rejected: result.rejected.length + result.records.length - kept.length,
      });
      ndjson.push({ path, key: item.key, shape: 'ndjson' });
    };

    /** Parses an object with Amber's CloudTrail parser and exposes it through a derived NDJSON copy. */
    const derive = async (item: EvidenceItem, bytes: Buffer): Promise<void> => {
      let result;
      try {
        result = parseCloudTrail(bytes, item.key, { maxRecordBytes: limits.maxRecordBytes, maxInflatedBytes: limits.maxInflatedBytes });
      } catch (error) {
        unrecognised.push({ key: item.key, reason: isAmberError(error) ? error.message : String(error) });
        return;
      }
      await exposeCloudTrail(item, result);
    };

    /**
     * An object with records over the input limits: the scan runs again over the private copy, keeping only the
     * records within every limit (each at most maxRecordBytes, so memory stays bounded). They are handed to the parser
     * as lines, each at its original position (a record set aside leaves a blank line, which parsers skip), so every
     * index the parser reports is the record's index in the preserved object.
     */
    const withinLimits = async (item: EvidenceItem, v: VerifiedObject): Promise<Buffer | undefined> => {
      const scan = await scanFile(v.path, v.gzip, limits, { collect: true });
      const good = scan.good ?? [];
      if (good.length === 0) {
        unparsable.add(item.key);
        return undefined;
      }
      const parts: Buffer[] = [];
      let next = 0;
      for (const g of good) {
        if (g.record > next) parts.push(Buffer.alloc(g.record - next, 0x0a));
        // Line breaks inside a record are JSON whitespace (a raw one inside a string is invalid either way).
        parts.push(Buffer.from(g.bytes.map((b) => (b === 0x0a || b === 0x0d ? 0x20 : b))), Buffer.from('\n'));
        next = g.record + 1;
      }
      return Buffer.concat(parts);
    };

    /** Parses an object with another source's parser into its table's derived rows. */
    const deriveSource = async (item: EvidenceItem, source: LogSource, bytes: Buffer): Promise<void> => {
      let raw: Uint8Array = bytes;
      if (isGzip(bytes)) {
        const inflated = inflateGzip(bytes, limits.maxInflatedBytes);
        raw = inflated.data;
        if (inflated.damage !== undefined) problems.push({ key: item.key, reason: `${inflated.damage}; rows before the damage are kept` });
      }
      const { text, invalidAt } = decodeUtf8(raw);
      if (invalidAt >= 0) problems.push({ key: item.key, reason: `invalid UTF-8 at byte ${invalidAt}; replaced with U+FFFD for parsing (the preserved bytes are unchanged)` });
      let result;
      try {
        result = source.parse(text, item.key);
      } catch (error) {
        // A parser must report bad records, not throw; if one does, the object is set aside, never the case.
        unparsable.add(item.key);
        problems.push({ key: item.key, reason: `the ${source.id} parser failed on this object (${error instanceof Error ? error.message : String(error)}); it was not analysed` });
        return;
      }
      for (const p of result.problems) {
        const where = p.line !== undefined ? `line ${p.line}: ` : '';
        recordProblem(source.id, { key: item.key, ...(p.index === undefined ? {} : { record: p.index }), reason: `${where}${p.reason}` });
      }
      const kept = result.rows.filter((r) => {
        const problem = sourceRowProblem(source.columns, r.row);
        if (problem) recordProblem(source.id, { key: item.key, record: r.index, reason: `${problem}; the record was set aside, the file's other records are analysed` });
        return !problem;
      });
      if (kept.length === 0) {
        unparsable.add(item.key);
        return;
      }
      analysed.add(item.key);
      tally(source.id).objects += 1;
      const lines = kept.map((r) => `${sourceRowLine(item.key, r.index, r.row)}\n`).join('');
      const path = await preserveDerived(item, source.id, lines, { variant: result.variant, rows: kept.length, problems: result.problems.length + result.rows.length - kept.length });
      const paths = sourcePaths.get(source) ?? [];
      paths.push(path);
      sourcePaths.set(source, paths);
    };

    /** Recognises one object (an original, or a zip member) and loads its records, or says why it cannot. */
    const analyseObject = async (item: EvidenceItem, v: VerifiedObject): Promise<void> => {
      const scan = v.scan;
      if (scan?.fileProblem) {
        unparsable.add(item.key);
        problems.push({ key: item.key, reason: scan.fileProblem });
        return;
      }
      const hostile = scan !== undefined && scan.violations.length > 0;
      const head = await readHead(v.path);
      const forced = item.source && item.source !== 'cloudtrail' ? sourceById(item.source, logSources) : undefined;
      const sniff = forced ? { shape: undefined } : sniffCloudTrail(head, item.key);
      // Recognised once: the source of a non-CloudTrail object names its problems and picks its parser.
      const found = sniff.shape ? undefined : forced ? { source: forced, reason: undefined } : detectSource(headText(head), item.key, logSources);
      const sourceId = sniff.shape ? 'cloudtrail' : found?.source?.id;
      if (hostile && sniff.shape !== 'digest') {
        for (const violation of scan.violations) recordProblem(sourceId ?? 'unrecognised', { key: item.key, record: violation.record, reason: violation.reason });
        if (scan.moreViolations > 0) problems.push({ key: item.key, reason: `${scan.moreViolations} more record(s) over the input limits` });
      }
      if (sniff.shape === 'digest') digests.push(item.key);
      else if (sniff.shape && hostile) {
        if (sniff.shape === 'records' || sniff.shape === 'array' || sniff.shape === 'jsonl') {
          const text = await withinLimits(item, v);
          if (text) await derive(item, text);
        } else {
          unparsable.add(item.key);
          problems.push({ key: item.key, reason: `a ${sniff.shape} CloudTrail object is read whole, and this one is over the input limits; it was not analysed` });
        }
      } else if (sniff.shape === 'records') {
        records.push({ path: v.path, key: item.key, shape: 'records' });
        largestDocument = Math.max(largestDocument, scan?.bytes ?? limits.maxInflatedBytes);
        analysed.add(item.key);
        tally('cloudtrail').objects += 1;
      } else if (sniff.shape) await derive(item, await readFile(v.path));
      else if (found) {
        if (!found.source) unrecognised.push({ key: item.key, reason: found.reason ?? 'not a format Amber parses yet' });
        else if (hostile) {
          const text = await withinLimits(item, v);
          if (text) await deriveSource(item, found.source, text);
        } else await deriveSource(item, found.source, await readFile(v.path));
      }
    };

    /**
     * A zip archive: each member is inflated once into the private folder (hashed as it streams), preserved as a
     * derived item (`derived`, with the archive's SHA-256 and the member's name), and analysed like any object.
     */
    const expandZip = async (item: EvidenceItem, v: VerifiedObject): Promise<void> => {
      const extracted = await extractZip(v.path, (index) => inputs.reservePath(`zip${index}`), limits.maxInflatedBytes);
      for (const p of extracted.problems) problems.push({ key: item.key, reason: p.reason });
      if (extracted.members.length === 0) {
        objectsTotal += 1;
        unparsable.add(item.key);
        return;
      }
      for (const member of extracted.members) {
        objectsTotal += 1;
        const key = `${derivedPrefix}zip/${item.id}/${member.index}-${member.name.replace(/[^A-Za-z0-9._-]/g, '_').slice(-120)}`;
        let memberItem = items.get(key);
        if (!memberItem) {
          const stored = await store.putImmutable(key, createReadStream(member.path), { mediaType: 'application/octet-stream' });
          memberItem = derivedItem(item, key, stored, `amber:unzip?from=${encodeURIComponent(item.key)}&member=${encodeURIComponent(member.name)}`, 'application/octet-stream');
          await ledger.append('derived', actor, clock(), {
            items: [memberItem],
            detail: { from: item.key, fromSha256: item.sha256, member: member.name, memberIndex: member.index, memberSha256: member.sha256 },
          });
        }
        objectsByKey.set(key, memberItem);
        // Findings cite the member's own SHA-256: the one hashed from the bytes analysed in this run.
        sha256ByKey.set(key, member.sha256);
        if (member.nestedZip) {
          unrecognised.push({ key, reason: `a zip archive inside ${item.key} (member ${JSON.stringify(member.name)}): preserved, not opened; extract it and collect it to analyse it` });
          continue;
        }
        const head = await readHead(member.path);
        const gzip = isGzip(head);
        // DuckDB decides to inflate by the file's extension.
        const path = `${member.path}${gzip ? '.json.gz' : '.json'}`;
        await rename(member.path, path);
        await analyseObject(memberItem, { item: memberItem, path, gzip, scan: await scanFile(path, gzip, limits) });
      }
    };

    /**
     * Rows the cloud already derived (derive-object's Parquet, verified above like every object the analysis reads):
     * read instead of parsing the original again, when that derivation set nothing aside, so problems and coverage
     * read the same either way. A derivation with problems is parsed again here, to report each one as locally.
     */
    const parquetByTable = new Map<string, string[]>();
    const fromCloud = (item: EvidenceItem): boolean => {
      const entry = findDerivedEntry(ledger, item.key, item.sha256);
      const files = (entry?.detail?.files ?? []) as { table: string }[];
      const parquet = (entry?.items ?? []).filter((i) => i.key.endsWith('.parquet'));
      if (!entry || entry.detail?.problems !== 0 || files.length === 0 || files.length !== parquet.length) return false;
      const parser = String(entry.detail?.parser);
      parquet.forEach((p, n) => {
        const table = files[n]!.table;
        parquetByTable.set(table, [...(parquetByTable.get(table) ?? []), inputs.get(p.key)!.path]);
      });
      analysed.add(item.key);
      tally(parser).objects += 1;
      derivedRead += parquet.length;
      return true;
    };

    const originals = [...items.values()].filter((item) => !isDerived(item));
    for (const item of originals) {
      sha256ByKey.set(item.key, item.sha256);
      const v = inputs.get(item.key)!;
      if (fromCloud(item)) {
        objectsTotal += 1;
        continue;
      }
      if (!item.source && isZip(await readHead(v.path))) {
        await expandZip(item, v);
        continue;
      }
      objectsTotal += 1;
      await analyseObject(item, v);
    }

    const sized = () => ({ maximumObjectBytes: Math.max(16 * 1024 * 1024, largestDocument + 1024 * 1024) });
    // One bulk load; when DuckDB refuses a file, find which, and let Amber's parser recover those.
    let loaded;
    try {
      loaded = await loadCloudTrailTable(engine, [...records, ...ndjson], sized());
    } catch (error) {
      if (records.length === 0) throw error;
      const good: CloudTrailInput[] = [];
      for (const input of records) {
        try {
          await loadCloudTrailTable(engine, [input], sized()); // materialised, so the file is really read
          good.push(input);
        } catch {
          analysed.delete(input.key);
          tally('cloudtrail').objects -= 1;
          await derive(objectsByKey.get(input.key)!, await readFile(input.path));
        }
      }
      loaded = await loadCloudTrailTable(engine, [...good, ...ndjson], sized());
    }
    const addParquet = async (table: string): Promise<number> => {
      const paths = parquetByTable.get(table) ?? [];
      if (paths.length === 0) return 0;
      await engine.exec(`INSERT INTO "${table}" BY NAME SELECT * FROM read_parquet([${paths.map((p) => `'${p.replace(/'/g, "''")}'`).join(', ')}])`);
      const [n] = await engine.query<{ n: number }>(`SELECT count(*) AS n FROM read_parquet([${paths.map((p) => `'${p.replace(/'/g, "''")}'`).join(', ')}])`);
      return n?.n ?? 0;
    };
    const cloudTrailRows = loaded.rows + (await addParquet('cloudtrail'));
    tally('cloudtrail').loaded = cloudTrailRows;
    const events: Record<string, number> = { cloudtrail: cloudTrailRows };
    const sources: Record<string, string> = { cloudtrail: 'main.cloudtrail' };
    for (const source of logSources) if (parquetByTable.has(source.table) && !sourcePaths.has(source)) sourcePaths.set(source, []);
    for (const [source, paths] of sourcePaths) {
      events[source.table] = (await loadSourceTable(engine, source, paths, 2 * limits.maxRecordBytes + 64 * 1024)) + (await addParquet(source.table));
      sources[source.table] = `main.${source.table}`;
      tally(source.id).loaded = events[source.table]!;
    }
    await ledger.flush();
    for (const key of analysed) unparsable.delete(key);
    const bySource: Record<string, SourceCoverage> = {};
    for (const [id, t] of [...tallies].sort(([a], [b]) => a.localeCompare(b))) {
      if (t.objects === 0 && t.loaded === 0 && t.rejected === 0) continue;
      bySource[id] = { objects: t.objects, records: { loaded: t.loaded, rejected: t.rejected } };
    }
    const coverage: CaseCoverage = {
      objects: {
        total: objectsTotal,
        analysed: analysed.size,
        unrecognised: unrecognised.length,
        unparsable: unparsable.size,
        digests: digests.length,
        derived: derivedRead,
      },
      records: {
        loaded: Object.values(events).reduce((a, b) => a + b, 0),
        rejected: [...tallies.values()].reduce((a, b) => a + b.rejected, 0),
      },
      sources: bySource,
    };
    return { events, sources, sha256ByKey, problems, digests, unrecognised, coverage };
  } finally {
    await inputs.close();
  }
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
