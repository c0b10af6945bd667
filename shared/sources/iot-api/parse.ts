/**
 * IoT platform API logs: one JSON object per HTTP request to a device platform's API (a smart-lock, alarm or
 * fleet back end), as JSON Lines, a JSON array, or an object holding the array (`requests`, `logs`,
 * `records`, `items`, `events`, `entries`, `data`). Platforms spell their fields differently; each column
 * takes the first of these that a record has (exact key first, then any case; dotted names reach into nested
 * objects):
 *
 * | column        | accepted fields                                                                                     |
 * |---------------|-----------------------------------------------------------------------------------------------------|
 * | time          | timestamp, time, @timestamp, datetime, date, ts, eventTime, requestTime, request.time                |
 * | request_id    | requestId, request_id, requestID, reqId, req_id, x-request-id, traceId, trace_id, id                 |
 * | method        | method, httpMethod, http_method, verb, request.method, http.method, http.request.method              |
 * | endpoint      | endpoint, path, url, uri, route, resource, request.path, request.url, request.uri, http.url, url.path |
 * | user_name     | user, username, userName, user_name, userId, user_id, principal, actor, email, sub, account, user.name, user.email, user.id, auth.user |
 * | client_ip     | clientIp, client_ip, ip, sourceIp, source_ip, remoteAddr, remote_addr, remoteIp, remote_ip, client.ip, source.ip, x-forwarded-for (first address) |
 * | user_agent    | userAgent, user_agent, ua, agent, http_user_agent, request.headers.user-agent, headers.user-agent, user_agent.original |
 * | request_body  | body, requestBody, request_body, payload, params, request.body (objects as JSON text)                |
 * | status        | status, statusCode, status_code, responseCode, response_code, httpStatus, http_status, code, response.status, response.statusCode, http.response.status_code |
 * | response_time | responseTime, response_time, responseTimeMs, latencyMs, latency_ms, latency, duration, durationMs, duration_ms, elapsed, elapsedMs, took, response.time |
 * | token         | tokenId, token_id, tokenHash, token_hash, jti, apiKeyId, api_key_id, keyId, sessionId, session_id; else a fingerprint of authorization / headers.authorization / request.headers.authorization |
 * | device_id     | deviceId, device_id, device, thingName, thing_name, thing, serial, lockId, lock_id; else from the endpoint (`/devices/<id>/...`, `/things/<id>/`, `/locks/<id>/`, ...) or the body |
 *
 * `response_time` is the number as logged: milliseconds on most platforms (and in every `*Ms` / `*_ms` field),
 * seconds on some (nginx's request_time); the table does not guess the unit.
 *
 * Derived columns:
 * - `token_source`: `field` when a token id or hash was logged, `authorization` when the token is the
 *   fingerprint `sha256:<first 16 hex>` of the Authorization header (the secret itself never enters the table;
 *   the preserved original still holds it), NULL when neither: detections then fall back to the user.
 * - `command`: the device command a request carries: the body's `command`/`cmd`/`action`/`operation`, or
 *   the endpoint's last segment after a device id or under `/commands/` or `/actions/`, or a known verb
 *   (unlock, lock, open, close, disarm, arm, reboot, reset, factory-reset, ...) as the last segment of a
 *   POST/PUT/PATCH; lower-cased.
 * - `is_login`: a sign-in endpoint (last segments login, log-in, signin, sign-in, authenticate, auth/token,
 *   oauth/token, oauth2/token, sessions, session, token). `action` is `login` for those (impossible-travel
 *   analytics look for it), `command:<command>` for device commands, else `<METHOD> <path>`.
 * - `path`: the endpoint without scheme, host and query string.
 */
import { createHash } from 'node:crypto';
import type { SourceColumn, SourceParseResult, SourceProblem, SourceRow } from '../log-source.ts';
import { lineAndColumn, scanArray, scanObject, skipWhitespace } from '../cloudtrail/json-scan.ts';
import { decimal, firstOf, firstScalar, integer, isObject, text, type JsonObject } from '../iot-common/fields.ts';
import { inFileOrder, located, readJsonRecords } from '../iot-common/json-records.ts';
import { isoSeconds, parseInstant } from '../iot-common/time.ts';

