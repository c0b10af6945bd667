/**
 * The report's activity plot, sized to the incident: the bucket width is the smallest of a fixed ladder (10
 * seconds up to 30 days) that draws the case's whole span in at most MAX_BARS (100) bars, so a 55-minute intrusion is
 * drawn per minute, a three-day one per hour, a quarter per day. Buckets start at whole multiples of their width
 * (UTC), so the same events always fall in the same buckets; axis labels are UTC, written as precisely as the
 * width needs (12:05, 11-20 14:00, 2026-11-20).
 */
import type { Finding } from '../detections/run.ts';
import type { QueryEngine } from '../ports/query-engine.ts';
import { escapeHtml as h } from '../text/escape.ts';
import { timelineSql } from '../timeline/timeline.ts';

/** Events in one bucket of the plot. */
export interface ActivityBucket {
  /** Start of the bucket, ISO-8601 UTC (the name is kept from when every bucket was an hour). */
  readonly hour: string;
  readonly events: number;
  readonly errors: number;
  /** Width of the bucket in seconds (absent: an hour). */
  readonly seconds?: number;
}

/** Most bars the plot draws. */
export const MAX_BARS = 100;

const MINUTE = 60;
const HOUR = 3600;
const DAY = 86_400;
/** Bucket widths in seconds, smallest first. */
export const BUCKET_LADDER = [10, 30, MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY] as const;

/** The bucket width (seconds) for events from `first` to `last` (seconds since the epoch). */
export function bucketSeconds(first: number, last: number): number {
  for (const step of BUCKET_LADDER) {
    if (Math.floor(last / step) - Math.floor(first / step) + 1 <= MAX_BARS) return step;
  }
  return BUCKET_LADDER.at(-1)!;
}

/** "1 minute", "5 minutes", "hour", "6 hours", "day"... */
export function bucketName(seconds: number): string {
  const [n, unit] = seconds % DAY === 0 ? [seconds / DAY, 'day'] : seconds % HOUR === 0 ? [seconds / HOUR, 'hour'] : seconds % MINUTE === 0 ? [seconds / MINUTE, 'minute'] : [seconds, 'second'];
  return n === 1 ? unit : `${n} ${unit}s`;
}

/** Events and failures per bucket across the case's span, empty buckets filled in. */
export async function activityBuckets(engine: QueryEngine, sources: Readonly<Record<string, string>>): Promise<ActivityBucket[]> {
  const all = timelineSql(sources);
  if (!all) return [];
  // Seconds since the epoch; a time that does not parse is left out of the plot (the event stays in the timeline).
  const seconds = `WITH t AS (${all}), e AS (SELECT to_unixtime(try(from_iso8601_timestamp(time))) AS s, outcome FROM t)`;
  const [span] = await engine.query<{ first: number | null; last: number | null }>(`${seconds} SELECT min(s) AS "first", max(s) AS "last" FROM e`);
  if (!span || span.first === null || span.last === null) return [];
  const step = bucketSeconds(Number(span.first), Number(span.last));
  const rows = await engine.query<{ b: number; events: number; errors: number }>(
    `${seconds} SELECT CAST(floor(s / ${step}) AS bigint) AS b, count(*) AS events, count_if(outcome = 'failure') AS errors FROM e WHERE s IS NOT NULL GROUP BY 1 ORDER BY 1`,
  );
  const counts = new Map(rows.map((r) => [Number(r.b), r]));
  const out: ActivityBucket[] = [];
  for (let b = Math.floor(Number(span.first) / step); b <= Math.floor(Number(span.last) / step); b++) {
    const c = counts.get(b);
    out.push({ hour: new Date(b * step * 1000).toISOString(), events: Number(c?.events ?? 0), errors: Number(c?.errors ?? 0), seconds: step });
  }
  return out;
}

/** An axis label for a bucket start, as precise as the bucket width needs; the date shown when it changes. */
export function axisLabel(iso: string, seconds: number, previous?: string): string {
  if (seconds >= DAY) return iso.slice(0, 10);
  const sameDay = previous !== undefined && previous.slice(0, 10) === iso.slice(0, 10);
  const clock = seconds < MINUTE ? iso.slice(11, 19) : iso.slice(11, 16);
  return sameDay ? clock : `${iso.slice(5, 10)} ${clock}`;
}

