/**
 * AWS IoT device shadows, preserved as documents: one row per (thing, shadow, field path) comparing the
 * desired and the reported value of the field, with the per-field timestamps of the shadow's metadata and the
 * document's version and time. Detections over the table find commands never executed, executed late, and
 * states the device reported that nobody requested (shared/detections/iot-shadow-*).
 *
 * Documents read (each JSON record of the object: one document, JSON Lines or a JSON array of them):
 * - a shadow document as GetThingShadow returns it, classic or named:
 *   `{"state":{"desired":{...},"reported":{...},"delta":{...}},"metadata":{"desired":{...},"reported":{...}},"version":N,"timestamp":T}`
 * - the same with the names beside it (`thingName`, `shadowName`), as export scripts write them
 * - a wrapper `{"thingName","shadowName","payload": <document>}`: the GetThingShadow call with its parameters;
 *   the payload may be the document, its JSON text, its base64, or a serialised Node Buffer
 * - an `/update/documents` message `{"previous":{...},"current":{...},"timestamp":T}`: both states become rows
 *   (`doc_part` previous/current), so the change itself is on record
 * - an Azure IoT Hub device twin (a page of `devices/query`, a JSON array of twins): read as the shadow
 *   document of the device, see azure-twin.ts (variant `azure-device-twin`)
 * - an `/update/delta` message `{"state":{<delta fields>},"metadata":{...},"version","timestamp"}`: delta rows
 *
 * Names, when the document lacks them, come from the evidence key (documented convention):
 * | key ends with                                  | thing     | shadow                  |
 * |------------------------------------------------|-----------|-------------------------|
 * | `things/<thing>/shadow.json`                   | `<thing>` | classic (NULL)          |
 * | `things/<thing>/shadow/<name>.json`            | `<thing>` | `<name>`                |
 * | `things/<thing>/shadow/name/<name>.json`       | `<thing>` | `<name>` (the MQTT topic layout) |
 * | the same followed by `/update/documents`, `/update/delta`, `/get/accepted` (`.json`, `.jsonl`): a capture saved under its topic |
 * | anything else, e.g. `exports/sensor-12.json`   | the file name without `.json` / `.shadow.json` | classic |
 * `names_from` says which applied (`document`, `key`, `file-name`). The classic (unnamed) shadow has a NULL
 * `shadow_name`, as the API omits shadowName for it.
 *
 * Values are canonical JSON text (object keys sorted), so equal values compare equal as text in SQL; strings
 * keep their exact characters. Field paths join keys with `.`; a key that is not `[A-Za-z0-9_$-]+` is written
 * `["key"]` so a key containing a dot cannot be mistaken for nesting. Arrays are leaves (the service replaces
 * them whole). Metadata timestamps are seconds since the epoch; for a leaf whose metadata is an object or an
 * array of per-element metadata, the latest timestamp inside it is the field's time.
 */
import type { SourceColumn, SourceParseResult, SourceProblem, SourceRow } from '../log-source.ts';
import { canonicalJson, integer, isObject, text, type JsonObject } from '../iot-common/fields.ts';
import { inFileOrder, located, readJsonRecords } from '../iot-common/json-records.ts';
import { isoSeconds, parseInstant } from '../iot-common/time.ts';
import { isDeviceTwin, twinAsShadow } from './azure-twin.ts';

/** The `iot_shadows` table. */
export const IOT_SHADOW_COLUMNS: readonly SourceColumn[] = [
  { name: 'time', type: 'VARCHAR' },
  { name: 'thing_name', type: 'VARCHAR' },
  { name: 'shadow_name', type: 'VARCHAR' },
  { name: 'path', type: 'VARCHAR' },
  { name: 'desired', type: 'VARCHAR' },
  { name: 'reported', type: 'VARCHAR' },
  { name: 'delta', type: 'VARCHAR' },
  { name: 'desired_time', type: 'VARCHAR' },
  { name: 'reported_time', type: 'VARCHAR' },
  { name: 'desired_epoch', type: 'BIGINT' },
  { name: 'reported_epoch', type: 'BIGINT' },
  { name: 'in_sync', type: 'BOOLEAN' },
  { name: 'version', type: 'BIGINT' },
  { name: 'doc_time', type: 'VARCHAR' },
  { name: 'doc_epoch', type: 'BIGINT' },
  { name: 'client_token', type: 'VARCHAR' },
  { name: 'doc_part', type: 'VARCHAR' },
  { name: 'names_from', type: 'VARCHAR' },
];

