/** Papers built from small synthetic cases, and their PDF text read back with pdftotext (poppler-utils). */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EvidenceItem, LedgerEntry } from '../../../shared/evidence/model.ts';
import type { VerifyReport } from '../../../shared/evidence/verify.ts';
import type { PapersInput } from '../../../shared/papers/input.ts';
import { tempDir } from '../../helpers/tmp.ts';

export const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Runs a poppler tool; a missing one fails with the command that installs it. */
function poppler(tool: 'pdftotext' | 'pdfinfo', args: string[]): string {
  try {
    return execFileSync(tool, args, { encoding: 'utf8' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${tool} is not installed: run \`bash scripts/test-deps.sh\` (Debian poppler-utils)`, { cause: error });
    throw error;
  }
}

/** The text pdftotext reads from the PDF file `file` (one page, or all). */
export function pdfFileText(file: string, page?: number): string {
  const range = page === undefined ? [] : ['-f', String(page), '-l', String(page)];
  return poppler('pdftotext', ['-enc', 'UTF-8', ...range, file, '-']);
}

/** The text pdftotext reads from `pdf` (one page, or all). */
export async function pdfText(pdf: Uint8Array, page?: number): Promise<string> {
  const file = join(await tempDir('amber-pdf-'), 'paper.pdf');
  await writeFile(file, pdf);
  return pdfFileText(file, page);
}

/** Number of pages pdfinfo reports. */
export async function pdfPages(pdf: Uint8Array): Promise<number> {
  const file = join(await tempDir('amber-pdf-'), 'paper.pdf');
  await writeFile(file, pdf);
  const info = poppler('pdfinfo', [file]);
  return Number(/^Pages:\s+(\d+)/m.exec(info)![1]);
}

/** An item as collect records it. */
export function item(key: string, body: string, origin = `file:///src/${key}`): EvidenceItem {
  return {
    id: `ev-${sha(key).slice(0, 16)}`,
    case: 'C',
    origin,
    key: `cases/C/${key}`,
    size: Buffer.byteLength(body),
    sha256: sha(body),
    acquiredAt: '2026-03-01T10:00:00.000Z',
    acquiredBy: 'analyst@test',
    retainUntil: null,
    mediaType: 'application/json',
  };
}

/**
 * A chained ledger: each batch of items is acquired one entry per item and sealed; `extra` entries (notes,
 * exports) follow. Hashes are of real lines, as the ledger writes them.
 */
export function ledger(batches: EvidenceItem[][], extra: Array<Pick<LedgerEntry, 'action' | 'detail'> & { actor?: string }> = [], actor = 'analyst@test'): { entries: LedgerEntry[]; head: { seq: number; sha256: string } } {
  const entries: LedgerEntry[] = [];
  let prev = '0'.repeat(64);
  const push = (fields: Omit<LedgerEntry, 'seq' | 'prev' | 'case' | 'tool' | 'at' | 'actor'> & { actor?: string }): void => {
    const seq = entries.length + 1;
    const entry: LedgerEntry = { seq, prev, at: `2026-03-01T10:${String(seq).padStart(2, '0')}:00.000Z`, tool: 'amber/0.1.0', case: 'C', ...fields, actor: fields.actor ?? actor };
    entries.push(entry);
    prev = sha(JSON.stringify(entry));
  };
  batches.forEach((batch) => {
    for (const i of batch) push({ action: 'acquired', items: [i] });
    push({ action: 'sealed', detail: { manifest: `cases/C/_amber/manifests/${String(entries.length + 1).padStart(10, '0')}.json`, sha256: sha(`manifest ${entries.length}`), items: batch.length, failures: 0 } });
  });
  for (const e of extra) push(e);
  return { entries, head: { seq: entries.length, sha256: prev } };
}

/** An intact verification of `items`. */
export function intact(items: readonly EvidenceItem[], entries: number, overrides: Partial<VerifyReport> = {}): VerifyReport {
  return {
    case: 'C',
    locker: 'file:///locker',
    intact: true,
    checkedAt: '2026-03-02T09:00:00.000Z',
    ledgerEntries: entries,
    bytes: items.reduce((a, i) => a + i.size, 0),
    items: items.map((i) => ({ key: i.key, size: i.size, recordedSha256: i.sha256, storedSha256: i.sha256, ok: true })),
    failures: [],
    accepted: [],
    warnings: [],
    ...overrides,
  };
}

/** A papers input over `batches` (and extra entries), verified intact, issued at `issuedAt`. */
export function input(batches: EvidenceItem[][], options: { extra?: Parameters<typeof ledger>[1]; issuedAt?: string; actor?: string; verification?: Partial<VerifyReport> } = {}): PapersInput {
  const { entries, head } = ledger(batches, options.extra ?? [], options.actor);
  return {
    case: 'C',
    issuedAt: options.issuedAt ?? '2026-03-02T09:00:00.000Z',
    issuedBy: options.actor ?? 'analyst@test',
    tool: 'amber/0.1.0',
    locker: 'file:///locker',
    entries,
    ledgerHead: head,
    verification: intact(batches.flat(), entries.length, options.verification),
    verificationRecords: [],
  };
}
