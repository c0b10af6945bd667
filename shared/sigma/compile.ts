/**
 * Sigma rule -> Athena (Trino) SQL returning the catalogue's finding columns, so a Sigma finding cites its
 * preserved record like any other. Matching follows the Sigma specification 2.x: plain matches are
 * case-insensitive (`|cased` makes them exact), `*` and `?` are wildcards with `\` escapes, a list is any-of
 * (`|all`: every one), fields of one selection all hold. Every value reaches SQL as an escaped string literal and
 * every column comes from shared/sigma/mappings.ts, so a rule cannot inject SQL.
 */
import { expandPattern, parseCondition, type Condition } from './condition.ts';
import { SigmaUnsupportedError } from './errors.ts';
import { mappingFor, sqlString, type LogsourceMapping } from './mappings.ts';

/** The parts of a Sigma rule the compiler and the listings use. */
export interface SigmaRule {
  readonly id: string;
  readonly title: string;
  /** Sigma's own status: stable, test, experimental, deprecated, unsupported. */
  readonly status: string;
  readonly level: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly falsepositives: readonly string[];
  readonly logsource: Readonly<Record<string, unknown>>;
  readonly detection: Readonly<Record<string, unknown>>;
}

/** A rule compiled for one table. */
export interface CompiledRule {
  readonly table: string;
  readonly logsource: string;
  /** Athena SQL returning event_time, actor, source_ip, action, target, detail, evidence_key, evidence_record. */
  readonly sql: string;
}

const unsupported = (reason: string): never => {
  throw new SigmaUnsupportedError(reason);
};

/** Compiles a rule, or throws SigmaUnsupportedError with the exact reason. */
export function compileRule(rule: SigmaRule): CompiledRule {
  const mapping = mappingFor(rule.logsource);
  if ('reason' in mapping) return unsupported(mapping.reason);
  const where = compileDetection(rule.detection, mapping);
  const o = mapping.output;
  const sql = [
    'SELECT',
    `  ${o.eventTime} AS event_time,`,
    `  ${o.actor} AS actor,`,
    `  ${o.sourceIp} AS source_ip,`,
    `  ${o.action} AS action,`,
    `  ${o.target} AS target,`,
    `  ${sqlString(`sigma ${rule.id}: ${rule.title}`)} AS detail,`,
    '  evidence_key,',
    '  evidence_record',
    `FROM ${mapping.table}`,
    `WHERE ${where}`,
    // A total order: the same case gives the same findings in the same order on every run.
    'ORDER BY event_time, evidence_key, evidence_record',
  ].join('\n');
  return { table: mapping.table, logsource: mapping.logsource, sql };
}

/** The WHERE predicate of a rule's `detection` block. */
export function compileDetection(detection: Readonly<Record<string, unknown>>, mapping: LogsourceMapping): string {
  const condition = detection.condition;
  const texts = typeof condition === 'string' ? [condition] : Array.isArray(condition) && condition.every((c) => typeof c === 'string') ? (condition as string[]) : unsupported('detection has no condition string');
  const identifiers = Object.keys(detection).filter((k) => k !== 'condition' && k !== 'timeframe');
  const compiled = new Map<string, string>();
  const search = (name: string): string => {
    if (!identifiers.includes(name)) return unsupported(`condition names ${JSON.stringify(name)}, which is not a search identifier of the rule`);
    if (!compiled.has(name)) compiled.set(name, compileSearch(detection[name], mapping));
    return compiled.get(name)!;
  };
  const walk = (c: Condition): string => {
    switch (c.kind) {
      case 'ref':
        return search(c.name);
      case 'not':
        // NOT of a predicate that is NULL (absent field) must hold: Sigma's "not filter" keeps events lacking the field.
        return `NOT coalesce(${walk(c.operand)}, false)`;
      case 'and':
      case 'or':
        return `(${c.operands.map(walk).join(` ${c.kind.toUpperCase()} `)})`;
      case 'of': {
        const names = expandPattern(c.pattern, identifiers);
        if (names.length === 0) return unsupported(`"${c.quantifier === 'all' ? 'all' : '1'} of ${c.pattern}" matches no search identifier`);
        return `(${names.map(search).join(c.quantifier === 'all' ? ' AND ' : ' OR ')})`;
      }
    }
  };
  // A list of conditions means any of them (Sigma specification).
  const parts = texts.map((t) => walk(parseCondition(t)));
  return parts.length === 1 ? parts[0]! : `(${parts.join(' OR ')})`;
}