interface Names {
  readonly thing: string;
  readonly shadow: string | null;
  readonly from: 'document' | 'key' | 'file-name';
}

/** Thing and shadow names from an evidence key, by the convention in the table above. */
export function shadowNamesFromKey(key: string): Names {
  // A capture saved under its MQTT topic (`.../shadow/name/drive/update/documents.jsonl`) names the shadow above
  // the operation.
  const path = key.replace(/\/(?:update|get|delete)(?:\/(?:documents|delta|accepted|rejected))?(?:\.[A-Za-z0-9]+)*$/, '');
  const named = /(?:^|\/)things\/([^/]+)\/shadow\/(?:name\/)?([^/]+?)(?:\.jsonl?)?$/.exec(path);
  if (named) return { thing: named[1] as string, shadow: named[2] as string, from: 'key' };
  const classic = /(?:^|\/)things\/([^/]+)\/shadow(?:\.jsonl?)?$/.exec(path);
  if (classic) return { thing: classic[1] as string, shadow: null, from: 'key' };
  const base = key.split('/').pop() ?? key;
  return { thing: base.replace(/(\.shadow)?\.jsonl?$/i, '') || base, shadow: null, from: 'file-name' };
}

/** True when the first bytes look like shadow documents (bare, wrapped, or update/documents messages). */
export function sniffIotShadow(head: string, key: string): boolean {
  const start = head.replace(/^\uFEFF/, '').trimStart();
  if (!(start.startsWith('{') || start.startsWith('['))) return false;
  const q = '\\\\?"'; // keys may sit inside an escaped payload string
  const has = (k: string): boolean => new RegExp(`${q}${k}${q}\\s*:`).test(head);
  if (has('eventType') || has('eventVersion')) return false;
  const documents = has('previous') && has('current') && has('state');
  const shadow = has('state') && (has('desired') || has('reported') || has('delta') || has('metadata')) && (has('version') || has('metadata'));
  const wrapper = has('thingName') && has('payload');
  const underShadowKey = /(?:^|\/)things\/[^/]+\/shadow/.test(key) && (has('state') || has('version'));
  const twin = has('deviceId') && has('properties') && (has('desired') || has('reported')) && has('\\$metadata');
  return documents || shadow || wrapper || underShadowKey || twin;
}

interface Doc {
  readonly doc: JsonObject;
  readonly part: 'document' | 'current' | 'previous' | 'delta';
  /** The update/documents message's own timestamp and client token (the parts have none). */
  readonly messageTime?: unknown;
  readonly messageToken?: unknown;
}

