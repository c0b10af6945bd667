/** `amber detect`: runs the detection catalogue over a case. */
import { ExitCode } from '../../shared/errors.ts';
import type { Finding } from '../../shared/detections/run.ts';
import type { Values } from '../amber.ts';
import { optionalString, requireString } from './args.ts';
import type { SuppressedFinding } from '../../shared/detections/suppress.ts';
import { detectInSession, eventCount, loadSuppressionFile, openCaseSession, type CaseSession } from './case-session.ts';
import { t, type Io } from './io.ts';
import { counted } from '../../shared/text/plural.ts';
import { signerFrom } from './context.ts';
import { writeExport } from './export.ts';
import { safeOutputPath } from './output-path.ts';
import type { CaseCoverage } from '../../shared/sources/case-tables.ts';
import { loadSigmaRules, type SigmaRuleSet } from '../../shared/sigma/rules.ts';
import { loadCatalogue, type TimeWindow } from '../../shared/detections/catalogue.ts';
import { parseParameterOverrides } from '../../shared/detections/parameters.ts';
import { attackChains, describeChains } from '../../shared/detections/chains.ts';
import { checkWindow, parseInstant } from '../../shared/timeline/filters.ts';

/** How many of the Sigma rules compiled; the reasons for the rest are `amber rules --sigma DIR`'s job. */
function sigmaSummary(set: SigmaRuleSet): { compiled: number; unsupported: number } {
  return { compiled: set.detections.length, unsupported: set.entries.length - set.detections.length };
}

const USAGE = 'amber detect --case C [--locker DIR] [--since T] [--until T] [--param ID.NAME=VALUE ...] [--suppress FILE] [--sigma DIR] [--out FILE.jsonl] [--signing-key FILE] [--json]';

/** The values of a repeatable flag. */
function many(values: Values, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

/** --since/--until as the run's window (an open end reaches the earliest or latest possible time). */
export function detectWindow(values: Values): TimeWindow | undefined {
  const since = optionalString(values, 'since');
  const until = optionalString(values, 'until');
  if (since === undefined && until === undefined) return undefined;
  const window = { since: since === undefined ? new Date(0) : parseInstant('since', since), until: until === undefined ? new Date(Date.UTC(9999, 11, 31, 23, 59, 59)) : parseInstant('until', until) };
  checkWindow(window.since, window.until);
  return window;
}

/** `JSON.stringify(value, null, 2)` with every line after the first indented by `pad`. */
function indented(value: unknown, pad: string): string {
  return (JSON.stringify(value, null, 2) ?? 'null').replaceAll('\n', `\n${pad}`);
}

/**
 * The bytes of `JSON.stringify(value, null, 2)`, in pieces: each element of a top-level array is its own
 * piece, so a million findings never become one string.
 */
export function* prettyJsonChunks(value: Readonly<Record<string, unknown>>): Generator<string> {
  const entries = Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== 'function');
  if (entries.length === 0) {
    yield '{}';
    return;
  }
  yield '{\n';
  for (const [i, [key, v]] of entries.entries()) {
    const end = i < entries.length - 1 ? ',\n' : '\n';
    if (Array.isArray(v) && v.length > 0) {
      yield `  ${JSON.stringify(key)}: [\n`;
      for (let j = 0; j < v.length; j++) yield `    ${indented(v[j] === undefined ? null : v[j], '    ')}${j < v.length - 1 ? ',\n' : '\n'}`;
      yield `  ]${end}`;
    } else yield `  ${JSON.stringify(key)}: ${indented(v, '  ')}${end}`;
  }
  yield '}';
}

/** The findings as JSON Lines, one finding per line in the run's total order (the `--out` export). */
export function* findingsJsonl(findings: Iterable<Finding>): Generator<string> {
  for (const f of findings) yield `${JSON.stringify(f)}\n`;
}