/** One search identifier: a map (fields all hold), a list of maps (any), or a list of keywords (any). */
function compileSearch(value: unknown, mapping: LogsourceMapping): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return unsupported('a search identifier is an empty list');
    if (value.every((v) => v !== null && typeof v === 'object' && !Array.isArray(v))) return `(${value.map((v) => compileMap(v as Record<string, unknown>, mapping)).join(' OR ')})`;
    if (value.every((v) => typeof v === 'string' || typeof v === 'number')) return `(${value.map((v) => keyword(String(v), mapping)).join(' OR ')})`;
    return unsupported('a search identifier mixes field maps and keywords');
  }
  if (value !== null && typeof value === 'object') return compileMap(value as Record<string, unknown>, mapping);
  if (typeof value === 'string' || typeof value === 'number') return keyword(String(value), mapping);
  return unsupported(`a search identifier holds ${JSON.stringify(value)}, neither a field map nor keywords`);
}

/** A keyword: the value anywhere in the record's text (every text column), case-insensitively. */
function keyword(value: string, mapping: LogsourceMapping): string {
  return like(`(${mapping.keywordText})`, [STAR, ...parseSigmaString(value), STAR], false);
}

function compileMap(map: Readonly<Record<string, unknown>>, mapping: LogsourceMapping): string {
  const entries = Object.entries(map);
  if (entries.length === 0) return unsupported('a selection is an empty map');
  return `(${entries.map(([key, value]) => compileField(key, value, mapping)).join(' AND ')})`;
}

// Values and modifiers ------------------------------------------------------------------------------------------

const STAR = { wildcard: '*' } as const;
const QMARK = { wildcard: '?' } as const;
type Piece = string | typeof STAR | typeof QMARK;

/** A Sigma string as literal text and wildcards: `*`, `?`; `\*`, `\?`, `\\` are literal; a lone `\` is itself. */
export function parseSigmaString(s: string): Piece[] {
  const out: Piece[] = [];
  let text = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && (s[i + 1] === '*' || s[i + 1] === '?' || s[i + 1] === '\\')) {
      text += s[++i];
    } else if (c === '*' || c === '?') {
      if (text) out.push(text);
      text = '';
      out.push(c === '*' ? STAR : QMARK);
    } else {
      text += c;
    }
  }
  if (text) out.push(text);
  return out;
}

const plainText = (pieces: readonly Piece[]): string | undefined => (pieces.every((p) => typeof p === 'string') ? pieces.join('') : undefined);

/** `expr` equal to or LIKE the pieces; case-insensitive unless `cased` (SQL lower() on both sides, one engine's rule). */
function like(expr: string, pieces: readonly Piece[], cased: boolean): string {
  const side = (s: string): string => (cased ? s : `lower(${s})`);
  const text = plainText(pieces);
  if (text !== undefined) return `${side(expr)} = ${side(sqlString(text))}`;
  const pattern = pieces.map((p) => (typeof p === 'string' ? p.replace(/[\\%_]/g, (m) => `\\${m}`) : p === STAR ? '%' : '_')).join('');
  return `${side(expr)} LIKE ${side(sqlString(pattern))} ESCAPE '\\'`;
}

