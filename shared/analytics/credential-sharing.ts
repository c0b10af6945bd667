/**
 * Credential sharing: one identity active from two source addresses (or two user agents) whose activity
 * overlaps in time: interleaved sessions rather than a move from one network to another. Buckets of 15
 * minutes keep the comparison local; AWS service hostnames, events without an address, and private or reserved
 * addresses (which name no place) are left out. One finding per incident (an identity on one UTC day), not per
 * pair of addresses: a busy shared credential gives one finding a day, not thousands.
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
 * Incidents of overlapping activity (Athena SQL). Spans are one identity's events from one routable address
 * within a 15-minute bucket; two spans of the same identity and bucket whose times overlap, each of two events
 * or more, make an overlapping pair. All pairs of one identity on one UTC day are one incident: one finding
 * whatever the number of pairs, standing for every event of every span in a pair (`records`), spanning the
 * first to the last of them. It cites the earliest of those records by (time, evidence_key, evidence_record),
 * and actor, source address and action are all that record's; the latest record is named in the detail. The
 * first pair (the one holding the cited record; ties by its two addresses) is described in full.
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
         max(${PICK}) AS last_pick,
         max_by(evidence_key, ${PICK}) AS last_key,
         max_by(evidence_record, ${PICK}) AS last_record,
         -- In any order (no ORDER BY inside the aggregate: it held every row of a group and ran out of DuckDB's
         -- memory limit at 1M events); describe() de-duplicates and sorts the names.
         array_join(array_distinct(array_agg(source)), ',') AS sources
  FROM ${timeline}
  WHERE identity IS NOT NULL AND time IS NOT NULL AND length(time) >= 16 AND source_ip IS NOT NULL AND ${IP_LITERAL} AND NOT ${NON_ROUTABLE}
  GROUP BY 1, 2, 3
),
pairs AS (
  SELECT a.identity, substr(a.bucket, 1, 10) AS day, a.bucket,
         least(a.pick, b.pick) || '|' || a.source_ip || '|' || b.source_ip AS pair_pick,
         a.source_ip AS a_ip, a.first_seen AS a_first, a.last_seen AS a_last, a.events AS a_events,
         b.source_ip AS b_ip, b.first_seen AS b_first, b.last_seen AS b_last, b.events AS b_events
  FROM spans a JOIN spans b
    ON a.identity = b.identity AND a.bucket = b.bucket AND a.source_ip < b.source_ip
   AND a.first_seen <= b.last_seen AND b.first_seen <= a.last_seen
   AND a.events >= 2 AND b.events >= 2
),
involved AS (
  SELECT s.*, substr(s.bucket, 1, 10) AS day
  FROM spans s JOIN (SELECT identity, bucket, a_ip AS source_ip FROM pairs UNION SELECT identity, bucket, b_ip AS source_ip FROM pairs) k
    ON s.identity = k.identity AND s.bucket = k.bucket AND s.source_ip = k.source_ip
),
incidents AS (
  SELECT identity, day,
         min_by(rep_time, pick) AS event_time, min_by(actor, pick) AS actor, min_by(source_ip, pick) AS source_ip,
         min_by(action, pick) AS action, min_by(evidence_key, pick) AS evidence_key, min_by(evidence_record, pick) AS evidence_record,
         max(last_pick) AS last_pick, max_by(last_key, last_pick) AS last_key, max_by(last_record, last_pick) AS last_record,
         min(first_seen) AS first_time, max(last_seen) AS last_time, sum(events) AS records,
         count(DISTINCT bucket) AS windows, array_distinct(array_agg(source_ip)) AS addresses, array_agg(sources) AS sources
  FROM involved GROUP BY identity, day
),
first_pairs AS (
  SELECT identity, day, count(*) AS pairs,
         min_by(a_ip, pair_pick) AS a_ip, min_by(a_first, pair_pick) AS a_first, min_by(a_last, pair_pick) AS a_last, min_by(a_events, pair_pick) AS a_events,
         min_by(b_ip, pair_pick) AS b_ip, min_by(b_first, pair_pick) AS b_first, min_by(b_last, pair_pick) AS b_last, min_by(b_events, pair_pick) AS b_events
  FROM pairs GROUP BY identity, day
)
SELECT i.event_time, i.actor, i.source_ip, i.action, i.evidence_key, i.evidence_record, i.identity, i.day,
       i.last_key, i.last_record, substr(i.last_pick, 1, strpos(i.last_pick, '|') - 1) AS last_record_time,
       i.first_time, i.last_time, i.records, i.windows, i.addresses, i.sources,
       p.pairs, p.a_ip, p.a_first, p.a_last, p.a_events, p.b_ip, p.b_first, p.b_last, p.b_events
FROM incidents i JOIN first_pairs p ON i.identity = p.identity AND i.day = p.day
ORDER BY i.event_time, i.identity, i.day`;

/** One incident: an identity's overlapping activity on one UTC day. */
interface Incident {
  readonly event_time: string;
  readonly actor: string;
  readonly source_ip: string;
  readonly action: string;
  readonly evidence_key: string;
  readonly evidence_record: number;
  readonly identity: string;
  readonly day: string;
  readonly last_key: string;
  readonly last_record: number;
  readonly last_record_time: string;
  readonly first_time: string;
  readonly last_time: string;
  readonly records: number;
  readonly windows: number;
  readonly addresses: readonly string[];
  readonly sources: readonly string[];
  readonly pairs: number;
  readonly a_ip: string;
  readonly a_first: string;
  readonly a_last: string;
  readonly a_events: number;
  readonly b_ip: string;
  readonly b_first: string;
  readonly b_last: string;
  readonly b_events: number;
}

/** Addresses named in full in a finding's detail; the rest are counted (the timeline has them all). */
export const ADDRESSES_NAMED = 10;

const events = (n: number): string => `${n} event${Number(n) === 1 ? '' : 's'}`;
const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The detail of one incident: its first pair in full, then (when there are more) the whole incident's counts and its last record. */
function describe(r: Incident): string {
  const sources = [...new Set(r.sources.flatMap((s) => s.split(',')))].sort(byCodePoint).join(',');
  const first = `${r.identity} active from ${r.a_ip} (${events(r.a_events)} ${r.a_first}..${r.a_last}) and from ${r.b_ip} (${events(r.b_events)} ${r.b_first}..${r.b_last}) at overlapping times [${sources}]`;
  const pairs = Number(r.pairs);
  if (pairs === 1) return first;
  const addresses = [...r.addresses].sort(byCodePoint);
  const named = addresses.slice(0, ADDRESSES_NAMED).join(', ') + (addresses.length > ADDRESSES_NAMED ? ` and ${addresses.length - ADDRESSES_NAMED} more` : '');
  return (
    `${first}; in all on ${r.day}: ${pairs} overlapping pairs of ${addresses.length} addresses (${named}) in ${r.windows} 15-minute window${Number(r.windows) === 1 ? '' : 's'}, ` +
    `${events(Number(r.records))}; last record ${r.last_key} record ${Number(r.last_record)} at ${r.last_record_time}`
  );
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
    const rows = await engine.query<Incident>(OVERLAP_SQL(timeline));
    return rows.map(
      (r): AnalyticRow => ({
        event_time: r.event_time,
        actor: r.actor,
        source_ip: r.source_ip,
        action: r.action,
        target: r.identity,
        detail: describe(r),
        first_time: r.first_time,
        last_time: r.last_time,
        records: Number(r.records),
        evidence_key: r.evidence_key,
        evidence_record: Number(r.evidence_record),
      }),
    );
  },
};