export const IOT_API_COLUMNS: readonly SourceColumn[] = [
  { name: 'time', type: 'VARCHAR' },
  { name: 'time_ms', type: 'BIGINT' },
  { name: 'logtime', type: 'VARCHAR' },
  { name: 'request_id', type: 'VARCHAR' },
  { name: 'method', type: 'VARCHAR' },
  { name: 'endpoint', type: 'VARCHAR' },
  { name: 'path', type: 'VARCHAR' },
  { name: 'user_name', type: 'VARCHAR' },
  { name: 'client_ip', type: 'VARCHAR' },
  { name: 'user_agent', type: 'VARCHAR' },
  { name: 'request_body', type: 'VARCHAR' },
  { name: 'status', type: 'INTEGER' },
  { name: 'response_time', type: 'DOUBLE' },
  { name: 'token', type: 'VARCHAR' },
  { name: 'token_source', type: 'VARCHAR' },
  { name: 'device_id', type: 'VARCHAR' },
  { name: 'command', type: 'VARCHAR' },
  { name: 'is_login', type: 'BOOLEAN' },
  { name: 'action', type: 'VARCHAR' },
  { name: 'entry', type: 'VARCHAR' },
];

export const FIELDS = {
  time: ['timestamp', 'time', '@timestamp', 'datetime', 'date', 'ts', 'eventTime', 'requestTime', 'request.time'],
  requestId: ['requestId', 'request_id', 'requestID', 'reqId', 'req_id', 'x-request-id', 'traceId', 'trace_id', 'id'],
  method: ['method', 'httpMethod', 'http_method', 'verb', 'request.method', 'http.method', 'http.request.method'],
  endpoint: ['endpoint', 'path', 'url', 'uri', 'route', 'resource', 'request.path', 'request.url', 'request.uri', 'http.url', 'url.path'],
  user: ['user', 'username', 'userName', 'user_name', 'userId', 'user_id', 'principal', 'actor', 'email', 'sub', 'account', 'user.name', 'user.email', 'user.id', 'auth.user'],
  clientIp: ['clientIp', 'client_ip', 'ip', 'sourceIp', 'source_ip', 'remoteAddr', 'remote_addr', 'remoteIp', 'remote_ip', 'client.ip', 'source.ip', 'x-forwarded-for', 'xForwardedFor', 'headers.x-forwarded-for'],
  userAgent: ['userAgent', 'user_agent', 'ua', 'agent', 'http_user_agent', 'request.headers.user-agent', 'headers.user-agent', 'user_agent.original'],
  body: ['body', 'requestBody', 'request_body', 'payload', 'params', 'request.body'],
  status: ['status', 'statusCode', 'status_code', 'responseCode', 'response_code', 'httpStatus', 'http_status', 'code', 'response.status', 'response.statusCode', 'http.response.status_code'],
  responseTime: ['responseTime', 'response_time', 'responseTimeMs', 'latencyMs', 'latency_ms', 'latency', 'duration', 'durationMs', 'duration_ms', 'elapsed', 'elapsedMs', 'took', 'response.time'],
  token: ['tokenId', 'token_id', 'tokenHash', 'token_hash', 'jti', 'apiKeyId', 'api_key_id', 'keyId', 'sessionId', 'session_id'],
  authorization: ['authorization', 'headers.authorization', 'request.headers.authorization'],
  device: ['deviceId', 'device_id', 'device', 'thingName', 'thing_name', 'thing', 'serial', 'lockId', 'lock_id'],
} as const;

