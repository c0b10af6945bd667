/**
 * Runs the catalogue over a query engine and turns rows into findings that point back to the evidence:
 * the preserved object's key, the record's index inside it, and the object's SHA-256 from the manifest.
 */
import type { QueryEngine } from '../ports/query-engine.ts';
import { LOG_SOURCES } from '../sources/registry.ts';
import { createHash } from 'node:crypto';
import { canonicalJson } from '../evidence/canonical-json.ts';
import { AGGREGATE_COLUMNS, CLOUDTRAIL_TIME, FINDING_COLUMNS, windowedSql, type Detection, type Severity, type TableTime, type TimeWindow } from './catalogue.ts';

/** How each table is placed in time, for windowed runs. */
export function tableTime(table: string): TableTime {
  const source = LOG_SOURCES.find((s) => s.table === table);
  return source ? { column: source.timeColumn } : CLOUDTRAIL_TIME;
}

export interface Finding {
  readonly detection: string;
  readonly title: string;
  readonly severity: Severity;
  readonly mitre: readonly string[];
  readonly event_time: string | null;
  readonly actor: string | null;
  readonly source_ip: string | null;
  readonly action: string | null;
  readonly target: string | null;
  readonly detail: string | null;
  /** Event time of the first record the finding stands for (an aggregate's group; else event_time). */
  readonly first_time: string | null;
  /** Event time of the last record the finding stands for. */
  readonly last_time: string | null;
  /** How many records the finding stands for (1 for a single-record finding). */
  readonly records: number;
  /** How many findings of the same action on the same target by the same actor this one groups (1: none). */
  readonly repeats: number;
  /**
   * Read from the cited record through the cross-source timeline (null when the run had no timeline, as in
   * Athena where the SerDe gives no record index): where and how the cited call was made, and whether it failed.
   * For an aggregate this is its first record's: the group may mix outcomes (its detail says so where it matters).
   */
  readonly cloud: string | null;
  readonly source: string | null;
  readonly account: string | null;
  readonly region: string | null;
  readonly user_agent: string | null;
  readonly outcome: 'success' | 'failure' | null;
  readonly error_code: string | null;
  readonly evidence_key: string;
  /** 0-based index of the record in the object; null where the engine cannot know it (Athena's CloudTrail SerDe). */
  readonly evidence_record: number | null;
  /** SHA-256 of the preserved object, from the manifest; null only if the ledger does not know the key. */
  readonly evidence_sha256: string | null;
}

export interface DetectionError {
  readonly detection: string;
  readonly error: string;
}

export interface CatalogueRun {
  readonly findings: readonly Finding[];
  readonly errors: readonly DetectionError[];
  /** Detections not run because the case holds no data for their table (not an error). */
  readonly skipped?: readonly string[];
  /** Milliseconds per detection. */
  readonly timings: Readonly<Record<string, number>>;
}

export interface RunOptions {
  /** Qualified name of the real table per logical table, e.g. `{ cloudtrail: 'main.cloudtrail' }`. */
  readonly sources: Readonly<Record<string, string>>;
  /** SHA-256 of each preserved object by key. */
  readonly sha256ByKey: ReadonlyMap<string, string>;
  readonly window?: TimeWindow;
  /**
   * How a table is placed in time, where its source says otherwise than tableTime(table): a per-case run over derived
   * Parquet limits the partition itself (`day`), so its CloudTrail window is on eventtime alone.
   * @default tableTime(table)
   */
  readonly tableTimes?: Readonly<Record<string, TableTime>>;
  readonly onDetection?: (detection: Detection, findings: number) => void;
  /**
   * Applied to each detection's findings as soon as its query returns (enrichment and grouping of repeats, which
   * never span detections): only what it keeps is held for the rest of the run, so memory follows the findings
   * reported, not the rows every detection matched (at 10M events, millions of repeats of a few incidents).
   * Its errors are reported as the run's.
   */
  readonly reduce?: (detection: Detection, findings: Finding[]) => Promise<{ findings: Finding[]; errors: readonly DetectionError[] }>;
}

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3, informational: 4 };

/** The fields a finding gets from its cited record, unknown until the runner reads it. */
export const UNENRICHED = { cloud: null, source: null, account: null, region: null, user_agent: null, outcome: null, error_code: null } as const;

