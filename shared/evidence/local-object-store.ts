/**
 * The local write-once evidence locker (the embedded default): a folder holding `cases/<case>/...`.
 * Objects are written to a temporary file while being hashed, flushed to disk, then hard-linked into place:
 * link(2) fails when the key exists, so two writers can never replace each other's bytes. Stored files are
 * made read-only. This protects against mistakes, not against an attacker with the same file-system rights;
 * that is what the S3 Object Lock store is for.
 */
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { chmod, link, mkdir, open, readFile, readdir, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { AcquisitionError, IntegrityError, InvalidInputError, ObjectNotFoundError, StoreError, WriteOnceViolationError } from '../errors.ts';
import type { ObjectStore, PutOptions, PutResult, StoredObject } from '../ports/object-store.ts';
import { HashingPassThrough, hashStream } from './hashing.ts';

const TMP_DIR = '.amber-tmp';
const LOCK_DIR = '.amber-locks';
const LOCK_WAIT_MS = 30_000;
/** A lock file still empty after this long was left by a writer that died between creating and filling it. */
const LOCK_FILL_MS = 5_000;
/** A takeover mutex older than this was left by a process that died inside the few steps it guards. */
const TAKEOVER_STALE_MS = 10_000;
/** Temporary files of old versions (no owner in their name) are removed once this old. */
const LEGACY_TMP_MS = 24 * 3_600_000;

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
    // The owner in the name lets a later run remove what a crashed one left, and nothing of a live writer.
    const tmp = join(tmpDir, `${process.pid}-${SELF_START ?? 0}-${randomUUID()}`);
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

  /**
   * All-or-nothing append: the size before is remembered, the text written and flushed, the size checked;
   * on any failure (a full disk writes part of a line) the file is truncated back before the error is thrown,
   * so a later append can never be glued onto a partial line.
   */
  async appendLog(key: string, text: string): Promise<void> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const bytes = Buffer.from(text, 'utf8');
    const fh = await open(path, 'a', 0o644);
    try {
      const before = (await fh.stat()).size;
      try {
        for (let done = 0; done < bytes.length; ) done += (await fh.write(bytes, done, bytes.length - done)).bytesWritten;
        await fh.sync();
        const after = (await fh.stat()).size;
        if (after !== before + bytes.length) throw new Error(`the file is ${after} bytes after appending ${bytes.length} bytes to ${before}`);
      } catch (error) {
        const cause = error as NodeJS.ErrnoException;
        try {
          await fh.truncate(before);
          await fh.sync();
        } catch (rollback) {
          throw new StoreError(`could not append to ${key} (${cause.code ?? cause.message}), and could not remove the partial write: ${(rollback as Error).message}`, {
            cause: error,
            hint: 'the ledger may now end in a torn line: amber verify reports it and no command builds on it; free space or fix permissions, then run `amber recover --case <case>`',
          });
        }
        throw new StoreError(`could not append to ${key}: ${cause.code ? `${cause.code} ` : ''}${cause.message}; nothing was appended (the partial write was rolled back)`, {
          cause: error,
          hint: cause.code === 'ENOSPC' || cause.code === 'EDQUOT' ? `free space on the disk holding ${this.root}, then run the same command again` : 'fix the cause, then run the same command again',
        });
      }
    } finally {
      await fh.close();
    }
  }

  async trimLogTail(key: string, tail: string): Promise<void> {
    const path = this.pathOf(key);
    const expected = Buffer.from(tail, 'utf8');
    const fh = await open(path, 'r+');
    try {
      const size = (await fh.stat()).size;
      const found = Buffer.alloc(expected.length);
      if (size >= expected.length) await fh.read(found, 0, expected.length, size - expected.length);
      if (size < expected.length || !found.equals(expected)) {
        throw new IntegrityError(`${key} does not end with the torn line to remove; nothing was changed`, { hint: 'run amber verify to see the ledger as it is now' });
      }
      await fh.truncate(size - expected.length);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  /**
   * An `O_EXCL` lock file naming its owner (pid, process start time, nonce). Held while the owner lives: a pid
   * reused by another process has another start time. A dead owner's lock is taken over under a takeover
   * mutex (mkdir), re-reading the lock under it, so two processes can never both remove one stale lock and
   * then each create their own. Temporary files of dead writers are removed once the lock is held.
   */
  async lock(name: string): Promise<() => Promise<void>> {
    const dir = join(this.root, LOCK_DIR);
    await mkdir(dir, { recursive: true });
    const path = join(dir, `${name.replace(/[^A-Za-z0-9._-]/g, '_')}.lock`);
    const mutex = `${path}.takeover`;
    const me: LockOwner = { pid: process.pid, start: SELF_START ?? null, nonce: randomBytes(8).toString('hex') };
    const mine = JSON.stringify(me);
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        await createLockFile(path, mine);
        await this.removeDeadTemp();
        return async () => {
          // Only our own lock: never remove one a takeover gave to someone else.
          if ((await readFile(path, 'utf8').catch(() => '')) === mine) await rm(path, { force: true });
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const seen = await readFile(path, 'utf8').catch(() => undefined);
      if (seen === undefined) continue; // released in between
      const holder = parseOwner(seen);
      const age = Date.now() - ((await stat(path).catch(() => undefined))?.mtimeMs ?? Date.now());
      const stale = holder ? !isOwnerAlive(holder) : age > LOCK_FILL_MS; // empty: being written, unless long dead
      if (stale) {
        await takeOver(path, mutex, seen);
        continue;
      }
      if (Date.now() > deadline) {
        throw new InvalidInputError(`${name} is locked by process ${holder?.pid ?? 'unknown'}`, {
          hint: `wait for that amber command to finish; if no amber process ${holder?.pid ?? ''} exists, remove ${path}`,
        });
      }
      await new Promise((r) => setTimeout(r, 25 + Math.random() * 75));
    }
  }

  /** Removes temporary files whose writer is dead (a crashed run's partial copies; never preserved evidence). */
  private async removeDeadTemp(): Promise<void> {
    const dir = join(this.root, TMP_DIR);
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      const m = /^(\d+)-(\d+)-/.exec(name);
      if (m) {
        if (!isOwnerAlive({ pid: Number(m[1]), start: Number(m[2]) || null, nonce: '' })) await rm(join(dir, name), { force: true });
      } else {
        const info = await stat(join(dir, name)).catch(() => undefined);
        if (info && Date.now() - info.mtimeMs > LEGACY_TMP_MS) await rm(join(dir, name), { force: true });
      }
    }
  }
}