/** Runs `amber detect`. */
export async function runDetect(values: Values, _positionals: string[], io: Io): Promise<number> {
  const caseName = requireString(values, 'case', USAGE);
  // Read the rules before opening the case: a bad file is a usage error, not a half-recorded run.
  const suppressions = await loadSuppressionFile(optionalString(values, 'suppress'), io.cwd);
  // Sigma rules are read and compiled before the case opens: a bad --sigma folder fails fast, touching no ledger.
  const sigmaDir = optionalString(values, 'sigma');
  const sigma = sigmaDir === undefined ? undefined : await loadSigmaRules(sigmaDir);
  // The window and every --param are checked before the case opens: a typo records nothing.
  const window = detectWindow(values);
  const parameters = parseParameterOverrides(many(values, 'param'), [...(await loadCatalogue()), ...(sigma?.detections ?? [])]);
  const signer = await signerFrom(optionalString(values, 'signing-key'), io);
  const session = await openCaseSession(caseName, optionalString(values, 'locker'), io, {}, signer);
  try {
    const out = optionalString(values, 'out');
    // Refused before the run is recorded (writeExport checks again at the moment of writing).
    if (out !== undefined) await safeOutputPath(out, io.cwd, session.localRoot);
    const run = await detectInSession(session, suppressions, sigma?.detections ?? [], { ...(window ? { window } : {}), parameters });
    const chains = attackChains(run.findings);
    // Every finding, one per line, hashed as written and recorded in the ledger (`exported`).
    const exported = out === undefined ? undefined : await writeExport(session, io, findingsJsonl(run.findings), out, { what: 'findings', format: 'jsonl', findings: run.findings.length });
    if (values.json) {
      // Streamed a finding at a time: the same bytes as one JSON.stringify, without one string holding them all.
      const document = {
        case: session.caseName,
        events: eventCount(session.tables),
        ...(window ? { window: { since: window.since.toISOString(), until: window.until.toISOString() } } : {}),
        ...(parameters.size > 0 ? { parameters: Object.fromEntries([...parameters].sort(([a], [b]) => (a < b ? -1 : 1))) } : {}),
        chains,
        findings: run.findings,
        suppressed: run.suppressed,
        ...(suppressions ? { suppressionSha256: suppressions.sha256 } : {}),
        detections: run.detections,
        errors: run.errors,
        problems: session.tables.problems,
        unrecognised: session.tables.unrecognised,
        coverage: session.tables.coverage,
        ...(sigma ? { sigma: sigmaSummary(sigma) } : {}),
        ...(exported ? { export: exported } : {}),
      };
      for (const chunk of prettyJsonChunks(document))
        io.out(chunk);
      io.out('\n');
    } else {
      if (window) io.out(`Only events from ${window.since.toISOString()} up to ${window.until.toISOString()} were analysed.\n`);
      io.out(describeChains(chains));
      io.out(describeFindings(session, run.findings, run.detections, run.suppressed));
      for (const e of run.errors) io.out(`  detection ${t(e.detection)} could not run: ${t(e.error)}\n`);
      if (sigma) {
        const s = sigmaSummary(sigma);
        io.out(`  Sigma rules from ${t(sigmaDir!)}: ${s.compiled} compiled and run, ${s.unsupported} not run (amber rules --sigma ${t(sigmaDir!)} says why for each)\n`);
      }
      if (exported) io.out(`  Wrote ${counted(run.findings.length, 'finding')} (JSON Lines) to ${t(exported.path ?? '')}, sha256 ${exported.sha256} (recorded in the custody ledger)\n`);
    }
    return run.errors.length > 0 ? ExitCode.failure : ExitCode.ok;
  } finally {
    await session.close();
  }
}


/** When, how often, and whether it worked: "2023-07-10T12:10:05Z", or a span with the records and repeats. */
export function findingSpan(f: Finding): string {
  const span = f.first_time !== null && f.last_time !== null && f.first_time !== f.last_time ? `${f.first_time} .. ${f.last_time}` : (f.first_time ?? f.event_time ?? '');
  const counts = [f.records > 1 ? counted(f.records, 'record') : '', f.repeats > 1 ? `grouped ${counted(f.repeats, 'finding')}` : ''].filter(Boolean).join(', ');
  return counts ? `${span} (${counts})` : span;
}

/** Where the cited call came from: account, region, user agent, and its outcome when it failed. */
export function findingContext(f: Finding): string {
  return [
    f.outcome === 'failure' ? `FAILED${f.error_code ? ` (${f.error_code})` : ''}` : '',
    f.account ? `account ${f.account}` : '',
    f.region ? `region ${f.region}` : '',
    f.user_agent ? `agent ${f.user_agent}` : '',
  ]
    .filter(Boolean)
    .join('  ');
}