const KNOWN = new Set(['contains', 'startswith', 'endswith', 'all', 're', 'i', 'm', 's', 'cidr', 'base64', 'base64offset', 'windash', 'exists', 'gt', 'gte', 'lt', 'lte', 'cased', 'fieldref']);
const WHY_NOT: Readonly<Record<string, string>> = {
  expand: 'expands a placeholder (%name%) that needs a site-specific value list; give the values in the rule instead',
  wide: 'encodes the value as UTF-16 (Windows command lines); cloud log fields are UTF-8 text',
  utf16: 'encodes the value as UTF-16 (Windows command lines); cloud log fields are UTF-8 text',
  utf16le: 'encodes the value as UTF-16 (Windows command lines); cloud log fields are UTF-8 text',
  utf16be: 'encodes the value as UTF-16 (Windows command lines); cloud log fields are UTF-8 text',
};

/** `field|mod|mod: value(s)` as a predicate. */
function compileField(key: string, raw: unknown, mapping: LogsourceMapping): string {
  const [name = '', ...mods] = key.split('|');
  for (const m of mods) {
    if (WHY_NOT[m]) unsupported(`modifier |${m} ${WHY_NOT[m]}`);
    if (!KNOWN.has(m)) unsupported(`modifier |${m} is not a Sigma 2 modifier Amber compiles`);
  }
  const has = (m: string): boolean => mods.includes(m);
  if (name === '') return unsupported(`"${key}": a field-less modifier list is not supported; bind the value to a field`);
  const field = mapping.field(name);
  if ('reason' in field) return unsupported(field.reason);
  const expr = field.sql;
  const values = Array.isArray(raw) ? raw : [raw];
  if (values.length === 0) return unsupported(`field ${JSON.stringify(name)} has an empty value list`);

  if (has('exists')) {
    if (values.length !== 1 || typeof values[0] !== 'boolean') return unsupported(`${key}: |exists takes true or false`);
    return values[0] ? `(${expr} IS NOT NULL)` : `(${expr} IS NULL)`;
  }
  const predicates = values.map((v) => valuePredicate(expr, v, mods, key, mapping));
  return `(${predicates.join(has('all') ? ' AND ' : ' OR ')})`;
}

function valuePredicate(expr: string, value: unknown, mods: readonly string[], key: string, mapping: LogsourceMapping): string {
  const has = (m: string): boolean => mods.includes(m);
  if (value === null) return `(${expr} IS NULL)`;
  if (typeof value === 'object') return unsupported(`${key}: a value is a ${Array.isArray(value) ? 'nested list' : 'map'}, not a string or number`);
  const text = String(value);

  for (const op of ['gt', 'gte', 'lt', 'lte'] as const) {
    if (!has(op)) continue;
    const n = typeof value === 'number' ? value : Number(text);
    if (!Number.isFinite(n) || text.trim() === '') return unsupported(`${key}: |${op} needs a number, got ${JSON.stringify(value)}`);
    return `(try_cast(${expr} AS double) ${{ gt: '>', gte: '>=', lt: '<', lte: '<=' }[op]} ${n})`;
  }
  if (has('re')) {
    // Sigma regexes are case-sensitive; |i |m |s set the flags. RE2 (DuckDB) and Java (Trino) read inline flags alike.
    const flags = ['i', 'm', 's'].filter(has).join('');
    return `regexp_like(${expr}, ${sqlString(`${flags ? `(?${flags})` : ''}${text}`)})`;
  }
  if (has('cidr')) return cidrPredicate(expr, text, key);
  if (has('fieldref')) {
    const other = mapping.field(text);
    if ('reason' in other) return unsupported(other.reason);
    return has('cased') ? `(${expr} = ${other.sql})` : `(lower(${expr}) = lower(${other.sql}))`;
  }

  let variants: Piece[][] = [parseSigmaString(text)];
  if (has('windash')) variants = variants.flatMap((p) => windash(p, key));
  let cased = has('cased');
  if (has('base64') || has('base64offset')) {
    // Base64 text differs by letter case, so encoded values are matched exactly.
    cased = true;
    variants = variants.flatMap((p) => {
      const plain = plainText(p);
      if (plain === undefined) return unsupported(`${key}: a value with wildcards cannot be base64-encoded`);
      return (has('base64offset') ? base64Offsets(plain) : [Buffer.from(plain, 'utf8').toString('base64')]).map((s) => [s] as Piece[]);
    });
  }
  const shaped = variants.map((p) => (has('contains') ? [STAR, ...p, STAR] : has('startswith') ? [...p, STAR] : has('endswith') ? [STAR, ...p] : p));
  const parts = shaped.map((p) => like(expr, p, cased));
  return parts.length === 1 ? parts[0]! : `(${parts.join(' OR ')})`;
}

