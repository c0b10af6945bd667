import { describe, expect, it } from 'vitest';
import { stdoutWriter } from '../../../scripts/cli/io.ts';

describe('Function: stdoutWriter', () => {
  const hostile = '{"userAgent":"x\u009b2J\u001b]0;owned\u0007"}\n';

  it('makes log-derived output safe on a terminal, keeping its lines', () => {
    const written: string[] = [];
    stdoutWriter(true, (t) => written.push(t))(hostile);
    expect(written.join('')).toBe('{"userAgent":"x\\x9b2J\\x1b]0;owned\\x07"}\n');
  });

  it('passes the exact bytes to a file or pipe (what the ledger hashes)', () => {
    const written: string[] = [];
    stdoutWriter(false, (t) => written.push(t))(hostile);
    expect(written.join('')).toBe(hostile);
  });
});
