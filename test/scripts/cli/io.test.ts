import { describe, expect, it } from 'vitest';
import { stdoutWriter } from '../../../scripts/cli/io.ts';

describe('Function: stdoutWriter', () => {
  const hostile = '{"userAgent":"x\u009b2J\u001b]0;owned\u0007\u202e"}\n';

  it('makes log-derived output terminal-safe whether stdout is a terminal or a pipe, keeping its lines', () => {
    const written: string[] = [];
    stdoutWriter((t) => written.push(t))(hostile);
    expect(written.join('')).toBe('{"userAgent":"x\\u009b2J\\u001b]0;owned\\u0007\\u202e"}\n');
  });

  it('keeps JSON output parsing to the very same values (C1 and bidi characters JSON.stringify leaves raw)', () => {
    const value = { userAgent: 'x\u009b2J\u202eexe.txt' };
    const written: string[] = [];
    stdoutWriter((t) => written.push(t))(`${JSON.stringify(value)}\n`);
    expect(written.join('')).not.toMatch(/[\u009b\u202e]/);
    expect(JSON.parse(written.join(''))).toEqual(value);
  });
});