/** Record keys that make a JSON object an API request log: one of each group. */
const SNIFF_GROUPS = [
  ['method', 'httpMethod', 'http_method', 'verb'],
  ['endpoint', 'path', 'url', 'uri', 'route'],
  ['status', 'statusCode', 'status_code', 'responseCode', 'response_code', 'httpStatus', 'http_status'],
];
const CONTAINERS = ['requests', 'logs', 'records', 'items', 'events', 'entries', 'data'];
const DEVICE_COLLECTIONS = /\/(?:devices?|things?|locks?|doors?|gates?|alarms?|cameras?|sensors?|vehicles?|units?)\/([^/?#]+)(\/[^?#]*)?/i;
const COMMAND_VERBS = new Set([
  'unlock', 'lock', 'open', 'close', 'disarm', 'arm', 'reboot', 'restart', 'reset', 'factory-reset', 'factory_reset', 'factoryreset',
  'wipe', 'start', 'stop', 'enable', 'disable', 'activate', 'deactivate', 'trigger', 'override', 'bypass', 'firmware', 'update-firmware',
  'ota', 'shutdown', 'power-on', 'power-off', 'siren', 'mute', 'unmute', 'grant', 'revoke',
]);
const LOGIN = /\/(?:log-?in|sign-?in|authenticate|auth\/token|oauth2?\/token|sessions?|token)\/?$/i;

/** True when the first bytes look like JSON API request logs (a method, an endpoint and a status in one object). */
export function sniffIotApi(head: string): boolean {
  const start = head.replace(/^\uFEFF/, '').trimStart();
  if (!(start.startsWith('{') || start.startsWith('['))) return false;
  // The first object's keys, as far as the head goes (container keys count: {"requests":[{...}]}).
  const keys = new Set([...head.slice(0, 16_384).matchAll(/"([A-Za-z_@][\w@.-]*)"\s*:/g)].map((m) => (m[1] as string).toLowerCase()));
  if (keys.has('eventversion') || keys.has('eventtype') || (keys.has('records') && keys.has('eventname'))) return false;
  if (!SNIFF_GROUPS.every((group) => group.some((k) => keys.has(k.toLowerCase())))) return false;
  // A top-level object that wraps its records in an array under a key that is not a known container, and is not a
  // request itself, is someone else's document: an Elastic pipeline test's `{"expected": [...]}` output holds
  // `http.request.method`, `url.path` and `http.response.status_code` deep inside, which matched the groups above.
  if (start.startsWith('{')) {
    const top = scanObject(start, 0);
    const direct = new Set(top.keys.map((k) => k.toLowerCase()));
    const wrapsOther = [...top.arrayStarts.keys()].some((k) => !CONTAINERS.includes(k.toLowerCase())) && !top.keys.some((k) => CONTAINERS.includes(k.toLowerCase()));
    if (wrapsOther && !SNIFF_GROUPS.every((group) => group.some((k) => direct.has(k.toLowerCase())))) return false;
  }
  return true;
}

/** Parses API request logs into rows; see the table above. */
export function parseIotApi(input: string): SourceParseResult {
  const read = readJsonRecords(input);
  const problems: SourceProblem[] = [...read.problems];
  const rows: SourceRow[] = [];
  let variant: string = read.shape;
  // An object holding the array: `{"requests": [...]}` and its relatives.
  const only = read.records.length === 1 ? read.records[0] : undefined;
  const holder = only && isObject(only.value) ? CONTAINERS.find((c) => Array.isArray((only.value as JsonObject)[c])) : undefined;
  const items: Array<{ index: number; line?: number; locator: string; value: unknown; text: string }> = holder ? containerItems(only!.text, only!.line, holder) : [...read.records];
  if (holder) variant = `object.${holder}`;
  for (const item of items) {
    const where = (reason: string): SourceProblem => ({ index: item.index, ...(item.line === undefined ? {} : { line: item.line }), reason: located(item.locator, reason) });
    if (!isObject(item.value)) {
      problems.push(where(`not an API request record: a JSON ${Array.isArray(item.value) ? 'array' : typeof item.value}`));
      continue;
    }
    const row = toRow(item.value, item.text);
    if ('reason' in row) problems.push(where(row.reason));
    else rows.push({ index: item.index, ...(item.line === undefined ? {} : { line: item.line }), row: row.row });
  }
  return { variant, rows, problems: inFileOrder(problems) };
}

/** The elements of the array under `holder`, each with its exact text and line. */
function containerItems(recordText: string, recordLine: number, holder: string): Array<{ index: number; line: number; locator: string; value: unknown; text: string }> {
  const open = scanObject(recordText, skipWhitespace(recordText, 0)).arrayStarts.get(holder);
  if (open === undefined) return [];
  return scanArray(recordText, open).elements.map((el, i) => {
    const text = recordText.slice(el.start, el.end);
    return { index: i, line: recordLine + lineAndColumn(recordText, el.start).line - 1, locator: `.${holder}[${i}]`, value: JSON.parse(text) as unknown, text };
  });
}

/** `sha256:<16 hex>` of a secret, so one token can be followed across requests without keeping it. */
export function fingerprint(secret: string): string {
  return `sha256:${createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 16)}`;
}

function toRow(r: JsonObject, entryText: string): { row: Record<string, unknown> } | { reason: string } {
  const t = firstScalar(r, FIELDS.time);
  if (!t) return { reason: `has no time (looked for ${FIELDS.time.join(', ')})` };
  const when = parseInstant(t.value);
  if ('reason' in when) return { reason: `${t.path} ${when.reason}` };
  const endpoint = text(firstScalar(r, FIELDS.endpoint)?.value);
  const method = text(firstScalar(r, FIELDS.method)?.value)?.toUpperCase() ?? null;
  const path = endpoint === null ? null : endpoint.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '').replace(/[?#].*$/, '') || '/';
  const bodyValue = firstOf(r, FIELDS.body)?.value;
  const body = bodyObject(bodyValue);
  const ipText = text(firstScalar(r, FIELDS.clientIp)?.value);
  const tokenField = text(firstScalar(r, FIELDS.token)?.value);
  const auth = text(firstScalar(r, FIELDS.authorization)?.value);
  const token = tokenField ?? (auth ? fingerprint(auth) : null);
  const fromPath = path ? DEVICE_COLLECTIONS.exec(path) : null;
  const device = text(firstScalar(r, FIELDS.device)?.value) ?? (fromPath ? decodeSegment(fromPath[1] as string) : null) ?? text(firstScalar(body, FIELDS.device)?.value);
  // A sign-in is a write to a sign-in endpoint (a GET of /login shows a form).
  const isLogin = path !== null && LOGIN.test(path) && (method === null || method === 'POST' || method === 'PUT');
  const command = isLogin ? null : commandOf(method, path, fromPath?.[2], body);
  const status = integer(firstScalar(r, FIELDS.status)?.value);
  return {
    row: {
      time: isoSeconds(when.ms),
      time_ms: when.ms,
      logtime: text(t.value),
      request_id: text(firstScalar(r, FIELDS.requestId)?.value),
      method,
      endpoint,
      path,
      // Before sign-in the user is only in the request body.
      user_name: text(firstScalar(r, FIELDS.user)?.value) ?? (isLogin ? text(firstScalar(body, ['username', 'user', 'email', 'login'])?.value) : null),
      // X-Forwarded-For lists the client first, then each proxy.
      client_ip: ipText === null ? null : (ipText.split(',')[0] ?? '').trim() || null,
      user_agent: text(firstScalar(r, FIELDS.userAgent)?.value),
      request_body: text(bodyValue),
      status,
      response_time: decimal(firstScalar(r, FIELDS.responseTime)?.value),
      token,
      token_source: tokenField !== null ? 'field' : auth !== null ? 'authorization' : null,
      device_id: device,
      command,
      is_login: isLogin,
      action: isLogin ? 'login' : command ? `command:${command}` : `${method ?? '?'} ${path ?? '?'}`,
      entry: entryText,
    },
  };
}

function bodyObject(value: unknown): JsonObject | undefined {
  if (isObject(value)) return value;
  if (typeof value === 'string' && value.trim().startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(value);
      return isObject(parsed) ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function commandOf(method: string | null, path: string | null, afterDevice: string | undefined, body: JsonObject | undefined): string | null {
  const fromBody = text(firstScalar(body, ['command', 'cmd', 'action', 'operation'])?.value);
  if (fromBody && fromBody.length <= 64) return fromBody.toLowerCase();
  if (path === null) return null;
  const under = /\/(?:commands?|actions?)\/([^/]+)\/?$/i.exec(path);
  if (under) return decodeSegment(under[1] as string).toLowerCase();
  const last = decodeSegment(path.replace(/\/$/, '').split('/').pop() ?? '').toLowerCase();
  const writes = method === 'POST' || method === 'PUT' || method === 'PATCH';
  if (writes && COMMAND_VERBS.has(last)) return last;
  // `/devices/<id>/<verb>`: a write to a sub-resource named by a single segment after the device.
  if (writes && afterDevice && /^\/[^/]+\/?$/.test(afterDevice) && /^[a-z][a-z0-9_-]{1,31}$/.test(last) && !['state', 'status', 'settings', 'config', 'configuration', 'name', 'metadata', 'tags'].includes(last)) return last;
  return null;
}
