/**
 * Detection parameters: thresholds a detection declares in `detection.yml` and uses in `query.sql` as
 * `{{name}}`. A value reaches the SQL only as a literal of its declared type, checked here first:
 *
 * - `int`: a whole number, written as digits;
 * - `number`: a decimal number, written as digits with an optional fraction;
 * - `duration`: an ISO-8601 duration (PT10M, P1D), written as its whole number of seconds;
 * - `string`: text without control characters (at most 200), written as a single-quoted SQL string with every
 *   quote doubled (Trino and DuckDB treat a backslash as an ordinary character inside '...').
 *
 * So no value, whatever it holds, can end a literal and add SQL of its own.
 */
import { InvalidInputError, UsageError } from '../errors.ts';
import { closest } from '../text/closest.ts';

export const PARAMETER_TYPES = ['int', 'number', 'duration', 'string'] as const;
export type ParameterType = (typeof PARAMETER_TYPES)[number];

/** One declared parameter. */
export interface DetectionParameter {
  readonly name: string;
  readonly type: ParameterType;
  /** The default, as declared (a number for int/number, text for duration/string). */
  readonly default: string | number;
  readonly description: string;
  /** Inclusive bounds for int and number. */
  readonly min?: number;
  readonly max?: number;
}

/** What a detection with parameters carries besides its SQL. */
export interface Parameterised {
  readonly id: string;
  readonly sql: string;
  /** The query as written, with its `{{name}}` placeholders (absent: the detection declares none). */
  readonly template?: string;
  readonly parameters?: readonly DetectionParameter[];
  /** The values the SQL was built with, by name, as given (defaults unless overridden). */
  readonly parameterValues?: Readonly<Record<string, string>>;
}

const NAME = /^[a-z][a-z0-9_]*$/;
const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]*)\s*\}\}/g;
const INT = /^-?\d{1,15}$/;
const NUMBER = /^-?\d{1,15}(\.\d{1,15})?$/;
const DURATION = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;
const MAX_STRING = 200;

/** Reads the `parameters:` map of a detection.yml; errors name the file, the parameter and the fix. */
export function parseParameterDeclarations(raw: unknown, file: string): DetectionParameter[] {
  if (raw === undefined || raw === null) return [];
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InvalidInputError(`${file}: "parameters" must map names to {default, type, description}`, { hint: 'e.g. parameters: {min_bytes: {default: 1073741824, type: int, description: "..."}}' });
  }
  const out: DetectionParameter[] = [];
  for (const [name, spec] of Object.entries(raw as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const bad = (what: string): never => {
      throw new InvalidInputError(`${file}: parameter "${name}" ${what}`, { hint: 'declare it as {default, type: int|number|duration|string, description}, name in snake_case' });
    };
    if (!NAME.test(name)) bad('is not a snake_case name');
    const s = (spec ?? {}) as Record<string, unknown>;
    const type = s.type as ParameterType;
    if (!(PARAMETER_TYPES as readonly string[]).includes(type)) bad(`has type ${JSON.stringify(s.type)}; use one of ${PARAMETER_TYPES.join(', ')}`);
    if (typeof s.description !== 'string' || s.description.trim() === '') bad('has no description');
    const bound = (k: 'min' | 'max'): number | undefined => (s[k] === undefined ? undefined : typeof s[k] === 'number' ? s[k] : bad(`has a non-numeric ${k}`));
    const p: DetectionParameter = {
      name,
      type,
      default: typeof s.default === 'number' || typeof s.default === 'string' ? s.default : bad('has no default'),
      description: (s.description as string).trim(),
      ...(bound('min') === undefined ? {} : { min: bound('min')! }),
      ...(bound('max') === undefined ? {} : { max: bound('max')! }),
    };
    try {
      sqlLiteral(p, String(p.default));
    } catch (error) {
      bad(`has a default that is not valid: ${(error as Error).message}`);
    }
    out.push(p);
  }
  return out;
}

