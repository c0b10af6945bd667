/**
 * The IoT Core parser against the 25 AWS-documented log entries in ../shared/data/aws-iot-core-log-examples,
 * read in place (one per eventType, JSON Lines). Every entry must become a row, nothing may be reported or
 * dropped, and each event type's key fields must come out in their columns. Skips, saying so, when the folder
 * is absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DuckDbQueryEngine } from '../../../../shared/query/duckdb-engine.ts';
import { IOT_CORE_TIMELINE_SQL, iotCoreSource, parseIotCore, sniffIotCore } from '../../../../shared/sources/iot-core/index.ts';
import { detectSource } from '../../../../shared/sources/registry.ts';
import { linesOf, loadParsed } from '../iot-common/fixtures.ts';

const PROJECT_ROOT = resolve(fileURLToPath(new URL('../../../../', import.meta.url)));
const FILE = resolve(PROJECT_ROOT, '../shared/data/aws-iot-core-log-examples/aws_iot_core_cwl_examples.jsonl');
const present = existsSync(FILE);
const title = present ? 'AWS IoT Core log entries in ../shared/data' : 'AWS IoT Core log entries in ../shared/data (skipped: ../shared/data/aws-iot-core-log-examples is absent)';

/** What each documented eventType must give in its promoted columns. */
const EXPECTED: Record<string, Record<string, unknown>> = {
  Connect: { status: 'Success', protocol: 'MQTT', clientid: 'abf27092886e49a8a5c1922749736453', sourceip: '205.251.233.181', sourceport: 13490, time: '2017-08-10T15:37:23Z' },
  Disconnect: { disconnectreason: 'CLIENT_INITIATED_DISCONNECT', sourceport: 13490 },
  GetRetainedMessage: { protocol: 'HTTP', topicname: 'a/b/c', clientid: null },
  ListRetainedMessage: { protocol: 'HTTP', topicname: null },
  'Publish-In': { topicname: '$aws/things/MyThing/shadow/get', thingname: 'MyThing', sourceip: '205.251.233.181' },
  'Publish-Out': { topicname: '$aws/things/MyThing/shadow/get', thingname: 'MyThing' },
  Subscribe: { topicname: '$aws/things/MyThing/shadow/#', thingname: 'MyThing' },
  DeleteThingShadow: { thingname: 'Jack', topicname: '$aws/things/Jack/shadow/delete' },
  GetThingShadow: { thingname: 'MyThing' },
  UpdateThingShadow: { thingname: 'Jack', time: '2017-08-07T18:43:59Z' },
  FunctionExecution: { loglevel: 'DEBUG', clientid: 'N/A', rulename: 'ruleTestPredict', ruleaction: 'MachinelearningPredict', accountid: null },
  RuleExecution: { rulename: 'JSONLogsRule', ruleaction: 'RepublishAction', topicname: 'rules/test' },
  RuleMatch: { rulename: 'JSONLogsRule' },
  RuleMessageThrottled: { status: 'Failure', loglevel: 'ERROR', reason: 'RuleExecutionThrottled', details: 'Message for Rule example_rule throttled' },
  RuleNotFound: { status: 'Failure', reason: 'RuleNotFound', details: 'Rule example_rule not found' },
  StartingRuleExecution: { ruleaction: 'RepublishAction' },
  DescribeJobExecution: { jobid: '002', clienttoken: 'myToken', clientid: 'thingOne', thingname: 'thingOne', traceid: null },
  GetPendingJobExecution: { clienttoken: '24b9a741-15a7-44fc-bd3c-1ff2e34e5e82', thingname: '299966ad-54de-40b4-99d3-4fc8b52da0c5' },
  ReportFinalJobExecutionCount: { jobid: '002', clientid: null },
  StartNextPendingJobExecution: { clienttoken: 'bd7447c4-3a05-49f4-8517-dd89b2c68d94' },
  UpdateJobExecution: { jobid: '002', clienttoken: 'myClientToken', details: 'The destination status is IN_PROGRESS. The request status is SUCCESS.' },
  GetDeviceCredentials: { accountid: '123456789101', details: 'Additional details about this log.' },
  ProvisionDevice: { traceid: '8d9c016f-6cc7-441e-8909-7ee3d5563405' },
  AddThingToDynamicThingGroupsFailed: { accountid: '57EXAMPLE833', thingname: 'TestThing', status: 'Failure' },
  NamedShadowCountForDynamicGroupQueryLimitExceeded: { thingname: 'TestThing', loglevel: 'ERROR' },
};

