/**
 * The environment of a Lambda handler, read once at module scope: exactly the variables contracts.ts lists
 * for that handler (the CDK constructs set them). A missing one fails the cold start at once, naming every
 * missing variable, instead of failing later mid-preservation.
 */
import { InvalidInputError } from '../../shared/errors.ts';
import { HANDLER_ENV, type HandlerName } from './handlers/contracts.ts';

/** The variables of one handler, by name. */
export type HandlerEnv<N extends HandlerName> = { readonly [K in (typeof HANDLER_ENV)[N][number]]: string };

/** Variables that may be set to '' (a trail without a key prefix; an account trail, not an organization's; no memory tool pinned). */
const MAY_BE_EMPTY: ReadonlySet<string> = new Set(['TRAIL_PREFIX', 'ORGANIZATION_ID', 'DETECTION_PARAMETERS', 'AVML_URI', 'AVML_SHA256', 'WINPMEM_URI', 'WINPMEM_SHA256']);

/** Reads a handler's variables; throws one error naming every missing or empty one. */
export function readEnv<N extends HandlerName>(name: N, env: NodeJS.ProcessEnv = process.env): HandlerEnv<N> {
  const wanted = HANDLER_ENV[name] as readonly string[];
  const missing = wanted.filter((v) => env[v] === undefined || (env[v] === '' && !MAY_BE_EMPTY.has(v)));
  if (missing.length > 0) {
    throw new InvalidInputError(`the ${name} function is missing environment variable${missing.length === 1 ? '' : 's'} ${missing.join(', ')}`, {
      hint: `set ${missing.join(', ')} on the function (the CDK construct sets every variable contracts.ts lists for ${name})`,
    });
  }
  return Object.fromEntries(wanted.map((v) => [v, env[v] ?? ''])) as HandlerEnv<N>;
}

/** A whole number of at least 1 from a variable, or an error naming it and the value. */
export function positiveIntVar(name: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidInputError(`${name} must be a whole number of at least 1, got ${JSON.stringify(value)}`, { hint: `set ${name}, e.g. 365` });
  }
  return n;
}

/** A number within [min, max] from a variable. */
export function numberVar(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new InvalidInputError(`${name} must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`, { hint: `set ${name}, e.g. 7` });
  }
  return n;
}

/** `true` or `false` from a variable. */
export function booleanVar(name: string, value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new InvalidInputError(`${name} must be true or false, got ${JSON.stringify(value)}`, { hint: `set ${name}=true or ${name}=false` });
}

/** The 12-digit account id from a variable. */
export function accountIdVar(name: string, value: string): string {
  if (!/^\d{12}$/.test(value)) throw new InvalidInputError(`${name} must be a 12-digit account id, got ${JSON.stringify(value)}`);
  return value;
}
