/**
 * A small structural JSON scanner. JSON.parse is all-or-nothing; this finds value boundaries without
 * building values, so the parser can (a) sniff shapes from the first kilobytes and (b) recover the
 * complete records that precede damage in a truncated or corrupt file. It does not validate values:
 * every slice it returns is still parsed with JSON.parse.
 */

/** Outcome of skipping one value: its end (exclusive), or why it has none. */
export type SkipResult = { end: number } | { incomplete: true } | { malformed: string };

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);

/** Index of the next non-whitespace character at or after `i` (text.length when none). */
export function skipWhitespace(text: string, i: number): number {
  let j = i;
  while (j < text.length && WHITESPACE.has(text[j] as string)) j += 1;
  return j;
}

/** Finds where the JSON value starting at `i` ends, tracking strings so brackets inside them are ignored. */
export function skipValue(text: string, i: number): SkipResult {
  const first = text[i];
  if (first === undefined) return { incomplete: true };
  if (first === '"') return skipString(text, i);
  if (first === '{' || first === '[') {
    let depth = 0;
    let j = i;
    while (j < text.length) {
      const c = text[j];
      if (c === '"') {
        const s = skipString(text, j);
        if (!('end' in s)) return s;
        j = s.end;
        continue;
      }
      if (c === '{' || c === '[') depth += 1;
      else if (c === '}' || c === ']') {
        depth -= 1;
        if (depth === 0) return { end: j + 1 };
      }
      j += 1;
    }
    return { incomplete: true };
  }
  if (first === '}' || first === ']' || first === ',' || first === ':') {
    return { malformed: `unexpected '${first}'` };
  }
  // A scalar (number, true, false, null): it ends at the next delimiter. Reaching the end of the text
  // means we cannot know it is whole, which matters when the text is a truncated prefix.
  let j = i;
  while (j < text.length) {
    const c = text[j] as string;
    if (c === ',' || c === ']' || c === '}' || WHITESPACE.has(c)) return { end: j };
    j += 1;
  }
  return { incomplete: true };
}

function skipString(text: string, i: number): SkipResult {
  let j = i + 1;
  while (j < text.length) {
    const c = text[j];
    if (c === '\\') {
      j += 2;
      continue;
    }
    if (c === '"') return { end: j + 1 };
    j += 1;
  }
  return { incomplete: true };
}

/** What the scanner learned about an object: its direct keys, and where it ends when it ends in the text. */
export interface ObjectScan {
  readonly keys: string[];
  /** End index (exclusive) when the object closes within the text. */
  readonly end?: number;
  /** True when a newline occurs inside the object (a pretty-printed document rather than a JSON line). */
  readonly multiline: boolean;
  /** Index of the '[' that opens each direct key's array value, for keys whose value is an array. */
  readonly arrayStarts: Map<string, number>;
}

/** Lists the direct keys of the object that opens at `i`, as far as the text goes. */
export function scanObject(text: string, i: number): ObjectScan {
  const keys: string[] = [];
  const arrayStarts = new Map<string, number>();
  let j = i + 1;
  let end: number | undefined;
  for (;;) {
    j = skipWhitespace(text, j);
    if (j >= text.length) break;
    if (text[j] === '}') {
      end = j + 1;
      break;
    }
    if (text[j] !== '"') break;
    const k = skipString(text, j);
    if (!('end' in k)) break;
    let key: string;
    try {
      key = JSON.parse(text.slice(j, k.end)) as string;
    } catch {
      break;
    }
    keys.push(key);
    j = skipWhitespace(text, k.end);
    if (text[j] !== ':') break;
    j = skipWhitespace(text, j + 1);
    if (text[j] === '[') arrayStarts.set(key, j);
    const v = skipValue(text, j);
    if (!('end' in v)) break;
    j = skipWhitespace(text, v.end);
    if (text[j] === ',') {
      j += 1;
      continue;
    }
    if (text[j] === '}') end = j + 1;
    break;
  }
  const newline = text.indexOf('\n', i);
  const multiline = newline !== -1 && (end === undefined || newline < end);
  return end === undefined ? { keys, multiline, arrayStarts } : { keys, end, multiline, arrayStarts };
}

/** Elements of an array found by scanning, and why scanning stopped. */
export interface ArrayScan {
  readonly elements: Array<{ start: number; end: number }>;
  /** `closed`: the array ended normally; `incomplete`: the text ran out; `malformed`: bad structure. */
  readonly stop: 'closed' | 'incomplete' | 'malformed';
  /** Index where scanning stopped (the damage, for `incomplete` and `malformed`). */
  readonly stopAt: number;
}

