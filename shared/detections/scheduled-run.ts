/**
 * `runDetections` on a schedule: run a set of detections over a time window, write the findings as one
 * write-once JSON object in the evidence store, record an `accessed` entry in the ledger of every case the
 * findings cite, and hand the findings to notifiers (a topic, a findings hub).
 *
 * The run id is derived from the scheduled time and the content (detections, window, findings), so a retried
 * invocation that finds the same things writes nothing new and records nothing twice.
 */
import { AmberError, InvalidInputError } from '../errors.ts';
import { canonicalJson } from '../evidence/canonical-json.ts';
import { sha256Hex } from '../evidence/hashing.ts';
import { CustodyLedger } from '../evidence/ledger.ts';
import type { Actor } from '../evidence/model.ts';
import { validateCaseName } from '../evidence/names.ts';
import type { FindingsNotifier, FindingsReport, NotifyResult } from '../ports/findings-notifier.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { QueryEngine } from '../ports/query-engine.ts';
import type { Signer } from '../ports/signer.ts';
import { recordCustody } from '../preservation/custody.ts';
import { escapeTerminal } from '../text/escape.ts';
import { durationMs, SEVERITIES, type Detection, type Severity, type TableTime } from './catalogue.ts';
import { groupRepeats, runCatalogue, sortFindings, type DetectionError, type Finding } from './run.ts';

/** What the scheduler asks for. */
export interface ScheduledRunInput {
  /** Detection ids to run. */
  readonly detections: readonly string[];
  /** ISO-8601 duration looked back from the scheduled time (PT1H, P1D). */
  readonly window: string;
  /** The scheduled time, ISO-8601; @default now */
  readonly scheduledTime?: string;
}

export interface ScheduledRunOptions {
  readonly engine: QueryEngine;
  /** The evidence store: findings are written to it, cited cases' ledgers read and appended. */
  readonly store: ObjectStore;
  /** The detections available (the bundled catalogue). */
  readonly catalogue: readonly Detection[];
  /**
   * Qualified table per logical table, e.g. `{ cloudtrail: '"amber"."cloudtrail"' }`, or made from the run's window
   * (a table that requires a partition filter is given as a subquery limited to the window's partitions).
   */
  readonly sources: Readonly<Record<string, string>> | ((window: { readonly since: Date; readonly until: Date }) => Readonly<Record<string, string>>);
  readonly actor: Actor;
  readonly notifiers?: readonly FindingsNotifier[];
  /**
   * The signer of the cited cases' seals and checkpoints, opened only when findings cite a case (so a run
   * without findings needs no key).
   * @default - unsigned: a cited case that is keyed refuses the entry
   */
  readonly signer?: () => Promise<Signer>;
  /** @default () => new Date() */
  readonly clock?: () => Date;
  /**
   * Run the detections over the cases too: the evidence tables (derived Parquet) hold only what was preserved into
   * a case, and Athena requires the injected `case_name` in every query of them. The choice: list the cases that
   * have rows in the window (derive-object's per-day index), then run the catalogue once per case with each table
   * narrowed to that case and the window's days. An enum projection of case names would need a redeploy per case,
   * and an `IN (...)` over all cases would scan cases the window cannot touch; per case, each query reads only the
   * case's partitions of the window's days, and a failing case does not hide another's findings.
   * @default - no case is run (only `sources`)
   */
  readonly cases?: CaseRuns;
}

/** How a scheduled run reaches the cases' evidence tables. */
export interface CaseRuns {
  /** The cases with derived rows in the window. */
  list(window: { since: Date; until: Date }): Promise<readonly string[]>;
  /** Qualified source per logical table, narrowed to one case and the window's days. */
  sources(caseName: string, window: { since: Date; until: Date }): Readonly<Record<string, string>>;
  /** Time placement per table for these sources (their partition is already narrowed). */
  readonly tableTimes?: Readonly<Record<string, TableTime>>;
}

/** What a scheduled run did. */
export interface ScheduledRunResult {
  readonly runId: string;
  readonly findingsKey: string;
  readonly findingsSha256: string;
  /** False when a retried run found the same findings already written. */
  readonly created: boolean;
  readonly window: { readonly since: string; readonly until: string };
  readonly findings: number;
  readonly bySeverity: Readonly<Partial<Record<Severity, number>>>;
  readonly errors: readonly DetectionError[];
  /** Cases the findings cite, each with an `accessed` entry in its ledger. */
  readonly cases: readonly string[];
  readonly notified: readonly NotifyResult[];
}

/** Findings in one text message at most (the rest are in the findings JSON). */
const MAX_FINDINGS_IN_TEXT = 50;
const MAX_FIELD = 300;
const MAX_TEXT = 60_000;

