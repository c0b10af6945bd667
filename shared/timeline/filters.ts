/**
 * Narrowing an investigation: which events (timeline) or which part of the case (detect) a run looks at. Every
 * value the user gives is checked here and reaches SQL only as a bound parameter, never spliced into the text.
 */
import { isIP } from 'node:net';
import { UsageError } from '../errors.ts';

/** ISO-8601 date-time with a zone (`Z` or `+05:30`), seconds and fractions optional. */
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** What `amber timeline` keeps: every given kind must match (AND); several values of one kind, any (OR). */
export interface TimelineFilter {
  /** Source addresses, exact (IPv6 compared in lower case). */
  readonly ips?: readonly string[];
  /** Text contained in the actor or the correlated identity, case-insensitive. */
  readonly actors?: readonly string[];
  /** Action (API call / operation) names, exact, case-insensitive. */
  readonly actions?: readonly string[];
  /** Events at or after this instant. */
  readonly since?: Date;
  /** Events strictly before this instant. */
  readonly until?: Date;
}

/** A `--since`/`--until` value as an instant, or a UsageError naming the flag, the value and a valid example. */
export function parseInstant(flag: string, value: string): Date {
  const ms = ISO_WITH_ZONE.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new UsageError(`--${flag} ${JSON.stringify(value)} is not an ISO-8601 time with a zone`, {
      hint: `write it as --${flag} 2026-03-01T14:30:00Z (or with an offset, 2026-03-01T20:00:00+05:30)`,
    });
  }
  return new Date(ms);
}

/** Checks a since/until pair: since must come before until. */
export function checkWindow(since: Date | undefined, until: Date | undefined): void {
  if (since && until && since.getTime() >= until.getTime()) {
    throw new UsageError(`--since ${since.toISOString()} is not before --until ${until.toISOString()}`, {
      hint: 'give a window whose start comes before its end (--since is included, --until is not)',
    });
  }
}

/** An `--ip` value: an IPv4 or IPv6 address, or a UsageError with the bad value. */
export function parseIp(value: string): string {
  if (isIP(value) === 0) {
    throw new UsageError(`--ip ${JSON.stringify(value)} is not an IP address`, { hint: 'give one IPv4 or IPv6 address per --ip, e.g. --ip 203.0.113.7 --ip 2001:db8::1' });
  }
  return value.toLowerCase();
}

/** A free-text filter value: non-empty, no control characters. */
export function parseText(flag: string, value: string): string {
  // eslint-disable-next-line no-control-regex
  if (value.trim() === '' || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new UsageError(`--${flag} ${JSON.stringify(value)} is empty or holds control characters`, { hint: `give --${flag} the text to look for, e.g. --${flag} alice` });
  }
  return value;
}

/** `%`, `_` and `\` matched literally in a LIKE pattern (with ESCAPE '\'). */
function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * The filter as a WHERE condition over the timeline's columns, with `?` placeholders and their values in
 * order; undefined when the filter keeps everything. Times compare as instants, not as text, so a record
 * written `12:00:00.5Z` and one written `12:00:00Z` sort as the clock does.
 */
export function timelineCondition(filter: TimelineFilter): { sql: string; params: string[] } | undefined {
  const parts: string[] = [];
  const params: string[] = [];
  const anyOf = (values: readonly string[] | undefined, one: (v: string) => string): void => {
    if (!values || values.length === 0) return;
    parts.push(`(${values.map(one).join(' OR ')})`);
  };
  anyOf(filter.ips, (ip) => {
    params.push(ip);
    return 'lower(source_ip) = ?';
  });
  anyOf(filter.actors, (text) => {
    const pattern = `%${likeLiteral(text.toLowerCase())}%`;
    params.push(pattern, pattern);
    return `(lower(actor) LIKE ? ESCAPE '\\' OR lower(identity) LIKE ? ESCAPE '\\')`;
  });
  anyOf(filter.actions, (action) => {
    params.push(action.toLowerCase());
    return 'lower(action) = ?';
  });
  if (filter.since) {
    params.push(filter.since.toISOString());
    parts.push('from_iso8601_timestamp(time) >= from_iso8601_timestamp(?)');
  }
  if (filter.until) {
    params.push(filter.until.toISOString());
    parts.push('from_iso8601_timestamp(time) < from_iso8601_timestamp(?)');
  }
  return parts.length === 0 ? undefined : { sql: parts.join(' AND '), params };
}
