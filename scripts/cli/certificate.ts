/** `amber certificate`: the Section 63 (Bharatiya Sakshya Adhiniyam, 2023) certificate of a case, as PDF or HTML. */
import type { Values } from '../amber.ts';
import type { Io } from './io.ts';
import { issuePaper } from './papers.ts';

export const CERTIFICATE_USAGE = 'amber certificate --case C [--out FILE.pdf|FILE.html] [--signing-key FILE] [--locker DIR|s3://bucket] [--json]';

/** Runs `amber certificate`. */
export function runCertificate(values: Values, _positionals: string[], io: Io): Promise<number> {
  return issuePaper('certificate', values, io, CERTIFICATE_USAGE);
}
