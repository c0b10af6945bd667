/**
 * Writes a planned bundle as a folder or a zip. Preserved objects stream from the store through a hash check:
 * bytes that do not match the SHA-256 and size the ledger records abort the export and nothing is left at the
 * destination. Both writers build in a private sibling (`<out>.amber-partial-<random>`) and move it into place
 * only when complete, without replacing anything: a folder only replaces an absent or empty folder (rename(2)),
 * a zip only an absent file (link(2)).
 */
import { constants, createWriteStream } from 'node:fs';
import { chmod, link, lstat, mkdir, open, readdir, rename, rm, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import { IntegrityError, InvalidInputError } from '../errors.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import { HashingPassThrough } from '../evidence/hashing.ts';
import type { BundleFile, BundlePlan } from './bundle.ts';

/** What was written. */
export interface WrittenBundle {
  readonly path: string;
  readonly format: 'folder' | 'zip';
  /** SHA-256 of the zip file, or of the folder's SHA256SUMS. */
  readonly sha256: string;
  readonly sha256Of: 'zip' | 'SHA256SUMS';
  readonly files: number;
  /** Sum of the bundle's file sizes. */
  readonly bytes: number;
  /** Size of the zip file (zip only). */
  readonly zipBytes?: number;
}

/**
 * Refuses an output that is a symbolic link, a non-empty folder (folder output) or any existing path (zip
 * output), before any work is done. The final move re-checks atomically.
 */
export async function assertOutputFree(path: string, format: 'folder' | 'zip'): Promise<void> {
  const info = await lstat(path).catch(() => undefined);
  if (!info) return;
  if (info.isSymbolicLink()) {
    throw new InvalidInputError(`refusing to export to ${path}: it is a symbolic link, and an export never follows one`, { hint: 'give --out a new path (a folder name, or a name ending in .zip)' });
  }
  if (format === 'zip') {
    throw new InvalidInputError(`refusing to export to ${path}: it exists, and an export never replaces a file`, { hint: 'give --out a new file name ending in .zip' });
  }
  if (!info.isDirectory()) {
    throw new InvalidInputError(`refusing to export to ${path}: it is a file, not a folder`, { hint: 'give --out a new or empty folder, or a name ending in .zip' });
  }
  if ((await readdir(path)).length > 0) {
    throw new InvalidInputError(`refusing to export to ${path}: the folder is not empty`, { hint: 'give --out a new or empty folder' });
  }
}

function staging(path: string): string {
  return join(dirname(path), `.${path.split('/').at(-1)}.amber-partial-${randomBytes(6).toString('hex')}`);
}

/** A preserved object's stream, checked against its record once it has flowed. */
async function objectStream(store: ObjectStore, file: BundleFile): Promise<{ stream: Readable; check: () => void }> {
  if (!('key' in file.content)) throw new Error('not an object');
  const { key, versionId } = file.content;
  const hasher = new HashingPassThrough();
  const source = await store.get(key, versionId);
  source.on('error', (error) => hasher.destroy(error));
  return {
    stream: source.pipe(hasher),
    check: () => {
      if (hasher.sha256 !== file.sha256 || hasher.size !== file.size) {
        throw new IntegrityError(`${key} changed while it was exported: it now has SHA-256 ${hasher.sha256} (${hasher.size} bytes), the ledger records ${file.sha256} (${file.size} bytes); nothing was exported`, {
          hint: 'run `amber verify` on the case: the locker was modified after the export verified it',
        });
      }
    },
  };
}

/** Writes the bundle as a folder at `out` (absent or empty). */
export async function writeBundleFolder(plan: BundlePlan, store: ObjectStore, out: string): Promise<WrittenBundle> {
  await assertOutputFree(out, 'folder');
  const tmp = staging(out);
  await mkdir(tmp, { mode: 0o755 });
  try {
    for (const file of plan.files) {
      const target = join(tmp, ...file.path.split('/'));
      await mkdir(dirname(target), { recursive: true, mode: 0o755 });
      // O_EXCL | O_NOFOLLOW: every file is new, and never a link's target.
      const handle = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, file.executable ? 0o755 : 0o644);
      if ('bytes' in file.content) {
        await handle.writeFile(file.content.bytes);
        await handle.close();
      } else {
        const { stream, check } = await objectStream(store, file);
        await pipeline(stream, createWriteStream('', { fd: handle, highWaterMark: 1 << 20 }));
        check();
      }
      if (file.executable) await chmod(target, 0o755);
    }
    try {
      await rename(tmp, out);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR') {
        throw new InvalidInputError(`refusing to export to ${out}: something was put there while the export was written (${code})`, { hint: 'give --out a new or empty folder' });
      }
      throw error;
    }
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
  const sums = plan.files.find((f) => f.path === 'SHA256SUMS')!;
  return { path: out, format: 'folder', sha256: sums.sha256, sha256Of: 'SHA256SUMS', files: plan.files.length, bytes: plan.bytes };
}

/**
 * The head's UTC time as a Date whose local-time fields read the same (zip timestamps are DOS local times, which
 * yazl reads with the local getters): the same bundle bytes in every time zone.
 */
function dosTime(iso: string): Date {
  const d = new Date(iso);
  return new Date(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds());
}

/**
 * Writes the bundle as a zip at `out` (absent): members in path order, stored (not compressed: the bytes do not
 * depend on a zlib version), every timestamp the ledger head's time, DOS timestamps only (no extra fields),
 * modes 0644 (0755 for check-ledger.sh).
 */
export async function writeBundleZip(plan: BundlePlan, store: ObjectStore, out: string): Promise<WrittenBundle> {
  await assertOutputFree(out, 'zip');
  const tmp = staging(out);
  const mtime = dosTime(plan.head.at);
  const zip = new yazl.ZipFile();
  const checks: Array<() => void> = [];
  let failure: unknown;
  const fail = (error: unknown): void => {
    failure ??= error;
    (zip.outputStream as unknown as Readable).destroy(error as Error);
  };
  zip.on('error', fail);
  for (const file of plan.files) {
    const options = { mtime, forceDosTimestamp: true, compress: false, mode: file.executable ? 0o100755 : 0o100644 };
    if ('bytes' in file.content) zip.addBuffer(Buffer.from(file.content.bytes), file.path, options);
    else {
      // Opened one at a time, when yazl reaches the member: a bundle of many objects holds one open stream.
      zip.addReadStreamLazy(file.path, { ...options, size: file.size }, (callback) => {
        objectStream(store, file).then(
          ({ stream, check }) => {
            checks.push(check);
            callback(null, stream);
          },
          (error: unknown) => callback(error as Error, undefined as unknown as Readable),
        );
      });
    }
  }
  zip.end();
  const hasher = new HashingPassThrough();
  const handle = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  try {
    await pipeline(zip.outputStream as unknown as Readable, hasher, createWriteStream('', { fd: handle, highWaterMark: 1 << 20 }));
    if (failure) throw failure;
    for (const check of checks) check();
    try {
      await link(tmp, out);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new InvalidInputError(`refusing to export to ${out}: a file was put there while the export was written`, { hint: 'give --out a new file name ending in .zip' });
      }
      throw error;
    }
  } catch (error) {
    throw failure ?? error;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  return { path: out, format: 'zip', sha256: hasher.sha256, sha256Of: 'zip', files: plan.files.length, bytes: plan.bytes, zipBytes: hasher.size };
}
