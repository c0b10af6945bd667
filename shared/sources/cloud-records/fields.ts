/**
 * Reading fields out of parsed JSON records the way cloud exports need: keys looked up exactly first and then
 * without regard to case (Azure writes `Level` and `level`, SIEMs lower-case everything), values turned into the
 * text Athena's STRING columns hold (an object or array becomes its JSON text, a string stays exactly as logged).
 */

/** A parsed JSON object. */
export type JsonObject = Record<string, unknown>;

/** True for a plain JSON object (not null, not an array). */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value of the first of `names` the object has: exact key first, then the same key in any case. */
export function pick(obj: unknown, ...names: readonly string[]): unknown {
  if (!isObject(obj)) return undefined;
  for (const name of names) {
    if (Object.prototype.hasOwnProperty.call(obj, name)) return obj[name];
  }
  const keys = Object.keys(obj);
  for (const name of names) {
    const lower = name.toLowerCase();
    const found = keys.find((k) => k.toLowerCase() === lower);
    if (found !== undefined) return obj[found];
  }
  return undefined;
}

/** Follows a dotted path (`status.errorCode`) with `pick` at each step. */
export function at(obj: unknown, path: string): unknown {
  let current: unknown = obj;
  for (const part of path.split('.')) {
    current = pick(current, part);
    if (current === undefined) return undefined;
  }
  return current;
}

/** The first of `paths` that holds something other than undefined/null. */
export function first(obj: unknown, ...paths: readonly string[]): unknown {
  for (const p of paths) {
    const v = at(obj, p);
    if (v !== undefined && v !== null) return v;
  }
  return undefined;
}

/**
 * Text for a STRING column: strings exactly as logged, numbers and booleans as their JSON text, objects and
 * arrays as JSON text, null/undefined as SQL NULL.
 */
export function text(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** Like `text`, for a field whose value is conventionally an object (`{"value": "..."}` in Azure's REST shape). */
export function valueText(value: unknown): string | null {
  if (isObject(value) && Object.prototype.hasOwnProperty.call(value, 'value')) return text(value.value);
  return text(value);
}

/** An integer column from a number or numeric text; NULL otherwise. */
export function integer(value: unknown): number | null {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^-?\d{1,15}$/.test(value.trim())) return Number(value.trim());
  return null;
}

/** A boolean column from true/false or their text in any case; NULL otherwise. */
export function boolean(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (v === 'true') return true;
    if (v === 'false') return false;
  }
  return null;
}

/**
 * A field some exports hold as JSON text rather than as an object (Log Analytics exports write `InitiatedBy`,
 * `TargetResources`, `Claims`... as strings): the parsed value when the text is a JSON object or array, else the
 * value unchanged.
 */
export function parsedJson(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const t = value.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return value;
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return value;
  }
}

/** Describes a value's JSON kind for messages. */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}
