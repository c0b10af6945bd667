/**
 * A user's Sigma rules folder (a SigmaHQ checkout, as Chainsaw and Hayabusa take one): every `.yml`/`.yaml` under
 * it, read at run time, compiled to Detections that run beside the catalogue, and a listing that says for each
 * rule that cannot run the exact reason.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { SEVERITIES, type Detection, type Severity } from '../detections/catalogue.ts';
import { isAmberError } from '../errors.ts';
import { attackIds, compileRule, type SigmaRule } from './compile.ts';
import { compileCorrelation, type BaseRule } from './correlation.ts';
import { SigmaRuleError, SigmaUnsupportedError } from './errors.ts';

/** One rule in a listing (`amber rules --json`). */
export interface RuleEntry {
  readonly id: string;
  readonly title: string;
  readonly origin: 'catalogue' | 'sigma';
  /** `product/service` for Sigma rules; the table for catalogue detections. */
  readonly logsource: string;
  readonly status: 'ok' | 'unsupported';
  /** Why the rule cannot run; null when it can. */
  readonly reason: string | null;
  readonly mitre: readonly string[];
  /** The rule file, relative to the rules folder (Sigma rules only). */
  readonly file?: string;
}

export interface SigmaRuleSet {
  /** Every rule document found, compiled or not, sorted by file. */
  readonly entries: readonly RuleEntry[];
  /** The rules that compiled, ready for runCatalogue. */
  readonly detections: readonly Detection[];
}

/** Sigma statuses that are not run: SigmaHQ keeps such rules for reference only. */
const NOT_RUN = new Set(['deprecated', 'unsupported']);

/** Reads and compiles every rule under `dir`. A file that is not a Sigma rule is listed with its reason, not fatal. */
export async function loadSigmaRules(dir: string): Promise<SigmaRuleSet> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new SigmaRuleError(`Sigma rules folder ${dir} ${info ? 'is not a folder' : 'does not exist'}`, { hint: 'pass --sigma with a folder of Sigma .yml rules, e.g. a checkout of github.com/SigmaHQ/sigma/rules/cloud' });
  }
  const files = (await listYaml(dir)).sort();
  const entries: RuleEntry[] = [];
  const detections: Detection[] = [];
  // Per file, its documents or the entry saying why it could not be read, kept in file order.
  const docsOf: Array<{ rel: string; docs: unknown[]; broken?: RuleEntry }> = [];
  for (const file of files) {
    const rel = relative(dir, file);
    let docs: unknown[];
    try {
      const parsed = parseAllDocuments(await readFile(file, 'utf8'));
      const list = Array.isArray(parsed) ? parsed : [parsed];
      const broken = list.find((d) => d.errors.length > 0);
      if (broken) throw new Error(broken.errors[0]!.message);
      docs = list.map((d) => d.toJS() as unknown);
    } catch (error) {
      const reason = `${rel}: not valid YAML: ${(error as Error).message}`;
      docsOf.push({ rel, docs: [], broken: { id: rel, title: rel, origin: 'sigma', logsource: '?', status: 'unsupported', reason, mitre: [], file: rel } });
      continue;
    }
    docsOf.push({ rel, docs });
  }
  // A correlation may name a rule of any file, so every detection rule is known before any correlation compiles.
  const bases: BaseRule[] = docsOf.flatMap(({ docs }) =>
    docs.flatMap((doc) => {
      const d = (doc ?? {}) as Record<string, unknown>;
      if (d.correlation !== undefined || typeof d.detection !== 'object' || d.detection === null) return [];
      return [{ rule: toRule(d, ''), ...(typeof d.name === 'string' ? { name: d.name } : {}) }];
    }),
  );
  // Sigma correlations: the rules a correlation that compiles names run only inside it unless it says `generate: true`.
  const onlyInside = new Map<string, string>();
  for (const { docs } of docsOf) {
    for (const doc of docs) {
      const c = ((doc ?? {}) as Record<string, unknown>).correlation as Record<string, unknown> | undefined;
      if (!c || typeof c !== 'object' || c.generate === true || !compiles(() => compileCorrelation('', '', c, bases))) continue;
      const named = Array.isArray(c.rules) ? c.rules.map(String) : typeof c.rules === 'string' ? [c.rules] : [];
      for (const n of named) {
        const b = bases.find((x) => x.name === n || x.rule.id === n);
        if (b) onlyInside.set(b.rule.id, str((doc as Record<string, unknown>).id) || str((doc as Record<string, unknown>).title));
      }
    }
  }
  for (const { rel, docs, broken } of docsOf) {
    if (broken) entries.push(broken);
    docs.forEach((doc, index) => {
      const r = compileOne(doc, rel, index, docs.length, bases);
      const correlation = r.entry.status === 'ok' ? onlyInside.get(r.entry.id) : undefined;
      if (correlation !== undefined) {
        entries.push({ ...r.entry, reason: `runs only inside correlation ${correlation} (which does not set generate: true)` });
        return;
      }
      entries.push(r.entry);
      if (r.detection) detections.push(r.detection);
    });
  }
  return { entries, detections };
}

