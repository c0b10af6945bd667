/**
 * Ledger branches that only tampering reaches: an unreadable checkpoint, a first entry that does not start
 * the chain, a line put between two chained entries, which of two entries with one number is blamed, and a
 * writer that appended nothing never anchoring what it found.
 */
import { chmod, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { CustodyLedger, readCheckpoints, verifyLedgerChain, type Checkpoint } from '../../../shared/evidence/ledger.ts';
import { LocalObjectStore } from '../../../shared/evidence/local-object-store.ts';
import { GENESIS_HASH, sha256Hex } from '../../../shared/evidence/hashing.ts';
import { ledgerKey } from '../../../shared/evidence/names.ts';
import { tempDir } from '../../helpers/tmp.ts';

const actor = { principal: 'analyst@test', tool: 'amber/test' };
const join = (lines: string[]): string => `${lines.join('\n')}\n`;

/** A case whose ledger holds six entries, checkpointed after the third and the sixth. */
async function sixEntries(): Promise<{ store: LocalObjectStore; lines: string[]; checkpoints: Checkpoint[] }> {
  const store = await LocalObjectStore.open(await tempDir(), { create: true });
  const ledger = await CustodyLedger.open(store, 'c1');
  for (let i = 1; i <= 6; i++) {
    await ledger.append('acquired', actor, new Date(Date.UTC(2026, 0, 1, 0, i)), { detail: { n: i } });
    if (i === 3) await ledger.checkpoint();
  }
  await ledger.checkpoint();
  const text = (await store.readText(ledgerKey('c1')))!;
  const { checkpoints } = await readCheckpoints(store, 'c1');
  return { store, lines: text.trimEnd().split('\n'), checkpoints };
}

/** An entry line with the given number chained to `prev`, otherwise like `like`. */
const entry = (like: string, seq: number, prev: string, n: unknown): string => JSON.stringify({ ...JSON.parse(like), seq, prev, detail: { n } });

describe('Function: readCheckpoints', () => {
  it('reports a corrupted checkpoint as a failure naming it, and does not trust it', async () => {
    const { store, checkpoints } = await sixEntries();
    const key = checkpoints[0]!.key;
    await chmod(store.pathOf(key), 0o644);
    await writeFile(store.pathOf(key), '{"seq":3,"sha256":');
    const read = await readCheckpoints(store, 'c1');
    expect(read.checkpoints.map((c) => c.key)).not.toContain(key);
    expect(read.failures).toEqual([{ kind: 'ledger-edited', reason: `checkpoint ${key} is not readable` }]);
  });

  it('reports a checkpoint without its fields as not readable', async () => {
    const { store, checkpoints } = await sixEntries();
    const key = checkpoints[1]!.key;
    await chmod(store.pathOf(key), 0o644);
    await writeFile(store.pathOf(key), '{"seq":"6"}\n');
    const read = await readCheckpoints(store, 'c1');
    expect(read.checkpoints.map((c) => c.seq)).toEqual([3]);
    expect(read.failures).toEqual([expect.objectContaining({ kind: 'ledger-edited', reason: expect.stringContaining(key) })]);
  });
});

describe('Function: verifyLedgerChain, where the chain starts and what lies outside it', () => {
  it('names a first entry that does not start the chain, on line 1', async () => {
    const { lines, checkpoints } = await sixEntries();
    lines[0] = entry(lines[0]!, 1, 'a'.repeat(64), 1);
    expect(verifyLedgerChain(join(lines), checkpoints)).toEqual([{ kind: 'ledger-edited', line: 1, seq: 1, reason: 'the first entry does not start the chain' }]);
  });

  it('names a line put between two entries that chain to each other as inserted, not the entry after it as reordered', () => {
    // A chain 1, 2, 4 (entry 4 names entry 2), with a line numbered 3 slipped in between.
    const first = JSON.stringify({ seq: 1, prev: GENESIS_HASH, at: '2026-01-01T00:00:00.000Z', action: 'acquired', actor: 'a', tool: 't', case: 'c1' });
    const second = entry(first, 2, sha256Hex(first), 2);
    const fourth = entry(first, 4, sha256Hex(second), 4);
    const slipped = entry(first, 3, sha256Hex(second), 'slipped in');
    const failures = verifyLedgerChain(join([first, second, slipped, fourth]), [{ seq: 4, sha256: sha256Hex(fourth), key: 'k4', prev: null }]);
    expect(failures).toEqual([expect.objectContaining({ kind: 'ledger-inserted', line: 3, seq: 3 })]);
  });
});

describe('Function: verifyLedgerChain, two entries with one number', () => {
  it('blames the copy placed after the genuine entry, not the entry the chain goes through', async () => {
    const { lines, checkpoints } = await sixEntries();
    // A second "entry 4" after the genuine one; entry 5 still chains to the genuine entry 4.
    lines.splice(4, 0, entry(lines[3]!, 4, sha256Hex(lines[3]!), 'forged'));
    const failures = verifyLedgerChain(join(lines), checkpoints);
    expect(failures).toContainEqual(expect.objectContaining({ kind: 'ledger-inserted', line: 5, seq: 4 }));
    expect(failures.filter((f) => f.line === 4)).toEqual([]);
  });

  it('blames the copy placed before the genuine entry, not the entry the chain goes through', async () => {
    const { lines, checkpoints } = await sixEntries();
    lines.splice(3, 0, entry(lines[3]!, 4, sha256Hex(lines[2]!), 'forged'));
    const failures = verifyLedgerChain(join(lines), checkpoints);
    expect(failures).toContainEqual(expect.objectContaining({ kind: 'ledger-inserted', line: 4, seq: 4 }));
    expect(failures.filter((f) => f.line === 5)).toEqual([]);
  });
});

describe('Method: CustodyLedger.checkpoint', () => {
  it('anchors nothing when this writer appended nothing, so entries appended outside Amber stay reported', async () => {
    const { store, lines } = await sixEntries();
    const outside = entry(lines[5]!, 7, sha256Hex(lines[5]!), 'appended outside Amber');
    await store.appendLog(ledgerKey('c1'), `${outside}\n`);
    const reader = await CustodyLedger.open(store, 'c1');
    await reader.checkpoint();
    const { checkpoints } = await readCheckpoints(store, 'c1');
    expect(checkpoints.map((c) => c.seq)).toEqual([3, 6]);
    const text = (await store.readText(ledgerKey('c1')))!;
    expect(verifyLedgerChain(text, checkpoints)).toEqual([expect.objectContaining({ kind: 'ledger-unanchored', seq: 7 })]);
  });
});