/** Parses preserved shadow documents into field rows; see the file comment. */
export function parseIotShadow(input: string, key: string): SourceParseResult {
  const read = readJsonRecords(input);
  const problems: SourceProblem[] = [...read.problems];
  const rows: SourceRow[] = [];
  const variants = new Set<string>();
  const fromKey = shadowNamesFromKey(key);
  for (const record of read.records) {
    const where = (reason: string): SourceProblem => ({ index: record.index, line: record.line, reason: located(record.locator, reason) });
    const v = record.value;
    if (!isObject(v)) {
      problems.push(where(`not a shadow document: a JSON ${Array.isArray(v) ? 'array' : typeof v}`));
      continue;
    }
    let outer: JsonObject = v;
    const twin = isDeviceTwin(v);
    if (twin) {
      outer = twinAsShadow(v);
      variants.add('azure-device-twin');
    } else if (v.payload !== undefined && v.state === undefined) {
      const payload = decodePayload(v.payload);
      if ('reason' in payload) {
        problems.push(where(payload.reason));
        continue;
      }
      outer = payload.doc;
      variants.add('get-thing-shadow');
    }
    const thing = text(twin ? outer.thingName : v.thingName ?? outer.thingName);
    const shadow = text(v.shadowName ?? outer.shadowName);
    const names: Names = thing !== null ? { thing, shadow, from: 'document' } : { ...fromKey, shadow: shadow ?? fromKey.shadow };
    const docs: Doc[] = [];
    if (isObject(outer.current) || isObject(outer.previous)) {
      variants.add('update-documents');
      if (isObject(outer.previous)) docs.push({ doc: outer.previous, part: 'previous', messageTime: outer.timestamp, messageToken: outer.clientToken });
      if (isObject(outer.current)) docs.push({ doc: outer.current, part: 'current', messageTime: outer.timestamp, messageToken: outer.clientToken });
    } else if (isObject(outer.state) || (outer.state === undefined && (outer.version !== undefined || outer.timestamp !== undefined))) {
      const state = isObject(outer.state) ? outer.state : {};
      const isDelta = isObject(outer.state) && !['desired', 'reported', 'delta'].some((k) => k in state) && Object.keys(state).length > 0;
      if (isDelta) variants.add('update-delta');
      else if (!variants.has('get-thing-shadow') && !twin) variants.add('document');
      docs.push({ doc: outer, part: isDelta ? 'delta' : 'document' });
    } else {
      problems.push(where(`not a shadow document (no "state", "current" or "payload"); keys: ${Object.keys(v).slice(0, 8).map((k) => JSON.stringify(k)).join(', ') || 'none'}`));
      continue;
    }
    for (const d of docs) {
      const out = documentRows(d, names);
      if ('reason' in out) {
        problems.push(where(out.reason));
        continue;
      }
      for (const row of out.rows) rows.push({ index: record.index, line: record.line, row });
    }
  }
  const variant = variants.size === 0 ? read.shape : [...variants].sort().join('+');
  return { variant, rows, problems: inFileOrder(problems) };
}

function decodePayload(payload: unknown): { doc: JsonObject } | { reason: string } {
  let value: unknown = payload;
  if (isObject(value) && value.type === 'Buffer' && Array.isArray(value.data)) {
    value = Buffer.from(value.data as number[]).toString('utf8');
  }
  if (typeof value === 'string') {
    const attempts = [value, /^[A-Za-z0-9+/=\s]+$/.test(value) ? Buffer.from(value, 'base64').toString('utf8') : undefined];
    let parsed: unknown;
    for (const a of attempts) {
      if (a === undefined) continue;
      try {
        parsed = JSON.parse(a);
        break;
      } catch {
        // try the next decoding
      }
    }
    if (parsed === undefined) return { reason: 'the "payload" is neither a shadow document, its JSON text, nor its base64' };
    value = parsed;
  }
  return isObject(value) ? { doc: value } : { reason: 'the "payload" is not a JSON object' };
}

/** Leaves of a state section: path → value. */
function leaves(section: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (!isObject(section)) return out;
  for (const [k, v] of Object.entries(section)) {
    const path = prefix + segment(k, prefix === '');
    if (isObject(v) && Object.keys(v).length > 0) leaves(v, path, out);
    else out.set(path, v);
  }
  return out;
}

function segment(k: string, first: boolean): string {
  if (/^[A-Za-z0-9_$-]+$/.test(k)) return first ? k : `.${k}`;
  return `[${JSON.stringify(k)}]`;
}

/** The metadata node at the same keys as a state leaf. */
function metaAt(meta: unknown, keys: readonly string[]): unknown {
  let node = meta;
  for (const k of keys) {
    if (!isObject(node) || !(k in node)) return undefined;
    node = node[k];
  }
  return node;
}

/** Latest metadata timestamp (seconds) in a node: its own `timestamp`, else the latest inside it. */
function latestTimestamp(node: unknown): number | undefined {
  if (isObject(node) && typeof node.timestamp === 'number') return node.timestamp;
  let best: number | undefined;
  const visit = (n: unknown): void => {
    if (Array.isArray(n)) n.forEach(visit);
    else if (isObject(n)) {
      if (typeof n.timestamp === 'number') best = Math.max(best ?? n.timestamp, n.timestamp);
      else Object.values(n).forEach(visit);
    }
  };
  visit(node);
  return best;
}

