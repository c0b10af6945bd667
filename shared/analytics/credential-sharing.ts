/**
 * Credential sharing: one identity active from two source addresses (or two user agents) whose activity
 * overlaps in time: interleaved sessions rather than a move from one network to another. Buckets of 15
 * minutes keep the comparison local; AWS service hostnames and events without an address are left out.
 */
import type { Analytic, AnalyticRow } from './analytic.ts';

const IP_LITERAL = `(regexp_like(source_ip, '^[0-9]{1,3}(\\.[0-9]{1,3}){3}$') OR regexp_like(source_ip, '^[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*$'))`;

/** Overlapping activity spans per identity and address within 15-minute buckets (Athena SQL). */
export const OVERLAP_SQL = (timeline: string): string => `
WITH spans AS (
  SELECT identity, source_ip, substr(time, 1, 14) || CAST(CAST(substr(time, 15, 2) AS integer) / 15 * 15 AS varchar) AS bucket,
         min(time) AS first_seen, max(time) AS last_seen, count(*) AS events,
         min_by(evidence_key, time || evidence_key || CAST(evidence_record AS varchar)) AS evidence_key,
         min_by(evidence_record, time || evidence_key || CAST(evidence_record AS varchar)) AS evidence_record,
         min_by(actor, time) AS actor, min_by(action, time) AS action,
         array_join(array_distinct(array_agg(source)), ',') AS sources,
         count(DISTINCT user_agent) AS agents
  FROM ${timeline}
  WHERE identity IS NOT NULL AND time IS NOT NULL AND length(time) >= 16 AND source_ip IS NOT NULL AND ${IP_LITERAL}
  GROUP BY 1, 2, 3
)
SELECT b.first_seen AS event_time, b.actor, b.source_ip, b.action, b.identity,
       a.source_ip AS other_ip, a.first_seen AS other_first, a.last_seen AS other_last, a.events AS other_events,
       b.first_seen AS first_seen, b.last_seen AS last_seen, b.events AS events, b.sources AS sources,
       b.evidence_key, b.evidence_record
FROM spans a JOIN spans b
  ON a.identity = b.identity AND a.bucket = b.bucket AND a.source_ip < b.source_ip
 AND a.first_seen <= b.last_seen AND b.first_seen <= a.last_seen
 AND a.events >= 2 AND b.events >= 2
ORDER BY event_time, b.identity`;

interface Overlap {
  readonly event_time: string;
  readonly actor: string;
  readonly source_ip: string;
  readonly action: string;
  readonly identity: string;
  readonly other_ip: string;
  readonly other_first: string;
  readonly other_last: string;
  readonly other_events: number;
  readonly first_seen: string;
  readonly last_seen: string;
  readonly events: number;
  readonly sources: string;
  readonly evidence_key: string;
  readonly evidence_record: number;
}

export const credentialSharing: Analytic = {
  id: 'credential-sharing',
  title: 'One identity active from two places at once',
  description: 'The same identity made calls from two source addresses whose activity interleaves within 15 minutes: two parties holding the same credentials, or a token replayed elsewhere.',
  severity: 'medium',
  mitre: ['T1078', 'T1550.001'],
  falsePositives: [
    'A user on a VPN that splits traffic, or switching between office Wi-Fi and a mobile hotspot.',
    'Automation using one identity from several hosts (CI runners): give automation its own identities.',
  ],
  runbook:
    'Look at both addresses in the timeline for this identity (amber timeline --identity). If one address or user agent is unknown, treat the credential as stolen: revoke active sessions and keys, rotate the credential, and review the unknown side\'s actions.',
  async run({ engine, timeline }) {
    const rows = await engine.query<Overlap>(OVERLAP_SQL(timeline));
    return rows.map(
      (r): AnalyticRow => ({
        event_time: r.event_time,
        actor: r.actor,
        source_ip: r.source_ip,
        action: r.action,
        target: r.identity,
        detail: `${r.identity} active from ${r.other_ip} (${r.other_events} events ${r.other_first}..${r.other_last}) and from ${r.source_ip} (${r.events} events ${r.first_seen}..${r.last_seen}) at overlapping times [${r.sources}]`,
        evidence_key: r.evidence_key,
        evidence_record: r.evidence_record,
      }),
    );
  },
};
