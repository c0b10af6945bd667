import { describe, expect, it } from 'vitest';
import { isoSeconds, parseInstant } from '../../../../shared/sources/iot-common/time.ts';

describe('Function: parseInstant', () => {
  it.each([
    ['2017-08-10 15:37:23.476', Date.parse('2017-08-10T15:37:23.476Z'), true],
    ['2026-03-14T10:00:00Z', Date.parse('2026-03-14T10:00:00Z'), false],
    ['2026-03-14T12:00:00.123456+02:00', Date.parse('2026-03-14T10:00:00.123Z'), false],
    ['2026-03-14T11:00:05+0100', Date.parse('2026-03-14T10:00:05Z'), false],
    ['2026-03-14 10:00:00 UTC', Date.parse('2026-03-14T10:00:00Z'), false],
    ['2026-03-14T10:00', Date.parse('2026-03-14T10:00:00Z'), true],
    ['14/Mar/2026:12:00:00 +0100', Date.parse('2026-03-14T11:00:00Z'), false],
    [1773482400, 1773482400000, false],
    [1773482400123, 1773482400123, false],
    ['1773482400', 1773482400000, false],
    [1773482400123456, 1773482400123, false],
    ['2016-12-31T23:59:60Z', Date.parse('2016-12-31T23:59:59.999Z'), false],
  ])('reads %s', (value, ms, zoneless) => {
    expect(parseInstant(value)).toEqual({ ms, zoneless });
  });

  it.each([
    ['yesterday', 'has a time that is neither ISO-8601 nor seconds since the epoch: "yesterday"'],
    ['2026-02-30T00:00:00Z', 'has a date that does not exist: "2026-02-30T00:00:00Z"'],
    ['2026-13-01T00:00:00Z', 'has a time with a field out of range: "2026-13-01T00:00:00Z"'],
    [42, 'has a numeric time that is not seconds, milliseconds or microseconds since the epoch: 42'],
    [undefined, 'has no time'],
    [{ t: 1 }, 'has a time that is not text or a number (object)'],
    ['14/Foo/2026:12:00:00 +0100', 'has a month that is not an English abbreviation: "14/Foo/2026:12:00:00 +0100"'],
  ])('refuses %s, saying why', (value, reason) => {
    expect(parseInstant(value)).toEqual({ reason });
  });
});

describe('Function: isoSeconds', () => {
  it('truncates to the second (never rounds up into the next one), in UTC with Z', () => {
    expect(isoSeconds(Date.parse('2026-03-14T10:00:59.999Z'))).toBe('2026-03-14T10:00:59Z');
  });
});
