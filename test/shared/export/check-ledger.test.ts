/**
 * check-ledger.sh, as shipped in a bundle: passes on an exported case and names each kind of break (an edited,
 * removed or reordered line, a truncated end, a changed manifest) with exit 1, using sh and standard tools only.
 */
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CustodyLedger } from '../../../shared/evidence/ledger.ts';
import { ledgerKey } from '../../../shared/evidence/names.ts';
import { sealManifest } from '../../../shared/evidence/seal.ts';
import { planBundle } from '../../../shared/export/bundle.ts';
import { writeBundleFolder } from '../../../shared/export/write.ts';
import { TEST_ACTOR } from '../../helpers/case.ts';
import { MemoryObjectStore } from '../../helpers/memory-store.ts';
import { makeWritable, tempDir } from '../../helpers/tmp.ts';

/** A bundle of a case with five entries, a sealed manifest and two chained checkpoints. */
async function bundle(): Promise<string> {
  const store = new MemoryObjectStore();
  const ledger = await CustodyLedger.open(store, 'c');
  const at = new Date('2026-03-01T10:00:00.000Z');
  await ledger.append('accessed', TEST_ACTOR, at, { detail: { purpose: 'one' } });
  await ledger.append('accessed', TEST_ACTOR, at, { detail: { purpose: 'two "quoted" \\ back' } });
  await ledger.checkpoint();
  await sealManifest(store, ledger, TEST_ACTOR, at, []);
  await ledger.append('accessed', TEST_ACTOR, at, { detail: { purpose: 'four' } });
  await ledger.append('accessed', TEST_ACTOR, at, { detail: { purpose: 'five' } });
  await ledger.checkpoint();
  const out = join(await tempDir(), 'b');
  await writeBundleFolder(await planBundle({ store, caseName: 'c', ledgerText: (await store.readText(ledgerKey('c')))!, tool: 'amber/test' }), store, out);
  await makeWritable(out);
  return out;
}

function check(dir: string): { status: number | null; out: string } {
  const r = spawnSync('sh', ['check-ledger.sh'], { cwd: dir, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

async function editLines(dir: string, edit: (lines: string[]) => string[]): Promise<void> {
  const path = join(dir, 'custody-ledger.jsonl');
  const lines = (await readFile(path, 'utf8')).split('\n').slice(0, -1);
  await writeFile(path, edit(lines).map((l) => `${l}\n`).join(''));
}

describe('check-ledger.sh', () => {
  it('passes on an intact bundle', async () => {
    const dir = await bundle();
    expect(check(dir)).toEqual({ status: 0, out: 'OK: 5 ledger entries chained; the last one anchored by a checkpoint; every sealed manifest matches\n' });
  });

  it.each([
    ['an edited line', (l: string[]) => l.map((x, i) => (i === 1 ? x.replace('"two', '"TWO') : x)), /line 3: its prev is [0-9a-f]{64}, but the SHA-256 of line 2 is/],
    ['a removed line', (l: string[]) => l.filter((_, i) => i !== 2), /line 3 holds entry 4/],
    ['two lines swapped', (l: string[]) => [l[0]!, l[2]!, l[1]!, l[3]!, l[4]!], /line 2 holds entry 3/],
    ['a truncated end', (l: string[]) => l.slice(0, 4), /anchors entry 5, but the ledger has 4 lines/],
    ['an edited last line', (l: string[]) => [...l.slice(0, 4), l[4]!.replace('five', 'FIVE')], /anchors entry 5 with SHA-256 [0-9a-f]{64}, but line 5 hashes to/],
  ])('fails on %s, naming it', async (_what, edit, message) => {
    const dir = await bundle();
    await editLines(dir, edit);
    const result = check(dir);
    expect(result.out).toMatch(message);
    expect(result.status).toBe(1);
  });

  it('fails on a changed manifest and on a ledger cut mid-line', async () => {
    const dir = await bundle();
    const manifest = join(dir, '_amber/manifests/0000000003.json');
    await writeFile(manifest, (await readFile(manifest, 'utf8')).replace('"case":"c"', '"case":"d"'));
    const path = join(dir, 'custody-ledger.jsonl');
    await writeFile(path, (await readFile(path, 'utf8')).slice(0, -1));
    const result = check(dir);
    expect(result.out).toMatch(/_amber\/manifests\/0000000003\.json has SHA-256 [0-9a-f]{64}, but line 3 sealed it with/);
    expect(result.out).toContain('has no line feed');
    expect(result.status).toBe(1);
  });
});
