/**
 * Mosquitto broker logs (`log_dest file` / stdout), one row per line: `<time>: <message>`, where the time is
 * seconds since the epoch (the default) or what `log_timestamp_format` makes of it (ISO-8601 such as
 * `%Y-%m-%dT%H:%M:%S`, optionally with `%z`). A time without a zone is taken as UTC: Mosquitto writes local
 * time, so a broker not running in UTC needs `%z` in its format for exact times (the text as logged is kept
 * in `logtime`). Lines of a syslog or journald destination carry no year and are reported, not guessed.
 *
 * Messages understood (Mosquitto 1.x and 2.x wording), as `event`:
 * | event                | message                                                                                    |
 * |----------------------|--------------------------------------------------------------------------------------------|
 * | `connection`         | `New connection from 10.0.0.5:51234 on port 1883.` (the listener port: 1883 plain, 8883 TLS) |
 * | `connect`            | `New client connected from 10.0.0.5:51234 as sensor-12 (p2, c1, k60, u'bob').`; `New bridge connected ...` sets is_bridge |
 * | `takeover`           | `Client X already connected, closing old connection.` (a second connection took the client id) |
 * | `disconnect`         | `Client X disconnected.`, `... closed its connection.`, `... has exceeded timeout, disconnecting.`, `Socket error on client X, disconnecting.`, `... disconnected, not authorised.`, `... disconnected due to <why>.`; `Client X (10.0.0.5) ...` in newer releases |
 * | `connection-refused` | `Client connection from A denied: max_connections exceeded.`, `Client connection from A failed: <TLS error>.` |
 * | `will`, `will-topic` | `Will message specified (N bytes) (r0, q1).` and the topic on the next line (tab-indented)     |
 * | `subscribe-received`, `subscribe-request`, `subscribe` | `Received SUBSCRIBE from X`, then `\thome/# (QoS 0)` per topic (requested), then `X 0 home/#` (granted: the subscribe log type) |
 * | `unsubscribe-received`, `unsubscribe-request`, `unsubscribe` | `Received UNSUBSCRIBE from X`, then `\t<topic>`, then `X <topic>` (the unsubscribe log type) |
 * | `publish-in`, `publish-out`, `publish-denied` | `Received PUBLISH from X (d0, q0, r0, m0, 'topic', ... (N bytes))`, `Sending PUBLISH to ...`, `Denied PUBLISH from ...` |
 * | `packet-in`, `packet-out` | any other `Received <PACKET> from X` / `Sending <PACKET> to X` (`packet` names it; CONNACK's return code goes to `reason`) |
 * | `tls-error`, `bridge`, `broker` | `OpenSSL Error[0]: ...`; `Connecting bridge ...`; version, listener and persistence lines |
 * | `other`              | any other message: kept whole in `message`                                                 |
 *
 * Lines after a connect carry only the client id; the parser fills `client_ip`, `client_port`,
 * `listener_port` and `username` from that client's latest connect in the same file. A client id is the
 * client's own choice and may hold spaces, quotes or parentheses: where a line is ambiguous the parser reads
 * the trailing, broker-written part first (the `(p2, c1, k60, u'bob')` flags, a publish's `(d0, q0, ...)`),
 * and `message` always keeps the line exactly as logged.
 */
import type { SourceColumn, SourceParseResult, SourceProblem, SourceRow } from '../log-source.ts';
import { isoSeconds, parseInstant } from '../iot-common/time.ts';

export const MQTT_COLUMNS: readonly SourceColumn[] = [
  { name: 'time', type: 'VARCHAR' },
  { name: 'time_ms', type: 'BIGINT' },
  { name: 'logtime', type: 'VARCHAR' },
  { name: 'event', type: 'VARCHAR' },
  { name: 'client_id', type: 'VARCHAR' },
  { name: 'username', type: 'VARCHAR' },
  { name: 'client_ip', type: 'VARCHAR' },
  { name: 'client_port', type: 'INTEGER' },
  { name: 'listener_port', type: 'INTEGER' },
  { name: 'protocol_version', type: 'VARCHAR' },
  { name: 'clean_session', type: 'BOOLEAN' },
  { name: 'keepalive', type: 'INTEGER' },
  { name: 'topic', type: 'VARCHAR' },
  { name: 'qos', type: 'INTEGER' },
  { name: 'retain', type: 'BOOLEAN' },
  { name: 'dup', type: 'BOOLEAN' },
  { name: 'mid', type: 'INTEGER' },
  { name: 'payload_bytes', type: 'BIGINT' },
  { name: 'packet', type: 'VARCHAR' },
  { name: 'reason', type: 'VARCHAR' },
  { name: 'is_bridge', type: 'BOOLEAN' },
  { name: 'message', type: 'VARCHAR' },
];