/** Runs every detection; one failing query is reported and does not stop the others. */
export async function runCatalogue(engine: QueryEngine, detections: readonly Detection[], options: RunOptions): Promise<CatalogueRun> {
  const findings: Finding[] = [];
  const errors: DetectionError[] = [];
  const timings: Record<string, number> = {};
  const skipped: string[] = [];
  for (const d of detections) {
    const source = options.sources[d.table];
    if (!source) {
      skipped.push(d.id);
      continue;
    }
    const t0 = performance.now();
    try {
      // Only the findings outlive the conversion: the engine's rows are let go before reduce runs.
      const found = (await engine.query<Record<string, unknown>>(windowedSql(d.sql, d.table, source, options.window, options.tableTimes?.[d.table] ?? tableTime(d.table)))).map((row) => toFinding(d, row, options.sha256ByKey));
      if (options.reduce) {
        const reduced = await options.reduce(d, found);
        for (const f of reduced.findings) findings.push(f);
        errors.push(...reduced.errors);
      } else for (const f of found) findings.push(f);
      options.onDetection?.(d, found.length);
    } catch (error) {
      errors.push({ detection: d.id, error: (error as Error).message });
    }
    timings[d.id] = performance.now() - t0;
  }
  return { findings: sortFindings(findings), errors, timings, skipped };
}

/**
 * A total order, so the same evidence gives the same bytes on every run: most severe first; within a
 * severity, successful calls before failed attempts; then time, detection, evidence key, record index, and
 * finally every remaining field (canonical JSON), so even two findings citing the same record never tie.
 */
export function sortFindings(findings: Finding[]): Finding[] {
  const rest = new Map(findings.map((f) => [f, canonicalJson(f as unknown as Record<string, unknown>)]));
  return findings.sort((a, b) => compareFindings(a, b, (f) => rest.get(f)!));
}

const cmpText = (a: string | null, b: string | null): number => (a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1);

/** sortFindings' total order for two findings; `rest` gives a finding's canonical JSON (computed only on a tie). */
export function compareFindings(a: Finding, b: Finding, rest: (f: Finding) => string = (f) => canonicalJson(f as unknown as Record<string, unknown>)): number {
  return (
    SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
    Number(a.outcome === 'failure') - Number(b.outcome === 'failure') ||
    cmpText(a.event_time, b.event_time) ||
    cmpText(a.detection, b.detection) ||
    cmpText(a.evidence_key, b.evidence_key) ||
    (a.evidence_record ?? -1) - (b.evidence_record ?? -1) ||
    cmpText(rest(a), rest(b))
  );
}

/**
 * The SHA-256 the ledger records for a list of findings: of their canonical JSON array,
 * `[` + canonicalJson(f1) + `,` + canonicalJson(f2) ... + `]` (object keys sorted, no whitespace). Hashed one
 * finding at a time, so no single string holds them all; the bytes, and so the hash, are exactly those of
 * `canonicalJson(findings)` (the definition the ledger has always recorded). The JSONL export holds the
 * findings one per line: re-serialising each line canonically and joining them this way gives the same hash.
 */
export function findingsSha256(findings: Iterable<unknown>): string {
  const hash = createHash('sha256');
  let first = true;
  hash.update('[');
  for (const f of findings) {
    hash.update(first ? canonicalJson(f) : `,${canonicalJson(f)}`);
    first = false;
  }
  return hash.update(']').digest('hex');
}

/** What the timeline holds about one record. */
interface CitedRecord {
  readonly time: string | null;
  readonly cloud: string | null;
  readonly source: string | null;
  readonly account: string | null;
  readonly region: string | null;
  readonly actor: string | null;
  readonly action: string | null;
  readonly user_agent: string | null;
  readonly outcome: 'success' | 'failure' | null;
  readonly error_code: string | null;
  readonly evidence_key: string;
  readonly evidence_record: number;
}

/** Columns the runner reads from the cited record (the timeline's names). */
export const CITED_COLUMNS = ['time', 'cloud', 'source', 'account', 'region', 'actor', 'action', 'user_agent', 'outcome', 'error_code', 'evidence_key', 'evidence_record'] as const;

/**
 * Reads the timeline rows of the given records (`key|record` ids), by id (the first in a total order if a record
 * gave several). Only the cited records are read, never whole objects: a case of millions of events whose findings
 * cite most of its objects still brings one row per finding into memory.
 */