/** The keys of a path built by `leaves` (the inverse of `segment`). */
function pathKeys(path: string): string[] {
  const keys: string[] = [];
  const re = /\["((?:[^"\\]|\\.)*)"\]|\.?([A-Za-z0-9_$-]+)/g;
  for (const m of path.matchAll(re)) keys.push(m[1] !== undefined ? (JSON.parse(`"${m[1]}"`) as string) : (m[2] as string));
  return keys;
}

function epochOf(value: unknown): { ms: number } | undefined {
  if (value === undefined || value === null) return undefined;
  const t = parseInstant(value);
  return 'ms' in t ? { ms: t.ms } : undefined;
}

function documentRows(d: Doc, names: Names): { rows: Record<string, unknown>[] } | { reason: string } {
  const { doc, part } = d;
  const state = isObject(doc.state) ? doc.state : {};
  const meta = isObject(doc.metadata) ? doc.metadata : {};
  const sections = part === 'delta'
    ? { desired: state, reported: undefined, delta: state, mDesired: meta, mReported: undefined } // the delta is the part of desired not yet reported
    : { desired: state.desired, reported: state.reported, delta: state.delta, mDesired: meta.desired, mReported: meta.reported };
  const desired = leaves(sections.desired);
  const reported = leaves(sections.reported);
  const delta = leaves(sections.delta);
  const docTime = epochOf(doc.timestamp ?? d.messageTime);
  if (doc.timestamp !== undefined && doc.timestamp !== null && !docTime) return { reason: `the document's "timestamp" is not a time: ${JSON.stringify(doc.timestamp)}` };
  const paths = [...new Set([...desired.keys(), ...reported.keys(), ...delta.keys()])].sort();
  const base = {
    thing_name: names.thing,
    shadow_name: names.shadow,
    version: integer(doc.version),
    doc_time: docTime ? isoSeconds(docTime.ms) : null,
    doc_epoch: docTime ? Math.floor(docTime.ms / 1000) : null,
    client_token: text(doc.clientToken ?? d.messageToken),
    doc_part: part,
    names_from: names.from,
  };
  const rows: Record<string, unknown>[] = [];
  let latest = docTime?.ms;
  for (const path of paths) {
    const keys = pathKeys(path);
    const dT = epochOf(desired.has(path) ? latestTimestamp(metaAt(sections.mDesired, keys)) : undefined);
    const rT = epochOf(reported.has(path) ? latestTimestamp(metaAt(sections.mReported, keys)) : undefined);
    const dv = desired.has(path) ? canonicalJson(desired.get(path)) : null;
    const rv = reported.has(path) ? canonicalJson(reported.get(path)) : null;
    for (const t of [dT, rT]) if (t && (latest === undefined || t.ms > latest)) latest = t.ms;
    rows.push({
      path,
      desired: dv,
      reported: rv,
      delta: delta.has(path) ? canonicalJson(delta.get(path)) : null,
      desired_time: dT ? isoSeconds(dT.ms) : null,
      reported_time: rT ? isoSeconds(rT.ms) : null,
      desired_epoch: dT ? Math.floor(dT.ms / 1000) : null,
      reported_epoch: rT ? Math.floor(rT.ms / 1000) : null,
      in_sync: dv !== null && rv !== null ? dv === rv : null,
      ...base,
    });
  }
  // A document with no fields (an empty or deleted shadow) is still on record, as one row without a path.
  if (rows.length === 0) {
    rows.push({ path: null, desired: null, reported: null, delta: null, desired_time: null, reported_time: null, desired_epoch: null, reported_epoch: null, in_sync: null, ...base });
  }
  if (latest === undefined) return { reason: 'the document has no "timestamp" and no metadata timestamps: it cannot be placed in time' };
  // The row's time is the document's (when it was read or sent); without one, the latest change it records.
  const time = isoSeconds(docTime?.ms ?? latest);
  return { rows: rows.map((r) => ({ time, ...r })) };
}
