import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { credentialSharing, OVERLAP_SQL } from '../../../shared/analytics/credential-sharing.ts';
import { impossibleTravel, SIGN_IN_SQL } from '../../../shared/analytics/impossible-travel.ts';
import { unportableFunctions } from '../../../shared/query/athena-compat.ts';
import { assertTrinoSql } from '../../helpers/trino-sql.ts';
import { runAnalytics } from '../../../shared/analytics/analytic.ts';
import type { GeoLocator } from '../../../shared/ports/geo-locator.ts';
import { DuckDbQueryEngine } from '../../../shared/query/duckdb-engine.ts';
import { IDENTITY_SQL } from '../../../shared/timeline/timeline.ts';

/** A fixed map of addresses to places (the analytics' logic, not the database, is under test here). */
const PLACES: Record<string, { latitude: number; longitude: number; city: string; country: string }> = {
  '81.2.69.160': { latitude: 51.51, longitude: -0.09, city: 'London', country: 'GB' },
  '81.2.69.161': { latitude: 51.52, longitude: -0.1, city: 'London', country: 'GB' },
  '1.1.1.1': { latitude: -33.87, longitude: 151.21, city: 'Sydney', country: 'AU' },
  '5.5.5.5': { latitude: 48.85, longitude: 2.35, city: 'Paris', country: 'FR' },
};
const geo: GeoLocator = { locate: (ip) => PLACES[ip], attribution: 'test' };

type Row = [time: string, source: string, actor: string, action: string, ip: string, outcome?: string];
let engine: DuckDbQueryEngine;
beforeEach(async () => {
  engine = await DuckDbQueryEngine.create();
});
afterEach(async () => engine.close());

async function timeline(rows: Row[]): Promise<string> {
  const values = rows
    .map(([time, source, actor, action, ip, outcome = 'success'], i) => `('${time}', '${source}', '${actor}', '${action}', '${ip}', '${outcome}', 'cases/c/${source}.log', ${i}, 'ua')`)
    .join(', ');
  await engine.exec(
    `CREATE OR REPLACE TABLE t AS SELECT time, source, actor, ${IDENTITY_SQL} AS identity, action, source_ip, outcome, evidence_key, CAST(evidence_record AS INTEGER) AS evidence_record, user_agent FROM (VALUES ${values}) v(time, source, actor, action, source_ip, outcome, evidence_key, evidence_record, user_agent)`,
  );
  return 'main.t';
}