const FRAME = /^(\d{9,11}|\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?): ?(.*)$/;
const KNOWN = /^(New connection from |New client connected from |New bridge connected from |Client |Socket error on client |Received [A-Z]+ from |Sending [A-Z]+ to |Denied PUBLISH from |mosquitto version |Opening ipv[46] listen socket|Config loaded from |Will message specified )/;
const PROTOCOLS: Record<string, string> = { '1': '3.1', '2': '3.1.1', '3': '3.1.1', '5': '5' };

/** True when the first lines look like a Mosquitto log: a timestamp frame and at least one message Mosquitto writes. */
export function sniffMqtt(head: string): boolean {
  const lines = head.replace(/^\uFEFF/, '').split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() !== '').slice(0, 40);
  if (lines.length === 0) return false;
  const framed = lines.map((l) => FRAME.exec(l));
  if (!framed[0]) return false;
  return framed.some((m) => m !== null && KNOWN.test(m[2] as string));
}

interface Session {
  ip: string | null;
  port: number | null;
  listener: number | null;
  username: string | null;
  bridge: boolean;
}

type Row = Record<string, unknown>;

/** A multi-line message in progress: the topics after `Received SUBSCRIBE`, the will topic after its header. */
interface Pending {
  readonly kind: 'subscribe' | 'unsubscribe' | 'will';
  readonly client: string | null;
  will?: Row;
}

