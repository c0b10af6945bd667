import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, readdir, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { WriteOnceViolationError, InvalidInputError, AcquisitionError } from '../../../shared/errors.ts';
import { LocalObjectStore } from '../../../shared/evidence/local-object-store.ts';
import { tempDir } from '../../helpers/tmp.ts';

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

describe('Class: LocalObjectStore', () => {
  describe('Method: putImmutable', () => {
    it('stores the bytes, returns their SHA-256 and size, and makes the file read-only', async () => {
      // Prepare
      const store = await LocalObjectStore.open(await tempDir(), { create: true });
      const body = Buffer.from('{"Records":[]}\n'.repeat(1000));
      // Act
      const result = await store.putImmutable('cases/c1/logs/a.json', Readable.from([body.subarray(0, 10), body.subarray(10)]));
      // Assess
      expect(result).toMatchObject({ key: 'cases/c1/logs/a.json', size: body.length, sha256: sha(body), created: true });
      const path = store.pathOf('cases/c1/logs/a.json');
      expect(await readFile(path)).toEqual(body);
      expect((await stat(path)).mode & 0o222).toBe(0);
    });

    it('is idempotent for the same bytes under the same key', async () => {
      const store = await LocalObjectStore.open(await tempDir(), { create: true });
      await store.putImmutable('cases/c1/a.txt', Buffer.from('same'));
      const again = await store.putImmutable('cases/c1/a.txt', Buffer.from('same'));
      expect(again).toMatchObject({ created: false, sha256: sha('same') });
    });

    it('refuses other bytes under an existing key and keeps the original', async () => {
      const store = await LocalObjectStore.open(await tempDir(), { create: true });
      await store.putImmutable('cases/c1/a.txt', Buffer.from('original'));
      const attempt = store.putImmutable('cases/c1/a.txt', Buffer.from('replacement'));
      await expect(attempt).rejects.toBeInstanceOf(WriteOnceViolationError);
      await expect(attempt).rejects.toThrow(/refusing to overwrite preserved evidence cases\/c1\/a\.txt/);
      expect(await readFile(store.pathOf('cases/c1/a.txt'), 'utf8')).toBe('original');
    });

    it('leaves nothing under the key when the source stream fails midway', async () => {
      const root = await tempDir();
      const store = await LocalObjectStore.open(root, { create: true });
      const failing = new Readable({
        read() {
          this.push(Buffer.from('partial bytes'));
          this.destroy(new Error('EIO: device went away'));
        },
      });
      await expect(store.putImmutable('cases/c1/broken.log', failing)).rejects.toBeInstanceOf(AcquisitionError);
      await expect(stat(store.pathOf('cases/c1/broken.log'))).rejects.toThrow(/ENOENT/);
      expect(await readdir(join(root, '.amber-tmp'))).toEqual([]);
    });

    it('refuses keys that would leave the locker', async () => {
      const store = await LocalObjectStore.open(await tempDir(), { create: true });
      await expect(store.putImmutable('cases/../../escape.txt', Buffer.from('x'))).rejects.toBeInstanceOf(InvalidInputError);
    });
  });

  describe('Method: open', () => {
    it('throws InvalidInputError with a fix when the locker is missing and not to be created', async () => {
      const dir = join(await tempDir(), 'absent');
      await expect(LocalObjectStore.open(dir)).rejects.toThrow(/evidence locker not found/);
    });
  });

  describe('Method: lock', () => {
    it('serialises two writers of one case', async () => {
      const store = await LocalObjectStore.open(await tempDir(), { create: true });
      const order: string[] = [];
      const release = await store.lock('case-x');
      const second = store.lock('case-x').then(async (r) => {
        order.push('second acquired');
        await r();
      });
      await new Promise((r) => setTimeout(r, 250));
      order.push('first releases');
      await release();
      await second;
      expect(order).toEqual(['first releases', 'second acquired']);
    });
  });

  describe('Method: lock (temporary files)', () => {
    it('removes the temporary files of dead writers once the lock is held, and keeps those of live ones', async () => {
      const store = await LocalObjectStore.open(await tempDir(), { create: true });
      const tmp = join(store.root, '.amber-tmp');
      await mkdir(tmp, { recursive: true });
      const self = readFileSync('/proc/self/stat', 'utf8');
      const start = self.slice(self.lastIndexOf(')') + 2).split(' ')[19];
      const dead = spawnSync(process.execPath, ['-e', '']).pid;
      await writeFile(join(tmp, `${dead}-1-crashed`), 'partial copy');
      await writeFile(join(tmp, `${process.pid}-${start}-live`), 'being written');
      const release = await store.lock('case-x');
      await release();
      expect(await readdir(tmp)).toEqual([`${process.pid}-${start}-live`]);
    });
  });
});
