/** `amber detect`: runs the detection catalogue over a case. */
import { ExitCode } from '../../shared/errors.ts';
import type { Finding } from '../../shared/detections/run.ts';
import type { Values } from '../amber.ts';
import { optionalString, requireString } from './args.ts';
import { detectInSession, eventCount, openCaseSession, type CaseSession } from './case-session.ts';
import { t, type Io } from './io.ts';
import type { CaseCoverage } from '../../shared/sources/case-tables.ts';

const USAGE = 'amber detect --case C [--locker DIR] [--json]';

/** Runs `amber detect`. */
export async function runDetect(values: Values, _positionals: string[], io: Io): Promise<number> {
  const session = await openCaseSession(requireString(values, 'case', USAGE), optionalString(values, 'locker'), io);
  try {
    const run = await detectInSession(session);
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
            coverage: session.tables.coverage,
          },
          null,
          2,
        )}\n`,
      );
    } else {
      io.out(describeFindings(session, run.findings, run.detections));
      for (const e of run.errors) io.out(`  detection ${t(e.detection)} could not run: ${t(e.error)}\n`);
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
  lines.push(...describeCoverage(tables.coverage));
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

/**
 * What the findings were computed from. A case where nothing was analysed must never read as a clean
 * "0 findings": the first line then says so in capitals.
 */
export function describeCoverage(coverage: CaseCoverage): string[] {
  const { objects, records } = coverage;
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  const aside = [
    objects.unrecognised > 0 ? `${objects.unrecognised} unrecognised` : '',
    objects.unparsable > 0 ? `${objects.unparsable} unparsable` : '',
    objects.digests > 0 ? plural(objects.digests, 'digest file') : '',
  ].filter(Boolean);
  const lines: string[] = [];
  if (objects.analysed === 0) {
    lines.push(
      `  NOTHING ANALYSED: 0 of ${plural(objects.total, 'object')} analysed: nothing Amber parses${aside.length > 0 ? ` (${aside.join(', ')})` : ''}; 0 findings here means nothing was examined, not that nothing happened`,
    );
  } else {
    lines.push(`  coverage: ${objects.analysed} of ${plural(objects.total, 'object')} analysed${aside.length > 0 ? ` (${aside.join(', ')})` : ''}; ${plural(records.loaded, 'record')} loaded, ${records.rejected} set aside`);
  }
  for (const [id, source] of Object.entries(coverage.sources)) {
    lines.push(`    ${t(id)}: ${plural(source.objects, 'object')}, ${plural(source.records.loaded, 'record')} loaded, ${source.records.rejected} set aside`);
  }
  return lines;
}
