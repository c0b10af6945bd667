import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DuckDbQueryEngine } from '../../../../shared/query/duckdb-engine.ts';
import { IOT_CORE_TIMELINE_SQL, iotCoreSource, parseIotCore, sniffIotCore } from '../../../../shared/sources/iot-core/index.ts';
import { detectSource } from '../../../../shared/sources/registry.ts';
import { fixture, fixtureBytes, linesOf, loadParsed } from '../iot-common/fixtures.ts';

const JSONL = 'iot-core/jsonl/AWSIotLogsV2.jsonl';
const EXPORT = 'iot-core/cloudwatch-export/exportedlogs/1f2e3d4c/AWSIotLogsV2-stream/000000';
const FIREHOSE = 'iot-core/cloudwatch-subscription/2026/03/14/10/iot-logs-to-s3-1-2026-03-14-10-00-00-0a1b2c3d.gz';

/** The fixture's text as the case loader hands it to a parser (gunzipped when compressed). */
const textOf = (path: string): string => (path.endsWith('.gz') ? gunzipSync(fixtureBytes(path)).toString('utf8') : fixture(path));

describe('Function: parseIotCore', () => {
  it('reads JSON Lines into the documented columns, one row per entry, indexed by physical line', () => {
    // Prepare
    const text = fixture(JSONL);

    // Act
    const result = parseIotCore(text);

    // Assess
    expect(result.variant).toBe('jsonl');
    expect(result.problems).toEqual([]);
    const lines = linesOf(text);
    expect(result.rows.map((r) => r.index)).toEqual(lines.map((l) => l.index));
    expect(result.rows.map((r) => r.line)).toEqual(lines.map((l) => l.index + 1));
    expect(result.rows.map((r) => r.row.entry)).toEqual(lines.map((l) => l.text));
    expect(result.rows[0]!.row).toEqual({
      time: '2026-03-14T10:00:00Z', time_ms: Date.parse('2026-03-14T10:00:00.120Z'), logtime: '2026-03-14 10:00:00.120',
      loglevel: 'INFO', traceid: '00000000-0000-4000-8000-000100000120', accountid: '111122223333', status: 'Success',
      eventtype: 'Connect', protocol: 'MQTT', topicname: null, clientid: 'lock-401',
      principalid: '9f2c4e7a1b3d5f60718293a4b5c6d7e8f90123456789abcdef0123456789abcd', sourceip: '198.51.100.20', sourceport: 50412,
      reason: null, disconnectreason: null, details: null, thingname: null, rulename: null, ruleaction: null, jobid: null,
      clienttoken: null, logstream: null, cweventid: null, entry: lines[0]!.text,
    });
  });

  it('promotes the fields each event type carries: thing from deviceShadowName or the shadow topic, rules, jobs, reasons', () => {
    // Act
    const rows = parseIotCore(fixture(JSONL)).rows.map((r) => r.row);
    const by = (type: string, n = 0): Record<string, unknown> => rows.filter((r) => r.eventtype === type)[n]!;

    // Assess
    expect(by('Subscribe')).toMatchObject({ topicname: '$aws/things/lock-401/shadow/update/delta', thingname: 'lock-401' });
    expect(by('UpdateThingShadow')).toMatchObject({ thingname: 'lock-401', clientid: null, sourceip: null });
    expect(by('RuleExecution')).toMatchObject({ status: 'Failure', loglevel: 'ERROR', rulename: 'LockEvents', ruleaction: 'DynamoActionV2', reason: 'DynamoActionFailure' });
    expect(by('UpdateJobExecution')).toMatchObject({ jobid: 'fw-2026-03', clienttoken: 'ct-77', loglevel: 'DEBUG' });
    expect(by('Publish-In', 1)).toMatchObject({ clientid: 'cam-04', sourceport: 41000, reason: 'AUTHORIZATION_FAILURE', details: 'Authorization Failure' });
    expect(by('Disconnect')).toMatchObject({ disconnectreason: 'MQTT_KEEP_ALIVE_TIMEOUT', time: '2026-03-14T10:05:00Z' });
  });

  it.each([
    // [fixture, variant, rows, indexes]
    [EXPORT, 'cloudwatch-export', 4, [0, 1, 2, 3]],
    ['iot-core/filter-log-events/filter-log-events.json', 'filter-log-events', 3, [0, 1, 2]],
    [FIREHOSE, 'cloudwatch-subscription', 6, [0, 1, 2, 3, 4, 5]],
    ['iot-core/array/entries.json', 'array', 3, [0, 1, 2]],
    ['iot-core/single/entry.json', 'single', 1, [0]],
    ['iot-core/cloudwatch-events/events.jsonl', 'cloudwatch-events', 3, [0, 1, 2]],
  ])('reads %s as %s', (path, variant, count, indexes) => {
    // Act
    const result = parseIotCore(textOf(path));

    // Assess
    expect(result.problems).toEqual([]);
    expect(result.variant).toBe(variant);
    expect(result.rows).toHaveLength(count);
    expect(result.rows.map((r) => r.index)).toEqual(indexes);
    // Every variant yields the same rows for the same entries as the plain JSON Lines file, apart from the
    // CloudWatch wrapper's own fields.
    const plain: Record<string, unknown>[] = parseIotCore(fixture(JSONL)).rows.map((r) => ({ ...r.row, logstream: null, cweventid: null }));
    for (const row of result.rows) {
      const same = plain.find((p) => p.traceid === row.row.traceid && p.eventtype === row.row.eventtype);
      expect(same).toBeDefined();
      expect({ ...row.row, logstream: null, cweventid: null, entry: JSON.parse(row.row.entry as string) as unknown }).toEqual({ ...same, entry: JSON.parse(same!.entry as string) as unknown });
    }
  });

  it('keeps the CloudWatch wrapper: log stream and event id; skips CONTROL_MESSAGE health checks without a row', () => {
    // Act
    const filter = parseIotCore(fixture('iot-core/filter-log-events/filter-log-events.json'));
    const firehose = parseIotCore(textOf(FIREHOSE));

    // Assess
    expect(filter.rows[1]!.row).toMatchObject({ logstream: 'lock-401', cweventid: `3781${'1'.padStart(20, '0')}` });
    expect(firehose.rows.map((r) => r.row.cweventid)).toEqual([0, 1, 2, 3, 4, 5].map((i) => `3781${String(i).padStart(20, '0')}`));
    expect(firehose.rows.every((r) => r.row.logstream === 'lock-401')).toBe(true);
    expect(firehose.rows.some((r) => String(r.row.entry).includes('CONTROL MESSAGE'))).toBe(false);
  });

  it('strips the export time prefix and the CR of CRLF lines but keeps the entry text exactly', () => {
    // Act
    const result = parseIotCore(fixture(EXPORT));

    // Assess
    const lines = fixture(EXPORT).split('\r\n').filter(Boolean);
    expect(result.rows.map((r) => r.row.entry)).toEqual(lines.map((l) => l.slice(l.indexOf(' ') + 1)));
    expect(result.rows.map((r) => r.line)).toEqual([1, 2, 3, 4]);
  });

  it('uses the wrapper time when an entry has none, and says so when neither is a time', () => {
    // Prepare
    const entry = { logLevel: 'INFO', eventType: 'Connect', clientId: 'a' };
    const text = JSON.stringify({ events: [{ timestamp: 1773482400123, message: JSON.stringify(entry) }, { message: JSON.stringify(entry) }] });

    // Act
    const result = parseIotCore(text);

    // Assess
    expect(result.rows).toEqual([expect.objectContaining({ index: 0, row: expect.objectContaining({ time: '2026-03-14T10:00:00Z', time_ms: 1773482400123, logtime: '1773482400123' }) })]);
    expect(result.problems).toEqual([{ index: 1, line: 1, reason: '.events[1]: the entry has no time' }]);
  });

  it('reports every bad line with its line number and keeps the good ones around it', () => {
    // Act
    const result = parseIotCore(fixture('iot-core/damaged/AWSIotLogsV2.jsonl'));

    // Assess
    expect(result.rows.map((r) => r.line)).toEqual([1, 5]);
    expect(result.problems).toEqual([
      { index: 1, line: 2, reason: expect.stringMatching(/^not JSON at column 1/) },
      { index: 2, line: 3, reason: 'not an AWS IoT Core log entry (no "eventType"); found "hello"' },
      { index: 3, line: 4, reason: 'the entry has a time that is neither ISO-8601 nor seconds since the epoch: "yesterday"' },
      { index: 5, line: 6, reason: expect.stringMatching(/^not JSON at column 41: unexpected end of input/) },
    ]);
  });

  it('reports a CloudWatch message that is not a JSON entry (AWS IoT v1 text logs) instead of dropping it', () => {
    // Prepare
    const text = JSON.stringify({ events: [{ timestamp: 1773482400000, message: '2026-03-14 10:00:00.000 TRACEID:x PRINCIPALID:y [INFO] EVENT:MQTT Client Connect MESSAGE:Connect Status: SUCCESS' }] });

    // Act
    const result = parseIotCore(text);

    // Assess
    expect(result.rows).toEqual([]);
    expect(result.problems).toEqual([{ index: 0, line: 1, reason: '.events[0]: the CloudWatch message is not JSON (an AWS IoT v1 text log, or damaged)' }]);
  });

  it('keeps hostile strings byte-exact, through the table too', async () => {
    // Prepare
    const text = fixture('iot-core/hostile/AWSIotLogsV2.jsonl');
    const originals = linesOf(text).map((l) => JSON.parse(l.text) as Record<string, string>);
    const engine = await DuckDbQueryEngine.create();

    try {
      // Act
      const result = parseIotCore(text);
      await loadParsed(engine, iotCoreSource, [{ key: 'k', result }]);
      const stored = await engine.query<Record<string, string>>('SELECT clientid, topicname, details, reason, principalid, entry FROM iot_core_logs ORDER BY evidence_record');

      // Assess
      expect(result.problems).toEqual([]);
      expect(stored[0]).toEqual({ clientid: originals[0]!.clientId, topicname: originals[0]!.topicName, details: originals[0]!.details, reason: originals[0]!.reason, principalid: originals[0]!.principalId, entry: linesOf(text)[0]!.text });
      expect(stored[1]!.clientid).toBe('\u0000');
      expect(stored[0]!.details).toContain('\u0000nul \u001b[31m');
    } finally {
      await engine.close();
    }
  });
});