/** Parses a Mosquitto log into rows; see the table above. */
export function parseMqtt(input: string): SourceParseResult {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const lines = text.split('\n');
  const rows: SourceRow[] = [];
  const problems: SourceProblem[] = [];
  const flavours = new Set<string>();
  const sessions = new Map<string, Session>();
  /** Listener port by `ip:port` of the TCP connection, from `New connection from`. */
  const listeners = new Map<string, number>();
  let lastConnected: string | null = null;
  /** The broker's major version, once a `mosquitto version` line says it (it decides how addresses are written). */
  let major: number | undefined;
  let pending: Pending | undefined;

  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] as string).replace(/\r$/, '');
    if (raw.trim() === '') continue;
    const frame = FRAME.exec(raw);
    if (!frame) {
      problems.push({ index: i, line: i + 1, reason: /^[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} /.test(raw) ? 'a syslog line (no year in its time): log Mosquitto to a file with log_timestamp true' : `not a Mosquitto log line (expected "<time>: <message>"): ${JSON.stringify(raw.slice(0, 60))}` });
      continue;
    }
    const stamp = frame[1] as string;
    const when = parseInstant(stamp);
    if ('reason' in when) {
      problems.push({ index: i, line: i + 1, reason: `the line ${when.reason}` });
      continue;
    }
    flavours.add(/^\d+$/.test(stamp) ? 'epoch' : /(Z|[+-]\d{2}:?\d{2})$/.test(stamp) ? 'iso-zoned' : 'iso');
    const message = frame[2] as string;
    const row: Row = { time: isoSeconds(when.ms), time_ms: when.ms, logtime: stamp, message, event: 'other' };
    const carry = pending;
    pending = undefined;
    interpret(message, row, carry);
    // Fill what the line does not say from the client's latest connect.
    const id = typeof row.client_id === 'string' ? row.client_id : null;
    if (id !== null) {
      const s = sessions.get(id);
      if (s) {
        row.client_ip ??= s.ip;
        row.client_port ??= s.port;
        row.listener_port ??= s.listener;
        row.username ??= s.username;
        row.is_bridge ??= s.bridge;
      }
    }
    const done = complete(row);
    // A will's topic arrives on the next line: keep the stored row reachable to fill it in.
    const open = pending as Pending | undefined; // set by interpret()
    if (open?.kind === 'will' && open.will === row) open.will = done;
    rows.push({ index: i, line: i + 1, row: done });
  }
  return { variant: flavours.size === 0 ? 'empty' : [...flavours].sort().join('+'), rows, problems };

  function interpret(m: string, row: Row, carry: Pending | undefined): void {
    let x: RegExpExecArray | null;
    if ((x = /^New connection from (\S+) on port (\d+)\.$/.exec(m))) {
      const address = splitAddress(x[1] as string, major === undefined ? 'guess' : major >= 2 ? 'port' : 'no-port');
      Object.assign(row, { event: 'connection', client_ip: address.ip, client_port: address.port, listener_port: Number(x[2]) });
      listeners.set(x[1] as string, Number(x[2]));
      return;
    }
    if ((x = /^New (client|bridge) connected from (\S+) as (.*) \((?:p(\d+), )?c(\d+), k(\d+)(?:, u'(.*)')?\)\.$/.exec(m))) {
      const address = splitAddress(x[2] as string, x[4] !== undefined || (major ?? 0) >= 2 ? 'port' : major === 1 ? 'no-port' : 'guess');
      const id = x[3] as string;
      const session: Session = {
        ip: address.ip,
        port: address.port,
        listener: listeners.get(x[2] as string) ?? null,
        username: x[7] ?? null,
        bridge: x[1] === 'bridge',
      };
      sessions.set(id, session);
      lastConnected = id;
      Object.assign(row, {
        event: 'connect', client_id: id, username: session.username, client_ip: session.ip, client_port: session.port, listener_port: session.listener,
        protocol_version: x[4] === undefined ? null : (PROTOCOLS[x[4]] ?? `p${x[4]}`), clean_session: x[5] === '1', keepalive: Number(x[6]), is_bridge: session.bridge,
      });
      return;
    }
    if ((x = /^Client (.*) already connected, closing old connection\.$/.exec(m))) {
      Object.assign(row, { event: 'takeover', client_id: x[1], reason: 'client id taken over by a new connection' });
      return;
    }
    if ((x = /^Client connection from (\S+) (denied|failed): (.*?)\.?$/.exec(m))) {
      Object.assign(row, { event: 'connection-refused', client_ip: x[1], reason: x[3] });
      return;
    }
    if ((x = /^Socket error on client (.*), disconnecting\.$/.exec(m))) {
      Object.assign(row, { event: 'disconnect', client_id: unknownToNull(x[1] as string), reason: 'socket error' });
      return;
    }
    if ((x = /^Bad socket read\/write on client (.*): (.*)$/.exec(m))) {
      const who = clientAndAddress(x[1] as string);
      Object.assign(row, { event: 'disconnect', client_id: who.id, client_ip: who.ip, reason: x[2] });
      return;
    }
    if (m.startsWith('Client ')) {
      const endings: ReadonlyArray<readonly [RegExp, (g: RegExpExecArray) => string]> = [
        [/ disconnected, not authorised\.$/, () => 'not authorised'],
        [/ has exceeded timeout, disconnecting\.$/, () => 'keepalive timeout'],
        [/ closed its connection\.$/, () => 'connection closed by the client'],
        [/ been disconnected by administrative action\.$/, () => 'administrative action'],
        [/ disconnected due to (.+)\.$/, (g) => g[1] as string],
        [/ disconnected: (.+)\.$/, (g) => g[1] as string],
        [/ disconnected\.$/, () => 'disconnected'],
      ];
      for (const [re, why] of endings) {
        const g = re.exec(m);
        if (!g) continue;
        const who = clientAndAddress(m.slice('Client '.length, g.index));
        Object.assign(row, { event: 'disconnect', client_id: who.id, client_ip: who.ip, reason: why(g) });
        return;
      }
    }
    if ((x = /^(Received|Sending|Denied) PUBLISH (?:from|to) (.*?) \(d(\d), q(\d), r(\d), m(\d+), '(.*)', \.\.\. \((\d+) bytes\)\)$/.exec(m))) {
      const event = x[1] === 'Received' ? 'publish-in' : x[1] === 'Sending' ? 'publish-out' : 'publish-denied';
      Object.assign(row, { event, client_id: x[2], packet: 'PUBLISH', dup: x[3] === '1', qos: Number(x[4]), retain: x[5] === '1', mid: Number(x[6]), topic: x[7], payload_bytes: Number(x[8]) });
      return;
    }
    if ((x = /^Received (SUBSCRIBE|UNSUBSCRIBE) from (.*)$/.exec(m))) {
      const kind = x[1] === 'SUBSCRIBE' ? 'subscribe' : 'unsubscribe';
      Object.assign(row, { event: `${kind}-received`, client_id: x[2], packet: x[1] });
      pending = { kind, client: x[2] as string };
      return;
    }
    if ((x = /^Will message specified \((\d+) bytes\) \(r(\d), q(\d)\)\.$/.exec(m))) {
      Object.assign(row, { event: 'will', client_id: lastConnected, payload_bytes: Number(x[1]), retain: x[2] === '1', qos: Number(x[3]) });
      pending = { kind: 'will', client: lastConnected, will: row };
      return;
    }
    if (m.startsWith('\t') && carry) {
      const body = m.slice(1);
      if (carry.kind === 'subscribe' && (x = /^(.*) \(QoS (\d+)\)$/.exec(body))) {
        Object.assign(row, { event: 'subscribe-request', client_id: carry.client, topic: x[1], qos: Number(x[2]) });
        pending = carry; // one line per topic
        return;
      }
      if (carry.kind === 'unsubscribe') {
        Object.assign(row, { event: 'unsubscribe-request', client_id: carry.client, topic: body });
        pending = carry;
        return;
      }
      if (carry.kind === 'will') {
        Object.assign(row, { event: 'will-topic', client_id: carry.client, topic: body });
        if (carry.will) carry.will.topic = body;
        return;
      }
    }
    if ((x = /^Sending CONNACK to (.*) \((\d+), (\d+)\)$/.exec(m))) {
      Object.assign(row, { event: 'packet-out', client_id: x[1], packet: 'CONNACK', reason: `return code ${x[3]}` });
      return;
    }
    if ((x = /^(Received|Sending) ([A-Z]+) (?:from|to) (.*?)(?: \(.*\))?$/.exec(m))) {
      Object.assign(row, { event: x[1] === 'Received' ? 'packet-in' : 'packet-out', packet: x[2], client_id: x[3] });
      return;
    }
    if ((x = /^OpenSSL Error\[\d+\]: (.*)$/.exec(m))) {
      Object.assign(row, { event: 'tls-error', reason: x[1] });
      return;
    }
    if (/^Connecting bridge /.test(m)) {
      Object.assign(row, { event: 'bridge', is_bridge: true });
      return;
    }
    if ((x = /^Opening ipv[46] listen socket on port (\d+)\.$/.exec(m))) {
      Object.assign(row, { event: 'broker', listener_port: Number(x[1]) });
      return;
    }
    if ((x = /^mosquitto version (\d+)\./.exec(m))) major = Number(x[1]);
    if (/^(mosquitto version |Config loaded from |Saving in-memory database|Loading config file|Starting in local only mode|Create a configuration file)/.test(m)) {
      row.event = 'broker';
      return;
    }
    // The unsubscribe log type: `<client> <topic>`, after the client's UNSUBSCRIBE.
    if (carry?.kind === 'unsubscribe' && carry.client !== null && m.startsWith(`${carry.client} `)) {
      Object.assign(row, { event: 'unsubscribe', client_id: carry.client, topic: m.slice(carry.client.length + 1) });
      pending = carry;
      return;
    }
    // The subscribe log type: `<client> <qos> <topic>` for each granted subscription. Read only for a client the
    // log has seen, so an unrelated message with a digit between spaces is not mistaken for one.
    if ((x = /^(.+) ([0-2]) (.+)$/.exec(m)) && (sessions.has(x[1] as string) || carry?.client === x[1])) {
      Object.assign(row, { event: 'subscribe', client_id: x[1], qos: Number(x[2]), topic: x[3] });
      pending = carry?.kind === 'subscribe' ? carry : undefined;
    }
  }
}