const COLUMN_OF: Record<string, string> = {
  logLevel: 'loglevel', traceId: 'traceid', accountId: 'accountid', status: 'status', eventType: 'eventtype', protocol: 'protocol',
  topicName: 'topicname', clientId: 'clientid', principalId: 'principalid', sourceIp: 'sourceip', reason: 'reason',
  disconnectReason: 'disconnectreason', details: 'details', ruleName: 'rulename', ruleAction: 'ruleaction', jobId: 'jobid', clientToken: 'clienttoken',
};

describe.skipIf(!present)(title, () => {
  const text = present ? readFileSync(FILE, 'utf8') : '';
  const lines = linesOf(text);

  it('is recognised as iot-core, and only as iot-core', () => {
    expect(sniffIotCore(text.slice(0, 65536))).toBe(true);
    expect(detectSource(text.slice(0, 65536), 'cases/c/aws_iot_core_cwl_examples.jsonl').source?.id).toBe('iot-core');
  });

  it('turns all 25 entries into rows, one per eventType, with no problem and no loss', () => {
    // Act
    const result = parseIotCore(text);

    // Assess
    expect(lines).toHaveLength(25);
    expect(result.problems).toEqual([]);
    expect(result.variant).toBe('jsonl');
    expect(result.rows.map((r) => r.index)).toEqual(lines.map((l) => l.index));
    expect(new Set(result.rows.map((r) => r.row.eventtype))).toEqual(new Set(Object.keys(EXPECTED)));
    for (const [i, row] of result.rows.entries()) {
      const original = JSON.parse(lines[i]!.text) as Record<string, unknown>;
      // The whole entry is kept byte for byte; every promoted field equals the original's value.
      expect(row.row.entry).toBe(lines[i]!.text);
      for (const [key, column] of Object.entries(COLUMN_OF)) expect(row.row[column], `${String(original.eventType)}.${key}`).toBe(original[key] ?? null);
      expect(row.row.logtime).toBe(original.timestamp);
      expect(row.row.time).toBe(`${String(original.timestamp).slice(0, 10)}T${String(original.timestamp).slice(11, 19)}Z`);
      expect(row.row.sourceport).toBe(original.sourcePort ?? null);
    }
  });

  it.each(Object.entries(EXPECTED))('gives %s its key fields', (eventType, expected) => {
    // Act
    const row = parseIotCore(text).rows.find((r) => r.row.eventtype === eventType);

    // Assess
    expect(row?.row).toMatchObject(expected);
  });

  it('loads into the table and reads on the timeline, one event per entry', async () => {
    // Prepare
    const engine = await DuckDbQueryEngine.create();
    try {
      // Act
      const loaded = await loadParsed(engine, iotCoreSource, [{ key: 'cases/c/aws_iot_core_cwl_examples.jsonl', result: parseIotCore(text) }]);
      const timeline = await engine.query<{ action: string; outcome: string; actor: string | null }>(`SELECT action, outcome, actor FROM (${IOT_CORE_TIMELINE_SQL}) ORDER BY evidence_record`);

      // Assess
      expect(loaded).toBe(25);
      expect(timeline).toHaveLength(25);
      expect(timeline.filter((t) => t.outcome === 'failure').map((t) => t.action).sort()).toEqual(['AddThingToDynamicThingGroupsFailed', 'NamedShadowCountForDynamicGroupQueryLimitExceeded', 'RuleMessageThrottled', 'RuleNotFound']);
      expect(timeline.find((t) => t.action === 'FunctionExecution')?.actor).toBe('145179c40e2219e18a909d896a5340b74cf97a39641beec2fc3eeafc5a932167');
    } finally {
      await engine.close();
    }
  });
});
