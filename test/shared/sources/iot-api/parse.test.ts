import { describe, expect, it } from 'vitest';
import { DuckDbQueryEngine } from '../../../../shared/query/duckdb-engine.ts';
import { IOT_API_TIMELINE_SQL, fingerprint, iotApiSource, parseIotApi, sniffIotApi } from '../../../../shared/sources/iot-api/index.ts';
import { detectSource } from '../../../../shared/sources/registry.ts';
import { fixture, linesOf, loadParsed } from '../iot-common/fixtures.ts';

const CAMEL = 'iot-api/camel-jsonl/api.jsonl';
const rowsOf = (path: string) => parseIotApi(fixture(path)).rows.map((r) => r.row);

describe('Function: parseIotApi', () => {
  it('reads camelCase JSON Lines into the table, one row per request, indexed by line, each entry kept exactly', () => {
    // Prepare
    const text = fixture(CAMEL);

    // Act
    const result = parseIotApi(text);

    // Assess
    expect(result.variant).toBe('jsonl');
    expect(result.problems).toEqual([]);
    expect(result.rows.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(result.rows.map((r) => r.row.entry)).toEqual(linesOf(text).map((l) => l.text));
    expect(result.rows[1]!.row).toEqual({
      time: '2026-03-14T10:00:05Z', time_ms: Date.parse('2026-03-14T10:00:05Z'), logtime: '2026-03-14T10:00:05Z', request_id: 'req-0002',
      method: 'GET', endpoint: '/api/v1/devices/lock-100/state?fields=lock,battery', path: '/api/v1/devices/lock-100/state',
      user_name: 'olivia@example.com', client_ip: '198.51.100.40', user_agent: 'HomeApp/5.2 (iOS 17.4)', request_body: null, status: 200,
      response_time: 35, token: 'tok_7Hq2', token_source: 'field', device_id: 'lock-100', command: null, is_login: false,
      action: 'GET /api/v1/devices/lock-100/state', entry: linesOf(text)[1]!.text,
    });
  });

  it('calls a sign-in request `login` and takes its user from the body, so impossible travel sees it; a GET of the form is not one', () => {
    // Act
    const rows = rowsOf(CAMEL);

    // Assess
    expect(rows[0]).toMatchObject({ action: 'login', is_login: true, user_name: 'olivia@example.com', status: 200 });
    expect(rows[6]).toMatchObject({ action: 'GET /api/v1/login', is_login: false, user_name: null });
    expect(rowsOf('iot-api/array/api.json')[0]).toMatchObject({ action: 'login', is_login: true, path: '/oauth/token', status: 401 });
  });

  it('recognises device commands in the endpoint, under /commands/, or in the body, lower-cased', () => {
    // Act
    const camel = rowsOf(CAMEL);

    // Assess
    expect(camel[2]).toMatchObject({ device_id: 'lock-100', command: 'unlock', action: 'command:unlock', request_body: '{"durationSeconds":5}' });
    expect(camel[3]).toMatchObject({ device_id: 'alarm-5', command: 'disarm', action: 'command:disarm' });
    expect(camel[4]).toMatchObject({ device_id: 'lock-100', command: null, action: 'PATCH /api/v1/devices/lock-100/settings' });
    expect(rowsOf('iot-api/object-container/api.json')[0]).toMatchObject({ device_id: 'cam-3', command: 'reboot' });
    expect(rowsOf('iot-api/array/api.json')[1]).toMatchObject({ device_id: 'gate 3', command: 'close', path: '/v1/gates/gate%203/close' });
  });

  it.each([
    // [fixture, variant, expected fields of the first row]
    ['iot-api/snake-jsonl/api.jsonl', 'jsonl', { time: '2026-03-14T11:00:00Z', logtime: '2026-03-14 11:00:00', request_id: 's-1', method: 'POST', path: '/v2/locks/lock-200/open', user_name: 'paul@example.com', client_ip: '203.0.113.5', user_agent: 'okhttp/4.12.0', request_body: '{"reason":"delivery"}', status: 200, response_time: 95.5, token: 'b1946ac92492d2347c6235b4d2611184', token_source: 'field', device_id: 'lock-200', command: 'open' }],
    ['iot-api/array/api.json', 'array', { time: '2026-03-14T11:00:00Z', logtime: '14/Mar/2026:12:00:00 +0100', request_id: 'a-1', method: 'POST', endpoint: 'https://api.home.example/oauth/token?grant_type=password', user_name: 'quinn@example.com', client_ip: '192.0.2.33', user_agent: 'curl/8.5.0', status: 401, response_time: 0.12, token: fingerprint('Basic cXVpbm46d3Jvbmc='), token_source: 'authorization' }],
    ['iot-api/object-container/api.json', 'object.requests', { time: '2026-03-14T11:00:00Z', request_id: 'c-1', method: 'POST', user_name: 'rita@example.com', client_ip: '2001:db8::42', user_agent: 'FleetConsole/1.0', request_body: '{}', status: 200, response_time: 1500, token: fingerprint('Bearer xyz') }],
  ])('accepts the field spellings of %s (%s)', (path, variant, expected) => {
    // Act
    const result = parseIotApi(fixture(path));

    // Assess
    expect(result.problems).toEqual([]);
    expect(result.variant).toBe(variant);
    expect(result.rows[0]!.row).toMatchObject(expected);
  });

  it('takes the first address of X-Forwarded-For, and never stores the Authorization header itself', () => {
    // Act
    const snake = rowsOf('iot-api/snake-jsonl/api.jsonl');
    const array = parseIotApi(fixture('iot-api/array/api.json'));

    // Assess
    expect(snake[0]!.client_ip).toBe('203.0.113.5');
    expect(array.rows.map((r) => r.row.token)).toEqual([expect.stringMatching(/^sha256:[0-9a-f]{16}$/), expect.stringMatching(/^sha256:[0-9a-f]{16}$/)]);
    const derived = array.rows.map((r) => JSON.stringify({ ...r.row, entry: undefined })).join('\n');
    expect(derived).not.toContain('cXVpbm46d3Jvbmc=');
    expect(derived).not.toContain('abc.def.ghi');
  });

  it('indexes the records of an object holding the array by their position, with their own line and exact text', () => {
    // Prepare
    const text = fixture('iot-api/object-container/api.json');

    // Act
    const result = parseIotApi(text);

    // Assess
    expect(result.rows.map((r) => [r.index, r.line])).toEqual([[0, 3], [1, 26]]);
    const doc = JSON.parse(text) as { requests: unknown[] };
    expect(result.rows.map((r) => JSON.parse(r.row.entry as string) as unknown)).toEqual(doc.requests);
    expect(text).toContain(result.rows[1]!.row.entry as string);
  });

  it('reports every record it cannot read, with its line, and keeps the others', () => {
    // Act
    const result = parseIotApi(fixture('iot-api/damaged/api.jsonl'));

    // Assess
    expect(result.rows.map((r) => r.line)).toEqual([1, 6]);
    expect(result.problems).toEqual([
      { index: 1, line: 2, reason: expect.stringMatching(/^not JSON at column 2/) },
      { index: 2, line: 3, reason: expect.stringMatching(/^has no time \(looked for timestamp, time, @timestamp/) },
      { index: 3, line: 4, reason: 'timestamp has a date that does not exist: "2026-02-30T00:00:00Z"' },
      { index: 4, line: 5, reason: 'not an API request record: a JSON array' },
    ]);
  });

  it('keeps hostile strings byte-exact, through the table too', async () => {
    // Prepare
    const text = fixture('iot-api/hostile/api.jsonl');
    const original = JSON.parse(text) as Record<string, string>;
    const engine = await DuckDbQueryEngine.create();
    try {
      // Act
      const result = parseIotApi(text);
      await loadParsed(engine, iotApiSource, [{ key: 'k', result }]);
      const [row] = await engine.query<Record<string, string>>('SELECT request_id, endpoint, user_name, user_agent, request_body, device_id, entry FROM iot_api_logs');

      // Assess
      expect(row).toEqual({
        request_id: original.requestId, endpoint: original.endpoint, user_name: original.user, user_agent: original.userAgent, request_body: original.body,
        device_id: "lock-1'; DROP TABLE iot_api_logs;--", entry: text.replace(/\n$/, ''),
      });
    } finally {
      await engine.close();
    }
  });
});

describe('Function: sniffIotApi', () => {
  it.each([CAMEL, 'iot-api/snake-jsonl/api.jsonl', 'iot-api/array/api.json', 'iot-api/object-container/api.json', 'iot-api/hostile/api.jsonl'])(
    'recognises %s, and the registry gives it to iot-api alone',
    (path) => {
      expect(sniffIotApi(fixture(path))).toBe(true);
      expect(detectSource(fixture(path), `cases/c/${path}`).source?.id).toBe('iot-api');
    },
  );

  it('leaves IoT Core entries, shadows and JSON without a method, an endpoint and a status alone', () => {
    expect(sniffIotApi(fixture('iot-core/jsonl/AWSIotLogsV2.jsonl'))).toBe(false);
    expect(sniffIotApi(fixture('iot-shadow/export-jsonl/shadows.jsonl'))).toBe(false);
    expect(sniffIotApi('{"timestamp":"2026-03-14T10:00:00Z","path":"/x","status":200}\n')).toBe(false);
  });
});

describe('Timeline: iot-api', () => {
  it('reads requests as the user acting on the device, 4xx and 5xx as failures', async () => {
    // Prepare
    const engine = await DuckDbQueryEngine.create();
    try {
      await loadParsed(engine, iotApiSource, [{ key: 'cases/c/api.jsonl', result: parseIotApi(fixture(CAMEL)) }]);

      // Act
      const rows = await engine.query<Record<string, unknown>>(`SELECT * FROM (${IOT_API_TIMELINE_SQL}) ORDER BY evidence_record`);

      // Assess
      expect(rows.map((r) => [r.actor, r.action, r.target, r.outcome, r.error_code])).toEqual([
        ['olivia@example.com', 'login', '/api/v1/auth/login', 'success', null],
        ['olivia@example.com', 'GET /api/v1/devices/lock-100/state', 'lock-100', 'success', null],
        ['olivia@example.com', 'command:unlock', 'lock-100', 'success', null],
        ['olivia@example.com', 'command:disarm', 'alarm-5', 'success', null],
        ['olivia@example.com', 'PATCH /api/v1/devices/lock-100/settings', 'lock-100', 'success', null],
        ['olivia@example.com', 'GET /api/v1/devices', '/api/v1/devices', 'failure', '429'],
        [null, 'GET /api/v1/login', '/api/v1/login', 'success', null],
      ]);
      expect(rows[0]).toMatchObject({ cloud: 'iot', source: 'iot-api', source_ip: '198.51.100.40', user_agent: 'HomeApp/5.2 (iOS 17.4)', service: 'iot-api' });
    } finally {
      await engine.close();
    }
  });
});
