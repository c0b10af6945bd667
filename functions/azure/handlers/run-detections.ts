/**
 * The timer trigger's handler: runs the detection catalogue over every case of the evidence store on the
 * embedded DuckDB engine (detect-cases.ts), findings JSON written to the store and `accessed` entries recorded
 * in the cited cases' ledgers. A case whose evidence no longer matches its custody record is not analysed and
 * fails the invocation (after the other cases ran), so the failure shows in the function's monitoring.
 */
import type { InvocationContext, Timer } from '@azure/functions';
import { IntegrityError } from '../../../shared/errors.ts';
// detect-cases.ts (DuckDB's native binding, the SQL layer and the parsers) is loaded on the first run, not at cold start.
import type { CaseRun, DetectCasesOptions } from '../detect-cases.ts';

/** The timer handler over the given options (built once by the entry point). */
export function runDetectionsHandler(options: () => Promise<DetectCasesOptions>): (timer: Timer, context: InvocationContext) => Promise<CaseRun[]> {
  return async (timer, context) => {
    if (timer?.isPastDue) context.warn(JSON.stringify({ message: 'the detection run is late (past due); it covers the window before its own start' }));
    const { detectCases } = await import('../detect-cases.ts');
    const runs = await detectCases(await options());
    for (const run of runs) {
      if (run.status === 'analysed') {
        context.log(JSON.stringify({ message: 'case analysed', case: run.case, runId: run.result.runId, findings: run.result.findings, findingsKey: run.result.findingsKey, errors: run.result.errors.length, cases: run.result.cases }));
      } else if (run.status === 'skipped') {
        context.log(JSON.stringify({ message: 'case skipped', case: run.case, reason: run.reason }));
      } else {
        context.error(JSON.stringify({ message: 'case not analysed', case: run.case, code: run.code, error: run.message }));
      }
    }
    const broken = runs.filter((r) => r.status === 'failed');
    if (broken.length > 0) {
      const integrity = broken.some((r) => r.status === 'failed' && r.code === 'INTEGRITY');
      const text = broken.map((r) => `${r.case}: ${r.status === 'failed' ? r.message : ''}`).join('; ');
      throw integrity
        ? new IntegrityError(`detections did not run on ${broken.length} case(s): ${text}`, { hint: 'run amber verify on each case named; the other cases were analysed' })
        : new Error(`detections did not run on ${broken.length} case(s): ${text}`);
    }
    return runs;
  };
}
