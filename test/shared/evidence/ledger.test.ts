import { describe, expect, it } from 'vitest';
import { CustodyLedger, readCheckpoints, verifyLedgerChain, type Checkpoint } from '../../../shared/evidence/ledger.ts';
import { LocalObjectStore } from '../../../shared/evidence/local-object-store.ts';
import { ledgerKey } from '../../../shared/evidence/names.ts';
import { sha256Hex } from '../../../shared/evidence/hashing.ts';
import { tempDir } from '../../helpers/tmp.ts';

const actor = { principal: 'analyst@test', tool: 'amber/test' };

/** A ledger of six entries, checkpointed, as text plus its checkpoints. */
async function sixEntries(): Promise<{ lines: string[]; checkpoints: Checkpoint[] }> {
  const store = await LocalObjectStore.open(await tempDir(), { create: true });
  const ledger = await CustodyLedger.open(store, 'c1');
  for (let i = 1; i <= 6; i++) {
    await ledger.append(i === 6 ? 'sealed' : 'acquired', actor, new Date(Date.UTC(2026, 0, 1, 0, i)), { detail: { n: i } });
    if (i === 3) await ledger.checkpoint();
  }
  await ledger.checkpoint();
  const text = (await store.readText(ledgerKey('c1')))!;
  const { checkpoints } = await readCheckpoints(store, 'c1');
  return { lines: text.trimEnd().split('\n'), checkpoints };
}

const join = (lines: string[]): string => `${lines.join('\n')}\n`;

describe('Function: verifyLedgerChain', () => {
  it('finds nothing wrong with an untouched ledger', async () => {
    const { lines, checkpoints } = await sixEntries();
    expect(checkpoints.map((c) => c.seq)).toEqual([3, 6]);
    expect(verifyLedgerChain(join(lines), checkpoints)).toEqual([]);
  });

  it('chains every entry to the SHA-256 of the line before it', async () => {
    const { lines } = await sixEntries();
    const entries = lines.map((l) => JSON.parse(l) as { prev: string; seq: number });
    expect(entries[0]!.prev).toBe('0'.repeat(64));
    for (let i = 1; i < lines.length; i++) expect(entries[i]!.prev).toBe(sha256Hex(lines[i - 1]!));
  });

  it('names an edited entry in the middle', async () => {
    const { lines, checkpoints } = await sixEntries();
    lines[1] = lines[1]!.replace('"n":2', '"n":9');
    const failures = verifyLedgerChain(join(lines), checkpoints);
    expect(failures).toEqual([expect.objectContaining({ kind: 'ledger-edited', seq: 2, line: 2 })]);
  });

  it('names an edited last entry through its checkpoint', async () => {
    const { lines, checkpoints } = await sixEntries();
    lines[5] = lines[5]!.replace('"n":6', '"n":7');
    expect(verifyLedgerChain(join(lines), checkpoints)).toEqual([expect.objectContaining({ kind: 'ledger-edited', seq: 6 })]);
  });

  it('names removed entries in the middle', async () => {
    const { lines, checkpoints } = await sixEntries();
    lines.splice(2, 2);
    const failures = verifyLedgerChain(join(lines), checkpoints);
    expect(failures).toContainEqual(expect.objectContaining({ kind: 'ledger-removed', seq: 3, reason: 'entries 3-4 were removed' }));
  });

  it('names entries removed from the end', async () => {
    const { lines, checkpoints } = await sixEntries();
    const failures = verifyLedgerChain(join(lines.slice(0, 4)), checkpoints);
    expect(failures).toEqual([expect.objectContaining({ kind: 'ledger-removed', seq: 6, reason: expect.stringMatching(/entries 5-6 were removed/) })]);
  });

  it('names an inserted entry even when its chain link is forged', async () => {
    const { lines, checkpoints } = await sixEntries();
    const forged = JSON.stringify({ ...JSON.parse(lines[2]!), detail: { n: 'forged' }, prev: sha256Hex(lines[2]!) });
    lines.splice(3, 0, forged.replace('"seq":3', '"seq":4'));
    const failures = verifyLedgerChain(join(lines), checkpoints);
    expect(failures.map((f) => f.kind)).toContain('ledger-inserted');
    expect(failures.find((f) => f.kind === 'ledger-inserted')?.line).toBe(4);
  });

  it('names reordered entries', async () => {
    const { lines, checkpoints } = await sixEntries();
    [lines[2], lines[3]] = [lines[3]!, lines[2]!];
    const failures = verifyLedgerChain(join(lines), checkpoints);
    expect(failures.map((f) => f.kind)).toContain('ledger-reordered');
    expect(failures.every((f) => f.kind === 'ledger-reordered')).toBe(true);
  });

  it('reports entries no checkpoint anchors', async () => {
    const { lines, checkpoints } = await sixEntries();
    const last = JSON.parse(lines[5]!) as Record<string, unknown>;
    lines.push(JSON.stringify({ ...last, seq: 7, prev: sha256Hex(lines[5]!) }));
    expect(verifyLedgerChain(join(lines), checkpoints)).toEqual([expect.objectContaining({ kind: 'ledger-unanchored', seq: 7 })]);
  });

  it('reports a line that is not a ledger entry', async () => {
    const { lines, checkpoints } = await sixEntries();
    lines[2] = 'not json at all';
    const failures = verifyLedgerChain(join(lines), checkpoints);
    expect(failures).toContainEqual(expect.objectContaining({ kind: 'ledger-edited', line: 3 }));
  });

  it('names a torn last line (a write cut short) as torn, not as an entry', async () => {
    const { lines, checkpoints } = await sixEntries();
    const text = `${join(lines)}{"seq":7,"prev":"`;
    expect(verifyLedgerChain(text, checkpoints)).toEqual([expect.objectContaining({ kind: 'ledger-torn', line: 7 })]);
  });
});

describe('Function: verifyLedgerChain over chained checkpoints', () => {
  it('names a checkpoint removed from the middle of the sequence', async () => {
    const { lines, checkpoints } = await sixEntries();
    expect(checkpoints.map((c) => c.seq)).toEqual([3, 6]);
    const failures = verifyLedgerChain(join(lines), checkpoints.filter((c) => c.seq !== 3));
    expect(failures).toEqual([expect.objectContaining({ kind: 'checkpoint-removed', seq: 3 })]);
  });

  it('names a checkpoint replaced by one with other content', async () => {
    const { lines, checkpoints } = await sixEntries();
    const replaced = checkpoints.map((c) => (c.seq === 3 ? { ...c, fileSha256: sha256Hex('forged') } : c));
    expect(verifyLedgerChain(join(lines), replaced)).toEqual([expect.objectContaining({ kind: 'checkpoint-edited', seq: 3 })]);
  });
});

describe('Method: CustodyLedger.openForWriting', () => {
  it('refuses to build on a torn last line that no interrupted run accounts for, and changes nothing', async () => {
    const store = await LocalObjectStore.open(await tempDir(), { create: true });
    const ledger = await CustodyLedger.openForWriting(store, 'c1', actor, new Date());
    await ledger.append('acquired', actor, new Date());
    await ledger.checkpoint();
    await store.appendLog(ledgerKey('c1'), '{"seq":2,');
    const before = await store.readText(ledgerKey('c1'));
    await expect(CustodyLedger.openForWriting(store, 'c1', actor, new Date())).rejects.toMatchObject({ exitCode: 3, message: expect.stringMatching(/line 2 is incomplete/) });
    expect(await store.readText(ledgerKey('c1'))).toBe(before);
  });
});