/** Runs the detections over the window before the scheduled time and reports the findings. */
export async function runScheduledDetections(options: ScheduledRunOptions, input: ScheduledRunInput): Promise<ScheduledRunResult> {
  const clock = options.clock ?? (() => new Date());
  const selected = selectDetections(options.catalogue, input.detections);
  const until = scheduledTime(input.scheduledTime, clock);
  const since = new Date(until.getTime() - durationMs(input.window));
  const window = { since: since.toISOString(), until: until.toISOString() };

  const sources = typeof options.sources === 'function' ? options.sources({ since, until }) : options.sources;
  const trail = await runCatalogue(options.engine, selected, { sources, sha256ByKey: new Map(), window: { since, until } });
  const all = { findings: [...trail.findings], errors: [...trail.errors] };
  const casesRun = options.cases ? [...(await options.cases.list({ since, until }))].sort() : [];
  for (const caseName of casesRun) {
    const caseSources = options.cases!.sources(validateCaseName(caseName), { since, until });
    const r = await runCatalogue(options.engine, selected, { sources: caseSources, sha256ByKey: new Map(), window: { since, until }, ...(options.cases!.tableTimes ? { tableTimes: options.cases!.tableTimes } : {}) });
    all.findings.push(...r.findings);
    all.errors.push(...r.errors.map((e) => ({ detection: e.detection, error: `case ${caseName}: ${e.error}` })));
  }
  const run = { findings: sortFindings(all.findings), errors: all.errors };

  // Findings cite preserved objects by key: their hashes come from the cited cases' ledgers.
  const byCase = new Map<string, Finding[]>();
  for (const f of run.findings) {
    const caseName = citedCase(f.evidence_key);
    if (caseName !== undefined) byCase.set(caseName, [...(byCase.get(caseName) ?? []), f]);
  }
  const sha256ByKey = new Map<string, string>();
  for (const caseName of byCase.keys()) {
    const ledger = await CustodyLedger.open(options.store, caseName);
    for (const [key, item] of ledger.items()) sha256ByKey.set(key, item.sha256);
  }
  // The same grouping of repeats as the embedded run, so a scheduled run and `amber detect` read alike. Athena
  // gives no record index, so the account, region, user agent and outcome of the cited record stay unknown here.
  const findings = groupRepeats(run.findings.map((f) => ({ ...f, evidence_sha256: f.evidence_sha256 ?? sha256ByKey.get(f.evidence_key) ?? null })));

  const detections = selected.map((d) => d.id);
  const content = { detections, window, findings, errors: run.errors };
  const runId = `${compactTime(until)}-${sha256Hex(canonicalJson(content)).slice(0, 12)}`;
  const findingsKey = `findings/${window.until.slice(0, 4)}/${window.until.slice(5, 7)}/${window.until.slice(8, 10)}/${runId}.json`;
  const body = `${JSON.stringify({ runId, tool: options.actor.tool, ...content }, null, 2)}\n`;
  const stored = await options.store.putImmutable(findingsKey, Buffer.from(body), { mediaType: 'application/json' });

  const signer = byCase.size > 0 && options.signer ? await options.signer() : undefined;
  for (const [caseName, cited] of [...byCase.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    await recordCustody(
      { store: options.store, actor: options.actor, clock, ...(signer ? { signer } : {}) },
      {
        case: caseName,
        requestId: runId,
        step: 'run-detections',
        action: 'accessed',
        batches: [
          {
            detail: {
              findingsKey,
              findingsSha256: stored.sha256,
              findings: cited.length,
              detections: [...new Set(cited.map((f) => f.detection))].sort(),
              window,
              keys: [...new Set(cited.map((f) => f.evidence_key))].sort().slice(0, 100),
            },
          },
        ],
      },
    );
  }

  const bySeverity: Partial<Record<Severity, number>> = {};
  for (const f of findings) bySeverity[f.severity] = (bySeverity[f.severity] ?? 0) + 1;
  const notified: NotifyResult[] = [];
  if (findings.length > 0 || run.errors.length > 0) {
    const report: FindingsReport = {
      runId,
      findingsKey,
      findingsSha256: stored.sha256,
      window,
      findings,
      errors: run.errors,
      summary: summarise(runId, findingsKey, window, findings, run.errors),
    };
    const outcomes = await Promise.allSettled((options.notifiers ?? []).map((n) => n.notify(report)));
    const failed: string[] = [];
    outcomes.forEach((o, i) => {
      if (o.status === 'fulfilled') notified.push(o.value);
      else failed.push(`${options.notifiers![i]!.name}: ${(o.reason as Error).message}`);
    });
    if (failed.length > 0) {
      throw new AmberError(`findings ${findingsKey} were written and recorded, but notifying failed: ${failed.join('; ')}`, {
        hint: 'run again: the findings object and ledger entries are not duplicated; check the notifier\'s permissions (sns:Publish, securityhub:BatchImportFindings)',
      });
    }
  }
  return {
    runId,
    findingsKey,
    findingsSha256: stored.sha256,
    created: stored.created,
    window,
    findings: findings.length,
    bySeverity,
    errors: run.errors,
    cases: [...byCase.keys()].sort(),
    notified,
  };
}

/** The detections asked for, in catalogue order; unknown ids are an error naming them. */
export function selectDetections(catalogue: readonly Detection[], ids: readonly string[]): Detection[] {
  if (!Array.isArray(ids) || ids.length === 0) {
    throw new InvalidInputError('no detections to run', { hint: `list detection ids, e.g. ["${catalogue[0]?.id ?? 'root-account-usage'}"]` });
  }
  const known = new Set(catalogue.map((d) => d.id));
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw new InvalidInputError(`unknown detection id(s): ${unknown.map((u) => JSON.stringify(u)).join(', ')}`, {
      hint: `the catalogue holds: ${[...known].join(', ')}`,
    });
  }
  const wanted = new Set(ids);
  return catalogue.filter((d) => wanted.has(d.id));
}

