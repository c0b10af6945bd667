/**
 * Where a command may write a file it produces (`--out`): never inside an evidence locker's `cases/` tree.
 * The path is resolved the way the kernel will resolve it (symbolic links of the target and of every existing
 * parent followed), so a link cannot point a report at a sealed manifest or a preserved object. As root the
 * read-only mode of preserved files protects nothing, so this check is what does.
 */
import { existsSync } from 'node:fs';
import { lstat, readdir, readlink, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { InvalidInputError } from '../../shared/errors.ts';

/**
 * Resolves `out` (relative to `cwd`) and refuses it (InvalidInputError, exit 2) when it lands inside the
 * `cases/` tree of `lockerRoot` or of any folder that holds a case ledger (`cases/<case>/custody-ledger.jsonl`),
 * or when it names an existing file with other hard links (it could be a preserved object's bytes).
 */
export async function safeOutputPath(out: string, cwd: string, lockerRoot?: string): Promise<string> {
  const wanted = resolve(cwd, out);
  const real = await resolveReal(wanted, 0);
  const lockers = lockerRoot ? [await realpath(lockerRoot).catch(() => resolve(lockerRoot))] : [];
  for (const root of lockers) {
    if (real.startsWith(join(root, 'cases') + sep) || real === join(root, 'cases')) refuse(out, real, root);
  }
  // Any folder that looks like a locker: an ancestor named `cases` holding a case ledger.
  for (let dir = dirname(real); dir !== dirname(dir); dir = dirname(dir)) {
    if (basename(dir) === 'cases' && (await holdsCase(dir))) refuse(out, real, dirname(dir));
  }
  const info = await stat(real).catch(() => undefined);
  if (info?.isFile() && info.nlink > 1) {
    throw new InvalidInputError(`refusing to write ${JSON.stringify(out)}: ${real} has ${info.nlink - 1} other hard link(s) and could be preserved evidence`, {
      hint: 'write to a new file name',
    });
  }
  return real;
}

function refuse(out: string, real: string, locker: string): never {
  throw new InvalidInputError(`refusing to write ${JSON.stringify(out)}: it resolves to ${real}, inside the cases/ folder of the evidence locker ${locker}, where preserved evidence lives`, {
    hint: 'write outputs outside the locker: give --out a path in another folder (e.g. ./amber-out/)',
  });
}

async function holdsCase(casesDir: string): Promise<boolean> {
  const names = await readdir(casesDir).catch(() => [] as string[]);
  return names.some((n) => existsSync(join(casesDir, n, 'custody-ledger.jsonl')));
}

/** The path the kernel would write to: links followed, including dangling ones and links in missing parents. */
async function resolveReal(path: string, depth: number): Promise<string> {
  if (depth > 40) throw new InvalidInputError(`too many symbolic links resolving ${path}`, { hint: 'pass a plain file path to --out' });
  const info = await lstat(path).catch(() => undefined);
  if (info?.isSymbolicLink()) {
    const target = await realpath(path).catch(() => undefined);
    return target ?? resolveReal(resolve(dirname(path), await readlink(path)), depth + 1);
  }
  if (info) return realpath(path);
  const parent = dirname(path);
  if (parent === path) return path;
  return join(await resolveReal(parent, depth + 1), basename(path));
}
