/**
 * Sigma conditions (specification 2.x): `and`, `or`, `not`, parentheses, `1 of x*` / `any of` / `all of`, `them`.
 * Parsed into a small AST; the old pipe aggregations (`| count() > 5`) are refused with their reason.
 */
import { SigmaUnsupportedError } from './errors.ts';

export type Condition =
  | { readonly kind: 'ref'; readonly name: string }
  | { readonly kind: 'not'; readonly operand: Condition }
  | { readonly kind: 'and' | 'or'; readonly operands: readonly Condition[] }
  | { readonly kind: 'of'; readonly quantifier: 'one' | 'all'; readonly pattern: string };

const TOKEN = /\s*(\(|\)|[^\s()]+)/y;

/** Parses one condition string. */
export function parseCondition(text: string): Condition {
  if (text.includes('|')) throw new SigmaUnsupportedError(`condition ${JSON.stringify(text)} uses a pipe aggregation (deprecated in Sigma 2; use a correlation rule)`);
  const tokens: string[] = [];
  let end = 0;
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(text); m; m = TOKEN.exec(text)) {
    tokens.push(m[1]!);
    end = TOKEN.lastIndex;
  }
  if (text.slice(end).trim()) throw new SigmaUnsupportedError(`condition ${JSON.stringify(text)} cannot be read`);
  let at = 0;
  const peek = (): string | undefined => tokens[at];
  const word = (t: string | undefined, w: string): boolean => t?.toLowerCase() === w;
  const fail = (why: string): never => {
    throw new SigmaUnsupportedError(`condition ${JSON.stringify(text)}: ${why}`);
  };

  const or = (): Condition => {
    const parts = [and()];
    while (word(peek(), 'or')) {
      at++;
      parts.push(and());
    }
    return parts.length === 1 ? parts[0]! : { kind: 'or', operands: parts };
  };
  const and = (): Condition => {
    const parts = [not()];
    while (word(peek(), 'and')) {
      at++;
      parts.push(not());
    }
    return parts.length === 1 ? parts[0]! : { kind: 'and', operands: parts };
  };
  const not = (): Condition => {
    if (word(peek(), 'not')) {
      at++;
      return { kind: 'not', operand: not() };
    }
    return primary();
  };
  const primary = (): Condition => {
    const t = peek();
    if (t === undefined) return fail('ends where a search identifier was expected');
    if (t === '(') {
      at++;
      const inner = or();
      if (peek() !== ')') fail('a parenthesis is not closed');
      at++;
      return inner;
    }
    if (t === ')' || ['and', 'or', 'of'].includes(t.toLowerCase())) return fail(`unexpected ${JSON.stringify(t)}`);
    if (word(tokens[at + 1], 'of')) {
      const q = t.toLowerCase();
      if (q !== '1' && q !== 'any' && q !== 'all') fail(`"${t} of" is not a Sigma quantifier (1 of, any of, all of)`);
      const pattern = tokens[at + 2];
      if (pattern === undefined || pattern === '(' || pattern === ')') fail(`"${t} of" needs a pattern or "them"`);
      at += 3;
      return { kind: 'of', quantifier: q === 'all' ? 'all' : 'one', pattern: pattern! };
    }
    at++;
    return { kind: 'ref', name: t };
  };

  const ast = or();
  if (at < tokens.length) fail(`unexpected ${JSON.stringify(tokens[at])}`);
  return ast;
}

/** The search identifiers a pattern names (`selection_*`, `them`), in the rule's order. */
export function expandPattern(pattern: string, identifiers: readonly string[]): string[] {
  if (pattern.toLowerCase() === 'them') return identifiers.filter((i) => !i.startsWith('_'));
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return identifiers.filter((i) => re.test(i));
}