/** Finds the boundaries of every complete element of the array that opens at `open`. */
export function scanArray(text: string, open: number): ArrayScan {
  const elements: Array<{ start: number; end: number }> = [];
  let j = skipWhitespace(text, open + 1);
  if (text[j] === ']') return { elements, stop: 'closed', stopAt: j };
  for (;;) {
    if (j >= text.length) return { elements, stop: 'incomplete', stopAt: j };
    const v = skipValue(text, j);
    if ('incomplete' in v) return { elements, stop: 'incomplete', stopAt: j };
    if ('malformed' in v) return { elements, stop: 'malformed', stopAt: j };
    elements.push({ start: j, end: v.end });
    j = skipWhitespace(text, v.end);
    if (j >= text.length) return { elements, stop: 'incomplete', stopAt: j };
    if (text[j] === ']') return { elements, stop: 'closed', stopAt: j };
    if (text[j] !== ',') return { elements, stop: 'malformed', stopAt: j };
    j = skipWhitespace(text, j + 1);
  }
}

/** 1-based line and column of a character offset, for messages an analyst can follow in an editor. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lastNewline = -1;
  const stop = Math.min(offset, text.length);
  for (let i = 0; i < stop; i += 1) {
    if (text.charCodeAt(i) === 10) {
      line += 1;
      lastNewline = i;
    }
  }
  return { line, column: stop - lastNewline };
}

/** Where a text stops being valid JSON, and what was expected there. */
export interface JsonSyntaxProblem {
  readonly position: number;
  readonly message: string;
}

const NUMBER_OR_LITERAL = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null/y;
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);

/**
 * Locates the first syntax error in a JSON text (undefined when it is valid). V8's JSON.parse does not
 * always say where it failed (`Unexpected token 'x', "..." is not valid JSON`), and an analyst needs a
 * line and column. Iterative with an explicit stack, so hostile nesting depth cannot overflow the call stack.
 */
export function findJsonSyntaxError(text: string): JsonSyntaxProblem | undefined {
  const stack: Array<'{' | '['> = [];
  type State = 'value' | 'valueOrEnd' | 'key' | 'keyOrEnd' | 'colon' | 'after';
  let state: State = 'value';
  let i = 0;
  const n = text.length;
  for (;;) {
    i = skipWhitespace(text, i);
    if (i >= n) {
      if (state === 'after' && stack.length === 0) return undefined;
      return { position: n, message: 'unexpected end of input (the text is truncated)' };
    }
    const c = text[i] as string;
    switch (state) {
      case 'valueOrEnd':
      case 'value': {
        if (state === 'valueOrEnd' && c === ']') {
          stack.pop();
          i += 1;
          state = 'after';
          break;
        }
        if (c === '{') {
          stack.push('{');
          i += 1;
          state = 'keyOrEnd';
          break;
        }
        if (c === '[') {
          stack.push('[');
          i += 1;
          state = 'valueOrEnd';
          break;
        }
        if (c === '"') {
          const s = checkString(text, i);
          if ('position' in s) return s;
          i = s.end;
          state = 'after';
          break;
        }
        NUMBER_OR_LITERAL.lastIndex = i;
        const m = NUMBER_OR_LITERAL.exec(text);
        if (m === null) return { position: i, message: `unexpected character ${JSON.stringify(c)} where a value was expected` };
        i += m[0].length;
        state = 'after';
        break;
      }
      case 'keyOrEnd':
      case 'key': {
        if (state === 'keyOrEnd' && c === '}') {
          stack.pop();
          i += 1;
          state = 'after';
          break;
        }
        if (c !== '"') return { position: i, message: `expected a double-quoted property name, found ${JSON.stringify(c)}` };
        const s = checkString(text, i);
        if ('position' in s) return s;
        i = s.end;
        state = 'colon';
        break;
      }
      case 'colon': {
        if (c !== ':') return { position: i, message: `expected ':' after a property name, found ${JSON.stringify(c)}` };
        i += 1;
        state = 'value';
        break;
      }
      case 'after': {
        const top = stack[stack.length - 1];
        if (top === undefined) return { position: i, message: `unexpected ${JSON.stringify(c)} after the end of the JSON value` };
        const close = top === '{' ? '}' : ']';
        if (c === ',') {
          i += 1;
          state = top === '{' ? 'key' : 'value';
          break;
        }
        if (c === close) {
          stack.pop();
          i += 1;
          state = 'after';
          break;
        }
        return { position: i, message: `expected ',' or '${close}', found ${JSON.stringify(c)}` };
      }
    }
  }
}

function checkString(text: string, i: number): { end: number } | JsonSyntaxProblem {
  let j = i + 1;
  while (j < text.length) {
    const code = text.charCodeAt(j);
    if (code === 0x22) return { end: j + 1 };
    if (code < 0x20) return { position: j, message: `unescaped control character U+${code.toString(16).padStart(4, '0')} in a string` };
    if (code === 0x5c) {
      const e = text[j + 1];
      if (e === undefined) break;
      if (e === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(j + 2, j + 6))) return { position: j, message: 'bad \\u escape in a string' };
        j += 6;
        continue;
      }
      if (!ESCAPES.has(e)) return { position: j, message: `bad escape \\${e} in a string` };
      j += 2;
      continue;
    }
    j += 1;
  }
  return { position: text.length, message: 'unterminated string (the text is truncated)' };
}