export async function citedRecords(engine: QueryEngine, timeline: string, ids: readonly string[]): Promise<Map<string, CitedRecord>> {
  const out = new Map<string, CitedRecord>();
  const wanted = new Set(ids);
  // Sorted ids group by object. Each query names at most 500 records of at most 20 objects, compared as plain
  // columns (cheap, and Athena and DuckDB both take these as parameters); it may return a few other records of
  // those objects (the same index in a neighbouring object), at most 20 x 500 rows, dropped here.
  for (const chunk of citationChunks([...wanted].sort(), 500, 20)) {
    const keys = [...new Set(chunk.map((id) => id.slice(0, id.lastIndexOf('|'))))];
    const records = [...new Set(chunk.map((id) => Number(id.slice(id.lastIndexOf('|') + 1))))].sort((a, b) => a - b);
    const rows = await engine.query<CitedRecord>(
      `SELECT ${CITED_COLUMNS.join(', ')} FROM ${timeline} WHERE evidence_key IN (${keys.map(() => '?').join(', ')}) AND evidence_record IN (${records.map(() => '?').join(', ')}) ORDER BY ${CITED_COLUMNS.join(', ')}`,
      [...keys, ...records],
    );
    for (const r of rows) {
      const id = `${r.evidence_key}|${Number(r.evidence_record)}`;
      if (wanted.has(id) && !out.has(id)) out.set(id, { ...r, evidence_record: Number(r.evidence_record) });
    }
  }
  return out;
}

/** Sorted `key|record` ids in runs of at most `maxIds` ids spanning at most `maxKeys` objects. */
function* citationChunks(sorted: readonly string[], maxIds: number, maxKeys: number): Generator<string[]> {
  let chunk: string[] = [];
  const keys = new Set<string>();
  for (const id of sorted) {
    const key = id.slice(0, id.lastIndexOf('|'));
    if (chunk.length >= maxIds || (!keys.has(key) && keys.size >= maxKeys)) {
      yield chunk;
      chunk = [];
      keys.clear();
    }
    chunk.push(id);
    keys.add(key);
  }
  if (chunk.length > 0) yield chunk;
}

/** `key|record` of every record of the given keys in the given tables. */
async function recordsInTables(engine: QueryEngine, tables: readonly string[], keys: readonly string[]): Promise<Set<string>> {
  const out = new Set<string>();
  const unique = [...new Set(keys)].sort();
  for (const table of tables) {
    const rows = await engine.query<{ evidence_key: string; evidence_record: number }>(
      `SELECT DISTINCT evidence_key, evidence_record FROM ${table} WHERE evidence_key IN (${unique.map(() => '?').join(', ')})`,
      unique,
    );
    for (const r of rows) out.add(`${r.evidence_key}|${Number(r.evidence_record)}`);
  }
  return out;
}

/**
 * Gives every finding the account, region, user agent, outcome and error code of the record it cites, read
 * through the timeline (`timeline`: a table or a parenthesised SELECT). A finding whose cited record neither
 * the timeline nor any of `tables` holds is unsound: it is left out and reported as its detection's error.
 */
export async function enrichFindings(
  engine: QueryEngine,
  timeline: string,
  findings: readonly Finding[],
  tables: readonly string[] = [],
): Promise<{ findings: Finding[]; errors: DetectionError[] }> {
  const cited = await citedRecords(engine, timeline, findings.filter((f) => f.evidence_record !== null).map((f) => `${f.evidence_key}|${f.evidence_record}`));
  // The timeline merges some records into one event (a shadow document's fields): a record it does not show
  // may still be in its source table, where the citation is checked before it is called unsound.
  const unseen = findings.filter((f) => f.evidence_record !== null && !cited.has(`${f.evidence_key}|${f.evidence_record}`));
  const inTables = unseen.length > 0 ? await recordsInTables(engine, tables, unseen.map((f) => f.evidence_key)) : new Set<string>();
  const out: Finding[] = [];
  const errors: DetectionError[] = [];
  for (const f of findings) {
    if (f.evidence_record === null) {
      out.push(f);
      continue;
    }
    const id = `${f.evidence_key}|${f.evidence_record}`;
    const r = cited.get(id);
    if (!r && inTables.has(id)) {
      out.push(f);
      continue;
    }
    if (!r) {
      errors.push({
        detection: f.detection,
        error: `finding cites record ${f.evidence_record} of ${f.evidence_key}, which the case does not hold: the query's representative record must be one of the rows it grouped (fix the detection's evidence_key/evidence_record columns)`,
      });
      continue;
    }
    out.push({ ...f, cloud: r.cloud, source: r.source, account: r.account, region: r.region, user_agent: r.user_agent, outcome: r.outcome, error_code: r.error_code });
  }
  return { findings: out, errors };
}