/** The findings as a people-readable summary, most severe first; failed attempts marked; suppressions listed apart. */
export function describeFindings(session: CaseSession, findings: readonly Finding[], detections: number, suppressed: readonly SuppressedFinding[] = []): string {
  const { tables } = session;
  const failed = findings.filter((f) => f.outcome === 'failure').length;
  const lines = [
    `Case ${t(session.caseName)}: ${counted(eventCount(tables), 'event')}, ${counted(detections, 'detection')} run, ${counted(findings.length, 'finding')}` +
      `${failed ? ` (${failed} of them failed attempts)` : ''}${suppressed.length ? `, ${suppressed.length} suppressed` : ''}`,
  ];
  lines.push(...describeCoverage(tables.coverage));
  for (const f of findings) {
    const context = findingContext(f);
    lines.push(
      `  ${f.severity.toUpperCase().padEnd(8)} ${t(findingSpan(f))}  ${t(f.title)}${f.outcome === 'failure' ? ' [failed attempt]' : ''}`,
      `           ${t(f.actor ?? '?')} ${t(f.action ?? '')}${f.target ? ` -> ${t(f.target)}` : ''}${f.source_ip ? ` from ${t(f.source_ip)}` : ''}`,
      ...(context ? [`           ${t(context)}`] : []),
      `           ${t(f.detail ?? '')}`,
      `           evidence ${t(f.evidence_key)} record ${f.evidence_record ?? '?'} (sha256 ${f.evidence_sha256 ?? 'unknown'})`,
    );
  }
  if (suppressed.length > 0) {
    lines.push(`  Suppressed (${counted(suppressed.length, 'finding')}, by the rules in the --suppress file):`);
    for (const s of suppressed) {
      lines.push(
        `    ${t(findingSpan(s.finding))}  ${t(s.finding.detection)}  ${t(s.finding.actor ?? '?')} ${t(s.finding.action ?? '')}${s.finding.target ? ` -> ${t(s.finding.target)}` : ''}` +
          `  [rule ${s.rule.rule}: ${t(s.rule.reason)}]  evidence ${t(s.finding.evidence_key)} record ${s.finding.evidence_record ?? '?'}`,
      );
    }
  }
  if (tables.problems.length > 0) {
    lines.push(`  ${counted(tables.problems.length, 'record')} could not be parsed (the objects stay preserved and hashed):`);
    for (const p of tables.problems.slice(0, 20)) lines.push(`    ${t(p.key)}${p.record === undefined ? '' : ` record ${p.record}`}: ${t(p.reason)}`);
    if (tables.problems.length > 20) lines.push(`    ... ${tables.problems.length - 20} more in --json`);
  }
  if (tables.unrecognised.length > 0) lines.push(`  ${counted(tables.unrecognised.length, 'object')} in no format Amber queries yet (preserved and hashed; see --json)`);
  return `${lines.join('\n')}\n`;
}

/**
 * What the findings were computed from. A case where nothing was analysed must never read as a clean
 * "0 findings": the first line then says so in capitals.
 */
export function describeCoverage(coverage: CaseCoverage): string[] {
  const { objects, records } = coverage;
  const aside = [
    objects.unrecognised > 0 ? `${objects.unrecognised} unrecognised` : '',
    objects.unparsable > 0 ? `${objects.unparsable} unparsable` : '',
    objects.digests > 0 ? counted(objects.digests, 'digest file') : '',
  ].filter(Boolean);
  const lines: string[] = [];
  if (objects.analysed === 0) {
    lines.push(
      `  NOTHING ANALYSED: 0 of ${counted(objects.total, 'object')} analysed: nothing Amber parses${aside.length > 0 ? ` (${aside.join(', ')})` : ''}; 0 findings here means nothing was examined, not that nothing happened`,
    );
  } else {
    lines.push(`  coverage: ${objects.analysed} of ${counted(objects.total, 'object')} analysed${aside.length > 0 ? ` (${aside.join(', ')})` : ''}; ${counted(records.loaded, 'record')} loaded, ${records.rejected} set aside`);
  }
  for (const [id, source] of Object.entries(coverage.sources)) {
    lines.push(`    ${t(id)}: ${counted(source.objects, 'object')}, ${counted(source.records.loaded, 'record')} loaded, ${source.records.rejected} set aside`);
  }
  return lines;
}