/** `<client id> (<address>)` as newer releases write it: the address is split off only when it looks like one. */
function clientAndAddress(s: string): { id: string | null; ip: string | null } {
  const m = /^(.*) \(([0-9A-Fa-f:.]+|<unknown>)\)$/.exec(s);
  if (m) return { id: unknownToNull(m[1] as string), ip: m[2] === '<unknown>' ? null : (m[2] as string) };
  return { id: unknownToNull(s), ip: null };
}

function unknownToNull(id: string): string | null {
  return id === '<unknown>' ? null : id;
}

/** Whether an address token carries a port: 2.x always writes one, 1.x never for IPv6, unknown: guess. */
export type PortHint = 'port' | 'no-port' | 'guess';

/**
 * `10.0.0.5:51234`, `::1:51234`, or (Mosquitto 1.x, no port) `10.0.0.5`, `fe80::1`. With `guess`, an IPv6
 * address is split only where the part before the last colon is itself a complete address (`::1:51234`,
 * `2001:db8::7:50001`, nine groups), never where it would end in `:` (`fe80::1`); `2001:db8::5:1234` from a 1.x
 * broker stays ambiguous and is read as address and port.
 */
export function splitAddress(token: string, hint: PortHint): { ip: string; port: number | null } {
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(token);
  if (v4) return { ip: v4[1] as string, port: Number(v4[2]) };
  const last = /^(.*):(\d{1,5})$/.exec(token);
  if (!last || (last[1] as string).length === 0) return { ip: token, port: null };
  const ip = last[1] as string;
  const v6 = token.split(':').length > 2;
  let split: boolean;
  if (!v6) split = /^[A-Za-z0-9.-]+$/.test(ip); // a host name with a port
  else if (hint === 'port') split = true;
  else if (hint === 'no-port') split = false;
  else split = token.includes('::') ? !ip.endsWith(':') : token.split(':').length === 9;
  return split ? { ip, port: Number(last[2]) } : { ip: token, port: null };
}

/** Every column present (NULL when the line does not say), in the table's order. */
function complete(row: Row): Row {
  const out: Row = {};
  for (const c of MQTT_COLUMNS) out[c.name] = row[c.name] ?? null;
  return out;
}