/**
 * Groups repeats: findings of one detection for the same actor, action, target and outcome become one,
 * citing the earliest (the first in the total order), spanning first_time..last_time, standing for the sum
 * of their records, with `repeats` saying how many findings it groups. The detail is the first finding's.
 */
export function groupRepeats(findings: readonly Finding[]): Finding[] {
  const groups = new RepeatGroups();
  for (const f of findings) groups.add(f);
  return groups.result();
}

/** One group of repeats as it is folded: its first member in the total order and what it adds up to. */
interface RepeatGroup {
  first: Finding;
  firstTime: string | null;
  lastTime: string | null;
  records: number;
  repeats: number;
  members: number;
}

/**
 * groupRepeats one finding at a time: holds one group per (detection, actor, action, target, outcome, error code),
 * never the findings it has seen, so a detection matching millions of records of a few incidents costs a few
 * groups. `result()` gives exactly what groupRepeats gives for the same findings, in any order of adding.
 */
export class RepeatGroups {
  private readonly groups = new Map<string, RepeatGroup>();

  add(f: Finding): void {
    const key = JSON.stringify([f.detection, f.actor, f.action, f.target, f.outcome, f.error_code]);
    const g = this.groups.get(key);
    if (!g) {
      this.groups.set(key, { first: f, firstTime: f.first_time, lastTime: f.last_time, records: f.records, repeats: f.repeats, members: 1 });
      return;
    }
    if (compareFindings(f, g.first) < 0) g.first = f;
    if (f.first_time !== null && (g.firstTime === null || f.first_time < g.firstTime)) g.firstTime = f.first_time;
    if (f.last_time !== null && (g.lastTime === null || f.last_time > g.lastTime)) g.lastTime = f.last_time;
    g.records += f.records;
    g.repeats += f.repeats;
    g.members += 1;
  }

  result(): Finding[] {
    const out: Finding[] = [];
    for (const g of this.groups.values()) {
      out.push(g.members === 1 ? g.first : { ...g.first, first_time: g.firstTime ?? g.first.first_time, last_time: g.lastTime ?? g.first.last_time, records: g.records, repeats: g.repeats });
    }
    return sortFindings(out);
  }
}

function toFinding(d: Detection, row: Record<string, unknown>, sha256ByKey: ReadonlyMap<string, string>): Finding {
  const missing = FINDING_COLUMNS.filter((c) => !(c in row));
  if (missing.length > 0) throw new Error(`detection ${d.id} returns no ${missing.join(', ')} column: every query must return ${FINDING_COLUMNS.join(', ')}`);
  const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
  const key = String(row.evidence_key);
  const eventTime = text(row.event_time);
  const records = row.records === null || row.records === undefined ? 1 : Number(row.records);
  if (!Number.isInteger(records) || records < 1) throw new Error(`detection ${d.id} returns records = ${String(row.records)}: it must count the records the finding stands for (1 or more)`);
  return {
    detection: d.id,
    title: d.title,
    severity: d.severity,
    mitre: d.mitre,
    event_time: eventTime,
    actor: text(row.actor),
    source_ip: text(row.source_ip),
    action: text(row.action),
    target: text(row.target),
    detail: text(row.detail),
    // Single-record findings leave the aggregate columns out: they stand for their own record.
    first_time: AGGREGATE_COLUMNS[0] in row ? text(row.first_time) : eventTime,
    last_time: AGGREGATE_COLUMNS[1] in row ? text(row.last_time) : eventTime,
    records,
    repeats: 1,
    ...UNENRICHED,
    evidence_key: key,
    evidence_record: row.evidence_record === null || row.evidence_record === undefined ? null : Number(row.evidence_record),
    evidence_sha256: sha256ByKey.get(key) ?? null,
  };
}