interface LockOwner {
  readonly pid: number;
  /** Process start time (Linux /proc/<pid>/stat field 22), null where the platform does not tell it. */
  readonly start: number | null;
  readonly nonce: string;
}

/** Start time of a process in clock ticks since boot (Linux), undefined elsewhere or when it is gone. */
function processStart(pid: number | 'self'): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined; // a zombie has finished
    return Number(fields[19]);
  } catch {
    return undefined;
  }
}

const SELF_START = processStart('self');

function parseOwner(text: string): LockOwner | undefined {
  if (/^\d+$/.test(text.trim())) return { pid: Number(text.trim()), start: null, nonce: '' }; // older lock files: a bare pid
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    return Number.isSafeInteger(o.pid) ? { pid: o.pid!, start: typeof o.start === 'number' ? o.start : null, nonce: String(o.nonce ?? '') } : undefined;
  } catch {
    return undefined;
  }
}

function isOwnerAlive(owner: LockOwner): boolean {
  if (owner.pid <= 0) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (SELF_START === undefined) return true; // no /proc: the pid is all there is to go by
  const start = processStart(owner.pid);
  if (start === undefined) return false;
  return owner.start === null || owner.start === start;
}

/** Creates the lock file (O_EXCL) with its owner; a file this call created but could not fill is removed again. */
async function createLockFile(path: string, owner: string): Promise<void> {
  const fh = await open(path, 'wx', 0o644);
  try {
    await fh.writeFile(owner);
    await fh.close();
  } catch (error) {
    await fh.close().catch(() => undefined);
    await unlink(path).catch(() => undefined); // ours: created by this very call
    throw error;
  }
}

/** Removes the stale lock `seen`, once, under the takeover mutex. */
async function takeOver(path: string, mutex: string, seen: string): Promise<void> {
  try {
    await mkdir(mutex);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const info = await stat(mutex).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > TAKEOVER_STALE_MS) await rmdir(mutex).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 10 + Math.random() * 40));
    return;
  }
  try {
    // Under the mutex, re-read: if another process already took over, the file is its live lock now.
    if ((await readFile(path, 'utf8').catch(() => undefined)) === seen) await unlink(path).catch(() => undefined);
  } finally {
    await rmdir(mutex).catch(() => undefined);
  }
}

async function hashFile(path: string): Promise<string> {
  return (await hashStream(createReadStream(path, { highWaterMark: 1 << 20 }))).sha256;
}
