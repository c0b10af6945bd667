import { describe, expect, it } from 'vitest';
import { toUtcSeconds } from '../../../../shared/sources/cloud-records/time.ts';

describe('Function: toUtcSeconds', () => {
  it.each([
    ['2026-03-14T10:00:00Z', '2026-03-14T10:00:00Z'],
    ['2026-03-14T10:00:00.1234567Z', '2026-03-14T10:00:00Z'],
    ['2026-03-14T05:00:00.5-05:00', '2026-03-14T10:00:00Z'],
    ['2026-03-14T23:30:00+0130', '2026-03-14T22:00:00Z'],
    ['2026-03-15T00:30:00+01:00', '2026-03-14T23:30:00Z'],
    ['2026-03-14T10:00:00', '2026-03-14T10:00:00Z'],
    ['2026-03-14 10:00:00.123', '2026-03-14T10:00:00Z'],
    ['2026-03-14 10:00:00.123456 UTC', '2026-03-14T10:00:00Z'],
    ['2026-03-14T10:00Z', '2026-03-14T10:00:00Z'],
    ['1773482400.5', '2026-03-14T10:00:00Z'],
    ['1.7734824005E9', '2026-03-14T10:00:00Z'],
    [1773482400, '2026-03-14T10:00:00Z'],
  ])('normalises %j to %s', (input, expected) => {
    // Act / Assess
    expect(toUtcSeconds(input)).toEqual({ time: expected });
  });

  it.each([
    ['yesterday', /not ISO-8601/],
    ['2026-02-30T00:00:00Z', /does not exist/],
    ['2026-13-01T00:00:00Z', /out-of-range/],
    ['3/14/2026 10:00:00 AM', /not ISO-8601/],
    [1773482400123, /not seconds since the epoch/],
    [null, /has no time/],
    [undefined, /has no time/],
    [{ seconds: 1 }, /not text/],
  ])('refuses %j with the reason', (input, reason) => {
    // Act
    const result = toUtcSeconds(input);

    // Assess
    expect(result).toEqual({ reason: expect.stringMatching(reason) });
  });
});