async function listYaml(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listYaml(path)));
    else if (e.isFile() && /\.ya?ml$/i.test(e.name)) out.push(path);
  }
  return out;
}

const str = (v: unknown): string => (typeof v === 'string' ? v.trim() : '');
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** Whether a compile step succeeds (a correlation that cannot run does not keep its rules from running alone). */
function compiles(step: () => unknown): boolean {
  try {
    step();
    return true;
  } catch {
    return false;
  }
}

function toRule(d: Record<string, unknown>, where: string): SigmaRule {
  const logsourceRaw = (d.logsource ?? {}) as Record<string, unknown>;
  return {
    id: str(d.id) || where,
    title: str(d.title) || where,
    status: str(d.status),
    level: str(d.level),
    description: str(d.description),
    tags: strings(d.tags),
    falsepositives: strings(d.falsepositives),
    logsource: logsourceRaw,
    detection: (d.detection ?? {}) as Record<string, unknown>,
  };
}

function compileOne(doc: unknown, rel: string, index: number, count: number, bases: readonly BaseRule[]): { entry: RuleEntry; detection?: Detection } {
  const where = count > 1 ? `${rel} (document ${index + 1})` : rel;
  const d = (doc ?? {}) as Record<string, unknown>;
  const rule = toRule(d, where);
  const logsource = `${str(rule.logsource.product) || '?'}/${str(rule.logsource.service) || str(rule.logsource.category) || '?'}`;
  const base = { id: rule.id, title: rule.title, origin: 'sigma' as const, logsource, mitre: attackIds(rule.tags), file: rel };
  const no = (reason: string): { entry: RuleEntry } => ({ entry: { ...base, status: 'unsupported', reason } });
  const isCorrelation = typeof d.correlation === 'object' && d.correlation !== null;
  if (!isCorrelation && (typeof d.detection !== 'object' || d.detection === null)) return no(`${where}: no detection block; not a Sigma detection rule`);
  if (NOT_RUN.has(rule.status)) return no(`Sigma status is ${rule.status}: SigmaHQ keeps the rule for reference, it is not run`);
  try {
    const compiled = isCorrelation ? compileCorrelation(rule.id, rule.title, d.correlation as Record<string, unknown>, bases) : compileRule(rule);
    const severity: Severity = (SEVERITIES as readonly string[]).includes(rule.level) ? (rule.level as Severity) : 'medium';
    return {
      entry: { ...base, logsource: compiled.logsource, status: 'ok', reason: null },
      detection: {
        id: `sigma:${rule.id}`,
        title: rule.title,
        description: rule.description || rule.title,
        severity,
        mitre: base.mitre,
        table: compiled.table,
        schedule: 'rate(1 hour)',
        window: 'PT1H',
        falsePositives: rule.falsepositives,
        runbook: `Sigma rule ${rel}: read its description and references.`,
        expectedMatches: 0,
        sql: compiled.sql,
        dir: rel,
      },
    };
  } catch (error) {
    if (error instanceof SigmaUnsupportedError || (isAmberError(error) && error.code === 'SIGMA_UNSUPPORTED')) return no(error.message);
    throw error;
  }
}
