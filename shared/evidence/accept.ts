/**
 * The `accept` use case: a person accepts the verification failures a case shows now, with a reason. The
 * failures are named exactly (kind, key or entry, and the hash of the verification record that holds them) in
 * an `accepted` ledger entry; verify then shows them as accepted, while any new failure still fails. This is
 * the only way a case found broken reads as intact again, and it is itself in the custody record.
 */
import { IntegrityError, InvalidInputError } from '../errors.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { Signer } from '../ports/signer.ts';
import { sha256Hex } from './hashing.ts';
import { CustodyLedger, readCheckpoints, tornTail } from './ledger.ts';
import type { Actor } from './model.ts';
import { ledgerKey, validateCaseName } from './names.ts';
import { verifyCase, writeVerificationRecord, type FailureIdentity, type VerifyFailure } from './verify.ts';

export interface AcceptOptions {
  readonly store: ObjectStore;
  readonly caseName: string;
  readonly actor: Actor;
  readonly reason: string;
  readonly clock?: () => Date;
  /** The key of a keyed case (its `accepted` entry's checkpoint is signed); required for a keyed case. */
  readonly signer?: Signer;
}

export interface AcceptResult {
  readonly case: string;
  /** Sequence number of the `accepted` entry. */
  readonly seq: number;
  readonly accepted: readonly (FailureIdentity & { readonly record: string; readonly recordSha256: string; readonly reason: string })[];
}

/** Records a person's acceptance of every failure verify reports now. */
export async function acceptFailures(options: AcceptOptions): Promise<AcceptResult> {
  const { store, actor } = options;
  const caseName = validateCaseName(options.caseName);
  const reason = options.reason.trim();
  if (reason.length < 3) throw new InvalidInputError('--reason is required', { hint: 'say why these failures are acceptable, e.g. --reason "entries 10-11 written by the on-call script, confirmed with J. Doe"' });
  const clock = options.clock ?? (() => new Date());
  const release = await store.lock(`case-${caseName}`);
  try {
    // A keyed case without its key is refused before anything (even a verification record) is written.
    (await CustodyLedger.open(store, caseName, options.signer ? { signer: options.signer } : {})).assertCanWrite();
    const report = await verifyCase({ store, caseName, actor, clock, record: false });
    if (report.failures.length === 0) {
      throw new InvalidInputError(`case ${caseName} has no failure to accept: verify finds it intact${report.accepted.length ? ` (${report.accepted.length} accepted earlier)` : ''}`, { hint: 'run amber verify --case C to see the case as it is' });
    }
    const interrupted = report.failures.filter((f) => f.kind === 'ledger-interrupted');
    if (interrupted.length > 0) {
      throw new InvalidInputError(`case ${caseName}: an interrupted run awaits recovery (${interrupted[0]!.reason})`, { hint: `run amber recover --case ${caseName} first; it finishes the run's work without anyone having to accept it` });
    }
    // Appending to a ledger that ends before its own checkpoints (deleted, rolled back) would reuse their
    // numbers: the ledger has to be restored, not accepted.
    const { checkpoints } = await readCheckpoints(store, caseName);
    const head = (await CustodyLedger.open(store, caseName)).head.seq;
    const beyond = checkpoints.find((c) => c.seq > head);
    if (beyond) {
      throw new IntegrityError(`case ${caseName}: the ledger ends at entry ${head} but checkpoint ${beyond.key} records entry ${beyond.seq}; it was deleted or rolled back, and accepting cannot restore it`, {
        hint: 'restore custody-ledger.jsonl from a copy (its checkpoints tell which one is right), then run amber verify',
      });
    }
    const at = clock();
    // Failures seen now go on record first, so the acceptance names a record that holds them.
    const fresh: VerifyFailure[] = report.failures.filter((f) => f.kind !== 'previously-failed');
    const record = fresh.length > 0 ? await writeVerificationRecord(store, caseName, actor, at, fresh) : undefined;
    const accepts = report.failures.flatMap((f) => {
      if (f.recorded) return [{ ...f.recorded.failure, record: f.recorded.record, recordSha256: f.recorded.recordSha256, reason: f.reason }];
      const own = { kind: f.kind, ...(f.key ? { key: f.key } : {}), ...(f.seq !== undefined ? { seq: f.seq } : {}), ...(f.line !== undefined ? { line: f.line } : {}), ...(f.actual ? { actual: f.actual } : {}) };
      const extra = [{ ...own, record: record!.key, recordSha256: record!.sha256, reason: f.reason }];
      // Once the torn line is ended by a newline it reads as an invalid line: the same failure, accepted too.
      if (f.kind === 'ledger-torn') extra.push({ kind: 'ledger-edited', line: f.line!, record: record!.key, recordSha256: record!.sha256, reason: f.reason } as (typeof extra)[number]);
      return extra;
    });
    const text = (await store.readText(ledgerKey(caseName))) ?? '';
    const torn = tornTail(text);
    // Nothing may be glued onto a torn line: end it, and say exactly what it held.
    if (torn !== undefined) await store.appendLog(ledgerKey(caseName), '\n');
    const ledger = await CustodyLedger.open(store, caseName, { journaled: true, ...(options.signer ? { signer: options.signer } : {}) });
    const entry = await ledger.append('accepted', actor, at, {
      detail: {
        reason,
        accepts: accepts.map(({ reason: _r, ...a }) => a),
        ...(torn !== undefined ? { endedTornLine: { bytes: Buffer.from(torn).toString('base64'), sha256: sha256Hex(torn) } } : {}),
      },
    });
    await ledger.checkpoint();
    return { case: caseName, seq: entry.seq, accepted: accepts };
  } finally {
    await release();
  }
}

/** The `recover` use case: finishes an interrupted run's work (the same step every writer takes first). */
export async function recoverCase(options: { store: ObjectStore; caseName: string; actor: Actor; clock?: () => Date; signer?: Signer }): Promise<{ case: string; recovered: boolean; head: { seq: number; sha256: string } }> {
  const caseName = validateCaseName(options.caseName);
  const release = await options.store.lock(`case-${caseName}`);
  try {
    const before = (await options.store.readText(ledgerKey(caseName))) ?? '';
    const ledger = await CustodyLedger.openForWriting(options.store, caseName, options.actor, (options.clock ?? (() => new Date()))(), options.signer ? { signer: options.signer } : {});
    const recovered = ledger.entries.length > 0 && ledger.entries.at(-1)!.action === 'recovered' && (await options.store.readText(ledgerKey(caseName))) !== before;
    return { case: caseName, recovered, head: ledger.head };
  } finally {
    await release();
  }
}
