/**
 * Reading fields out of parsed JSON records: several spellings per field (`clientIp`, `client_ip`, `ip`),
 * keys matched exactly first and then regardless of case, dotted paths into nested objects, and values turned
 * into the text a STRING column holds (strings exactly as logged, other values as their JSON text).
 */

export type JsonObject = Record<string, unknown>;

/** True for a plain JSON object (not null, not an array). */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value of `name` in `obj`: the exact key, else the same key in any case. */
function key(obj: JsonObject, name: string): unknown {
  if (Object.prototype.hasOwnProperty.call(obj, name)) return obj[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(obj)) if (k.toLowerCase() === lower) return obj[k];
  return undefined;
}

/** Follows a dotted path (`request.headers.user-agent`); a key containing dots is tried whole first. */
export function at(obj: unknown, path: string): unknown {
  if (!isObject(obj)) return undefined;
  const whole = key(obj, path);
  if (whole !== undefined || !path.includes('.')) return whole;
  let current: unknown = obj;
  for (const part of path.split('.')) {
    if (!isObject(current)) return undefined;
    current = key(current, part);
    if (current === undefined) return undefined;
  }
  return current;
}

/** The first of `paths` holding something other than undefined, null or an empty string, and which one. */
export function firstOf(obj: unknown, paths: readonly string[]): { value: unknown; path: string } | undefined {
  for (const p of paths) {
    const v = at(obj, p);
    if (v !== undefined && v !== null && v !== '') return { value: v, path: p };
  }
  return undefined;
}

/** Like firstOf, skipping objects and arrays (`"user": {"email": ...}` then falls through to `user.email`). */
export function firstScalar(obj: unknown, paths: readonly string[]): { value: unknown; path: string } | undefined {
  for (const p of paths) {
    const v = at(obj, p);
    if (v !== undefined && v !== null && v !== '' && typeof v !== 'object') return { value: v, path: p };
  }
  return undefined;
}

/** Text for a STRING column: strings exactly as logged, numbers and booleans as JSON text, objects as JSON. */
export function text(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** An integer column: a JSON integer, or digits in a string (`"443"`); anything else is NULL (the entry keeps it). */
export function integer(value: unknown): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : null;
  if (typeof value === 'string' && /^-?\d{1,15}$/.test(value.trim())) return Number(value.trim());
  return null;
}

/** A floating-point column: a JSON number or a numeric string, optionally with a unit we can read (`"12ms"`). */
export function decimal(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(value.trim())) return Number(value.trim());
  return null;
}

/** JSON text with object keys sorted, so equal values have equal text whatever order they were written in. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (isObject(value)) {
    const out: JsonObject = {};
    for (const k of Object.keys(value).sort()) out[k] = sortKeys(value[k]);
    return out;
  }
  return value;
}
