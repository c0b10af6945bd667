import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbQueryEngine } from '../../../../shared/query/duckdb-engine.ts';
import { IOT_SHADOW_TIMELINE_SQL, iotShadowSource, parseIotShadow, shadowNamesFromKey, sniffIotShadow } from '../../../../shared/sources/iot-shadow/index.ts';
import { detectSource } from '../../../../shared/sources/registry.ts';
import { fixture, loadParsed } from '../iot-common/fixtures.ts';

const T = Date.parse('2026-03-14T10:00:00Z') / 1000;
const CLASSIC = 'iot-shadow/classic/things/lock-401/shadow.json';
const NAMED = 'iot-shadow/named/things/thermostat-9/shadow/settings.json';
const DOCUMENTS = 'iot-shadow/update-documents/things/conveyor-2/shadow/name/drive/update/documents.jsonl';

/** Parses a fixture under the key it would have in a case (`cases/c/<path inside the variant folder>`). */
const parse = (path: string) => parseIotShadow(fixture(path), `cases/c/${path.split('/').slice(2).join('/')}`);
const byPath = (rows: ReturnType<typeof parse>['rows']) => Object.fromEntries(rows.map((r) => [r.row.path as string, r.row]));

describe('Function: parseIotShadow', () => {
  it('gives one row per field of a classic shadow, comparing desired and reported with their metadata times', () => {
    // Act
    const result = parse(CLASSIC);

    // Assess
    expect(result.variant).toBe('document');
    expect(result.problems).toEqual([]);
    expect(result.rows.map((r) => [r.index, r.line])).toEqual([[0, 1], [0, 1]]);
    expect(byPath(result.rows)).toEqual({
      battery: {
        time: '2026-03-14T11:00:00Z', thing_name: 'lock-401', shadow_name: null, path: 'battery', desired: null, reported: '81', delta: null,
        desired_time: null, reported_time: '2026-03-14T09:00:00Z', desired_epoch: null, reported_epoch: T - 3600, in_sync: null,
        version: 12, doc_time: '2026-03-14T11:00:00Z', doc_epoch: T + 3600, client_token: null, doc_part: 'document', names_from: 'key',
      },
      lock: {
        time: '2026-03-14T11:00:00Z', thing_name: 'lock-401', shadow_name: null, path: 'lock', desired: '"locked"', reported: '"unlocked"', delta: '"locked"',
        desired_time: '2026-03-14T10:00:00Z', reported_time: '2026-03-14T09:00:00Z', desired_epoch: T, reported_epoch: T - 3600, in_sync: false,
        version: 12, doc_time: '2026-03-14T11:00:00Z', doc_epoch: T + 3600, client_token: null, doc_part: 'document', names_from: 'key',
      },
    });
  });

  it('takes named shadows from the key: things/<thing>/shadow/<name>.json and the topic layout shadow/name/<name>', () => {
    // Act
    const named = parse(NAMED);
    const topic = parse('iot-shadow/named-topic-layout/things/thermostat-9/shadow/name/schedule.json');

    // Assess
    expect(byPath(named.rows).setpoint).toMatchObject({ thing_name: 'thermostat-9', shadow_name: 'settings', desired: '21', reported: '19', in_sync: false, client_token: 'app-7f3a', names_from: 'key' });
    expect(byPath(named.rows).mode).toMatchObject({ in_sync: true, desired_epoch: T - 86400, reported_epoch: T - 86390 });
    expect(topic.rows.map((r) => [r.row.thing_name, r.row.shadow_name, r.row.path, r.row.reported])).toEqual([
      ['thermostat-9', 'schedule', 'weekday.off', '"22:00"'],
      ['thermostat-9', 'schedule', 'weekday.on', '"06:30"'],
    ]);
  });

  it.each([
    ['cases/c/things/lock-1/shadow.json', 'lock-1', null, 'key'],
    ['cases/c/things/t-9/shadow/settings.json', 't-9', 'settings', 'key'],
    ['cases/c/things/t-9/shadow/name/settings.json', 't-9', 'settings', 'key'],
    ['cases/c/things/c-2/shadow/name/drive/update/documents.jsonl', 'c-2', 'drive', 'key'],
    ['cases/c/things/f-5/shadow/update/delta.jsonl', 'f-5', null, 'key'],
    ['cases/c/exports/sensor-12.shadow.json', 'sensor-12', null, 'file-name'],
    ['cases/c/exports/sensor-13.json', 'sensor-13', null, 'file-name'],
  ])('names %s as thing %s, shadow %s (from %s)', (key, thing, shadow, from) => {
    expect(shadowNamesFromKey(key)).toEqual({ thing, shadow, from });
  });

  it('reads the GetThingShadow payload as JSON text, base64 or a serialised Buffer, with the names beside it winning over the key', () => {
    // Act
    const text = parseIotShadow(fixture('iot-shadow/get-thing-shadow/thermostat-9-settings.json'), 'cases/c/misc/a.json');
    const base64 = parseIotShadow(fixture('iot-shadow/get-thing-shadow/thermostat-9-settings.base64.json'), 'cases/c/misc/b.json');
    const buffer = parseIotShadow(fixture('iot-shadow/get-thing-shadow/lock-401.buffer.json'), 'cases/c/things/other/shadow.json');

    // Assess
    const named = parse(NAMED).rows.map((r) => ({ ...r.row, names_from: 'document' }));
    expect(text.variant).toBe('get-thing-shadow');
    expect(text.rows.map((r) => r.row)).toEqual(named);
    expect(base64.rows.map((r) => r.row)).toEqual(named);
    expect(buffer.rows.map((r) => r.row)).toEqual(parse(CLASSIC).rows.map((r) => ({ ...r.row, names_from: 'document' })));
  });

  it('keeps both states of an /update/documents message, timed by the message', () => {
    // Act
    const result = parse(DOCUMENTS);

    // Assess
    expect(result.variant).toBe('update-documents');
    expect(result.rows.map((r) => ({ part: r.row.doc_part, version: r.row.version, desired: r.row.desired, reported: r.row.reported, reported_epoch: r.row.reported_epoch, doc_epoch: r.row.doc_epoch }))).toEqual([
      { part: 'previous', version: 30, desired: '3', reported: '1', reported_epoch: T + 3600, doc_epoch: T + 8100 },
      { part: 'current', version: 31, desired: '3', reported: '3', reported_epoch: T + 8100, doc_epoch: T + 8100 },
    ]);
    expect(result.rows.every((r) => r.row.thing_name === 'conveyor-2' && r.row.shadow_name === 'drive' && r.row.client_token === 'conveyor-fw')).toBe(true);
  });

  it('reads an /update/delta message as the desired values not yet reported', () => {
    // Act
    const result = parse('iot-shadow/update-delta/things/fan-5/shadow/update/delta.jsonl');

    // Assess
    expect(result.variant).toBe('update-delta');
    expect(result.rows.map((r) => [r.row.path, r.row.desired, r.row.delta, r.row.reported, r.row.desired_epoch, r.row.doc_part])).toEqual([
      ['light.color', '"red"', '"red"', null, T + 59, 'delta'],
      ['speed', '2', '2', null, T + 60, 'delta'],
    ]);
  });

  it('reads exports of many shadows (JSON Lines with names, arrays of wrappers), indexed by line or position', () => {
    // Act
    const lines = parse('iot-shadow/export-jsonl/shadows.jsonl');
    const array = parse('iot-shadow/array/shadows.json');

    // Assess
    expect(lines.rows.map((r) => [r.index, r.row.thing_name, r.row.shadow_name, r.row.path, r.row.names_from])).toEqual([
      [0, 'pump-6', null, 'on', 'document'],
      [1, 'pump-6', 'maintenance', 'hours', 'document'],
      [2, 'sensor-9', null, 'temperature', 'document'],
    ]);
    expect(array.rows.map((r) => [r.index, r.line, r.row.thing_name, r.row.path])).toEqual([[0, 2, 'pump-6', 'on'], [1, 30, 'sensor-9', 'temperature']]);
  });

  it('flattens nested fields, quotes keys with dots, keeps arrays whole, and compares values whatever their key order', () => {
    // Act
    const rows = byPath(parse('iot-shadow/nested/things/light-1/shadow.json').rows);

    // Assess
    expect(Object.keys(rows)).toEqual(['["a.b"]', 'cfg.y.j', 'cfg.y.k', 'cfg.z', 'empty', 'light.color', 'light.levels', 'zones']);
    expect(rows['["a.b"]']).toMatchObject({ desired: 'true', reported: 'false', in_sync: false });
    expect(rows['light.levels']).toMatchObject({ desired: '[1,2,3]', desired_epoch: T + 2, reported_epoch: T + 12, in_sync: true });
    expect(rows.zones).toMatchObject({ desired: '[{"a":2,"b":1}]', reported: '[{"a":2,"b":1}]', in_sync: true, reported_epoch: T + 20 });
    expect(rows.empty).toMatchObject({ desired: null, reported: '{}', reported_time: null });
  });

  it('keeps a shadow with no fields (deleted, emptied) on record as one row without a path', () => {
    // Act
    const result = parse('iot-shadow/empty/things/old-1/shadow/retired.json');

    // Assess
    expect(result.rows).toEqual([{ index: 0, line: 1, row: expect.objectContaining({ path: null, thing_name: 'old-1', shadow_name: 'retired', version: 9, time: '2026-03-14T10:00:00Z' }) }]);
  });

  it('reports every record it cannot read, with its line, and keeps the others', () => {
    // Act
    const result = parse('iot-shadow/damaged/shadows.jsonl');

    // Assess
    expect(result.rows.map((r) => r.line)).toEqual([1, 7]);
    expect(result.problems).toEqual([
      { index: 1, line: 2, reason: expect.stringMatching(/^not JSON at column 2/) },
      { index: 2, line: 3, reason: 'not a shadow document (no "state", "current" or "payload"); keys: "hello"' },
      { index: 3, line: 4, reason: 'the document\'s "timestamp" is not a time: "soon"' },
      { index: 4, line: 5, reason: 'the "payload" is neither a shadow document, its JSON text, nor its base64' },
      { index: 5, line: 6, reason: 'the document has no "timestamp" and no metadata timestamps: it cannot be placed in time' },
    ]);
  });

  it('keeps hostile names and values byte-exact, through the table too', async () => {
    // Prepare
    const text = fixture('iot-shadow/hostile/shadows.jsonl');
    const original = JSON.parse(text) as { thingName: string; shadowName: string; state: { desired: { msg: string } } };
    const engine = await DuckDbQueryEngine.create();
    try {
      // Act
      const result = parseIotShadow(text, 'cases/c/hostile.jsonl');
      await loadParsed(engine, iotShadowSource, [{ key: 'k', result }]);
      const [row] = await engine.query<{ thing_name: string; shadow_name: string; desired: string }>('SELECT thing_name, shadow_name, desired FROM iot_shadows');

      // Assess
      expect(row).toEqual({ thing_name: original.thingName, shadow_name: original.shadowName, desired: JSON.stringify(original.state.desired.msg) });
      expect(JSON.parse(row!.desired)).toBe(original.state.desired.msg);
    } finally {
      await engine.close();
    }
  });
});

