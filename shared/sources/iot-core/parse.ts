/**
 * AWS IoT Core logs (the `AWSIotLogsV2` CloudWatch log group): one JSON entry per event, with `eventType`
 * naming what happened (Connect, Disconnect, Publish-In, Publish-Out, Subscribe, GetThingShadow,
 * UpdateThingShadow, DeleteThingShadow, RuleMatch, RuleExecution, FunctionExecution, jobs, provisioning,
 * dynamic groups, fleet indexing, ...) and the common attributes timestamp, logLevel, traceId, accountId,
 * status, protocol, topicName, clientId, principalId, sourceIp, sourcePort, reason, details.
 *
 * Shapes read (the variant names what the object was):
 * | variant                   | what it is                                                                 | record index |
 * |---------------------------|----------------------------------------------------------------------------|--------------|
 * | `jsonl`                   | one entry a line                                                           | 0-based line |
 * | `cloudwatch-export`       | CloudWatch Logs export to S3: `<ISO time> <entry>` a line                   | 0-based line |
 * | `array` / `single`        | a JSON array of entries / one pretty-printed entry                         | position     |
 * | `cloudwatch-events`       | lines or arrays of CloudWatch events `{"timestamp", "message": "<entry>"}` | 0-based line / position |
 * | `filter-log-events`       | `aws logs filter-log-events` / `get-log-events` output `{"events": [...]}` | ordinal of the event in the file |
 * | `cloudwatch-subscription` | subscription payloads `{"messageType", "logGroup", "logEvents": [...]}`, back to back as Firehose writes them | ordinal of the log event in the file |
 *
 * The entry's own `timestamp` (`2017-08-10 15:37:23.476`, UTC) is the event time; a wrapper's time (the
 * export prefix, CloudWatch's epoch milliseconds) stands in only when the entry has none. CloudWatch's
 * CONTROL_MESSAGE payloads (destination health checks, not IoT events) produce no rows. Entries are kept
 * whole and byte-exact in `entry`.
 */
import type { SourceColumn, SourceParseResult, SourceProblem, SourceRow } from '../log-source.ts';
import { at, firstOf, integer, isObject, text, type JsonObject } from '../iot-common/fields.ts';
import { inFileOrder, located, readJsonRecords } from '../iot-common/json-records.ts';
import { isoSeconds, parseInstant } from '../iot-common/time.ts';

/** The `iot_core_logs` table: the documented common attributes in Athena's lower-case, then Amber's additions. */
export const IOT_CORE_COLUMNS: readonly SourceColumn[] = [
  { name: 'time', type: 'VARCHAR' },
  { name: 'time_ms', type: 'BIGINT' },
  { name: 'logtime', type: 'VARCHAR' },
  { name: 'loglevel', type: 'VARCHAR' },
  { name: 'traceid', type: 'VARCHAR' },
  { name: 'accountid', type: 'VARCHAR' },
  { name: 'status', type: 'VARCHAR' },
  { name: 'eventtype', type: 'VARCHAR' },
  { name: 'protocol', type: 'VARCHAR' },
  { name: 'topicname', type: 'VARCHAR' },
  { name: 'clientid', type: 'VARCHAR' },
  { name: 'principalid', type: 'VARCHAR' },
  { name: 'sourceip', type: 'VARCHAR' },
  { name: 'sourceport', type: 'INTEGER' },
  { name: 'reason', type: 'VARCHAR' },
  { name: 'disconnectreason', type: 'VARCHAR' },
  { name: 'details', type: 'VARCHAR' },
  { name: 'thingname', type: 'VARCHAR' },
  { name: 'rulename', type: 'VARCHAR' },
  { name: 'ruleaction', type: 'VARCHAR' },
  { name: 'jobid', type: 'VARCHAR' },
  { name: 'clienttoken', type: 'VARCHAR' },
  { name: 'logstream', type: 'VARCHAR' },
  { name: 'cweventid', type: 'VARCHAR' },
  { name: 'entry', type: 'VARCHAR' },
];

/** `2024-05-01T10:00:00.123Z ` at the start of a CloudWatch Logs export line. */
const EXPORT_PREFIX = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z /;
const THING_TOPIC = /^\$aws\/things\/([^/]+)\//;

/** An entry found in the object, before it becomes a row. */
interface Unit {
  readonly line?: number;
  readonly locator: string;
  /** The entry's JSON text exactly as logged (a line, or a CloudWatch event's `message`). */
  readonly text: string;
  readonly fallbackTime?: unknown;
  readonly logstream?: string | null;
  readonly cweventid?: string | null;
  /** Position of the record that held it (used when no container numbers entries by ordinal). */
  readonly recordIndex: number;
}

/** True when the first bytes look like IoT Core log entries, bare or inside CloudWatch wrappers. */
export function sniffIotCore(head: string): boolean {
  const start = head.replace(/^\uFEFF/, '').trimStart();
  if (!(start.startsWith('{') || start.startsWith('[') || EXPORT_PREFIX.test(start))) return false;
  // In CloudWatch wrappers the entry is a JSON string, so its quotes are escaped.
  return /\\?"eventType\\?"\s*:/.test(head) && /\\?"logLevel\\?"\s*:/.test(head) && !/"eventVersion"\s*:/.test(head);
}

