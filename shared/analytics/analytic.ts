/**
 * Analytics: detections that portable SQL alone cannot express (geolocation, per-identity sequences). Each
 * selects its candidate rows from the cross-source timeline with Athena SQL, then reasons over them in
 * TypeScript, and reports findings in the catalogue's shape, pointing at the preserved evidence.
 */
import type { Severity } from '../detections/catalogue.ts';
import { UNENRICHED, type Finding } from '../detections/run.ts';
import type { GeoLocator } from '../ports/geo-locator.ts';
import type { QueryEngine } from '../ports/query-engine.ts';

/** What an analytic needs besides the engine. */
export interface AnalyticContext {
  readonly engine: QueryEngine;
  /** Qualified name of the timeline table (all sources normalised, with `identity`). */
  readonly timeline: string;
  readonly geo?: GeoLocator;
}

/**
 * A finding row before the runner adds metadata, what it reads from the cited record, and the evidence hash.
 * An analytic that groups records gives first_time, last_time and records, as aggregate queries do.
 */
export type AnalyticRow = Pick<Finding, 'event_time' | 'actor' | 'source_ip' | 'action' | 'target' | 'detail' | 'evidence_key' | 'evidence_record'> &
  Partial<Pick<Finding, 'first_time' | 'last_time' | 'records'>>;

export interface Analytic {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly severity: Severity;
  readonly mitre: readonly string[];
  readonly falsePositives: readonly string[];
  readonly runbook: string;
  run(context: AnalyticContext): Promise<AnalyticRow[]>;
}

/** Runs analytics; one that fails is reported and does not stop the others. */
export async function runAnalytics(
  analytics: readonly Analytic[],
  context: AnalyticContext,
  sha256ByKey: ReadonlyMap<string, string>,
): Promise<{ findings: Finding[]; errors: { detection: string; error: string }[] }> {
  const findings: Finding[] = [];
  const errors: { detection: string; error: string }[] = [];
  for (const a of analytics) {
    try {
      for (const row of await a.run(context)) {
        // Field for field in the runner's order, so the JSON of every finding has one shape.
        findings.push({
          detection: a.id,
          title: a.title,
          severity: a.severity,
          mitre: a.mitre,
          event_time: row.event_time,
          actor: row.actor,
          source_ip: row.source_ip,
          action: row.action,
          target: row.target,
          detail: row.detail,
          first_time: row.first_time ?? row.event_time,
          last_time: row.last_time ?? row.event_time,
          records: row.records ?? 1,
          repeats: 1,
          ...UNENRICHED,
          evidence_key: row.evidence_key,
          evidence_record: row.evidence_record,
          evidence_sha256: sha256ByKey.get(row.evidence_key) ?? null,
        });
      }
    } catch (error) {
      errors.push({ detection: a.id, error: (error as Error).message });
    }
  }
  return { findings, errors };
}