/** The three base64 renderings of `value` at byte offsets 0, 1, 2 of a longer text, as Sigma's |base64offset. */
export function base64Offsets(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const start = [0, 2, 3];
  const end = [undefined, -3, -2];
  return [0, 1, 2].map((i) => {
    const encoded = Buffer.concat([Buffer.alloc(i, ' '), bytes]).toString('base64');
    return encoded.slice(start[i], end[(bytes.length + i) % 3]);
  });
}

const DASHES = ['-', '/', '\u2013', '\u2014', '\u2015'];

/** Sigma's |windash: every `-` or `/` that starts a word (an option) also as `/`, `-`, en dash, em dash, horizontal bar. */
function windash(pieces: readonly Piece[], key: string): Piece[][] {
  let out: Piece[][] = [[]];
  for (const p of pieces) {
    if (typeof p !== 'string') {
      out = out.map((o) => [...o, p]);
      continue;
    }
    let texts = [''];
    for (let i = 0; i < p.length; i++) {
      const c = p[i]!;
      const startsOption = (c === '-' || c === '/') && (i === 0 || /\s/.test(p[i - 1]!)) && /\w/.test(p[i + 1] ?? '');
      texts = startsOption ? texts.flatMap((t) => DASHES.map((d) => t + d)) : texts.map((t) => t + c);
      if (texts.length > 625) unsupported(`${key}: |windash would expand to more than 625 variants`);
    }
    out = out.flatMap((o) => texts.map((t) => [...o, t]));
  }
  return out;
}

/**
 * IPv4 CIDR as a regular expression over the dotted text: whole octets fixed, the partial octet as the list of
 * values it allows. Exact and portable (no ipaddress type in DuckDB offline). IPv6 text has several spellings
 * (zero compression, case), so an IPv6 range is refused rather than half-matched.
 */
function cidrPredicate(expr: string, cidr: string, key: string): string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr.trim());
  if (!m) {
    if (cidr.includes(':')) return unsupported(`${key}: IPv6 range ${cidr}: IPv6 text has several spellings, so it is not matched as text`);
    return unsupported(`${key}: ${JSON.stringify(cidr)} is not an IPv4 CIDR range such as 10.0.0.0/8`);
  }
  const octets = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (octets.some((o) => o > 255) || bits > 32) return unsupported(`${key}: ${JSON.stringify(cidr)} is not an IPv4 CIDR range`);
  const ANY = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
  const parts = octets.map((o, i) => {
    const fixed = Math.min(8, Math.max(0, bits - i * 8));
    if (fixed === 8) return String(o);
    if (fixed === 0) return ANY;
    const base = o & (0xff << (8 - fixed)) & 0xff;
    const values = Array.from({ length: 1 << (8 - fixed) }, (_, k) => base + k);
    return `(${values.join('|')})`;
  });
  return `regexp_like(${expr}, ${sqlString(`^${parts.join('\\.')}$`)})`;
}

/** ATT&CK technique ids from Sigma tags (`attack.t1078.004` -> T1078.004). */
export function attackIds(tags: readonly string[]): string[] {
  return [...new Set(tags.map((t) => /^attack\.(t\d{4}(?:\.\d{3})?)$/i.exec(t)?.[1]?.toUpperCase()).filter((t): t is string => t !== undefined))];
}
