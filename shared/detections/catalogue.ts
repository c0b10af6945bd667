/**
 * The detection catalogue: one folder per detection under shared/detections/<id>/ holding `detection.yml`
 * (metadata beside the query, as Panther does), `query.sql` in the Athena (Trino) dialect, and fixtures that
 * must and must not match. The same SQL runs in Athena and, through the compatibility layer, in DuckDB.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { InvalidInputError } from '../errors.ts';
import { bindParameters, parseParameterDeclarations, type DetectionParameter } from './parameters.ts';

export const SEVERITIES = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** The columns every detection query returns, in this order. */
export const FINDING_COLUMNS = ['event_time', 'actor', 'source_ip', 'action', 'target', 'detail', 'evidence_key', 'evidence_record'] as const;

/**
 * Columns an aggregate (a query that groups several records into one finding) also returns: the event time
 * of the group's first and last record and how many records the finding stands for. `event_time` and the
 * cited record are then the group's representative record: the earliest by (event time, evidence_key,
 * evidence_record), with every representative column (actor, source_ip, action) taken from that same record.
 * Single-record queries leave them out; the runner sets first_time = last_time = event_time and records = 1.
 */
export const AGGREGATE_COLUMNS = ['first_time', 'last_time', 'records'] as const;

export interface Detection {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly severity: Severity;
  /** MITRE ATT&CK technique ids (T1078, T1562.008). */
  readonly mitre: readonly string[];
  /** Stratus Red Team technique ids the detection fires on (`aws.persistence.sts-federation-token`), sorted (catalogue detections always carry the list, empty when none). */
  readonly stratus?: readonly string[];
  /** The table the query reads (`cloudtrail`). */
  readonly table: string;
  /** EventBridge Scheduler expression for the scheduled run, e.g. `rate(1 hour)`. */
  readonly schedule: string;
  /** How far back a scheduled run looks, ISO-8601 duration (PT1H, P1D); covers the query's own time buckets. */
  readonly window: string;
  readonly falsePositives: readonly string[];
  readonly runbook: string;
  /** Findings expected on the detection's `match` fixture (the table-driven test asserts it). */
  readonly expectedMatches: number;
  /** The Athena SQL, ready to run: as written, with every `{{parameter}}` replaced by its value (parameters.ts). */
  readonly sql: string;
  /** query.sql as written, placeholders and all (only when the detection declares parameters). */
  readonly template?: string;
  /** Thresholds the detection declares (`parameters:` in detection.yml), sorted by name. */
  readonly parameters?: readonly DetectionParameter[];
  /** The values `sql` was built with, by parameter name. */
  readonly parameterValues?: Readonly<Record<string, string>>;
  /** The BigQuery Standard SQL twin (`query.bigquery.sql`), when the detection has one. */
  readonly bigquerySql?: string;
  /** Folder holding the detection. */
  readonly dir: string;
}

/** Folder of the catalogue shipped with Amber. */
export const CATALOGUE_DIR = fileURLToPath(new URL('.', import.meta.url));

const ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const MITRE = /^T\d{4}(\.\d{3})?$/;
/** A Stratus Red Team technique id: `<platform>.<tactic>.<name>`, lower-case kebab words. */
const STRATUS = /^(aws|azure|entra-id|gcp|eks|k8s)\.[a-z]+(-[a-z]+)*\.[a-z0-9]+(-[a-z0-9]+)*$/;
const DURATION = /^P(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?)?$/;

/** Loads and validates every detection under `dir`, sorted by id. */
export async function loadCatalogue(dir: string = CATALOGUE_DIR): Promise<Detection[]> {
  const out: Detection[] = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const folder = join(dir, entry.name);
    if (!(await stat(join(folder, 'detection.yml')).catch(() => undefined))) continue;
    out.push(await loadDetection(folder));
  }
  return out;
}

