import { describe, expect, it } from 'vitest';
import { DuckDbQueryEngine } from '../../../../shared/query/duckdb-engine.ts';
import { MQTT_TIMELINE_SQL, mqttSource, parseMqtt, sniffMqtt } from '../../../../shared/sources/mqtt/index.ts';
import { splitAddress } from '../../../../shared/sources/mqtt/parse.ts';
import { detectSource } from '../../../../shared/sources/registry.ts';
import { fixture, linesOf, loadParsed } from '../iot-common/fixtures.ts';

const EPOCH = 'mqtt/epoch/mosquitto.log';
const T = Date.parse('2026-03-14T10:00:00Z');
const rowsOf = (path: string) => parseMqtt(fixture(path)).rows;

describe('Function: parseMqtt', () => {
  it('gives one row per line of an epoch-stamped Mosquitto 2.x log, indexed by line, the message kept exactly', () => {
    // Prepare
    const text = fixture(EPOCH);

    // Act
    const result = parseMqtt(text);

    // Assess
    expect(result.variant).toBe('epoch');
    expect(result.problems).toEqual([]);
    const lines = linesOf(text);
    expect(result.rows.map((r) => r.index)).toEqual(lines.map((l) => l.index));
    expect(result.rows.map((r) => r.line)).toEqual(lines.map((l) => l.index + 1));
    expect(result.rows.map((r) => r.row.message)).toEqual(lines.map((l) => l.text.slice(l.text.indexOf(': ') + 2)));
    expect(result.rows[0]!.row).toMatchObject({ time: '2026-03-14T10:00:00Z', time_ms: T, logtime: '1773482400', event: 'broker' });
  });

  it('reads connections and client sessions: address, port, listener port, client id, user, protocol, clean session, keepalive', () => {
    // Act
    const rows = rowsOf(EPOCH).map((r) => r.row);

    // Assess
    expect(rows[5]).toMatchObject({ event: 'connection', client_ip: '10.0.0.5', client_port: 51234, listener_port: 8883, client_id: null });
    expect(rows[6]).toEqual(expect.objectContaining({
      event: 'connect', client_id: 'sensor-12', username: 'sensor', client_ip: '10.0.0.5', client_port: 51234, listener_port: 8883,
      protocol_version: '3.1.1', clean_session: true, keepalive: 60, is_bridge: false,
    }));
    expect(rows[25]).toMatchObject({ event: 'connect', client_ip: '203.0.113.45', listener_port: 1883, protocol_version: '5', clean_session: false, keepalive: 30 });
  });

  it('reads wills, subscriptions (requested and granted), unsubscriptions and publishes in and out, denied ones too', () => {
    // Act
    const rows = rowsOf(EPOCH).map((r) => r.row);

    // Assess
    expect(rows[7]).toMatchObject({ event: 'will', client_id: 'sensor-12', topic: 'plant/sensor-12/status', payload_bytes: 7, retain: true, qos: 1 });
    expect(rows[8]).toMatchObject({ event: 'will-topic', topic: 'plant/sensor-12/status' });
    expect(rows.slice(10, 13).map((r) => [r.event, r.client_id, r.topic, r.qos])).toEqual([
      ['subscribe-received', 'sensor-12', null, null],
      ['subscribe-request', 'sensor-12', 'plant/sensor-12/cmd/#', 1],
      ['subscribe', 'sensor-12', 'plant/sensor-12/cmd/#', 1],
    ]);
    expect(rows.slice(20, 23).map((r) => [r.event, r.topic])).toEqual([['unsubscribe-received', null], ['unsubscribe-request', 'plant/sensor-12/cmd/#'], ['unsubscribe', 'plant/sensor-12/cmd/#']]);
    expect(rows[14]).toMatchObject({ event: 'publish-in', client_id: 'sensor-12', topic: 'plant/sensor-12/temp', qos: 1, retain: false, dup: false, mid: 3, payload_bytes: 5, client_ip: '10.0.0.5' });
    expect(rows[16]).toMatchObject({ event: 'publish-out', client_id: 'dashboard', topic: 'plant/sensor-12/temp', client_ip: null });
    expect(rows[17]).toMatchObject({ event: 'publish-denied', topic: 'plant/valve-3/cmd', retain: true });
    expect(rows[9]).toMatchObject({ event: 'packet-out', packet: 'CONNACK', reason: 'return code 0' });
    expect(rows[18]).toMatchObject({ event: 'packet-in', packet: 'PINGREQ' });
  });

  it('reads takeovers and every way a client leaves, filling the address from the client\'s connect', () => {
    // Act
    const rows = rowsOf(EPOCH).map((r) => r.row);

    // Assess
    expect(rows[24]).toMatchObject({ event: 'takeover', client_id: 'sensor-12', client_ip: '10.0.0.5', reason: 'client id taken over by a new connection' });
    expect(rows[27]).toMatchObject({ event: 'disconnect', client_id: 'sensor-12', client_ip: '203.0.113.45', listener_port: 1883, reason: 'disconnected' });
    expect(rows[29]).toMatchObject({ event: 'disconnect', client_id: null, reason: 'not authorised' });
    expect(rows[30]).toMatchObject({ event: 'connection-refused', client_ip: '198.51.100.10', reason: 'error:0A00010B:SSL routines::wrong version number' });
    expect(rows[31]).toMatchObject({ event: 'tls-error' });
    expect(rows[32]).toMatchObject({ event: 'disconnect', client_id: 'sensor-13', reason: 'keepalive timeout' });
    expect(rows[34]).toMatchObject({ event: 'other', message: 'Warning: something the parser does not know about' });
  });

  it('reads ISO-8601 timestamps (log_timestamp_format), zone-less as UTC and with an offset, IPv6 addresses and the newer disconnect wording', () => {
    // Act
    const iso = rowsOf('mqtt/iso/mosquitto.log').map((r) => r.row);
    const offset = parseMqtt(fixture('mqtt/iso-offset/mosquitto.log'));

    // Assess
    expect(parseMqtt(fixture('mqtt/iso/mosquitto.log')).variant).toBe('iso');
    expect(iso[1]).toMatchObject({ time: '2026-03-14T10:00:05Z', logtime: '2026-03-14T10:00:05', client_ip: '::1', client_port: 50000, listener_port: 1883 });
    expect(iso[4]).toMatchObject({ client_id: 'cam_0042', client_ip: '2001:db8::7', client_port: 50001, protocol_version: '5', keepalive: 120 });
    expect(iso[5]).toMatchObject({ event: 'disconnect', client_id: 'cam_0042', client_ip: '2001:db8::7', reason: 'connection closed by the client' });
    expect(offset.variant).toBe('iso-zoned');
    expect(offset.rows[0]!.row).toMatchObject({ time: '2026-03-14T10:00:05Z', logtime: '2026-03-14T11:00:05+0100' });
  });

  it('reads Mosquitto 1.x wording: no client port, no protocol flag, socket errors, IPv6 without a port', () => {
    // Act
    const rows = rowsOf('mqtt/mosquitto-1x/mosquitto.log').map((r) => r.row);

    // Assess
    expect(rows[1]).toMatchObject({ event: 'connection', client_ip: '192.168.1.20', client_port: null, listener_port: 1883 });
    expect(rows[2]).toMatchObject({ event: 'connect', client_id: 'mosqsub|1874-raspberrypi', username: 'pi', client_ip: '192.168.1.20', client_port: null, listener_port: 1883, protocol_version: null, keepalive: 60 });
    expect(rows[3]).toMatchObject({ event: 'disconnect', reason: 'socket error', client_ip: '192.168.1.20' });
    expect(rows[4]).toMatchObject({ client_id: 'node', client_ip: 'fe80::1', client_port: null });
  });

  it.each([
    ['10.0.0.5:51234', 'guess', { ip: '10.0.0.5', port: 51234 }],
    ['10.0.0.5', 'guess', { ip: '10.0.0.5', port: null }],
    ['::1:51234', 'guess', { ip: '::1', port: 51234 }],
    ['fe80::1', 'guess', { ip: 'fe80::1', port: null }],
    ['2001:db8:0:0:0:0:0:7:443', 'guess', { ip: '2001:db8:0:0:0:0:0:7', port: 443 }],
    ['2001:db8:0:0:0:0:0:7', 'guess', { ip: '2001:db8:0:0:0:0:0:7', port: null }],
    ['2001:db8::5', 'port', { ip: '2001:db8:', port: 5 }],
    ['2001:db8::5:1234', 'no-port', { ip: '2001:db8::5:1234', port: null }],
    ['broker.local:1883', 'guess', { ip: 'broker.local', port: 1883 }],
  ] as const)('splits %s (%s) into address and port', (token, hint, expected) => {
    expect(splitAddress(token, hint)).toEqual(expected);
  });

  it('reports lines that are not Mosquitto\'s, syslog lines without a year and impossible times, with their line', () => {
    // Act
    const result = parseMqtt(fixture('mqtt/damaged/mosquitto.log'));

    // Assess
    expect(result.rows.map((r) => r.line)).toEqual([1, 5]);
    expect(result.problems).toEqual([
      { index: 1, line: 2, reason: 'a syslog line (no year in its time): log Mosquitto to a file with log_timestamp true' },
      { index: 2, line: 3, reason: 'not a Mosquitto log line (expected "<time>: <message>"): "this line is not from mosquitto"' },
      { index: 3, line: 4, reason: 'the line has a time with a field out of range: "2026-13-40T00:00:00"' },
    ]);
  });

  it('reads a hostile client id whole: the broker-written flags at the end decide, and every string is kept byte-exact', async () => {
    // Prepare
    const text = fixture('mqtt/hostile/mosquitto.log');
    const id = 'evil (p2, c1, k60, u\'admin\'). "; DROP TABLE x;-- \u202e\u{1F512}';
    const engine = await DuckDbQueryEngine.create();
    try {
      // Act
      const result = parseMqtt(text);
      await loadParsed(engine, mqttSource, [{ key: 'k', result }]);
      const stored = await engine.query<{ event: string; client_id: string; username: string; topic: string | null; message: string }>('SELECT event, client_id, username, topic, message FROM mqtt_broker_logs WHERE client_id IS NOT NULL ORDER BY evidence_record');

      // Assess
      expect(result.problems).toEqual([]);
      expect(stored.map((r) => [r.event, r.client_id, r.username])).toEqual([['connect', id, 'mallory'], ['publish-in', id, 'mallory'], ['disconnect', id, 'mallory']]);
      expect(stored[1]!.topic).toBe("a/'b', ... (1 bytes))' =cmd|' /C calc'!A0");
      expect(stored.map((r) => r.message)).toEqual(linesOf(text).slice(1).map((l) => l.text.slice(l.text.indexOf(': ') + 2)));
    } finally {
      await engine.close();
    }
  });
});

