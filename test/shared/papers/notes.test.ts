/** Notes on custody: only notes the custody report can show as they were meant reach the ledger. */
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../shared/errors.ts';
import { isIsoDate, MAX_FIELD, noteDetail, noteParticulars } from '../../../shared/papers/notes.ts';

describe('Function: noteDetail', () => {
  it('keeps a legal request\'s fields under their ledger names', () => {
    expect(noteDetail('legal-request', { provider: 'Example Cloud', reference: 'LR-1', date: '2026-03-02', 'data-location': 'ap-south-1', status: 'submitted' })).toEqual({
      kind: 'legal-request',
      provider: 'Example Cloud',
      reference: 'LR-1',
      date: '2026-03-02',
      dataLocation: 'ap-south-1',
      status: 'submitted',
    });
  });

  it('throws naming the missing field of each kind', () => {
    expect(() => noteDetail('legal-request', { provider: 'P', date: '2026-03-02' })).toThrow(/needs --reference/);
    expect(() => noteDetail('transfer', { from: 'A', reason: 'r' })).toThrow(/needs --to/);
    expect(() => noteDetail('remark', {})).toThrow(/needs --text/);
    expect(() => noteDetail('access', { text: '   ' })).toThrow(/needs --text/);
  });

  it('throws when a field belongs to another kind, naming that kind', () => {
    expect(() => noteDetail('remark', { text: 't', from: 'A' })).toThrow(/--from does not belong to a note of kind remark \(it is for --kind transfer\)/);
  });

  it('throws on dates that are not ISO-8601 calendar dates', () => {
    for (const bad of ['02/03/2026', '2026-02-30', '2026-13-01', '2026-03-02T25:00:00Z', '2026-03-02T10:00:00', 'yesterday']) {
      expect(() => noteDetail('legal-request', { provider: 'P', reference: 'R', date: bad }), bad).toThrow(InvalidInputError);
    }
    expect(isIsoDate('2026-03-02T14:30:00+05:30')).toBe(true);
    expect(isIsoDate('2024-02-29')).toBe(true);
  });

  it('refuses control and bidi characters, naming the code point', () => {
    expect(() => noteDetail('remark', { text: 'a\u202Eb' })).toThrow(/U\+202E at position 2/);
    expect(() => noteDetail('remark', { text: 'a\u0000b' })).toThrow(/U\+0000/);
    expect(() => noteDetail('transfer', { from: 'A\nB', to: 'C', reason: 'r' })).toThrow(/--from holds .*U\+000A/);
  });

  it('refuses values over the length limit and keeps emoji and markup as given', () => {
    expect(() => noteDetail('transfer', { from: 'x'.repeat(MAX_FIELD + 1), to: 'C', reason: 'r' })).toThrow(/301 characters long; the limit is 300/);
    expect(noteDetail('remark', { text: '<b>ok</b> 😀' }).text).toBe('<b>ok</b> 😀');
  });
});

describe('Function: noteParticulars', () => {
  it('lists a note\'s fields in the order of its kind, labelled', () => {
    expect(noteParticulars({ kind: 'transfer', reason: 'exam', date: '2026-03-03', to: 'B', from: 'A' })).toEqual(['From: A', 'To: B', 'Reason: exam', 'Date: 2026-03-03']);
  });
});