/** Parses one object of AWS IoT Core log entries; see the table above. */
export function parseIotCore(input: string): SourceParseResult {
  const read = readJsonRecords(input, { linePrefix: EXPORT_PREFIX });
  const problems: SourceProblem[] = [...read.problems];
  const units: Array<Unit | { problem: SourceProblem }> = [];
  let container: 'events' | 'logEvents' | undefined;
  let exported = false;
  let wrapped = false;

  for (const record of read.records) {
    const v = record.value;
    if (record.prefix !== undefined) exported = true;
    if (isObject(v) && at(v, 'eventType') !== undefined && !Array.isArray(v.events) && !Array.isArray(v.logEvents)) {
      units.push({ line: record.line, locator: record.locator, text: record.text, fallbackTime: record.prefix?.trim(), recordIndex: record.index });
      continue;
    }
    const events = isObject(v) ? (Array.isArray(v.events) ? { key: 'events' as const, list: v.events } : Array.isArray(v.logEvents) ? { key: 'logEvents' as const, list: v.logEvents } : undefined) : undefined;
    if (isObject(v) && events) {
      container ??= events.key;
      // Destination health checks carry no IoT event.
      if (v.messageType === 'CONTROL_MESSAGE') continue;
      const stream = typeof v.logStream === 'string' ? v.logStream : null;
      events.list.forEach((ev: unknown, j: number) => {
        const locator = `${record.locator} .${events.key}[${j}]`;
        const message = isObject(ev) ? ev.message : undefined;
        if (typeof message !== 'string') {
          units.push({ problem: { line: record.line, reason: located(locator, 'a CloudWatch event without a text "message"') } });
          return;
        }
        units.push({
          line: record.line, locator, text: message, fallbackTime: isObject(ev) ? ev.timestamp : undefined, recordIndex: record.index,
          logstream: isObject(ev) && typeof ev.logStreamName === 'string' ? ev.logStreamName : stream,
          cweventid: isObject(ev) ? text(ev.eventId ?? ev.id) : null,
        });
      });
      continue;
    }
    const message = firstOf(v, ['message', '@message']);
    if (isObject(v) && typeof message?.value === 'string') {
      wrapped = true;
      const stream = firstOf(v, ['logStreamName', '@logStream']);
      units.push({
        line: record.line, locator: record.locator, text: message.value, fallbackTime: firstOf(v, ['timestamp', '@timestamp'])?.value ?? record.prefix?.trim(), recordIndex: record.index,
        logstream: text(stream?.value), cweventid: text(firstOf(v, ['eventId', 'id'])?.value),
      });
      continue;
    }
    const keys = isObject(v) ? Object.keys(v).slice(0, 8).map((k) => JSON.stringify(k)).join(', ') : Array.isArray(v) ? 'an array' : typeof v;
    problems.push({ index: record.index, line: record.line, reason: located(record.locator, `not an AWS IoT Core log entry (no "eventType"); found ${keys || 'an empty object'}`) });
  }

  const rows: SourceRow[] = [];
  units.forEach((unit, ordinal) => {
    if ('problem' in unit) {
      problems.push(container ? { ...unit.problem, index: ordinal } : unit.problem);
      return;
    }
    const index = container ? ordinal : unit.recordIndex;
    const where = (reason: string): SourceProblem => ({ index, ...(unit.line === undefined ? {} : { line: unit.line }), reason: located(unit.locator, reason) });
    let entry: unknown;
    try {
      entry = JSON.parse(unit.text);
    } catch {
      problems.push(where('the CloudWatch message is not JSON (an AWS IoT v1 text log, or damaged)'));
      return;
    }
    if (!isObject(entry) || at(entry, 'eventType') === undefined) {
      problems.push(where('not an AWS IoT Core log entry (no "eventType")'));
      return;
    }
    const row = toRow(entry, unit);
    if ('reason' in row) {
      problems.push(where(row.reason));
      return;
    }
    rows.push({ index, ...(unit.line === undefined ? {} : { line: unit.line }), row: row.row });
  });

  const variant = container === 'logEvents' ? 'cloudwatch-subscription' : container === 'events' ? 'filter-log-events' : exported ? 'cloudwatch-export' : wrapped ? 'cloudwatch-events' : read.shape;
  return { variant, rows, problems: inFileOrder(problems) };
}

function toRow(entry: JsonObject, unit: Unit): { row: Record<string, unknown> } | { reason: string } {
  const logged = at(entry, 'timestamp');
  let when = parseInstant(logged);
  if ('reason' in when && unit.fallbackTime !== undefined) {
    const fallback = parseInstant(unit.fallbackTime);
    if ('ms' in fallback) when = fallback;
  }
  if ('reason' in when) return { reason: `the entry ${when.reason}` };
  const topic = text(at(entry, 'topicName'));
  const thing = text(firstOf(entry, ['thingName', 'deviceShadowName'])?.value) ?? (topic ? (THING_TOPIC.exec(topic)?.[1] ?? null) : null);
  return {
    row: {
      time: isoSeconds(when.ms),
      time_ms: when.ms,
      logtime: text(logged) ?? text(unit.fallbackTime),
      loglevel: text(at(entry, 'logLevel')),
      traceid: text(at(entry, 'traceId')),
      accountid: text(at(entry, 'accountId')),
      status: text(at(entry, 'status')),
      eventtype: text(at(entry, 'eventType')),
      protocol: text(at(entry, 'protocol')),
      topicname: topic,
      clientid: text(at(entry, 'clientId')),
      principalid: text(at(entry, 'principalId')),
      sourceip: text(at(entry, 'sourceIp')),
      sourceport: integer(at(entry, 'sourcePort')),
      reason: text(at(entry, 'reason')),
      disconnectreason: text(at(entry, 'disconnectReason')),
      details: text(at(entry, 'details')),
      thingname: thing,
      rulename: text(at(entry, 'ruleName')),
      ruleaction: text(at(entry, 'ruleAction')),
      jobid: text(at(entry, 'jobId')),
      clienttoken: text(at(entry, 'clientToken')),
      logstream: unit.logstream ?? null,
      cweventid: unit.cweventid ?? null,
      entry: unit.text,
    },
  };
}
