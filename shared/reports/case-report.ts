/** Gathers what the HTML report shows from the engine: activity per hour and per identity. */
import type { QueryEngine } from '../ports/query-engine.ts';
import { timelineSql } from '../timeline/timeline.ts';
import type { IdentityActivity } from './html-report.ts';
import { identityFacts, inventoryIdentitiesOf } from './inventory-section.ts';

/** Events per bucket, the bucket width fitted to the case's span (activity-plot.ts). */
export { activityBuckets } from './activity-plot.ts';

/**
 * Activity per identity, busiest first; with the case's inventory, what it says about each identity found in it
 * (an IAM user by its ARN, an assumed-role session by its role's ARN, another cloud's principal by name).
 */
export async function identityActivity(engine: QueryEngine, sources: Readonly<Record<string, string>>): Promise<IdentityActivity[]> {
  const all = timelineSql(sources);
  if (!all) return [];
  const activity = await activityOf(engine, all);
  if (!sources.inventory) return activity;
  const facts = new Map<string, Array<{ fact: string; evidence_key: string; evidence_record: number }>>();
  for (const f of await identityFacts(engine, sources.inventory)) {
    const list = facts.get(f.identity) ?? [];
    list.push({ fact: f.fact, evidence_key: f.evidence_key, evidence_record: f.evidence_record });
    facts.set(f.identity, list);
  }
  return activity.map((a) => {
    const found = inventoryIdentitiesOf(a.actor).flatMap((id) => facts.get(id) ?? []);
    return found.length > 0 ? { ...a, inventory: found } : a;
  });
}

async function activityOf(engine: QueryEngine, all: string): Promise<IdentityActivity[]> {
  return engine.query<IdentityActivity>(
    `WITH t AS (${all})
     SELECT coalesce(identity, '(unknown)') AS actor, count(*) AS events, min(time) AS first, max(time) AS last,
            count(DISTINCT source_ip) AS "sourceIps", count(DISTINCT action) AS actions, count_if(outcome = 'failure') AS errors,
            array_join(array_distinct(array_agg(source ORDER BY source)), ', ') AS sources
     FROM t GROUP BY 1 ORDER BY events DESC, actor`,
  );
}
