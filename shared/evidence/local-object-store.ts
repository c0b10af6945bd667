/**
 * The local write-once evidence locker (the embedded default): a folder holding `cases/<case>/...`.
 * Objects are written to a temporary file while being hashed, flushed to disk, then hard-linked into place:
 * link(2) fails when the key exists, so two writers can never replace each other's bytes. Stored files are
 * made read-only. This protects against mistakes, not against an attacker with the same file-system rights;
 * that is what the S3 Object Lock store is for.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, link, mkdir, open, readFile, readdir, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { AcquisitionError, InvalidInputError, ObjectNotFoundError, StoreError, WriteOnceViolationError } from '../errors.ts';
import type { ObjectStore, PutOptions, PutResult, StoredObject } from '../ports/object-store.ts';
import { HashingPassThrough, hashStream } from './hashing.ts';

const TMP_DIR = '.amber-tmp';
const LOCK_DIR = '.amber-locks';
const LOCK_WAIT_MS = 30_000;

export interface LocalObjectStoreOptions {
  /** Create the locker folder when it does not exist (collect does; verify and cases do not). */
  readonly create?: boolean;
}

/** ObjectStore adapter over a local folder. */
export class LocalObjectStore implements ObjectStore {
  readonly uri: string;
  readonly root: string;

  private constructor(root: string) {
    this.root = root;
    this.uri = pathToFileURL(root).href;
  }

  /** Opens a locker folder; throws InvalidInputError when it is missing and `create` is not set. */
  static async open(dir: string, options: LocalObjectStoreOptions = {}): Promise<LocalObjectStore> {
    const root = resolve(dir);
    const info = await stat(root).catch(() => undefined);
    if (info === undefined) {
      if (!options.create) {
        throw new InvalidInputError(`evidence locker not found: ${root}`, {
          hint: 'pass --locker DIR (or set AMBER_LOCKER) to the folder `amber collect` preserved into',
        });
      }
      await mkdir(root, { recursive: true });
    } else if (!info.isDirectory()) {
      throw new InvalidInputError(`evidence locker is not a folder: ${root}`, { hint: 'pass --locker DIR naming a folder' });
    }
    return new LocalObjectStore(root);
  }

  /** Absolute path of a key, refusing keys that would leave the locker. */
  pathOf(key: string): string {
    const p = resolve(this.root, key);
    if (!p.startsWith(this.root + sep) || key.split('/').includes('..')) {
      throw new InvalidInputError(`key leaves the locker: ${JSON.stringify(key)}`);
    }
    return p;
  }

  async exists(): Promise<boolean> {
    return (await stat(this.root).catch(() => undefined))?.isDirectory() ?? false;
  }

  async putImmutable(key: string, body: Readable | Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    const dest = this.pathOf(key);
    const tmpDir = join(this.root, TMP_DIR);
    await mkdir(tmpDir, { recursive: true });
    await mkdir(dirname(dest), { recursive: true });
    const tmp = join(tmpDir, randomUUID());
    const hasher = new HashingPassThrough(options.onProgress ? (c) => options.onProgress!(c.length) : undefined);
    const source = body instanceof Readable ? body : Readable.from([Buffer.from(body)]);
    try {
      await pipeline(source, hasher, createWriteStream(tmp, { flags: 'wx', mode: 0o600, highWaterMark: 1 << 20 }));
      // Flush to disk before the object becomes visible under its key: a preserved object survives a crash.
      const fh = await open(tmp, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    } catch (error) {
      await rm(tmp, { force: true });
      throw new AcquisitionError(`could not store ${key}: ${(error as Error).message}`, key, { cause: error });
    }
    const sha256 = hasher.sha256;
    const size = hasher.size;
    const retainUntil = options.retainUntil?.toISOString();
    try {
      await link(tmp, dest);
    } catch (error) {
      await unlink(tmp).catch(() => undefined);
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new StoreError(`could not store ${key}: ${(error as Error).message}`, { cause: error });
      }
      const existing = await hashFile(dest);
      if (existing !== sha256) throw new WriteOnceViolationError(key, existing, sha256);
      return { key, size, sha256, created: false, ...(retainUntil ? { retainUntil } : {}) };
    }
    await unlink(tmp);
    await chmod(dest, 0o444);
    return { key, size, sha256, created: true, ...(retainUntil ? { retainUntil } : {}) };
  }

  async get(key: string): Promise<Readable> {
    const path = this.pathOf(key);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) throw new ObjectNotFoundError(key);
    return createReadStream(path, { highWaterMark: 1 << 20 });
  }

  async readText(key: string): Promise<string | undefined> {
    try {
      return await readFile(this.pathOf(key), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    const base = this.pathOf(prefix.replace(/\/$/, '') || '.');
    yield* this.walk(base, prefix.replace(/\/?$/, '/'));
  }

  private async *walk(dir: string, keyPrefix: string): AsyncIterable<StoredObject> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const key = keyPrefix + entry.name;
      if (entry.isDirectory()) yield* this.walk(join(dir, entry.name), `${key}/`);
      else yield { key, size: (await stat(join(dir, entry.name))).size };
    }
  }

  async appendLog(key: string, text: string): Promise<void> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const fh = await open(path, 'a', 0o644);
    try {
      await fh.write(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  async lock(name: string): Promise<() => Promise<void>> {
    const dir = join(this.root, LOCK_DIR);
    await mkdir(dir, { recursive: true });
    const path = join(dir, `${name.replace(/[^A-Za-z0-9._-]/g, '_')}.lock`);
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        await writeFile(path, String(process.pid), { flag: 'wx' });
        return async () => {
          await rm(path, { force: true });
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
        if (!Number.isInteger(holder) || holder <= 0 || !isAlive(holder)) {
          await rm(path, { force: true }); // left by a process that died
          continue;
        }
        if (Date.now() > deadline) {
          throw new InvalidInputError(`${name} is locked by process ${holder}`, {
            hint: `wait for that amber command to finish; if no amber process ${holder} exists, remove ${path}`,
          });
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function hashFile(path: string): Promise<string> {
  return (await hashStream(createReadStream(path, { highWaterMark: 1 << 20 }))).sha256;
}
