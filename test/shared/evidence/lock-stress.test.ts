/**
 * The case lock under contention: many amber processes started together against a lock left by a dead
 * process. Exactly one may hold it at a time, so the ledger never forks and every file ends up recorded.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CustodyLedger } from '../../../shared/evidence/ledger.ts';
import { LocalObjectStore } from '../../../shared/evidence/local-object-store.ts';
import { verifyCase } from '../../../shared/evidence/verify.ts';
import { tempDir } from '../../helpers/tmp.ts';

const run = promisify(execFile);
const bin = join(import.meta.dirname, '../../../scripts/amber.mjs');
const WRITERS = 6;
const FILES = 10;

/** A pid that belonged to a process that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

async function trial(staleLock: string): Promise<void> {
  const base = await tempDir();
  const locker = join(base, 'locker');
  await mkdir(join(locker, '.amber-locks'), { recursive: true });
  await writeFile(join(locker, '.amber-locks', 'case-C.lock'), staleLock);
  for (let w = 0; w < WRITERS; w++) {
    await mkdir(join(base, `w${w}`));
    for (let f = 0; f < FILES; f++) await writeFile(join(base, `w${w}`, `f${f}.log`), `writer ${w} file ${f}\n`);
  }
  const runs = await Promise.all(
    Array.from({ length: WRITERS }, (_, w) =>
      run(process.execPath, [bin, 'collect', '--case', 'C', '--from', join(base, `w${w}`), '--locker', locker, '--json'], { env: { ...process.env, AMBER_ACTOR: `writer${w}@test` } }).then(
        () => 0,
        (e: { code?: number; stderr?: string }) => `${e.code}: ${e.stderr}`,
      ),
    ),
  );
  expect(runs).toEqual(Array(WRITERS).fill(0));
  const store = await LocalObjectStore.open(locker);
  const ledger = await CustodyLedger.open(store, 'C');
  const seqs = ledger.entries.map((e) => e.seq);
  expect(new Set(seqs).size).toBe(seqs.length);
  expect(ledger.items().size).toBe(WRITERS * FILES);
  const report = await verifyCase({ store, caseName: 'C', actor: { principal: 'analyst@test', tool: 'amber/test' }, record: false });
  expect(report.failures).toEqual([]);
}

describe('Class: LocalObjectStore lock under contention', () => {
  it(`lets ${WRITERS} collects started together over a dead process's lock each record all their files, one at a time`, async () => {
    await trial(JSON.stringify({ pid: deadPid(), start: 1, nonce: 'dead' }));
  }, 180_000);

  it('treats a lock whose pid is alive but belongs to a later process (pid reused) as stale', async () => {
    await trial(JSON.stringify({ pid: process.pid, start: 1, nonce: 'reused' }));
  }, 180_000);

  it('never lets two of many concurrent acquirers hold the lock, over stale locks of every format', async () => {
    for (const stale of [String(deadPid()), JSON.stringify({ pid: deadPid(), start: 1, nonce: 'x' }), '']) {
      const store = await LocalObjectStore.open(await tempDir(), { create: true });
      await mkdir(join(store.root, '.amber-locks'));
      const lockFile = join(store.root, '.amber-locks', 'case-C.lock');
      await writeFile(lockFile, stale);
      if (stale === '') await utimes(lockFile, new Date(0), new Date(0)); // an empty lock long abandoned
      let holders = 0;
      let most = 0;
      let turns = 0;
      // Staggered, repeated acquisitions: a lock is often being created or released while others look at it.
      await Promise.all(
        Array.from({ length: 12 }, async (_, w) => {
          await new Promise((r) => setTimeout(r, w % 4));
          for (let round = 0; round < 4; round++) {
            const release = await store.lock('case-C');
            holders += 1;
            most = Math.max(most, holders);
            await new Promise((r) => setTimeout(r, 2));
            turns += 1;
            holders -= 1;
            await release();
          }
        }),
      );
      expect({ most, turns }).toEqual({ most: 1, turns: 48 });
    }
  }, 120_000);
});
