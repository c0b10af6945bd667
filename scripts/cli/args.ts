/** Flag helpers shared by the commands. */
import { UsageError } from '../../shared/errors.ts';
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
