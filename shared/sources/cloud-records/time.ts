/**
 * Event times as the cloud logs write them, turned into the one form Amber's tables use: ISO-8601 UTC to the
 * second, `YYYY-MM-DDTHH:MM:SSZ` (what CloudTrail's `eventtime` looks like, so windows and the timeline compare
 * text with text). The original text is kept in its own column; only the normalised copy is truncated.
 *
 * Accepted, because each appears in real exports:
 * - `2024-03-05T10:00:00Z`, `2024-03-05T10:00:00.1234567Z` (Azure, Entra, GCP, 7 digits of fraction included)
 * - `2024-03-05T05:00:00.1234567-05:00` (Entra `createdDateTime` with an offset)
 * - `2024-03-05T10:00:00` (Management Activity API `CreationTime`: documented as UTC, written without a zone)
 * - `2024-03-05 10:00:00.123` (a space instead of `T`, SIEM re-exports), `2024-03-05 10:00:00.123456 UTC` (BigQuery)
 * - seconds since the epoch, as a number or text (`1709632800.5`, `1.7096328005E9`: BigQuery JSON output)
 */

const ISO = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*(Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$/;
const EPOCH = /^\d{9,11}(?:\.\d+)?(?:[eE][+]?\d+)?$|^\d(?:\.\d+)?[eE][+]?\d+$/;

/** A normalised time, or why the text is not one. */
export type UtcTime = { readonly time: string } | { readonly reason: string };

/** `YYYY-MM-DDTHH:MM:SSZ` for an instant. */
export function isoSeconds(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/**
 * Normalises a logged time to `YYYY-MM-DDTHH:MM:SSZ`. A time without a zone is taken as UTC, which is what every
 * source Amber reads documents for its zone-less fields; anything else is refused with the reason.
 */
export function toUtcSeconds(value: unknown): UtcTime {
  if (typeof value === 'number') return fromEpoch(value, String(value));
  if (typeof value !== 'string') return { reason: value === undefined || value === null ? 'has no time' : `has a time that is not text (${typeof value})` };
  const text = value.trim();
  if (EPOCH.test(text)) return fromEpoch(Number(text), value);
  const m = ISO.exec(text);
  if (!m) return { reason: `has a time that is not ISO-8601: ${JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value)}` };
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
  const second = Number(m[6] ?? 0);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    return { reason: `has a time with an out-of-range field: ${JSON.stringify(value)}` };
  }
  const local = Date.UTC(year, month - 1, day, hour, minute, second);
  if (new Date(local).getUTCDate() !== day) return { reason: `has a date that does not exist: ${JSON.stringify(value)}` };
  return { time: isoSeconds(local - offsetMs(m[7])) };
}

function fromEpoch(seconds: number, original: string): UtcTime {
  // 1973..2286: rejects small counters and milliseconds mistaken for seconds.
  if (!Number.isFinite(seconds) || seconds < 1e8 || seconds >= 1e10) return { reason: `has a numeric time that is not seconds since the epoch: ${original}` };
  return { time: isoSeconds(Math.floor(seconds) * 1000) };
}

function offsetMs(zone: string | undefined): number {
  if (zone === undefined || /^(Z|z|UTC|GMT)$/.test(zone)) return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2) || 0);
  return sign * (hours * 60 + minutes) * 60_000;
}