/** The SQL literal of a value for a parameter, or an error saying what the value must look like. */
export function sqlLiteral(p: DetectionParameter, value: string): string {
  const fail = (want: string): never => {
    throw new UsageError(`${JSON.stringify(value)} is not a valid ${p.type} for ${p.name}: ${want}`, { hint: `${p.name}: ${p.description} (default ${String(p.default)})` });
  };
  const inBounds = (n: number): void => {
    if (p.min !== undefined && n < p.min) fail(`it must be at least ${p.min}`);
    if (p.max !== undefined && n > p.max) fail(`it must be at most ${p.max}`);
  };
  switch (p.type) {
    case 'int': {
      if (!INT.test(value)) return fail('give a whole number, e.g. 10');
      const n = Number(value);
      inBounds(n);
      return String(n);
    }
    case 'number': {
      if (!NUMBER.test(value)) return fail('give a decimal number, e.g. 0.7');
      const n = Number(value);
      inBounds(n);
      return String(n);
    }
    case 'duration': {
      const m = DURATION.exec(value);
      if (!m || value === 'P' || value.endsWith('T')) return fail('give an ISO-8601 duration, e.g. PT10M or P1D');
      return String(((Number(m[1] ?? 0) * 24 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 60 + Number(m[4] ?? 0));
    }
    case 'string': {
      // eslint-disable-next-line no-control-regex
      if (value.length > MAX_STRING || /[\u0000-\u001f\u007f]/.test(value)) return fail(`give text of at most ${MAX_STRING} characters without control characters`);
      return `'${value.replaceAll("'", "''")}'`;
    }
  }
}

/**
 * The query with every `{{name}}` replaced by its value's literal. Every placeholder must be declared and every
 * declared parameter used, so a typo in query.sql fails when the catalogue loads, not in a scheduled run.
 */
export function bindParameters(template: string, params: readonly DetectionParameter[], values: Readonly<Record<string, string>>, where: string): string {
  const byName = new Map(params.map((p) => [p.name, p]));
  const used = new Set<string>();
  const sql = template.replace(PLACEHOLDER, (_, name: string) => {
    const p = byName.get(name);
    if (!p) throw new InvalidInputError(`${where}: placeholder {{${name}}} names no declared parameter`, { hint: `declare it under parameters: in detection.yml (declared: ${[...byName.keys()].join(', ') || 'none'})` });
    used.add(name);
    return sqlLiteral(p, values[name] ?? String(p.default));
  });
  const unused = params.filter((p) => !used.has(p.name)).map((p) => p.name);
  if (unused.length > 0) throw new InvalidInputError(`${where}: parameter ${unused.join(', ')} is declared but query.sql never uses {{${unused[0]}}}`, { hint: 'use it in query.sql or remove its declaration' });
  return sql;
}

/** The detection with its SQL rebuilt from the overrides that name it (`id.name` -> value); others keep theirs. */
export function withParameters<D extends Parameterised>(d: D, overrides: ReadonlyMap<string, string>): D {
  if (!d.template || !d.parameters || d.parameters.length === 0) return d;
  const values: Record<string, string> = {};
  for (const p of d.parameters) values[p.name] = overrides.get(`${d.id}.${p.name}`) ?? String(p.default);
  const sql = bindParameters(d.template, d.parameters, values, `parameter of ${d.id}`);
  return { ...d, sql, parameterValues: values };
}

/**
 * The catalogue with the overrides of a JSON object `{"detection-id.name": value}` applied (a deployment's
 * configuration); '' or `{}` leaves it as it is. Every key and value is checked as `--param` checks them.
 */
export function withParameterJson<D extends Parameterised>(catalogue: readonly D[], json: string, where: string): D[] {
  if (json.trim() === '') return [...catalogue];
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    parsed = undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || !Object.values(parsed).every((v) => typeof v === 'string' || typeof v === 'number')) {
    throw new InvalidInputError(`${where} is not a JSON object of parameter values: ${JSON.stringify(json.slice(0, 200))}`, { hint: 'e.g. {"s3-large-download.min_bytes": 2147483648}' });
  }
  let overrides: Map<string, string>;
  try {
    overrides = parseParameterOverrides(Object.entries(parsed as Record<string, string | number>).map(([k, v]) => `${k}=${String(v)}`), catalogue);
  } catch (error) {
    const e = error as UsageError;
    throw new InvalidInputError(`${where}: ${e.message.replace(/^--param /, '')}`, e.hint === undefined ? {} : { hint: e.hint });
  }
  return catalogue.map((d) => withParameters(d, overrides));
}

/**
 * `--param id.name=value` flags as a map, each checked against the catalogue: an unknown detection or parameter
 * gets "did you mean", a bad value what its type wants; nothing runs until all are valid.
 */
export function parseParameterOverrides(flags: readonly string[], detections: readonly Parameterised[]): Map<string, string> {
  const out = new Map<string, string>();
  const byId = new Map(detections.map((d) => [d.id, d]));
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    const dot = flag.lastIndexOf('.', eq < 0 ? undefined : eq);
    if (eq < 0 || dot <= 0 || dot > eq) {
      throw new UsageError(`--param ${JSON.stringify(flag)} is not detection-id.name=value`, { hint: 'e.g. --param s3-large-download.min_bytes=2147483648 (amber rules lists every parameter)' });
    }
    const id = flag.slice(0, dot);
    const name = flag.slice(dot + 1, eq);
    const value = flag.slice(eq + 1);
    const d = byId.get(id);
    if (!d) {
      const withParams = detections.filter((x) => x.parameters && x.parameters.length > 0).map((x) => x.id);
      const guess = closest(id, withParams);
      throw new UsageError(`--param ${JSON.stringify(flag)}: no detection ${JSON.stringify(id)} takes parameters`, {
        hint: guess ? `did you mean ${guess}.${name}? (amber rules lists every parameter)` : `detections with parameters: ${withParams.join(', ')}`,
      });
    }
    const p = d.parameters?.find((x) => x.name === name);
    if (!p) {
      const names = (d.parameters ?? []).map((x) => x.name);
      const guess = closest(name, names);
      throw new UsageError(`--param ${JSON.stringify(flag)}: ${id} has no parameter ${JSON.stringify(name)}`, {
        hint: guess ? `did you mean ${id}.${guess}?` : names.length ? `its parameters: ${names.join(', ')}` : `${id} declares no parameters`,
      });
    }
    try {
      sqlLiteral(p, value);
    } catch (error) {
      const e = error as UsageError;
      throw new UsageError(`--param ${id}.${name}: ${e.message}`, e.hint === undefined ? {} : { hint: e.hint });
    }
    if (out.has(`${id}.${name}`) && out.get(`${id}.${name}`) !== value) throw new UsageError(`--param ${id}.${name} is given twice with different values`, { hint: 'give each parameter once' });
    out.set(`${id}.${name}`, value);
  }
  return out;
}