describe('Function: sniffIotShadow', () => {
  it.each([
    CLASSIC, NAMED, DOCUMENTS,
    'iot-shadow/named-topic-layout/things/thermostat-9/shadow/name/schedule.json',
    'iot-shadow/get-thing-shadow/thermostat-9-settings.json',
    'iot-shadow/get-thing-shadow/thermostat-9-settings.base64.json',
    'iot-shadow/get-thing-shadow/lock-401.buffer.json',
    'iot-shadow/update-delta/things/fan-5/shadow/update/delta.jsonl',
    'iot-shadow/export-jsonl/shadows.jsonl',
    'iot-shadow/array/shadows.json',
    'iot-shadow/nested/things/light-1/shadow.json',
  ])('recognises %s, and the registry gives it to iot-shadow alone', (path) => {
    const key = `cases/c/${path.split('/').slice(2).join('/')}`;
    expect(sniffIotShadow(fixture(path), key)).toBe(true);
    expect(detectSource(fixture(path), key).source?.id).toBe('iot-shadow');
  });

  it('leaves IoT Core log entries and API logs alone', () => {
    expect(sniffIotShadow(fixture('iot-core/jsonl/AWSIotLogsV2.jsonl'), 'x.jsonl')).toBe(false);
    expect(sniffIotShadow(fixture('iot-api/camel-jsonl/api.jsonl'), 'x.jsonl')).toBe(false);
  });
});

