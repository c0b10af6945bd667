/** Gathers what the HTML report shows from the engine: activity per hour and per identity. */
import type { QueryEngine } from '../ports/query-engine.ts';
import { timelineSql } from '../timeline/timeline.ts';
import type { ActivityBucket, IdentityActivity } from './html-report.ts';

const HOUR_MS = 3_600_000;
/** Past this many hours the plot switches to days, to stay readable. */
const MAX_HOURLY_BARS = 24 * 21;

/** Events and failures per hour (or per day over long spans), with empty buckets filled in. */
export async function activityBuckets(engine: QueryEngine, sources: Readonly<Record<string, string>>): Promise<ActivityBucket[]> {
  const all = timelineSql(sources);
  if (!all) return [];
  const rows = await engine.query<{ hour: string; events: number; errors: number }>(
    `WITH t AS (${all})
     SELECT substr(time, 1, 13) AS hour, count(*) AS events, count_if(outcome = 'failure') AS errors
     FROM t WHERE time IS NOT NULL GROUP BY 1 ORDER BY 1`,
  );
  if (rows.length === 0) return [];
  const counts = new Map(rows.map((r) => [r.hour, r]));
  const start = Date.parse(`${rows[0]!.hour}:00:00Z`);
  const end = Date.parse(`${rows.at(-1)!.hour}:00:00Z`);
  if (Number.isNaN(start) || Number.isNaN(end)) return rows.map((r) => ({ hour: r.hour, events: r.events, errors: r.errors }));
  const step = (end - start) / HOUR_MS > MAX_HOURLY_BARS ? 24 * HOUR_MS : HOUR_MS;
  const out: ActivityBucket[] = [];
  for (let t = start - (step > HOUR_MS ? start % step : 0); t <= end; t += step) {
    let events = 0;
    let errors = 0;
    for (let h = t; h < t + step; h += HOUR_MS) {
      const c = counts.get(new Date(h).toISOString().slice(0, 13));
      events += c?.events ?? 0;
      errors += c?.errors ?? 0;
    }
    out.push({ hour: new Date(t).toISOString(), events, errors });
  }
  return out;
}

/** Activity per identity, busiest first. */
export async function identityActivity(engine: QueryEngine, sources: Readonly<Record<string, string>>): Promise<IdentityActivity[]> {
  const all = timelineSql(sources);
  if (!all) return [];
  return engine.query<IdentityActivity>(
    `WITH t AS (${all})
     SELECT coalesce(identity, '(unknown)') AS actor, count(*) AS events, min(time) AS first, max(time) AS last,
            count(DISTINCT source_ip) AS "sourceIps", count(DISTINCT action) AS actions, count_if(outcome = 'failure') AS errors,
            array_join(array_distinct(array_agg(source ORDER BY source)), ', ') AS sources
     FROM t GROUP BY 1 ORDER BY events DESC, actor`,
  );
}
