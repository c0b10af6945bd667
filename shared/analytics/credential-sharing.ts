/**
 * Credential sharing: one identity active from two source addresses (or two user agents) whose activity
 * overlaps in time: interleaved sessions rather than a move from one network to another. Buckets of 15
 * minutes keep the comparison local; AWS service hostnames, events without an address, and private or reserved
 * addresses (which name no place) are left out.
 */
import type { Analytic, AnalyticRow } from './analytic.ts';

const IP_LITERAL = `(regexp_like(source_ip, '^[0-9]{1,3}(\\.[0-9]{1,3}){3}$') OR regexp_like(source_ip, '^[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*$'))`;

/**
 * Addresses that name no place: RFC 1918 private, CGNAT (100.64/10), loopback, link-local, "this network"
 * (0/8), multicast and the reserved 240/4; IPv6 loopback, unique-local (fc00::/7) and link-local (fe80::/10).
 * The same host seen through a VPN or NAT shows such an address beside its public one, so two of them (or one
 * of them beside a public address) are not two places.
 */
export const NON_ROUTABLE = `regexp_like(lower(source_ip), '^(10\\.|127\\.|0\\.|169\\.254\\.|192\\.168\\.|172\\.(1[6-9]|2[0-9]|3[01])\\.|100\\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\\.|22[4-9]\\.|2[3-5][0-9]\\.|::1$|f[cd][0-9a-f]{0,2}:|fe[89ab][0-9a-f]?:)')`;

/** The total order a span's representative record is chosen by: earliest event time, then evidence key, then record index. */
const PICK = `time || '|' || evidence_key || '|' || lpad(CAST(evidence_record AS varchar), 10, '0')`;

/**
 * Overlapping activity spans per identity and routable address within 15-minute buckets (Athena SQL). A
 * finding stands for both spans; its representative record is the earliest of the two spans' records by
 * (time, evidence_key, evidence_record), and actor, source address and action are all that record's.
 */
export const OVERLAP_SQL = (timeline: string): string => `
WITH spans AS (
  SELECT identity, source_ip, substr(time, 1, 14) || CAST(CAST(substr(time, 15, 2) AS integer) / 15 * 15 AS varchar) AS bucket,
         min(time) AS first_seen, max(time) AS last_seen, count(*) AS events,
         min(${PICK}) AS pick,
         min_by(time, ${PICK}) AS rep_time,
         min_by(evidence_key, ${PICK}) AS evidence_key,
         min_by(evidence_record, ${PICK}) AS evidence_record,
         min_by(actor, ${PICK}) AS actor, min_by(action, ${PICK}) AS action,
         array_join(array_distinct(array_agg(source ORDER BY source)), ',') AS sources
  FROM ${timeline}
  WHERE identity IS NOT NULL AND time IS NOT NULL AND length(time) >= 16 AND source_ip IS NOT NULL AND ${IP_LITERAL} AND NOT ${NON_ROUTABLE}
  GROUP BY 1, 2, 3
)
SELECT CASE WHEN a.pick < b.pick THEN a.rep_time ELSE b.rep_time END AS event_time,
       CASE WHEN a.pick < b.pick THEN a.actor ELSE b.actor END AS actor,
       CASE WHEN a.pick < b.pick THEN a.source_ip ELSE b.source_ip END AS source_ip,
       CASE WHEN a.pick < b.pick THEN a.action ELSE b.action END AS action,
       CASE WHEN a.pick < b.pick THEN a.evidence_key ELSE b.evidence_key END AS evidence_key,
       CASE WHEN a.pick < b.pick THEN a.evidence_record ELSE b.evidence_record END AS evidence_record,
       b.identity AS identity,
       a.source_ip AS a_ip, a.first_seen AS a_first, a.last_seen AS a_last, a.events AS a_events,
       b.source_ip AS b_ip, b.first_seen AS b_first, b.last_seen AS b_last, b.events AS b_events,
       least(a.first_seen, b.first_seen) AS first_time, greatest(a.last_seen, b.last_seen) AS last_time,
       a.events + b.events AS records,
       array_join(array_distinct(split(a.sources || ',' || b.sources, ',')), ',') AS sources
FROM spans a JOIN spans b
  ON a.identity = b.identity AND a.bucket = b.bucket AND a.source_ip < b.source_ip
 AND a.first_seen <= b.last_seen AND b.first_seen <= a.last_seen
 AND a.events >= 2 AND b.events >= 2
ORDER BY event_time, identity, a_ip, b_ip`;

interface Overlap {
  readonly event_time: string;
  readonly actor: string;
  readonly source_ip: string;
  readonly action: string;
  readonly evidence_key: string;
  readonly evidence_record: number;
  readonly identity: string;
  readonly a_ip: string;
  readonly a_first: string;
  readonly a_last: string;
  readonly a_events: number;
  readonly b_ip: string;
  readonly b_first: string;
  readonly b_last: string;
  readonly b_events: number;
  readonly first_time: string;
  readonly last_time: string;
  readonly records: number;
  readonly sources: string;
}

const events = (n: number): string => `${n} event${Number(n) === 1 ? '' : 's'}`;

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
        detail: `${r.identity} active from ${r.a_ip} (${events(r.a_events)} ${r.a_first}..${r.a_last}) and from ${r.b_ip} (${events(r.b_events)} ${r.b_first}..${r.b_last}) at overlapping times [${r.sources}]`,
        first_time: r.first_time,
        last_time: r.last_time,
        records: Number(r.records),
        evidence_key: r.evidence_key,
        evidence_record: Number(r.evidence_record),
      }),
    );
  },
};