/** The case a preserved key belongs to (`cases/<case>/...`), or undefined for keys outside any case. */
export function citedCase(evidenceKey: string): string | undefined {
  const m = /^cases\/([^/]+)\//.exec(evidenceKey);
  if (!m) return undefined;
  try {
    return validateCaseName(m[1]!);
  } catch {
    return undefined;
  }
}

function scheduledTime(value: string | undefined, clock: () => Date): Date {
  if (value === undefined || value === '') return clock();
  const t = Date.parse(value);
  if (Number.isNaN(t)) {
    throw new InvalidInputError(`scheduledTime is not a time: ${JSON.stringify(value)}`, { hint: 'pass ISO-8601, as EventBridge Scheduler\'s <aws.scheduler.scheduled-time> does' });
  }
  return new Date(t);
}

function compactTime(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/**
 * The plain-text summary: our own counts in the subject; log-derived values (attacker-controlled) only in the
 * body, with control characters made visible and each value cut, never interpreted as markup.
 */
export function summarise(
  runId: string,
  findingsKey: string,
  window: { since: string; until: string },
  findings: readonly Finding[],
  errors: readonly DetectionError[],
): { subject: string; text: string } {
  const counts = SEVERITIES.slice()
    .reverse()
    .map((s) => [s, findings.filter((f) => f.severity === s).length] as const)
    .filter(([, n]) => n > 0);
  const countText = counts.map(([s, n]) => `${n} ${s}`).join(', ');
  const subject = `Amber: ${findings.length} finding${findings.length === 1 ? '' : 's'}${countText ? ` (${countText})` : ''}${errors.length ? `, ${errors.length} detection error${errors.length === 1 ? '' : 's'}` : ''}`.slice(0, 99);
  const v = (value: string | number | null): string => {
    const text = escapeTerminal(String(value ?? '-'));
    return text.length > MAX_FIELD ? `${text.slice(0, MAX_FIELD)}... (cut)` : text;
  };
  const lines = [
    `Amber detection run ${runId}`,
    `Window: ${window.since} to ${window.until} (UTC)`,
    `Findings: ${findings.length}${countText ? ` (${countText})` : ''}; detections that failed: ${errors.length}`,
    `Findings JSON (evidence bucket): ${findingsKey}`,
    '',
  ];
  for (const f of findings.slice(0, MAX_FINDINGS_IN_TEXT)) {
    lines.push(
      `[${f.severity.toUpperCase()}] ${f.detection}: ${v(f.title)}`,
      `  time ${v(f.first_time !== f.last_time ? `${f.first_time} .. ${f.last_time}` : f.event_time)}${f.records > 1 ? ` (${f.records} records)` : ''}${f.repeats > 1 ? ` (grouped ${f.repeats} findings)` : ''}  actor ${v(f.actor)}  source ${v(f.source_ip)}`,
      `  action ${v(f.action)}  target ${v(f.target)}`,
      `  detail ${v(f.detail)}`,
      `  evidence ${v(f.evidence_key)} record ${v(f.evidence_record)} sha256 ${v(f.evidence_sha256)}`,
      '',
    );
  }
  if (findings.length > MAX_FINDINGS_IN_TEXT) lines.push(`... and ${findings.length - MAX_FINDINGS_IN_TEXT} more findings: see the findings JSON.`, '');
  if (errors.length > 0) {
    lines.push('Detections that failed (their findings are missing from this run):');
    for (const e of errors) lines.push(`  ${e.detection}: ${v(e.error)}`);
  }
  let text = `${lines.join('\n')}\n`;
  if (text.length > MAX_TEXT) text = `${text.slice(0, MAX_TEXT)}\n... (message cut; see the findings JSON)\n`;
  return { subject, text };
}

