/** Writes an export (timeline, report) to a file or stdout, hashing it, and records it in the ledger. */
import { createWriteStream } from 'node:fs';
import { resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { CaseSession } from './case-session.ts';
import type { Io } from './io.ts';

export interface Exported {
  readonly path: string | null;
  readonly bytes: number;
  readonly sha256: string;
}

/** Streams `chunks` to `out` (a path) or to stdout, and appends an `exported` ledger entry. */
export async function writeExport(session: CaseSession, io: Io, chunks: Iterable<string>, out: string | undefined, detail: Record<string, unknown>): Promise<Exported> {
  const hash = createHash('sha256');
  let bytes = 0;
  const path = out === undefined ? null : resolve(io.cwd, out);
  const file = path ? createWriteStream(path) : undefined;
  for (const chunk of chunks) {
    hash.update(chunk);
    bytes += Buffer.byteLength(chunk);
    if (file) {
      if (!file.write(chunk)) await once(file, 'drain');
    } else io.out(chunk);
  }
  if (file) {
    file.end();
    await once(file, 'finish');
  }
  const sha256 = hash.digest('hex');
  await session.ledger.append('exported', session.actor, new Date(), { detail: { ...detail, to: path ?? 'stdout', bytes, sha256 } });
  return { path, bytes, sha256 };
}
