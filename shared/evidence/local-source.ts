/**
 * A local file or folder as an evidence source. Folders are walked recursively; the kept relative path
 * starts with the folder's own name so two folders collected into one case stay apart. Symbolic links are
 * followed only while they stay inside the source root; every file that cannot be taken is reported.
 */
import { lstat, open, readdir, realpath, stat, type FileHandle } from 'node:fs/promises';
import { basename, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidInputError } from '../errors.ts';
import type { EvidenceSource, SourceObject, SourceProblem } from '../ports/evidence-source.ts';

/** EvidenceSource over a local file or folder. */
export class LocalEvidenceSource implements EvidenceSource {
  private constructor(
    readonly spec: string,
    private readonly root: string,
    private readonly realRoot: string,
    private readonly isFile: boolean,
  ) {}

  /** Checks the path exists before anything is collected (bad input fails fast, exit 2). */
  static async open(spec: string, cwd = '.'): Promise<LocalEvidenceSource> {
    const root = resolve(cwd, spec);
    const shown = root === spec ? spec : `${spec} (${root})`;
    const info = await stat(root).catch((error: NodeJS.ErrnoException) => error);
    if (info instanceof Error) {
      const reason = info.code === 'ENOENT' ? 'does not exist' : info.code === 'EACCES' ? 'is not readable (permission denied)' : info.message;
      throw new InvalidInputError(`source ${shown} ${reason}`, { hint: 'pass --from with an existing file or folder, or s3://bucket/prefix' });
    }
    if (!info.isFile() && !info.isDirectory()) {
      throw new InvalidInputError(`source ${shown} is neither a file nor a folder`, { hint: 'pass --from with a regular file or a folder' });
    }
    return new LocalEvidenceSource(spec, root, await realpath(root), info.isFile());
  }

  async *list(onProblem: (problem: SourceProblem) => void): AsyncIterable<SourceObject> {
    const name = basename(this.root);
    if (this.isFile) {
      yield this.object(this.realRoot, name, this.root);
      return;
    }
    const visited = new Set<string>([this.realRoot]);
    yield* this.walk(this.root, name, visited, onProblem);
  }

  private async *walk(dir: string, relDir: string, visited: Set<string>, onProblem: (p: SourceProblem) => void): AsyncIterable<SourceObject> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      onProblem({ origin: pathToFileURL(dir).href, reason: `folder not readable: ${(error as Error).message}` });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      const rel = `${relDir}/${entry.name}`;
      const origin = pathToFileURL(path).href;
      let info;
      try {
        info = await lstat(path);
        if (info.isSymbolicLink()) {
          const target = await realpath(path);
          if (target !== this.realRoot && !target.startsWith(this.realRoot + sep)) {
            onProblem({ origin, reason: `symbolic link to ${target} leaves the source root ${this.realRoot}: not followed` });
            continue;
          }
          if (visited.has(target)) continue; // a link back into a folder already walked: would loop
          info = await stat(path);
          if (info.isDirectory()) visited.add(target);
        }
      } catch (error) {
        onProblem({ origin, reason: `not readable: ${(error as Error).message}` });
        continue;
      }
      if (info.isDirectory()) yield* this.walk(path, rel, visited, onProblem);
      else if (info.isFile()) yield this.object(path, rel, path, info.size);
      else onProblem({ origin, reason: 'not a regular file (socket, pipe or device): not collected' });
    }
  }

  private object(path: string, relPath: string, shownPath: string, size?: number): SourceObject {
    let fh: FileHandle | undefined;
    let before: { size: number; mtimeMs: number } | undefined;
    return {
      origin: pathToFileURL(shownPath).href,
      relPath: relPath.split(sep).join('/'),
      ...(size === undefined ? {} : { size }),
      open: async () => {
        // One descriptor for the read and both fstat calls: what is compared is the file that was read.
        fh = await open(path, 'r'); // open errors (EACCES) surface here, naming the file
        before = await fh.stat();
        return fh.createReadStream({ highWaterMark: 1 << 20, autoClose: false, start: 0 });
      },
      afterRead: async (bytesRead) => {
        if (!fh || !before) return undefined;
        try {
          const after = await fh.stat();
          const changes: string[] = [];
          if (after.size !== before.size) changes.push(`its size went from ${before.size} to ${after.size} bytes`);
          if (after.mtimeMs !== before.mtimeMs) changes.push('its modification time changed');
          if (bytesRead !== undefined && bytesRead !== before.size && after.size === before.size) changes.push(`${bytesRead} bytes were read of ${before.size}`);
          return changes.length > 0 ? `the file changed while it was read (${changes.join(', ')}): what was preserved and hashed is exactly the bytes read` : undefined;
        } finally {
          await fh.close();
          fh = undefined;
        }
      },
    };
  }
}

