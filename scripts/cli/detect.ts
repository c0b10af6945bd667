/** `amber detect`: runs the detection catalogue over a case. */
import { ExitCode } from '../../shared/errors.ts';
import type { Finding } from '../../shared/detections/run.ts';
import type { Values } from '../amber.ts';
import { optionalString, requireString } from './args.ts';
import { detectInSession, eventCount, openCaseSession, type CaseSession } from './case-session.ts';
import { t, type Io } from './io.ts';
import { loadSigmaRules, type SigmaRuleSet } from '../../shared/sigma/rules.ts';

/** How many of the Sigma rules compiled; the reasons for the rest are `amber rules --sigma DIR`'s job. */
function sigmaSummary(set: SigmaRuleSet): { compiled: number; unsupported: number } {
  return { compiled: set.detections.length, unsupported: set.entries.length - set.detections.length };
}

const USAGE = 'amber detect --case C [--locker DIR] [--sigma DIR] [--json]';

/** Runs `amber detect`. */
export async function runDetect(values: Values, _positionals: string[], io: Io): Promise<number> {
  const caseName = requireString(values, 'case', USAGE);
  // Sigma rules are read and compiled before the case opens: a bad --sigma folder fails fast, touching no ledger.
  const sigmaDir = optionalString(values, 'sigma');
  const sigma = sigmaDir === undefined ? undefined : await loadSigmaRules(sigmaDir);
  const session = await openCaseSession(caseName, optionalString(values, 'locker'), io);
  try {
    const run = await detectInSession(session, sigma?.detections ?? []);
    if (values.json) {
      io.out(
        `${JSON.stringify(
          {
            case: session.caseName,
            events: eventCount(session.tables),
            findings: run.findings,
            detections: run.detections,
            errors: run.errors,
            problems: session.tables.problems,
            unrecognised: session.tables.unrecognised,
            ...(sigma ? { sigma: sigmaSummary(sigma) } : {}),
          },
          null,
          2,
        )}\n`,
      );
    } else {
      io.out(describeFindings(session, run.findings, run.detections));
      for (const e of run.errors) io.out(`  detection ${t(e.detection)} could not run: ${t(e.error)}\n`);
      if (sigma) {
        const s = sigmaSummary(sigma);
        io.out(`  Sigma rules from ${t(sigmaDir!)}: ${s.compiled} compiled and run, ${s.unsupported} not run (amber rules --sigma ${t(sigmaDir!)} says why for each)\n`);
      }
    }
    return run.errors.length > 0 ? ExitCode.failure : ExitCode.ok;
  } finally {
    await session.close();
  }
}

/** The findings as a people-readable summary, most severe first. */
export function describeFindings(session: CaseSession, findings: readonly Finding[], detections: number): string {
  const { tables } = session;
  const lines = [`Case ${t(session.caseName)}: ${eventCount(tables)} events, ${detections} detections run, ${findings.length} finding${findings.length === 1 ? '' : 's'}`];
  for (const f of findings) {
    lines.push(
      `  ${f.severity.toUpperCase().padEnd(8)} ${t(f.event_time ?? '')}  ${t(f.title)}`,
      `           ${t(f.actor ?? '?')} ${t(f.action ?? '')}${f.target ? ` -> ${t(f.target)}` : ''}${f.source_ip ? ` from ${t(f.source_ip)}` : ''}`,
      `           ${t(f.detail ?? '')}`,
      `           evidence ${t(f.evidence_key)} record ${f.evidence_record ?? '?'} (sha256 ${f.evidence_sha256 ?? 'unknown'})`,
    );
  }
  if (tables.problems.length > 0) {
    lines.push(`  ${tables.problems.length} record(s) could not be parsed (the objects stay preserved and hashed):`);
    for (const p of tables.problems.slice(0, 20)) lines.push(`    ${t(p.key)}${p.record === undefined ? '' : ` record ${p.record}`}: ${t(p.reason)}`);
    if (tables.problems.length > 20) lines.push(`    ... ${tables.problems.length - 20} more in --json`);
  }
  if (tables.unrecognised.length > 0) lines.push(`  ${tables.unrecognised.length} object(s) in no format Amber queries yet (preserved and hashed; see --json)`);
  return `${lines.join('\n')}\n`;
}
