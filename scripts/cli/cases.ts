/** `amber cases`: the cases of a locker. */
import { listCases } from '../../shared/evidence/cases.ts';
import type { Values } from '../amber.ts';
import { optionalString } from './args.ts';
import { lockerSpec, openLocker } from './context.ts';
import { formatBytes, t, type Io } from './io.ts';

/** Runs `amber cases`. */
export async function runCases(values: Values, _positionals: string[], io: Io): Promise<number> {
  const store = await openLocker(lockerSpec(optionalString(values, 'locker'), io), io, { create: false });
  const cases = await listCases(store);
  if (values.json) {
    io.out(`${JSON.stringify({ locker: store.uri, cases }, null, 2)}\n`);
    return 0;
  }
  if (cases.length === 0) {
    io.out(`No cases in ${t(store.uri)}. Start one with: amber collect --case NAME --from PATH\n`);
    return 0;
  }
  const rows = cases.map((c) => [
    t(c.case),
    String(c.items),
    formatBytes(c.bytes),
    c.lastActivity ?? '',
    c.lastVerified ? `${c.lastVerified.intact ? 'intact' : 'FAILED'} ${c.lastVerified.at}` : 'never verified',
  ]);
  const header = ['CASE', 'ITEMS', 'SIZE', 'LAST ACTIVITY', 'LAST VERIFIED'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  io.out(`${[fmt(header), ...rows.map(fmt)].join('\n')}\n`);
  return 0;
}
