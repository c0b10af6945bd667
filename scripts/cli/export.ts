/** Writes an export (timeline, report) to a file or stdout, hashing it, and records it in the ledger. */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { UsageError } from '../../shared/errors.ts';
import type { CaseSession } from './case-session.ts';
import { terminalSafe, type Io } from './io.ts';
import { safeOutputPath } from './output-path.ts';

/** What an export needs of a session: the ledger to record it in, the actor, and the locker's folder to keep out of. */
export type ExportTarget = Pick<CaseSession, 'ledger' | 'actor' | 'localRoot'>;

export interface Exported {
  readonly path: string | null;
  readonly bytes: number;
  readonly sha256: string;
}

/**
 * Streams `chunks` (sync or async: a streamed query's pieces) to `out` (a path outside the locker's cases) or to stdout, and appends an `exported`
 * ledger entry with the SHA-256 of exactly the bytes written. On stdout, text is made terminal-safe first
 * (JSON keeps its value), so the hash is of what went out. Binary chunks (a PDF) go to a file only.
 */
export async function writeExport(session: ExportTarget, io: Io, chunks: Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>, out: string | undefined, detail: Record<string, unknown>): Promise<Exported> {
  const hash = createHash('sha256');
  let bytes = 0;
  const path = out === undefined ? null : await safeOutputPath(out, io.cwd, session.localRoot);
  // O_NOFOLLOW: a link swapped in after the check is refused rather than followed.
  const file = path ? (await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644)).createWriteStream() : undefined;
  for await (const raw of chunks) {
    if (!file && typeof raw !== 'string') throw new UsageError('binary output (a PDF) cannot go to standard output', { hint: 'give --out FILE' });
    const chunk = file || typeof raw !== 'string' ? raw : terminalSafe(raw);
    hash.update(chunk);
    bytes += Buffer.byteLength(chunk);
    if (file) {
      if (!file.write(chunk)) await once(file, 'drain');
    } else io.out(chunk as string);
  }
  if (file) {
    file.end();
    await once(file, 'finish');
  }
  const sha256 = hash.digest('hex');
  await session.ledger.append('exported', session.actor, new Date(), { detail: { ...detail, to: path ?? 'stdout', bytes, sha256 } });
  return { path, bytes, sha256 };
}
