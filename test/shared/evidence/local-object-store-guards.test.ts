/**
 * The local locker's refusals: no key may name a file outside the locker (absolute keys included), a lock
 * left by a dead writer is cleared, and a lock held by a live one is never taken but waited for, then refused
 * with the holder's process named.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidInputError } from '../../../shared/errors.ts';
import { LocalObjectStore } from '../../../shared/evidence/local-object-store.ts';
import { tempDir } from '../../helpers/tmp.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('Class: LocalObjectStore, keys', () => {
  it('refuses an absolute key, writing nothing where it points', async () => {
    const outside = await tempDir();
    const store = await LocalObjectStore.open(await tempDir(), { create: true });
    const key = join(outside, 'planted.txt');
    expect(() => store.pathOf(key)).toThrow(InvalidInputError);
    expect(() => store.pathOf('/etc/x')).toThrow(/key leaves the locker/);
    await expect(store.putImmutable(key, Buffer.from('x'))).rejects.toBeInstanceOf(InvalidInputError);
    await expect(store.appendLog(key, 'line\n')).rejects.toBeInstanceOf(InvalidInputError);
    expect(await readdir(outside)).toEqual([]);
  });

  it('refuses to read through an absolute key', async () => {
    const outside = await tempDir();
    await writeFile(join(outside, 'secret.txt'), 'not evidence');
    const store = await LocalObjectStore.open(await tempDir(), { create: true });
    await expect(store.readText(join(outside, 'secret.txt'))).rejects.toBeInstanceOf(InvalidInputError);
    await expect(store.get(join(outside, 'secret.txt'))).rejects.toBeInstanceOf(InvalidInputError);
  });
});

describe('Method: lock, stale and held locks', () => {
  const lockFile = (store: LocalObjectStore): string => join(store.root, '.amber-locks', 'case-x.lock');

  it('clears a lock left by a process that no longer exists, and holds it itself', async () => {
    const store = await LocalObjectStore.open(await tempDir(), { create: true });
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    await mkdir(join(store.root, '.amber-locks'), { recursive: true });
    await writeFile(lockFile(store), JSON.stringify({ pid: dead, start: 1, nonce: 'dead' }));
    const release = await store.lock('case-x');
    expect(JSON.parse(await readFile(lockFile(store), 'utf8'))).toMatchObject({ pid: process.pid });
    await release();
    expect(await readdir(join(store.root, '.amber-locks'))).toEqual([]);
  });

  it('clears an empty lock file left long ago by a writer that died before filling it', async () => {
    const store = await LocalObjectStore.open(await tempDir(), { create: true });
    await mkdir(join(store.root, '.amber-locks'), { recursive: true });
    await writeFile(lockFile(store), '');
    const long = new Date(Date.now() - 3_600_000);
    await utimes(lockFile(store), long, long);
    const release = await store.lock('case-x');
    expect(JSON.parse(await readFile(lockFile(store), 'utf8'))).toMatchObject({ pid: process.pid });
    await release();
  });

  it('never takes a lock whose holder is alive: once the wait is over it refuses, naming the holder, and leaves the lock', async () => {
    const store = await LocalObjectStore.open(await tempDir(), { create: true });
    await mkdir(join(store.root, '.amber-locks'), { recursive: true });
    const held = JSON.stringify({ pid: process.pid, start: null, nonce: 'another-writer' });
    await writeFile(lockFile(store), held);
    // The clock jumps past the wait after the lock takes its deadline: no real waiting.
    const now = Date.now.bind(Date);
    let calls = 0;
    vi.spyOn(Date, 'now').mockImplementation(() => now() + (calls++ === 0 ? 0 : 3_600_000));
    const refused = await store.lock('case-x').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(InvalidInputError);
    expect((refused as Error).message).toBe(`case-x is locked by process ${process.pid}`);
    expect(await readFile(lockFile(store), 'utf8')).toBe(held);
  }, 20_000);
});