describe('Timeline: iot-shadow', () => {
  let engine: DuckDbQueryEngine;
  beforeAll(async () => {
    engine = await DuckDbQueryEngine.create();
  });
  afterAll(async () => {
    await engine?.close();
  });

  it('reads each desired value as a request and each reported value as the device reporting, once however many snapshots restate them', async () => {
    // Prepare: the /update/documents message restates the desired speed in both of its states
    await loadParsed(engine, iotShadowSource, [
      { key: 'cases/c/lock.json', result: parse(CLASSIC) },
      { key: 'cases/c/documents.jsonl', result: parse(DOCUMENTS) },
    ]);

    // Act
    const rows = await engine.query<Record<string, unknown>>(`SELECT * FROM (${IOT_SHADOW_TIMELINE_SQL}) ORDER BY time, action, target`);

    // Assess
    expect(rows.map((r) => [r.time, r.actor, r.action, r.target, r.evidence_key])).toEqual([
      ['2026-03-14T09:00:00Z', 'lock-401', 'ShadowReported', 'lock-401 battery = 81', 'cases/c/lock.json'],
      ['2026-03-14T09:00:00Z', 'lock-401', 'ShadowReported', 'lock-401 lock = "unlocked"', 'cases/c/lock.json'],
      ['2026-03-14T10:00:00Z', null, 'ShadowDesired', 'lock-401 lock = "locked"', 'cases/c/lock.json'],
      ['2026-03-14T11:00:00Z', 'conveyor-2', 'ShadowReported', 'conveyor-2/drive speed = 1', 'cases/c/documents.jsonl'],
      ['2026-03-14T12:00:00Z', null, 'ShadowDesired', 'conveyor-2/drive speed = 3', 'cases/c/documents.jsonl'],
      ['2026-03-14T12:15:00Z', 'conveyor-2', 'ShadowReported', 'conveyor-2/drive speed = 3', 'cases/c/documents.jsonl'],
    ]);
    expect(rows.every((r) => r.cloud === 'aws' && r.source === 'iot-shadow' && r.outcome === 'success')).toBe(true);
  });
});
