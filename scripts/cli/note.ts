/** `amber note`: records a note on a case's custody (legal request, transfer, access, remark) in its ledger. */
import { UsageError } from '../../shared/errors.ts';
import { CustodyLedger } from '../../shared/evidence/ledger.ts';
import { validateCaseName } from '../../shared/evidence/names.ts';
import { assertCaseExists } from '../../shared/evidence/verify.ts';
import { NOTE_FLAGS, NOTE_KINDS, noteDetail, type NoteKind } from '../../shared/papers/notes.ts';
import type { Values } from '../amber.ts';
import { closest, optionalString, requireString } from './args.ts';
import { actorFrom, lockerSpec, openLocker, signerFrom } from './context.ts';
import { t, type Io } from './io.ts';

export const NOTE_USAGE = 'amber note --case C --kind legal-request|transfer|access|remark [--provider P --reference R --date D ...|--from A --to B --reason R|--text T] [--signing-key FILE] [--locker DIR|s3://bucket] [--json]';

/** The note's kind, or a UsageError with the nearest valid kind. */
function kindOf(values: Values): NoteKind {
  const kind = requireString(values, 'kind', NOTE_USAGE);
  if ((NOTE_KINDS as readonly string[]).includes(kind)) return kind as NoteKind;
  const guess = closest(kind, NOTE_KINDS);
  throw new UsageError(`unknown note kind ${JSON.stringify(kind)}`, { hint: guess ? `did you mean --kind ${guess}?` : `kinds: ${NOTE_KINDS.join(', ')}` });
}

/** Runs `amber note`. */
export async function runNote(values: Values, _positionals: string[], io: Io): Promise<number> {
  const caseName = validateCaseName(requireString(values, 'case', NOTE_USAGE));
  const kind = kindOf(values);
  const detail = noteDetail(kind, Object.fromEntries(NOTE_FLAGS.map((flag) => [flag, optionalString(values, flag)])));
  const signer = await signerFrom(optionalString(values, 'signing-key'), io);
  const store = await openLocker(lockerSpec(optionalString(values, 'locker'), io), io, { create: false });
  await assertCaseExists(store, caseName);
  const actor = actorFrom(io);
  const release = await store.lock(`case-${caseName}`);
  let entry;
  try {
    // Never on top of an unanchored or torn tail; a keyed case without its key is refused before anything is written.
    const ledger = await CustodyLedger.openForWriting(store, caseName, actor, new Date(), signer ? { signer } : {});
    entry = await ledger.append('noted', actor, new Date(), { detail });
    await ledger.checkpoint();
  } finally {
    await release();
  }
  if (values.json) io.out(`${JSON.stringify({ case: caseName, seq: entry.seq, at: entry.at, actor: entry.actor, detail }, null, 2)}\n`);
  else io.out(`Case ${t(caseName)}: ${kind} note recorded in ledger entry ${entry.seq} (${entry.at}); amber custody lists it\n`);
  return 0;
}