describe('Function: sniffMqtt', () => {
  it.each([EPOCH, 'mqtt/iso/mosquitto.log', 'mqtt/iso-offset/mosquitto.log', 'mqtt/mosquitto-1x/mosquitto.log', 'mqtt/hostile/mosquitto.log'])(
    'recognises %s, and the registry gives it to mqtt alone',
    (path) => {
      expect(sniffMqtt(fixture(path))).toBe(true);
      expect(detectSource(fixture(path), `cases/c/${path}`).source?.id).toBe('mqtt');
    },
  );

  it('leaves other line formats and JSON alone', () => {
    expect(sniffMqtt('2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n')).toBe(false);
    expect(sniffMqtt(fixture('iot-core/jsonl/AWSIotLogsV2.jsonl'))).toBe(false);
    expect(sniffMqtt('1773482400: hello\n')).toBe(false);
  });
});

describe('Timeline: mqtt', () => {
  it('reads what clients did (connections, sessions, subscriptions, publishes, refusals) and leaves keep-alives in the table', async () => {
    // Prepare
    const engine = await DuckDbQueryEngine.create();
    try {
      await loadParsed(engine, mqttSource, [{ key: 'cases/c/mosquitto.log', result: parseMqtt(fixture(EPOCH)) }]);

      // Act
      const rows = await engine.query<Record<string, unknown>>(`SELECT * FROM (${MQTT_TIMELINE_SQL}) ORDER BY evidence_record`);

      // Assess
      expect(rows.map((r) => r.action)).toEqual([
        'connection', 'connect', 'will', 'subscribe-request', 'subscribe', 'publish-in', 'publish-denied', 'unsubscribe',
        'connection', 'takeover', 'connect', 'disconnect', 'connection', 'disconnect', 'connection-refused', 'tls-error', 'disconnect',
      ]);
      expect(rows[1]).toMatchObject({ cloud: 'iot', source: 'mqtt', actor: 'sensor', target: 'sensor-12', source_ip: '10.0.0.5', outcome: 'success' });
      expect(rows.find((r) => r.action === 'publish-denied')).toMatchObject({ outcome: 'failure', error_code: 'publish-denied', target: 'plant/valve-3/cmd' });
      expect(rows.filter((r) => r.outcome === 'failure').map((r) => r.action)).toEqual(['publish-denied', 'disconnect', 'connection-refused', 'tls-error']);
    } finally {
      await engine.close();
    }
  });
});
