/**
 * Zip archives opened at analysis time. Each member is inflated once, hashed as it streams into the analysis's
 * private folder, and returned for the caller to preserve as a derived item and analyse like any object. Hostile
 * archives are reported, never followed: a member name that climbs out (`../`), is absolute or uses backslashes
 * (zip-slip) is named as such (members are never written under their own names anyway); a member or an archive
 * inflating past the inflated-size limit (a zip bomb) is stopped there; encrypted members and archives nested inside
 * the archive are preserved as they are but not opened (one level, so a recursive zip cannot recurse).
 */
import { createWriteStream } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { HashingPassThrough } from '../evidence/hashing.ts';

/** A member inflated into the private folder. */
export interface ZipMember {
  /** 0-based position among the archive's entries (central directory order). */
  readonly index: number;
  /** The member's name as the archive gives it. */
  readonly name: string;
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
  /** True when the member is itself a zip (kept, not opened). */
  readonly nestedZip: boolean;
}

export interface ZipProblem {
  readonly member?: number;
  readonly reason: string;
}

/** True when bytes start with a zip local file header. */
export function isZip(head: Uint8Array): boolean {
  return head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
}

/**
 * Inflates every member of the zip at `zipPath` to `destination(index)`, with the archive's total inflated size
 * bounded by `maxInflatedBytes`. Never throws for a damaged or hostile archive: reports it in `problems`.
 */
export async function extractZip(zipPath: string, destination: (index: number) => string, maxInflatedBytes: number): Promise<{ members: ZipMember[]; problems: ZipProblem[] }> {
  const members: ZipMember[] = [];
  const problems: ZipProblem[] = [];
  let zip: yauzl.ZipFile;
  try {
    zip = await new Promise<yauzl.ZipFile>((done, fail) =>
      // Names are decoded and checked here, so one hostile name is reported instead of ending the whole archive.
      yauzl.open(zipPath, { lazyEntries: true, decodeStrings: false, validateEntrySizes: true, autoClose: false }, (error, z) => (error ? fail(error) : done(z))),
    );
  } catch (error) {
    return { members, problems: [{ reason: `the zip archive cannot be opened (${message(error)}); it stays preserved as it is` }] };
  }
  let total = 0;
  let index = -1;
  try {
    for (;;) {
      const entry = await nextEntry(zip);
      if (!entry) break;
      index += 1;
      const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileName as unknown as Buffer, entry.extraFields, false);
      if (name.endsWith('/')) continue;
      const unsafe = yauzl.validateFileName(name);
      if (unsafe !== null) {
        problems.push({ member: index, reason: `member ${index} ${JSON.stringify(name)}: ${unsafe} (zip-slip); it was not extracted` });
        continue;
      }
      if (entry.isEncrypted()) {
        problems.push({ member: index, reason: `member ${index} ${JSON.stringify(name)} is encrypted; it was not extracted` });
        continue;
      }
      if (total + entry.uncompressedSize > maxInflatedBytes) {
        problems.push({ member: index, reason: `member ${index} ${JSON.stringify(name)} would take the archive past ${maxInflatedBytes} inflated bytes (limit maxInflatedBytes; possible zip bomb); it was not extracted` });
        continue;
      }
      const path = destination(index);
      let first: Buffer | undefined;
      const hasher = new HashingPassThrough((chunk) => {
        first ??= chunk;
      });
      let size = 0;
      const budget = maxInflatedBytes - total;
      // The declared size can lie; count what really comes out and stop at the budget.
      const limiter = new Transform({
        transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
          size += chunk.length;
          if (size > budget) callback(new Error(`inflates past ${maxInflatedBytes} bytes (limit maxInflatedBytes; possible zip bomb)`));
          else callback(null, chunk);
        },
      });
      try {
        const stream = await new Promise<NodeJS.ReadableStream>((done, fail) => zip.openReadStream(entry, (error, s) => (error ? fail(error) : done(s))));
        await pipeline(stream, limiter, hasher, createWriteStream(path, { mode: 0o600, flags: 'wx' }));
      } catch (error) {
        problems.push({ member: index, reason: `member ${index} ${JSON.stringify(name)}: ${message(error)}; it was not extracted` });
        continue;
      }
      total += size;
      members.push({ index, name, path, size, sha256: hasher.sha256, nestedZip: first !== undefined && isZip(first) });
    }
  } catch (error) {
    problems.push({ reason: `the zip archive is damaged after member ${index} (${message(error)}); the members before it were extracted` });
  } finally {
    zip.close();
  }
  return { members, problems };
}

function nextEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | undefined> {
  return new Promise((done, fail) => {
    const cleanup = (): void => {
      zip.removeListener('entry', onEntry);
      zip.removeListener('end', onEnd);
      zip.removeListener('error', onError);
    };
    const onEntry = (entry: yauzl.Entry): void => {
      cleanup();
      done(entry);
    };
    const onEnd = (): void => {
      cleanup();
      done(undefined);
    };
    const onError = (error: Error): void => {
      cleanup();
      fail(error);
    };
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
