/** Flag helpers shared by the commands. */
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InvalidInputError, UsageError } from '../../shared/errors.ts';
import type { Values } from '../amber.ts';

/** A required string flag, or a UsageError naming it. */
export function requireString(values: Values, name: string, usage: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v.length === 0) throw new UsageError(`missing --${name}`, { hint: `usage: ${usage}` });
  return v;
}

/** An optional string flag. */
export function optionalString(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A positive integer flag. */
export function positiveInt(values: Values, name: string, fallback: number): number {
  const v = values[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isSafeInteger(n) || n <= 0) {
    throw new UsageError(`--${name} must be a positive whole number, got ${JSON.stringify(v)}`);
  }
  return n;
}

export { closest, editDistance } from '../../shared/text/closest.ts';
import { closest } from '../../shared/text/closest.ts';

/** The placeholder a usage line gives an option (`--case C` gives `C`), for messages. */
function placeholder(usage: string, name: string): string {
  return new RegExp(`--${name.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')} ([A-Z][A-Za-z|:/.-]*)`).exec(usage)?.[1] ?? 'VALUE';
}

/**
 * Turns node:util parseArgs' errors into errors that say what is wrong with the command line and how to fix
 * it: a mistyped option gets "did you mean --locker?" (or the list of valid options), a missing value an example.
 */
export function explainParseError(error: unknown, command: string, options: Record<string, { type: 'string' | 'boolean' }>, usage: string): UsageError {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  const names = Object.keys(options);
  const flags = [...names.map((n) => `--${n}`), '--help'];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const given = /'([^']+)'/.exec(message)?.[1] ?? message;
    const bare = given.replace(/^-+/, '').split('=')[0]!;
    const guess = closest(bare, [...names, 'help']);
    return new UsageError(`amber ${command} has no option ${given}`, {
      hint: guess ? `did you mean --${guess}? (usage: ${usage})` : `its options are ${flags.join(', ')} (amber help ${command})`,
    });
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const name = /'--([^' <]+)/.exec(message)?.[1];
    if (name && options[name]?.type === 'boolean') {
      return new UsageError(`--${name} is a switch and takes no value`, { hint: `write --${name} alone (usage: ${usage})` });
    }
    if (name) {
      const value = placeholder(usage, name);
      return new UsageError(`--${name} needs a value`, {
        hint: `give it one, e.g. --${name} ${value}; a value that starts with "-" is written --${name}=-VALUE (usage: ${usage})`,
      });
    }
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const given = /'([^']*)'/.exec(message)?.[1] ?? '';
    const example = names.find((n) => options[n]?.type === 'string');
    return new UsageError(`amber ${command} takes no bare arguments, got ${JSON.stringify(given)}`, {
      hint: `${example ? `a value goes after its option (e.g. --${example} ${given}); ` : ''}usage: ${usage}`,
    });
  }
  return new UsageError(message, { hint: `usage: ${usage}` });
}

/**
 * Fails before any work when `--out FILE` cannot be written because its folder is missing (or is a file), so
 * a long report does not end in ENOENT.
 */
export function checkOutFolder(out: string, cwd: string): void {
  const folder = dirname(resolve(cwd, out));
  const found = statSync(folder, { throwIfNoEntry: false });
  if (!found) {
    throw new InvalidInputError(`cannot write --out ${out}: the folder ${folder} does not exist`, {
      hint: `create it first (mkdir -p ${JSON.stringify(folder)}) or give --out a path in an existing folder`,
    });
  }
  if (!found.isDirectory()) {
    throw new InvalidInputError(`cannot write --out ${out}: ${folder} is a file, not a folder`, { hint: 'give --out a path in an existing folder' });
  }
}
