/**
 * Times as IoT logs write them, turned into the two forms the IoT tables use: ISO-8601 UTC to the second
 * (`YYYY-MM-DDTHH:MM:SSZ`, the `time` column: text compares with text in windows and on the timeline, as
 * CloudTrail's `eventtime` does) and milliseconds since the epoch (for ordering inside a second and for
 * arithmetic). The text as logged is always kept in its own column: only the normalised copy is truncated.
 *
 * Accepted, because each appears in the formats these sources read:
 * - `2017-08-10 15:37:23.476` (AWS IoT Core CloudWatch entries: UTC, space, milliseconds, no zone)
 * - `2024-03-05T10:00:00Z`, `2024-03-05T10:00:00.123456+02:00`, `...+0200`, `... UTC` (API logs, brokers)
 * - `2024-03-05T10:00:00` without a zone: taken as UTC (see `zoneless` below)
 * - `10/Oct/2024:13:55:36 -0700` (Common Log Format, web front ends)
 * - seconds, milliseconds or microseconds since the epoch, as a number or as digits
 */

const ISO = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$/;
const CLF = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\s+([+-]\d{4})$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A normalised instant, or why the value is not one. */
export type Instant = { readonly ms: number; readonly zoneless: boolean } | { readonly reason: string };

/** `YYYY-MM-DDTHH:MM:SSZ` for an instant (the `time` column). */
export function isoSeconds(ms: number): string {
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}

/** Reads a logged time; a time without a zone is UTC (`zoneless` says so, for callers that document it). */
export function parseInstant(value: unknown): Instant {
  if (typeof value === 'number') return fromEpochNumber(value, String(value));
  if (typeof value !== 'string') return { reason: value === undefined || value === null ? 'has no time' : `has a time that is not text or a number (${Array.isArray(value) ? 'array' : typeof value})` };
  const text = value.trim();
  if (/^\d{9,16}(\.\d+)?$/.test(text)) return fromEpochNumber(Number(text), value);
  const iso = ISO.exec(text);
  if (iso) {
    const [y, mo, d, h, mi] = [iso[1], iso[2], iso[3], iso[4], iso[5]].map(Number) as [number, number, number, number, number];
    const s = Number(iso[6] ?? 0);
    const frac = Number(`0.${iso[7] ?? '0'}`);
    return build(value, y, mo, d, h, mi, s, frac, iso[8]);
  }
  const clf = CLF.exec(text);
  if (clf) {
    const month = MONTHS.indexOf(clf[2] as string) + 1;
    if (month === 0) return { reason: `has a month that is not an English abbreviation: ${JSON.stringify(value)}` };
    return build(value, Number(clf[3]), month, Number(clf[1]), Number(clf[4]), Number(clf[5]), Number(clf[6]), Number(`0.${clf[7] ?? '0'}`), clf[8]);
  }
  return { reason: `has a time that is neither ISO-8601 nor seconds since the epoch: ${JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value)}` };
}

function build(original: string, y: number, mo: number, d: number, h: number, mi: number, s: number, frac: number, zone: string | undefined): Instant {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return { reason: `has a time with a field out of range: ${JSON.stringify(original)}` };
  // A leap second (:60) is kept as the last millisecond of :59, so the minute does not change.
  const local = Date.UTC(y, mo - 1, d, h, mi, Math.min(s, 59)) + (s === 60 ? 999 : Math.floor(frac * 1000));
  if (new Date(Date.UTC(y, mo - 1, d)).getUTCDate() !== d) return { reason: `has a date that does not exist: ${JSON.stringify(original)}` };
  return { ms: local - offsetMs(zone), zoneless: zone === undefined };
}

function fromEpochNumber(n: number, original: string): Instant {
  if (!Number.isFinite(n) || n < 0) return { reason: `has a numeric time that is not a time since the epoch: ${original}` };
  // Seconds up to year 5138, then milliseconds, then microseconds: the magnitudes do not overlap for real times.
  if (n >= 1e8 && n < 1e11) return { ms: Math.floor(n * 1000), zoneless: false };
  if (n >= 1e11 && n < 1e14) return { ms: Math.floor(n), zoneless: false };
  if (n >= 1e14 && n < 1e17) return { ms: Math.floor(n / 1000), zoneless: false };
  return { reason: `has a numeric time that is not seconds, milliseconds or microseconds since the epoch: ${original}` };
}

function offsetMs(zone: string | undefined): number {
  if (zone === undefined || /^(Z|z|UTC|GMT)$/.test(zone)) return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0)) * 60_000;
}
