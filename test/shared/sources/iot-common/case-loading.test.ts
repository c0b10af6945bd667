/**
 * The four IoT sources through the product's path: collected into a locker, recognised by content (and key),
 * parsed into derived NDJSON that is itself evidence, loaded into their tables, read on the cross-cloud
 * timeline (where an IoT API sign-in is a sign-in for impossible travel), and run through the catalogue.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { SIGN_IN_SQL } from '../../../../shared/analytics/impossible-travel.ts';
import { loadCatalogue } from '../../../../shared/detections/catalogue.ts';
import { runCatalogue } from '../../../../shared/detections/run.ts';
import { detectSource, LOG_SOURCES, sourceById } from '../../../../shared/sources/registry.ts';
import { queryTimeline, timelineSql } from '../../../../shared/timeline/timeline.ts';
import { caseWith } from '../../../helpers/case.ts';
import { IOT_FIXTURES, fixtureBytes } from './fixtures.ts';

const IOT_SOURCES = ['iot-core', 'iot-shadow', 'iot-api', 'mqtt'];

const walk = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]));

describe('Use case: loadCaseTables with the IoT sources', () => {
  it('registers the four sources (collect --source finds them)', () => {
    expect(IOT_SOURCES.map((id) => sourceById(id).id)).toEqual(IOT_SOURCES);
    expect(IOT_SOURCES.map((id) => sourceById(id).table)).toEqual(['iot_core_logs', 'iot_shadows', 'iot_api_logs', 'mqtt_broker_logs']);
  });

  it.each(IOT_SOURCES)('gives every %s fixture to that source alone, whatever else is registered', (id) => {
    // Prepare
    const dir = join(IOT_FIXTURES, id);

    // Act / Assess
    for (const file of walk(dir)) {
      const bytes = readFileSync(file);
      const head = (file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8').slice(0, 64 * 1024);
      const found = detectSource(head, `cases/c/${file.slice(dir.length + 1).split('/').slice(1).join('/')}`, LOG_SOURCES);
      expect(found.source?.id ?? found.reason, file).toBe(id);
    }
  });

  it('loads every source into its table, rows pointing at their record, bad lines reported with file and line', async () => {
    // Prepare
    const { tables, ledger, engine } = await caseWith({
      'iot/AWSIotLogsV2.jsonl': fixtureBytes('iot-core/jsonl/AWSIotLogsV2.jsonl'),
      'iot/firehose/2026/03/14/10/iot-logs-1.gz': fixtureBytes('iot-core/cloudwatch-subscription/2026/03/14/10/iot-logs-to-s3-1-2026-03-14-10-00-00-0a1b2c3d.gz'),
      'iot/damaged.jsonl': fixtureBytes('iot-core/damaged/AWSIotLogsV2.jsonl'),
      'shadows/things/lock-401/shadow.json': fixtureBytes('iot-shadow/classic/things/lock-401/shadow.json'),
      'shadows/things/conveyor-2/shadow/name/drive/update/documents.jsonl': fixtureBytes('iot-shadow/update-documents/things/conveyor-2/shadow/name/drive/update/documents.jsonl'),
      'api/requests.jsonl': fixtureBytes('iot-api/camel-jsonl/api.jsonl'),
      'broker/mosquitto.log': fixtureBytes('mqtt/epoch/mosquitto.log'),
    });

    // Assess
    expect(tables.unrecognised).toEqual([]);
    expect(tables.events).toMatchObject({ iot_core_logs: 10 + 6 + 2, iot_shadows: 2 + 2, iot_api_logs: 7, mqtt_broker_logs: 35 });
    expect(tables.sources).toMatchObject({ iot_core_logs: 'main.iot_core_logs', iot_shadows: 'main.iot_shadows', iot_api_logs: 'main.iot_api_logs', mqtt_broker_logs: 'main.mqtt_broker_logs' });
    expect(tables.problems).toEqual([
      { key: 'cases/c/src/iot/damaged.jsonl', record: 1, reason: expect.stringMatching(/^line 2: not JSON/) },
      { key: 'cases/c/src/iot/damaged.jsonl', record: 2, reason: expect.stringMatching(/^line 3: not an AWS IoT Core log entry/) },
      { key: 'cases/c/src/iot/damaged.jsonl', record: 3, reason: expect.stringMatching(/^line 4: the entry has a time/) },
      { key: 'cases/c/src/iot/damaged.jsonl', record: 5, reason: expect.stringMatching(/^line 6: not JSON/) },
    ]);
    const shadow = await engine.query<{ thing_name: string; shadow_name: string | null; evidence_key: string }>('SELECT DISTINCT thing_name, shadow_name, evidence_key FROM iot_shadows ORDER BY thing_name');
    expect(shadow).toEqual([
      { thing_name: 'conveyor-2', shadow_name: 'drive', evidence_key: 'cases/c/src/shadows/things/conveyor-2/shadow/name/drive/update/documents.jsonl' },
      { thing_name: 'lock-401', shadow_name: null, evidence_key: 'cases/c/src/shadows/things/lock-401/shadow.json' },
    ]);
    const firehose = await engine.query<{ n: number; first: number; last: number }>("SELECT count(*) AS n, min(evidence_record) AS first, max(evidence_record) AS last FROM iot_core_logs WHERE evidence_key LIKE '%iot-logs-1.gz'");
    expect(firehose).toEqual([{ n: 6, first: 0, last: 5 }]);
    const derived = ledger.entries.filter((e) => e.action === 'derived').map((e) => (e.detail as { parser: string }).parser).sort();
    expect(derived).toEqual(['iot-api', 'iot-core', 'iot-core', 'iot-core', 'iot-shadow', 'iot-shadow', 'mqtt']);
  });

  it('puts every source on one timeline, and an IoT API sign-in among the sign-ins impossible travel compares', async () => {
    // Prepare
    const { tables, engine } = await caseWith({
      'iot/AWSIotLogsV2.jsonl': fixtureBytes('iot-core/jsonl/AWSIotLogsV2.jsonl'),
      'shadows/things/lock-401/shadow.json': fixtureBytes('iot-shadow/classic/things/lock-401/shadow.json'),
      'api/requests.jsonl': fixtureBytes('iot-api/camel-jsonl/api.jsonl'),
      'broker/mosquitto.log': fixtureBytes('mqtt/epoch/mosquitto.log'),
    });

    // Act
    const timeline = await queryTimeline(engine, tables.sources);
    const olivia = await queryTimeline(engine, tables.sources, 'Olivia@Example.com');
    await engine.exec(`CREATE TABLE timeline AS ${timelineSql(tables.sources)!}`);
    const signIns = await engine.query<{ source: string; action: string; identity: string; source_ip: string }>(SIGN_IN_SQL('timeline'));

    // Assess
    const counts = timeline.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.source]: (acc[r.source] ?? 0) + 1 }), {});
    expect(counts).toEqual({ 'iot-core': 10, 'iot-shadow': 3, 'iot-api': 7, mqtt: 17 });
    expect(timeline.every((r) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(r.time))).toBe(true);
    expect(olivia.map((r) => r.action)).toEqual(['login', 'GET /api/v1/devices/lock-100/state', 'command:unlock', 'command:disarm', 'PATCH /api/v1/devices/lock-100/settings', 'GET /api/v1/devices']);
    expect(signIns).toEqual([expect.objectContaining({ source: 'iot-api', action: 'login', identity: 'olivia@example.com', source_ip: '198.51.100.40' })]);
  });

  it('runs the IoT detections on the case tables, findings citing the preserved object and its hash', async () => {
    // Prepare
    const catalogue = (await loadCatalogue()).filter((d) => ['iot_core_logs', 'iot_shadows', 'iot_api_logs', 'mqtt_broker_logs'].includes(d.table));
    const { tables, engine } = await caseWith({
      'shadows/things/lock-401/shadow.json': fixtureBytes('iot-shadow/classic/things/lock-401/shadow.json'),
      'broker/mosquitto.log': fixtureBytes('mqtt/epoch/mosquitto.log'),
      'iot/AWSIotLogsV2.jsonl': fixtureBytes('iot-core/jsonl/AWSIotLogsV2.jsonl'),
      'api/requests.jsonl': fixtureBytes('iot-api/camel-jsonl/api.jsonl'),
    });

    // Act
    const run = await runCatalogue(engine, catalogue, { sources: tables.sources, sha256ByKey: tables.sha256ByKey });

    // Assess
    expect(catalogue.length).toBeGreaterThanOrEqual(14);
    expect(run.errors).toEqual([]);
    // sensor-12 is the only client of its naming family in this small log, so it is an unknown client id too.
    expect(run.findings.map((f) => [f.detection, f.evidence_key, f.evidence_record, f.source_ip, f.target])).toEqual([
      ['iot-shadow-command-not-executed', 'cases/c/src/shadows/things/lock-401/shadow.json', 0, null, 'lock-401 lock'],
      ['mqtt-unknown-client-id', 'cases/c/src/broker/mosquitto.log', 6, '10.0.0.5', 'sensor-12'],
      ['mqtt-plaintext-remote-client', 'cases/c/src/broker/mosquitto.log', 23, '203.0.113.45', 'listener 1883 (plaintext)'],
      ['mqtt-plaintext-remote-client', 'cases/c/src/broker/mosquitto.log', 28, '198.51.100.9', 'listener 1883 (plaintext)'],
    ]);
    expect(run.findings.every((f) => f.evidence_sha256 === tables.sha256ByKey.get(f.evidence_key))).toBe(true);
  });
});
