/** `amber accept` and `amber recover`: a person's ledgered acceptance of failures; finishing an interrupted run. */
import { acceptFailures, recoverCase } from '../../shared/evidence/accept.ts';
import { validateCaseName } from '../../shared/evidence/names.ts';
import { assertCaseExists } from '../../shared/evidence/verify.ts';
import type { Values } from '../amber.ts';
import { optionalString, requireString } from './args.ts';
import { actorFrom, lockerSpec, openLocker, signerFrom } from './context.ts';
import { t, type Io } from './io.ts';

import { ACCEPT_USAGE, RECOVER_USAGE } from './accept-usage.ts';

export { ACCEPT_USAGE, RECOVER_USAGE };

/** Runs `amber accept`. */
export async function runAccept(values: Values, _positionals: string[], io: Io): Promise<number> {
  const caseName = validateCaseName(requireString(values, 'case', ACCEPT_USAGE));
  const reason = requireString(values, 'reason', ACCEPT_USAGE);
  const signer = await signerFrom(optionalString(values, 'signing-key'), io);
  const store = await openLocker(lockerSpec(optionalString(values, 'locker'), io), io, { create: false });
  await assertCaseExists(store, caseName);
  const result = await acceptFailures({ store, caseName, actor: actorFrom(io), reason, ...(signer ? { signer } : {}) });
  if (values.json) {
    io.out(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  }
  const lines = [`Case ${t(caseName)}: ${result.accepted.length} failure${result.accepted.length === 1 ? '' : 's'} accepted in ledger entry ${result.seq}, reason: ${t(reason)}`];
  for (const a of result.accepted) lines.push(`  ${a.kind}  ${t(a.key ?? (a.seq !== undefined ? `entry ${a.seq}` : `ledger line ${a.line ?? '?'}`))}: ${t(a.reason)}`);
  lines.push('  verify shows these as accepted from now on; any new failure still fails');
  io.out(`${lines.join('\n')}\n`);
  return 0;
}

/** Runs `amber recover`. */
export async function runRecover(values: Values, _positionals: string[], io: Io): Promise<number> {
  const caseName = validateCaseName(requireString(values, 'case', RECOVER_USAGE));
  const signer = await signerFrom(optionalString(values, 'signing-key'), io);
  const store = await openLocker(lockerSpec(optionalString(values, 'locker'), io), io, { create: false });
  await assertCaseExists(store, caseName);
  const result = await recoverCase({ store, caseName, actor: actorFrom(io), ...(signer ? { signer } : {}) });
  if (values.json) io.out(`${JSON.stringify(result, null, 2)}\n`);
  else {
    io.out(
      result.recovered
        ? `Case ${t(caseName)}: finished the work of an interrupted run (recovered entry ${result.head.seq} in the ledger)\n` +
            '  objects it stored but did not record are recorded when the same sources are collected again; verify reports them as extra objects until then\n'
        : `Case ${t(caseName)}: no interrupted run to finish; the ledger is as it was\n`,
    );
  }
  return 0;
}
