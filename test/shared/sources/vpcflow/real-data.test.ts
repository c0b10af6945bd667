/**
 * The flow log parser on the public corpora in ../shared/data, read in place:
 * - elastic-integrations-tests/aws_vpcflow: every line of every file parses (zero losses), each row put back
 *   together in its layout reproduces the line byte for byte, and the 7 events of the expected-output subset
 *   match field by field (Elastic's names mapped to ours);
 * - panther-analysis-tests: the SSH-allowed rule's labelled cases, rendered as flow log lines, through the
 *   vpc-sensitive-port-open-to-internet detection.
 * Skips, saying so, when ../shared/data is absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDetection } from '../../../../shared/detections/catalogue.ts';
import { DuckDbQueryEngine } from '../../../../shared/query/duckdb-engine.ts';
import { loadSourceTable, sourceRowLine } from '../../../../shared/sources/source-table.ts';
import { DEFAULT_FORMATS, parseVpcFlowLogs, VPC_FLOW_SOURCE } from '../../../../shared/sources/vpcflow/index.ts';
import { tempDir } from '../../../helpers/tmp.ts';

const PROJECT_ROOT = resolve(fileURLToPath(new URL('../../../../', import.meta.url)));
const DATA = resolve(PROJECT_ROOT, '../shared/data');
const present = existsSync(DATA);
const title = present ? 'VPC flow log corpora in ../shared/data' : 'VPC flow log corpora in ../shared/data (skipped: ../shared/data is absent)';
const ELASTIC = 'elastic-integrations-tests/aws_vpcflow';

const read = (path: string): string => readFileSync(join(DATA, path), 'utf8');
const lines = (text: string): string[] => text.split('\n').filter((l) => l.trim() !== '');

/** The row written back as its line: the layout's fields in order, NULL as "-". */
function unparse(row: Readonly<Record<string, unknown>>, layout: string): string {
  const format = [...DEFAULT_FORMATS.values()].find((f) => f.name === layout);
  if (!format) throw new Error(`no layout ${layout}`);
  return format.fields.map((f) => (row[f.column] === null || row[f.column] === undefined ? '-' : String(row[f.column]))).join(' ');
}

/** A dotted path in an expected event, or undefined. */
function at(event: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), event);
}

const iso = (seconds: unknown): string | null => (typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : null);

/**
 * Elastic's field -> our value. Elastic keeps numbers as numbers except version and the protocol number (strings),
 * writes times with milliseconds, takes `end` as @timestamp, and says allow/deny where the record says ACCEPT/REJECT.
 */
const MAPPING: ReadonlyArray<readonly [string, (row: Readonly<Record<string, unknown>>) => unknown]> = [
  ['@timestamp', (r) => iso(r.end)],
  ['event.start', (r) => iso(r.start)],
  ['event.end', (r) => iso(r.end)],
  ['cloud.account.id', (r) => r.account_id],
  ['aws.vpcflow.version', (r) => (r.version === null ? null : String(r.version))],
  ['aws.vpcflow.account_id', (r) => r.account_id],
  ['aws.vpcflow.interface_id', (r) => r.interface_id],
  ['aws.vpcflow.action', (r) => r.action],
  ['aws.vpcflow.log_status', (r) => r.log_status],
  ['event.outcome', (r) => (r.action === 'ACCEPT' ? 'allow' : r.action === 'REJECT' ? 'deny' : null)],
  ['source.address', (r) => r.srcaddr],
  ['source.ip', (r) => r.srcaddr],
  ['source.port', (r) => r.srcport],
  ['source.bytes', (r) => r.bytes],
  ['source.packets', (r) => r.packets],
  ['destination.address', (r) => r.dstaddr],
  ['destination.ip', (r) => r.dstaddr],
  ['destination.port', (r) => r.dstport],
  ['network.iana_number', (r) => (r.protocol === null ? null : String(r.protocol))],
  ['network.bytes', (r) => r.bytes],
  ['network.packets', (r) => r.packets],
  ['network.type', (r) => (typeof r.srcaddr === 'string' ? (r.srcaddr.includes(':') ? 'ipv6' : 'ipv4') : null)],
];

