/** Gathers what the HTML report shows from the engine: activity per hour and per identity. */
import type { QueryEngine } from '../ports/query-engine.ts';
import { timelineSql } from '../timeline/timeline.ts';
import type { IdentityActivity } from './html-report.ts';

/** Events per bucket, the bucket width fitted to the case's span (activity-plot.ts). */
export { activityBuckets } from './activity-plot.ts';

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
