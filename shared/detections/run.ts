/**
 * Runs the catalogue over a query engine and turns rows into findings that point back to the evidence:
 * the preserved object's key, the record's index inside it, and the object's SHA-256 from the manifest.
 */
import type { QueryEngine } from '../ports/query-engine.ts';
import { LOG_SOURCES } from '../sources/registry.ts';
import { CLOUDTRAIL_TIME, FINDING_COLUMNS, windowedSql, type Detection, type Severity, type TableTime, type TimeWindow } from './catalogue.ts';

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
  readonly onDetection?: (detection: Detection, findings: number) => void;
}

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3, informational: 4 };

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
      const rows = await engine.query<Record<string, unknown>>(windowedSql(d.sql, d.table, source, options.window, tableTime(d.table)));
      for (const row of rows) findings.push(toFinding(d, row, options.sha256ByKey));
      options.onDetection?.(d, rows.length);
    } catch (error) {
      errors.push({ detection: d.id, error: (error as Error).message });
    }
    timings[d.id] = performance.now() - t0;
  }
  return { findings: sortFindings(findings), errors, timings, skipped };
}

/** Most severe first, then by time and detection. */
export function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort(
    (a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || String(a.event_time).localeCompare(String(b.event_time)) || a.detection.localeCompare(b.detection),
  );
}

function toFinding(d: Detection, row: Record<string, unknown>, sha256ByKey: ReadonlyMap<string, string>): Finding {
  const missing = FINDING_COLUMNS.filter((c) => !(c in row));
  if (missing.length > 0) throw new Error(`detection ${d.id} returns no ${missing.join(', ')} column: every query must return ${FINDING_COLUMNS.join(', ')}`);
  const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
  const key = String(row.evidence_key);
  return {
    detection: d.id,
    title: d.title,
    severity: d.severity,
    mitre: d.mitre,
    event_time: text(row.event_time),
    actor: text(row.actor),
    source_ip: text(row.source_ip),
    action: text(row.action),
    target: text(row.target),
    detail: text(row.detail),
    evidence_key: key,
    evidence_record: row.evidence_record === null || row.evidence_record === undefined ? null : Number(row.evidence_record),
    evidence_sha256: sha256ByKey.get(key) ?? null,
  };
}
