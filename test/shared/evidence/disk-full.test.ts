/**
 * A full disk: collect lists every object it did not preserve, counts only stored bytes, never leaves a
 * partial ledger line, and the same command run again once there is space completes the case.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, open, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../../shared/errors.ts';
import { collectEvidence } from '../../../shared/evidence/collect.ts';
import { LocalEvidenceSource } from '../../../shared/evidence/local-source.ts';
import { LocalObjectStore } from '../../../shared/evidence/local-object-store.ts';
import { ledgerKey } from '../../../shared/evidence/names.ts';
import { verifyCase } from '../../../shared/evidence/verify.ts';
import { FaultyStore } from '../../helpers/faulty-store.ts';
import { tempDir } from '../../helpers/tmp.ts';

const actor = { principal: 'analyst@test', tool: 'amber/test' };

async function source(files: Record<string, string | Buffer>): Promise<string> {
  const src = join(await tempDir(), 'src');
  await mkdir(src);
  for (const [name, body] of Object.entries(files)) await writeFile(join(src, name), body);
  return src;
}

/** A tmpfs of `size` mounted for the test, or undefined where mounting is not permitted. */
function tmpfs(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function fill(path: string, leave: number): Promise<void> {
  const fh = await open(path, 'a');
  try {
    for (;;) await fh.write(Buffer.alloc(4096));
  } catch {
    // ENOSPC: full
  } finally {
    await fh.close();
  }
  const size = (await stat(path)).size;
  await truncate(path, Math.max(0, size - leave));
}

describe('Use case: collectEvidence on a full disk (injected through the ObjectStore port)', () => {
  it('lists every object it did not preserve and counts only the bytes it stored', async () => {
    const src = await source({ 'a.log': 'aaaa\n', 'b.log': 'bbbbbbbb\n', 'c.log': 'cc\n', 'd.log': 'dddddd\n' });
    const store = new FaultyStore(await LocalObjectStore.open(join(await tempDir(), 'locker'), { create: true }));
    store.noSpaceFor((k) => k.endsWith('/b.log') || k.endsWith('/d.log'));
    const summary = await collectEvidence({ store, caseName: 'C', sources: [await LocalEvidenceSource.open(src)], actor });
    expect(summary.failures.map((f) => f.origin.split('/').at(-1)).sort()).toEqual(['b.log', 'd.log']);
    expect(summary.failures[0]!.reason).toMatch(/ENOSPC/);
    expect(summary).toMatchObject({ items: 2, bytes: 5 + 3 });
  });

  it('when the ledger cannot be written, fails naming every object not preserved or not recorded, and appends nothing', async () => {
    const src = await source({ 'a.log': 'a\n', 'b.log': 'b\n' });
    const inner = await LocalObjectStore.open(join(await tempDir(), 'locker'), { create: true });
    const store = new FaultyStore(inner);
    store.noSpaceFor((k) => k.endsWith('/b.log'), { appends: true });
    const error = await collectEvidence({ store, caseName: 'C', sources: [await LocalEvidenceSource.open(src)], actor }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toMatch(/could not be recorded: .*ENOSPC.*b\.log \(.*ENOSPC/);
    expect(await inner.readText(ledgerKey('C'))).toBeUndefined();
  });
});

describe('Use case: collectEvidence on a real full disk (tmpfs)', () => {
  it('preserves what fits, names the rest, leaves no partial ledger line, and completes once space is freed', async (ctx) => {
    const mnt = await tempDir();
    if (!tmpfs(mnt, '512k')) return ctx.skip();
    try {
      const src = await source(Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f'].map((n) => [`${n}.log`, Buffer.alloc(40_000, n)])));
      const store = await LocalObjectStore.open(join(mnt, 'locker'), { create: true });
      await fill(join(mnt, 'filler'), 100_000);
      const first = await collectEvidence({ store, caseName: 'C', sources: [await LocalEvidenceSource.open(src)], actor, concurrency: 1 }).catch((e: unknown) => e as Error);
      const named = 'failures' in first ? first.failures.map((f) => f.origin).join('\n') : first.message;
      const stored = (await readdir(join(mnt, 'locker/cases/C/src')).catch(() => [])).sort();
      expect(stored.length).toBeLessThan(6);
      for (const n of ['a', 'b', 'c', 'd', 'e', 'f']) if (!stored.includes(`${n}.log`)) expect(named).toContain(`${n}.log`);
      if ('failures' in first) expect(first.bytes).toBe(stored.length * 40_000);
      const ledger = await readFile(join(mnt, 'locker', ledgerKey('C')), 'utf8').catch(() => '');
      expect(ledger === '' || ledger.endsWith('\n')).toBe(true);
      expect(await readdir(join(mnt, 'locker/.amber-tmp')).catch(() => [])).toEqual([]);

      await rm(join(mnt, 'filler'));
      const second = await collectEvidence({ store, caseName: 'C', sources: [await LocalEvidenceSource.open(src)], actor });
      expect(second.failures).toEqual([]);
      const report = await verifyCase({ store, caseName: 'C', actor, record: false });
      expect(report.failures).toEqual([]);
      expect(report.items).toHaveLength(6);
    } finally {
      execFileSync('umount', [mnt]);
    }
  });
});

describe('Class: LocalObjectStore on a real full disk (tmpfs)', () => {
  it('appendLog is all-or-nothing: a partial write is rolled back and the error names the ledger and ENOSPC', async (ctx) => {
    const mnt = await tempDir();
    if (!tmpfs(mnt, '256k')) return ctx.skip();
    try {
      const store = await LocalObjectStore.open(join(mnt, 'locker'), { create: true });
      await store.appendLog('cases/C/custody-ledger.jsonl', '{"seq":1}\n');
      await fill(join(mnt, 'filler'), 6000);
      const error = await store.appendLog('cases/C/custody-ledger.jsonl', `${'x'.repeat(50_000)}\n`).catch((e: unknown) => e as StoreError);
      expect(error).toBeInstanceOf(StoreError);
      expect(error?.message).toMatch(/could not append to cases\/C\/custody-ledger\.jsonl: ENOSPC .*nothing was appended/);
      expect(error?.hint).toMatch(/free space on the disk holding/);
      expect(await readFile(join(mnt, 'locker/cases/C/custody-ledger.jsonl'), 'utf8')).toBe('{"seq":1}\n');
    } finally {
      execFileSync('umount', [mnt]);
    }
  });
});