/** Events per bucket as SVG bars, failures in a second colour, findings as markers above their bucket. */
export function activityPlot(buckets: readonly ActivityBucket[], findings: readonly Finding[]): string {
  if (buckets.length === 0) return '<p>No events.</p>';
  const step = buckets[0]!.seconds ?? HOUR;
  const width = 960;
  const height = 240;
  const pad = { left: 44, right: 16, top: 24, bottom: 44 };
  const plotH = height - pad.top - pad.bottom;
  const max = Math.max(...buckets.map((b) => b.events), 1);
  const bw = (width - pad.left - pad.right) / buckets.length;
  const start = Date.parse(buckets[0]!.hour);
  const marks = new Map<number, number>();
  for (const f of findings) {
    const at = Date.parse(f.first_time ?? f.event_time ?? '');
    if (Number.isNaN(at)) continue;
    const i = Math.floor((at - start) / (step * 1000));
    if (i >= 0 && i < buckets.length) marks.set(i, (marks.get(i) ?? 0) + 1);
  }
  const bars = buckets
    .map((b, i) => {
      const x = pad.left + i * bw;
      const hAll = (plotH * b.events) / max;
      const hErr = (plotH * b.errors) / max;
      const m = marks.get(i);
      const base = height - pad.bottom;
      return `<g><title>${h(b.hour)} (${h(bucketName(step))}): ${b.events} events, ${b.errors} errors${m ? `, ${m} findings` : ''}</title><rect x="${x.toFixed(1)}" y="${(base - hAll).toFixed(1)}" width="${Math.max(bw - 1, 1).toFixed(1)}" height="${hAll.toFixed(1)}" class="ev"/><rect x="${x.toFixed(1)}" y="${(base - hErr).toFixed(1)}" width="${Math.max(bw - 1, 1).toFixed(1)}" height="${hErr.toFixed(1)}" class="err"/>${m ? `<circle cx="${(x + bw / 2).toFixed(1)}" cy="${pad.top / 2}" r="${Math.min(3 + m, 8)}" class="finding"/>` : ''}</g>`;
    })
    .join('');
  // About six labelled ticks, on whole buckets, the last bucket always labelled.
  const every = Math.max(1, Math.ceil(buckets.length / 6));
  const ticks: number[] = [];
  for (let i = 0; i < buckets.length; i += every) ticks.push(i);
  if (ticks.at(-1) !== buckets.length - 1 && buckets.length - 1 - ticks.at(-1)! >= every / 2) ticks.push(buckets.length - 1);
  let previous: string | undefined;
  const labels = ticks
    .map((i) => {
      const x = pad.left + i * bw;
      const label = axisLabel(buckets[i]!.hour, step, previous);
      previous = buckets[i]!.hour;
      return `<line x1="${x.toFixed(1)}" y1="${height - pad.bottom}" x2="${x.toFixed(1)}" y2="${height - pad.bottom + 5}" class="axis"/><text x="${x.toFixed(1)}" y="${height - pad.bottom + 18}" text-anchor="middle" class="lbl">${h(label)}</text>`;
    })
    .join('');
  const unit = bucketName(step);
  return `<svg viewBox="0 0 ${width} ${height}" role="img" aria-label="events per ${h(unit)}">
<line x1="${pad.left}" y1="${height - pad.bottom}" x2="${width - pad.right}" y2="${height - pad.bottom}" class="axis"/><line x1="${pad.left}" y1="${pad.top}" x2="${pad.left}" y2="${height - pad.bottom}" class="axis"/>${bars}${labels}
<text x="${pad.left - 6}" y="${pad.top + 4}" text-anchor="end" class="lbl">${max}</text><text x="${pad.left - 6}" y="${height - pad.bottom}" text-anchor="end" class="lbl">0</text>
<text x="${(width / 2).toFixed(0)}" y="${height - 6}" text-anchor="middle" class="lbl">time (UTC), one bar per ${h(unit)}: ${h(buckets[0]!.hour)} to ${h(new Date(Date.parse(buckets.at(-1)!.hour) + step * 1000).toISOString())}</text>
</svg>
<p class="legend"><span class="sw ev"></span> events per ${h(unit)} <span class="sw err"></span> failed calls <span class="sw finding"></span> bars with findings</p>`;
}
