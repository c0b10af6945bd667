/** `amber report`: the self-contained HTML case report. */
import { ExitCode } from '../../shared/errors.ts';
import { verifyCase } from '../../shared/evidence/verify.ts';
import { activityBuckets, identityActivity } from '../../shared/reports/case-report.ts';
import { renderHtmlReport } from '../../shared/reports/html-report.ts';
import { inventorySummary } from '../../shared/reports/inventory-section.ts';
import { validateCaseName } from '../../shared/evidence/names.ts';
import type { Values } from '../amber.ts';
import { optionalString, requireString } from './args.ts';
import { detectInSession, eventCount, loadSuppressionFile, openCaseSession, type CaseSession, type SessionRun } from './case-session.ts';
import { actorFrom, lockerSpec, openLocker, signerFrom, TOOL } from './context.ts';
import { writeExport, type Exported } from './export.ts';
import { safeOutputPath } from './output-path.ts';
import { LocalObjectStore } from '../../shared/evidence/local-object-store.ts';
import { CustodyLedger } from '../../shared/evidence/ledger.ts';
import type { Signer } from '../../shared/ports/signer.ts';
import { t, type Io } from './io.ts';
import type { CatalogueRun } from '../../shared/detections/run.ts';

const USAGE = 'amber report --case C [--out FILE] [--suppress FILE] [--signing-key FILE] [--locker DIR]';

export interface ReportOutcome {
  readonly exported: Exported;
  readonly run: SessionRun;
  readonly intact: boolean;
  readonly events: number;
  /** Tables that held events (cloudtrail, vpc_flow_logs, entra_signin...). */
  readonly sources: readonly string[];
}

/** Verifies, detects and writes the report for a case (shared by `report` and `demo`). */
export async function buildReport(
  caseName: string,
  lockerFlag: string | undefined,
  out: string,
  io: Io,
  onSession?: (s: CaseSession, run: CatalogueRun) => void,
  suppressFile?: string,
  signer?: Signer,
): Promise<ReportOutcome> {
  validateCaseName(caseName);
  const suppressions = await loadSuppressionFile(suppressFile, io.cwd);
  // Verify first, on its own: the report shows the integrity of exactly what it reports on.
  const store = await openLocker(lockerSpec(lockerFlag, io), io, { create: false });
  // Refused before anything runs or is recorded (writeExport checks again at the moment of writing).
  await safeOutputPath(out, io.cwd, store instanceof LocalObjectStore ? store.root : undefined);
  // A keyed case without its key is refused before verify records anything.
  (await CustodyLedger.open(store, caseName, signer ? { signer } : {})).assertCanWrite();
  const verification = await verifyCase({ store, caseName, actor: actorFrom(io), ...(signer ? { signer } : {}) });
  const session = await openCaseSession(caseName, lockerFlag, io, {}, signer);
  try {
    const run = await detectInSession(session, suppressions);
    onSession?.(session, run);
    const inventory = await inventorySummary(session.engine, session.tables.sources, run.findings);
    const html = renderHtmlReport({
      ...(inventory ? { inventory } : {}),
      case: caseName,
      generatedAt: new Date().toISOString(),
      tool: TOOL,
      locker: session.store.uri,
      items: [...session.ledger.items().values()].sort((a, b) => a.key.localeCompare(b.key)),
      events: eventCount(session.tables),
      findings: run.findings,
      suppressed: run.suppressed,
      activity: await activityBuckets(session.engine, session.tables.sources),
      identities: await identityActivity(session.engine, session.tables.sources),
      ledger: session.ledger.entries,
      verification,
      parseProblems: session.tables.problems,
      coverage: session.tables.coverage,
      unrecognised: session.tables.unrecognised,
      detectionErrors: run.errors,
    });
    const exported = await writeExport(session, io, [html], out, { what: 'report', format: 'html', findings: run.findings.length });
    const sources = Object.entries(session.tables.events).filter(([, n]) => n > 0).map(([table]) => table);
    return { exported, run, intact: verification.intact, events: eventCount(session.tables), sources };
  } finally {
    await session.close();
  }
}

/** Runs `amber report`. */
export async function runReport(values: Values, _positionals: string[], io: Io): Promise<number> {
  const caseName = requireString(values, 'case', USAGE);
  const out = optionalString(values, 'out') ?? `amber-report-${caseName}.html`;
  const signer = await signerFrom(optionalString(values, 'signing-key'), io);
  const outcome = await buildReport(caseName, optionalString(values, 'locker'), out, io, undefined, optionalString(values, 'suppress'), signer);
  io.out(
    `Report for case ${t(caseName)}: ${outcome.run.findings.length} finding${outcome.run.findings.length === 1 ? '' : 's'}${outcome.run.suppressed.length ? ` (${outcome.run.suppressed.length} suppressed)` : ''} over ${outcome.events} events; integrity ${outcome.intact ? 'INTACT' : 'FAILED'}\n` +
      `  ${t(outcome.exported.path ?? '')} (sha256 ${outcome.exported.sha256}, recorded in the custody ledger)\n`,
  );
  return outcome.intact ? ExitCode.ok : ExitCode.integrity;
}