describe('Analytic: impossible-travel', () => {
  it('flags consecutive sign-ins of one person across clouds faster than 900 km/h, citing the second', async () => {
    const t = await timeline([
      ['2026-11-20T08:00:00Z', 'entra-signin', 'alice@corp.example', 'Sign-in activity', '81.2.69.160'],
      ['2026-11-20T09:30:00Z', 'cloudtrail', 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_1a2b/Alice@Corp.example', 'ConsoleLogin', '1.1.1.1'],
    ]);
    const rows = await impossibleTravel.run({ engine, timeline: t, geo });
    expect(rows).toEqual([
      expect.objectContaining({ source_ip: '1.1.1.1', action: 'ConsoleLogin', target: 'London, GB -> Sydney, AU', evidence_key: 'cases/c/cloudtrail.log', evidence_record: 1 }),
    ]);
    expect(rows[0]!.detail).toMatch(/^\d{5} km in 90 min \(\d+ km\/h\): alice@corp\.example signed in from 81\.2\.69\.160 \(London, GB\)/);
  });

  it('leaves alone plausible journeys, nearby addresses, unknown addresses, failures and other people', async () => {
    const t = await timeline([
      ['2026-11-20T08:00:00Z', 'entra-signin', 'bob@corp.example', 'Sign-in activity', '81.2.69.160'],
      ['2026-11-20T09:00:00Z', 'entra-signin', 'bob@corp.example', 'Sign-in activity', '81.2.69.161'],
      ['2026-11-20T12:00:00Z', 'entra-signin', 'bob@corp.example', 'Sign-in activity', '5.5.5.5'],
      ['2026-11-20T12:10:00Z', 'entra-signin', 'bob@corp.example', 'Sign-in activity', '10.0.0.8'],
      ['2026-11-20T12:20:00Z', 'entra-signin', 'bob@corp.example', 'Sign-in activity', '1.1.1.1', 'failure'],
      ['2026-11-20T12:30:00Z', 'entra-signin', 'carol@corp.example', 'Sign-in activity', '1.1.1.1'],
      ['2026-11-20T12:40:00Z', 'cloudtrail', 'bob@corp.example', 'GetObject', '1.1.1.1'],
    ]);
    expect(await impossibleTravel.run({ engine, timeline: t, geo })).toEqual([]);
  });
});

describe('Analytic: credential-sharing', () => {
  it('flags one identity active from two addresses at overlapping times', async () => {
    const t = await timeline([
      ['2026-11-20T10:01:00Z', 'cloudtrail', 'arn:aws:iam::111122223333:user/svc', 'ListBuckets', '81.2.69.160'],
      ['2026-11-20T10:02:00Z', 'cloudtrail', 'arn:aws:iam::111122223333:user/svc', 'GetObject', '5.5.5.5'],
      ['2026-11-20T10:05:00Z', 'cloudtrail', 'arn:aws:iam::111122223333:user/svc', 'ListBuckets', '81.2.69.160'],
      ['2026-11-20T10:06:00Z', 'cloudtrail', 'arn:aws:iam::111122223333:user/svc', 'GetObject', '5.5.5.5'],
    ]);
    const { findings } = await runAnalytics([credentialSharing], { engine, timeline: t }, new Map([['cases/c/cloudtrail.log', 'f'.repeat(64)]]));
    expect(findings).toEqual([expect.objectContaining({ detection: 'credential-sharing', target: 'arn:aws:iam::111122223333:user/svc', source_ip: '81.2.69.160', evidence_sha256: 'f'.repeat(64) })]);
  });

  it('does not flag a move from one network to another', async () => {
    const t = await timeline([
      ['2026-11-20T10:01:00Z', 'cloudtrail', 'arn:aws:iam::111122223333:user/svc', 'ListBuckets', '81.2.69.160'],
      ['2026-11-20T10:02:00Z', 'cloudtrail', 'arn:aws:iam::111122223333:user/svc', 'ListBuckets', '81.2.69.160'],
      ['2026-11-20T10:08:00Z', 'cloudtrail', 'arn:aws:iam::111122223333:user/svc', 'GetObject', '5.5.5.5'],
      ['2026-11-20T10:09:00Z', 'cloudtrail', 'arn:aws:iam::111122223333:user/svc', 'GetObject', '5.5.5.5'],
    ]);
    expect(await credentialSharing.run({ engine, timeline: t })).toEqual([]);
  });
});

describe('Analytic: credential-sharing, what it cites and counts', () => {
  it('cites the earliest record of both spans and takes actor, address and action from that same record', async () => {
    const t = await timeline([
      ['2026-11-20T10:03:00Z', 'cloudtrail', 'arn:aws:iam::111122223333:user/svc', 'GetObject', '81.2.69.160'],
      ['2026-11-20T10:01:00Z', 'cloudtrail', 'arn:aws:iam::111122223333:user/svc', 'PutObject', '5.5.5.5'],
      ['2026-11-20T10:01:00Z', 'cloudtrail', 'arn:aws:iam::111122223333:user/svc', 'DeleteObject', '5.5.5.5'],
      ['2026-11-20T10:04:00Z', 'cloudtrail', 'arn:aws:iam::111122223333:user/svc', 'ListBuckets', '81.2.69.160'],
      ['2026-11-20T10:05:00Z', 'cloudtrail', 'arn:aws:iam::111122223333:user/svc', 'GetObject', '5.5.5.5'],
    ]);
    const rows = await credentialSharing.run({ engine, timeline: t });
    // Records 1 and 2 tie on time: the lower record index is the representative.
    expect(rows).toEqual([
      expect.objectContaining({ event_time: '2026-11-20T10:01:00Z', source_ip: '5.5.5.5', action: 'PutObject', evidence_record: 1, first_time: '2026-11-20T10:01:00Z', last_time: '2026-11-20T10:05:00Z', records: 5 }),
    ]);
    expect(rows[0]!.detail).toContain('(2 events 2026-11-20T10:03:00Z..2026-11-20T10:04:00Z)');
    expect(rows[0]!.detail).toContain('(3 events 2026-11-20T10:01:00Z..2026-11-20T10:05:00Z)');
  });

  it('does not treat private or reserved addresses as a second place', async () => {
    const rows: Row[] = [];
    for (const ip of ['10.8.8.10', '192.168.10.20', '172.20.1.1', '100.64.3.3', 'fd00::1']) {
      rows.push(['2026-11-20T10:01:00Z', 'cloudtrail', 'arn:aws:iam::111122223333:user/svc', 'ListBuckets', ip]);
      rows.push(['2026-11-20T10:06:00Z', 'cloudtrail', 'arn:aws:iam::111122223333:user/svc', 'ListBuckets', ip]);
    }
    rows.push(['2026-11-20T10:02:00Z', 'cloudtrail', 'arn:aws:iam::111122223333:user/svc', 'GetObject', '81.2.69.160']);
    rows.push(['2026-11-20T10:05:00Z', 'cloudtrail', 'arn:aws:iam::111122223333:user/svc', 'GetObject', '81.2.69.160']);
    expect(await credentialSharing.run({ engine, timeline: await timeline(rows) })).toEqual([]);
  });
});

describe('Analytics SQL', () => {
  it('is Athena (Trino) SQL within the portable subset', () => {
    for (const sql of [OVERLAP_SQL('"amber"."timeline"'), SIGN_IN_SQL('"amber"."timeline"')]) {
      assertTrinoSql(sql);
      expect(unportableFunctions(sql)).toEqual([]);
    }
  });
});
