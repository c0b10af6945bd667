/** `amber verify`: recompute hashes and check the ledger; exit 3 on any integrity failure. */
import { ExitCode } from '../../shared/errors.ts';
import { validateCaseName } from '../../shared/evidence/names.ts';
import { verifyCase, type VerifyReport } from '../../shared/evidence/verify.ts';
import type { Values } from '../amber.ts';
import { optionalString, requireString } from './args.ts';
import { actorFrom, lockerSpec, openLocker } from './context.ts';
import { formatBytes, ProgressBar, t, type Io } from './io.ts';

const USAGE = 'amber verify --case C [--locker DIR|s3://bucket] [--json]';

/** Runs `amber verify`. */
export async function runVerify(values: Values, _positionals: string[], io: Io): Promise<number> {
  const caseName = validateCaseName(requireString(values, 'case', USAGE));
  const store = await openLocker(lockerSpec(optionalString(values, 'locker'), io), io, { create: false });
  const progress = new ProgressBar(io, 'verifying');
  const report = await verifyCase({ store, caseName, actor: actorFrom(io), onProgress: (done, total) => progress.update(done, total, `${done}/${total} objects`) });
  progress.done();
  io.out(values.json ? `${JSON.stringify(report, null, 2)}\n` : describe(report));
  // The decision stands without its record (read-only or full locker): say so where people look for problems.
  if (report.recorded?.where === 'nowhere') io.err(`amber: warning: result not recorded: ${t(report.recorded.reason)}\n`);
  return report.intact ? ExitCode.ok : ExitCode.integrity;
}

function describe(r: VerifyReport): string {
  const lines: string[] = [];
  if (r.intact) {
    lines.push(
      `Case ${t(r.case)}: INTACT`,
      `  ${r.items.length} objects (${formatBytes(r.bytes)}) re-hashed: every SHA-256 matches the custody ledger`,
      `  ${r.ledgerEntries} ledger entries: chain and checkpoints unbroken`,
    );
  } else {
    lines.push(`Case ${t(r.case)}: INTEGRITY FAILURE (${r.failures.length} problem${r.failures.length === 1 ? '' : 's'})`);
    const width = Math.max(...r.failures.map((f) => f.kind.length));
    for (const f of r.failures) {
      const where = f.key ? `${t(f.key)}: ` : f.line ? `ledger line ${f.line}: ` : '';
      lines.push(`  ${f.kind.padEnd(width)}  ${where}${t(f.reason)}`);
    }
    const ok = r.items.filter((i) => i.ok).length;
    lines.push(`  ${ok} of ${r.items.length} objects match their recorded SHA-256`);
  }
  for (const a of r.accepted) {
    const where = a.failure.key ?? (a.failure.seq !== undefined ? `entry ${a.failure.seq}` : `ledger line ${a.failure.line ?? '?'}`);
    lines.push(`  accepted  ${a.failure.kind} at ${t(where)} (ledger entry ${a.acceptedIn}: ${t(a.reason)})`);
  }
  for (const w of r.warnings) lines.push(`  warning: ${t(w.key)}: ${t(w.reason)}`);
  const recorded =
    r.recorded?.where === 'ledger'
      ? `recorded in the ledger (entry ${r.recorded.seq})`
      : r.recorded?.where === 'verification-record'
        ? `recorded in ${t(r.recorded.key)} (outside the chain it judged; the ledger was not touched)`
        : 'not recorded';
  lines.push(`  locker: ${t(r.locker)}; this verification is ${recorded}`);
  return `${lines.join('\n')}\n`;
}