describe.skipIf(!present)(title, () => {
  it('elastic test-extra-samples.log: the 7 events of the expected output, field by field (v2 default, IPv6, NODATA, SKIPDATA, ICMP)', () => {
    // Prepare
    const expected = (JSON.parse(read(`${ELASTIC}/test-extra-samples.log-expected.subset.json`)) as { expected: Array<{ event: { original: string } }> }).expected;
    const text = read(`${ELASTIC}/test-extra-samples.log`);

    // Act
    const result = parseVpcFlowLogs(text, 'test-extra-samples.log');

    // Assess
    expect(result.problems).toEqual([]);
    expect(result.rows).toHaveLength(lines(text).length);
    expect(expected).toHaveLength(7);
    let compared = 0;
    for (const event of expected) {
      const row = result.rows.find((r) => lines(text)[r.index] === event.event.original);
      expect(row, event.event.original).toBeDefined();
      for (const [path, ours] of MAPPING) {
        const theirs = at(event, path);
        // A field Elastic leaves out is one the record does not have: ours must be NULL then.
        expect(ours(row!.row) ?? undefined, `${path} of ${event.event.original}`).toEqual(theirs);
        if (theirs !== undefined) compared++;
      }
      expect(row!.row.time).toBe((at(event, 'event.start') as string).replace('.000Z', 'Z'));
    }
    // 22 mapped fields in each of the 5 flow events, 8 in each NODATA/SKIPDATA event: 126 values compared
    expect(compared).toBe(5 * 22 + 2 * 8);
  });

  it.each([
    ['test-extra-samples.log', 'no-header/v2', 7],
    ['test-v5-all-fields.log', 'no-header/v5', 1],
    ['test-v8-samples.log', 'no-header/v8', 1],
    ['test-tgw-samples.log', 'no-header/transit-gateway', 10],
  ])('elastic %s: recognised, every line parses (%s) and each row, put back together, is the line byte for byte', (file, variant, count) => {
    // Prepare
    const text = read(`${ELASTIC}/${file}`);

    // Act
    const result = parseVpcFlowLogs(text, file);

    // Assess
    expect(VPC_FLOW_SOURCE.sniff(text, file)).toBe(true);
    expect(result.variant).toBe(variant);
    expect(result.problems).toEqual([]);
    expect(result.rows).toHaveLength(count);
    expect(result.rows.length).toBe(lines(text).length);
    const layout = variant.split('/')[1]!;
    for (const r of result.rows) expect(unparse(r.row, layout)).toBe(lines(text)[r.index]);
  });

  it('elastic v8 and Transit Gateway samples: the fields only those layouts have', () => {
    // Act
    const v8 = parseVpcFlowLogs(read(`${ELASTIC}/test-v8-samples.log`), 'v8').rows[0]!.row;
    const tgw = parseVpcFlowLogs(read(`${ELASTIC}/test-tgw-samples.log`), 'tgw').rows.map((r) => r.row);

    // Assess
    expect(v8).toMatchObject({ log_status: 'NODATA', action: 'REJECT', flow_direction: 'ingress', ecs_cluster_name: 'backend-cluster', ecs_service_name: 'payments-service', ecs_task_id: 'e504f037-35c', reject_reason: 'BPA' });
    expect(tgw.map((r) => r.log_status)).toEqual(['SKIPDATA', 'NODATA', 'OK', 'SKIPDATA', 'SKIPDATA', 'SKIPDATA', 'OK', 'SKIPDATA', 'OK', 'SKIPDATA']);
    expect(new Set(tgw.map((r) => r.tgw_id))).toEqual(new Set(['tgw-0a12bc34de56f7890']));
    expect(tgw.every((r) => r.flow_direction === 'ingress' && r.resource_type === null && !('action' in r))).toBe(true);
  });

  describe('panther-analysis-tests: AWS.VPC.SSHAllowedSignal cases through vpc-sensitive-port-open-to-internet', () => {
    let engine: DuckDbQueryEngine;
    beforeAll(async () => {
      engine = await DuckDbQueryEngine.create();
    });
    afterAll(async () => {
      await engine?.close();
    });

    const cases = present
      ? readFileSync(join(DATA, 'panther-analysis-tests/panther_rule_tests.flattened.jsonl'), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { rule_id: string; test_name: string; expected: boolean; log: Record<string, unknown> })
          .filter((c) => c.rule_id === 'AWS.VPC.SSHAllowedSignal')
      : [];

    it('has the four labelled cases', () => {
      expect(cases.map((c) => [c.test_name, c.expected])).toEqual([
        ['Public to Private IP on SSH Allowed', true],
        ['Public to Private IP on non-SSH', false],
        ['Private to Private IP on SSH', false],
        ['Public to Private IP on SSH Denied', false],
      ]);
    });

    it.each(cases.map((c) => [c.test_name, c] as const))('%s', async (_name, c) => {
      // Prepare: the case as a custom-format flow record. Panther's case has no protocol or time: SSH is TCP
      // (protocol 6), and any time will do for one record.
      const detection = await loadDetection(fileURLToPath(new URL('../../../../shared/detections/vpc-sensitive-port-open-to-internet', import.meta.url)));
      const l = c.log;
      const text = `srcaddr dstaddr srcport dstport protocol instance-id action start end log-status\n${l.srcAddr} ${l.dstAddr} 50000 ${l.dstPort} 6 ${l.instanceId} ${l.action} 1773450300 1773450360 OK\n`;
      const parsed = parseVpcFlowLogs(text, 'panther.log');
      expect(parsed.problems).toEqual([]);
      const path = join(await tempDir(), 'panther.ndjson');
      await writeFile(path, parsed.rows.map((r) => `${sourceRowLine('panther.log', r.index, r.row)}\n`).join(''));
      await loadSourceTable(engine, VPC_FLOW_SOURCE, [path]);

      // Act
      const findings = await engine.query(detection.sql);

      // Assess
      expect(findings.length > 0).toBe(c.expected);
    });
  });
});