describe('Function: sniffIotCore', () => {
  it.each([JSONL, EXPORT, FIREHOSE, 'iot-core/filter-log-events/filter-log-events.json', 'iot-core/array/entries.json', 'iot-core/single/entry.json', 'iot-core/cloudwatch-events/events.jsonl'])(
    'recognises %s, and the registry gives it to iot-core alone',
    (path) => {
      // Act / Assess
      const head = textOf(path).slice(0, 65536);
      expect(sniffIotCore(head)).toBe(true);
      expect(detectSource(head, `cases/c/${path}`).source?.id).toBe('iot-core');
    },
  );

  it('leaves CloudTrail records, Mosquitto logs and API logs alone', () => {
    // Assess
    expect(sniffIotCore('{"eventVersion":"1.08","eventType":"AwsApiCall","logLevel":"x"}')).toBe(false);
    expect(sniffIotCore(fixture('mqtt/epoch/mosquitto.log'))).toBe(false);
    expect(sniffIotCore(fixture('iot-api/camel-jsonl/api.jsonl'))).toBe(false);
  });
});

describe('Timeline: iot-core', () => {
  it('reads entries as device actions on topics, failures with their reason', async () => {
    // Prepare
    const engine = await DuckDbQueryEngine.create();
    try {
      await loadParsed(engine, iotCoreSource, [{ key: 'cases/c/iot.jsonl', result: parseIotCore(fixture(JSONL)) }]);

      // Act
      const rows = await engine.query<Record<string, unknown>>(`SELECT * FROM (${IOT_CORE_TIMELINE_SQL}) ORDER BY evidence_record`);

      // Assess
      expect(rows).toHaveLength(10);
      expect(Object.keys(rows[0]!)).toEqual(['time', 'cloud', 'source', 'account', 'region', 'actor', 'action', 'service', 'target', 'source_ip', 'user_agent', 'outcome', 'error_code', 'evidence_key', 'evidence_record']);
      expect(rows[0]).toMatchObject({ time: '2026-03-14T10:00:00Z', cloud: 'aws', source: 'iot-core', account: '111122223333', actor: 'lock-401', action: 'Connect', source_ip: '198.51.100.20', outcome: 'success', evidence_record: 0 });
      expect(rows.find((r) => r.action === 'UpdateThingShadow')).toMatchObject({ actor: 'lock-401', target: '$aws/things/lock-401/shadow/update' });
      expect(rows.find((r) => r.actor === 'cam-04')).toMatchObject({ outcome: 'failure', error_code: 'AUTHORIZATION_FAILURE' });
    } finally {
      await engine.close();
    }
  });
});
