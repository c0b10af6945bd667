/**
 * Impossible travel: two consecutive successful sign-ins of one identity, in any cloud, from places farther
 * apart than an airliner could cover in the time between them (over 900 km/h). Private, reserved and
 * unknown addresses are left out: they have no location. Sign-ins closer than 100 km are ignored: city-level
 * geolocation is not more precise than that.
 */
import { distanceKm } from '../geo/mmdb-geo-locator.ts';
import type { GeoPoint } from '../ports/geo-locator.ts';
import type { Analytic, AnalyticRow } from './analytic.ts';

export const MAX_SPEED_KMH = 900;
export const MIN_DISTANCE_KM = 100;

/** Successful sign-ins on the timeline, by source (Athena SQL over the timeline's columns). */
export const SIGN_IN_SQL = (timeline: string): string => `
SELECT time, identity, actor, source, action, source_ip, evidence_key, evidence_record
FROM ${timeline}
WHERE outcome = 'success' AND source_ip IS NOT NULL AND identity IS NOT NULL AND time IS NOT NULL AND (
     (source = 'cloudtrail' AND action = 'ConsoleLogin')
  OR source = 'entra-signin'
  OR (source = 'm365-audit' AND action IN ('UserLoggedIn', 'MailboxLogin'))
  OR (source = 'iot-api' AND lower(action) LIKE '%login%')
)
ORDER BY identity, time, evidence_key, evidence_record`;

interface SignIn {
  readonly time: string;
  readonly identity: string;
  readonly actor: string;
  readonly source: string;
  readonly action: string;
  readonly source_ip: string;
  readonly evidence_key: string;
  readonly evidence_record: number;
}

const where = (p: GeoPoint): string => [p.city, p.country].filter(Boolean).join(', ') || `${p.latitude.toFixed(2)},${p.longitude.toFixed(2)}`;

export const impossibleTravel: Analytic = {
  id: 'impossible-travel',
  title: 'Impossible travel between sign-ins',
  description: 'One identity signed in from two places too far apart for the time between the sign-ins, across AWS, Entra ID, Microsoft 365 and IoT platforms.',
  severity: 'high',
  mitre: ['T1078', 'T1078.004'],
  falsePositives: [
    'VPNs, proxies and cloud egress (a corporate VPN in another country) move the apparent location.',
    'Geolocation databases misplace some ranges, mobile carriers especially; the distance is city-level at best.',
  ],
  runbook:
    'Compare the two sign-ins: user agent, device, MFA method. Ask the person where they were. If one sign-in is not theirs, revoke their sessions and tokens in every cloud the identity reaches, reset the credential, and review what the unexpected session did (amber timeline --identity).',
  async run({ engine, timeline, geo }) {
    if (!geo) throw new Error('impossible travel needs the offline GeoIP database');
    const rows = await engine.query<SignIn>(SIGN_IN_SQL(timeline));
    const out: AnalyticRow[] = [];
    let previous: { row: SignIn; at: GeoPoint } | undefined;
    for (const row of rows) {
      const at = geo.locate(row.source_ip);
      if (!at) continue;
      if (previous && previous.row.identity === row.identity) {
        const km = distanceKm(previous.at, at);
        const hours = Math.max((Date.parse(row.time) - Date.parse(previous.row.time)) / 3_600_000, 1 / 60);
        const speed = km / hours;
        if (km >= MIN_DISTANCE_KM && speed > MAX_SPEED_KMH) {
          out.push({
            event_time: row.time,
            actor: row.actor,
            source_ip: row.source_ip,
            action: row.action,
            target: `${where(previous.at)} -> ${where(at)}`,
            detail:
              `${Math.round(km)} km in ${Math.round(hours * 60)} min (${Math.round(speed)} km/h): ${row.identity} signed in from ${previous.row.source_ip} (${where(previous.at)}) at ${previous.row.time} [${previous.row.source}, ${previous.row.evidence_key} record ${previous.row.evidence_record}]` +
              ` then from ${row.source_ip} (${where(at)}) at ${row.time} [${row.source}]`,
            evidence_key: row.evidence_key,
            evidence_record: row.evidence_record,
          });
        }
      }
      previous = { row, at };
    }
    return out;
  },
};