/** Loads one detection folder, with errors naming the file, the field and the fix. */
export async function loadDetection(folder: string): Promise<Detection> {
  const file = join(folder, 'detection.yml');
  const meta = parseYaml(await readFile(file, 'utf8')) as Record<string, unknown>;
  const bad = (field: string, want: string): never => {
    throw new InvalidInputError(`${file}: field "${field}" ${want}, got ${JSON.stringify(meta?.[field])}`);
  };
  const str = (field: string): string => (typeof meta?.[field] === 'string' && (meta[field] as string).trim() ? (meta[field] as string).trim() : bad(field, 'must be a non-empty string'));
  const id = str('id');
  if (!ID.test(id) || !folder.endsWith(id)) bad('id', 'must be kebab-case and equal the folder name');
  const severity = str('severity');
  if (!(SEVERITIES as readonly string[]).includes(severity)) bad('severity', `must be one of ${SEVERITIES.join(', ')}`);
  const mitre = meta.mitre;
  if (!Array.isArray(mitre) || mitre.length === 0 || !mitre.every((m) => typeof m === 'string' && MITRE.test(m))) bad('mitre', 'must list ATT&CK technique ids such as T1078.004');
  const stratus = meta.stratus ?? [];
  if (!Array.isArray(stratus) || !stratus.every((t) => typeof t === 'string' && STRATUS.test(t))) bad('stratus', 'must list Stratus Red Team technique ids such as aws.persistence.sts-federation-token');
  const window = str('window');
  if (!DURATION.test(window) || window === 'P' || window === 'PT') bad('window', 'must be an ISO-8601 duration such as PT1H or P1D');
  const fps = meta.falsePositives;
  if (!Array.isArray(fps) || !fps.every((f) => typeof f === 'string')) bad('falsePositives', 'must be a list of strings');
  const tests = meta.tests as { match?: unknown } | undefined;
  if (!Number.isInteger(tests?.match) || (tests!.match as number) < 1) bad('tests', 'must give `match: N`, the findings expected on fixtures/match.json');
  const template = await readFile(join(folder, 'query.sql'), 'utf8');
  const parameters = parseParameterDeclarations(meta.parameters, file);
  const parameterValues = Object.fromEntries(parameters.map((p) => [p.name, String(p.default)]));
  const sql = parameters.length > 0 ? bindParameters(template, parameters, parameterValues, join(folder, 'query.sql')) : template;
  const bigquerySql = await readFile(join(folder, 'query.bigquery.sql'), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  return {
    id,
    title: str('title'),
    description: str('description'),
    severity: severity as Severity,
    mitre: mitre as string[],
    stratus: [...new Set(stratus as string[])].sort(),
    table: str('table'),
    schedule: str('schedule'),
    window,
    falsePositives: fps as string[],
    runbook: str('runbook'),
    expectedMatches: tests!.match as number,
    sql,
    ...(parameters.length > 0 ? { template, parameters, parameterValues } : {}),
    ...(bigquerySql === undefined ? {} : { bigquerySql }),
    dir: folder,
  };
}

/** Milliseconds in an ISO-8601 duration of days, hours and minutes. */
export function durationMs(iso: string): number {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$/.exec(iso);
  if (!m) throw new InvalidInputError(`not an ISO-8601 duration: ${JSON.stringify(iso)}`);
  return ((Number(m[1] ?? 0) * 24 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 60_000;
}

/** A time window a run is limited to. */
export interface TimeWindow {
  readonly since: Date;
  readonly until: Date;
}

/** How a table's rows are placed in time: an ISO-8601 UTC text column, and a `yyyy/MM/dd` partition column if any. */
export interface TableTime {
  readonly column: string;
  readonly partition?: string;
}

/** CloudTrail's: `eventtime`, partitioned by `timestamp` as in the AWS-documented projection table. */
export const CLOUDTRAIL_TIME: TableTime = { column: 'eventtime', partition: 'timestamp' };

const ISO_SECONDS = (d: Date): string => `${d.toISOString().slice(0, 19)}Z`;
const PARTITION_DAY = (d: Date): string => d.toISOString().slice(0, 10).replace(/-/g, '/');

/**
 * The detection's SQL run against `source` (the qualified table: `main.cloudtrail` in DuckDB,
 * `"amber"."cloudtrail"` in Athena), optionally limited to a window. A CTE named like the table shadows
 * it, so the catalogue's queries stay engine- and window-free. The predicate on the `timestamp` partition
 * column is what lets Athena prune partitions; `eventtime` strings compare correctly because CloudTrail
 * writes them as fixed-width UTC ISO-8601.
 */
export function windowedSql(sql: string, table: string, source: string, window?: TimeWindow, time: TableTime = CLOUDTRAIL_TIME): string {
  const body = sql.trim().replace(/;\s*$/, '');
  const partition = time.partition ? `"${time.partition}" BETWEEN '${PARTITION_DAY(window?.since ?? new Date(0))}' AND '${PARTITION_DAY(window?.until ?? new Date(0))}' AND ` : '';
  const where = window ? ` WHERE ${partition}${time.column} >= '${ISO_SECONDS(window.since)}' AND ${time.column} < '${ISO_SECONDS(window.until)}'` : '';
  const cte = `${table} AS (SELECT * FROM ${source}${where})`;
  // A query usually opens with a comment block explaining it; its own WITH comes after that.
  const lead = /^(?:\s*(?:--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/))*\s*/.exec(body)?.[0] ?? '';
  const rest = body.slice(lead.length);
  const withMatch = /^with\s+(?!recursive\b)/i.exec(rest);
  return withMatch ? `${lead}WITH ${cte},\n${rest.slice(withMatch[0].length)}` : `WITH ${cte}\n${body}`;
}
