/** `amber custody`: the chain-of-custody report of a case, as PDF or HTML. */
import type { Values } from '../amber.ts';
import type { Io } from './io.ts';
import { issuePaper } from './papers.ts';

export const CUSTODY_USAGE = 'amber custody --case C [--out FILE.pdf|FILE.html] [--signing-key FILE] [--locker DIR|s3://bucket] [--json]';

/** Runs `amber custody`. */
export function runCustody(values: Values, _positionals: string[], io: Io): Promise<number> {
  return issuePaper('custody', values, io, CUSTODY_USAGE);
}
