/**
 * The VPC / Transit Gateway flow log parser on every variant, from the synthetic fixtures under
 * test/fixtures/aws/vpcflow/<variant>/ (written to the AWS-documented formats).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FORMATS, isHeader, parseVpcFlowLogs, sniffVpcFlow, VPC_FLOW_COLUMNS, VPC_FLOW_SOURCE } from '../../../../shared/sources/vpcflow/index.ts';
import { S3_ACCESS_SOURCE } from '../../../../shared/sources/s3access/index.ts';

const FIXTURES = fileURLToPath(new URL('../../../fixtures/aws/vpcflow/', import.meta.url));
const T0 = Date.parse('2026-03-14T01:05:00Z') / 1000;

/** The one file under a variant's folder (its path keeps the delivery layout). */
function fixture(variant: string): { key: string; text: string } {
  const walk = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]));
  const files = walk(join(FIXTURES, variant));
  if (files.length !== 1) throw new Error(`${variant}: expected one fixture file, found ${files.length}`);
  return { key: files[0]!.slice(FIXTURES.length), text: readFileSync(files[0]!, 'utf8') };
}

const parse = (variant: string) => {
  const { key, text } = fixture(variant);
  return parseVpcFlowLogs(text, key);
};

describe('Function: parseVpcFlowLogs', () => {
  it('reads the default (v2) format as S3 delivers it: header, records, NODATA and SKIPDATA kept, "-" as NULL', () => {
    // Act
    const result = parse('v2');

    // Assess
    expect(result.variant).toBe('v2');
    expect(result.problems).toEqual([]);
    expect(result.rows.map((r) => [r.index, r.line])).toEqual([[1, 2], [2, 3], [3, 4], [4, 5], [5, 6], [6, 7], [7, 8]]);
    expect(result.rows[0]!.row).toEqual({
      version: 2, account_id: '111122223333', interface_id: 'eni-0a1b2c3d4e5f60718', srcaddr: '10.0.1.15', dstaddr: '203.0.113.50', srcport: 49152,
      dstport: 443, protocol: 6, packets: 25, bytes: 20000, start: T0, end: T0 + 60, action: 'ACCEPT', log_status: 'OK', time: '2026-03-14T01:05:00Z',
    });
    expect(result.rows[3]!.row).toMatchObject({ srcaddr: '2001:db8:1::15', dstaddr: '2001:db8:2::9', dstport: 3389 });
    expect(result.rows[5]!.row).toEqual({
      version: 2, account_id: '111122223333', interface_id: 'eni-0f0e0d0c0b0a09080', srcaddr: null, dstaddr: null, srcport: null, dstport: null,
      protocol: null, packets: null, bytes: null, start: T0, end: T0 + 60, action: null, log_status: 'NODATA', time: '2026-03-14T01:05:00Z',
    });
    expect(result.rows[6]!.row).toMatchObject({ log_status: 'SKIPDATA', action: null, bytes: null });
  });

  it('reads every version 2-5 field (v5) and every version 2-8 field (v8: ECS metadata, reject-reason)', () => {
    // Act
    const v5 = parse('v5');
    const v8 = parse('v8');

    // Assess
    expect([v5.variant, v5.problems, v5.rows.length]).toEqual(['v5', [], 3]);
    expect(v5.rows[0]!.row).toMatchObject({
      version: 5, vpc_id: 'vpc-0a1b2c3d', subnet_id: 'subnet-0a1b2c3d', instance_id: 'i-0123456789abcdef0', tcp_flags: 3, type: 'IPv4',
      pkt_srcaddr: '10.0.1.15', pkt_dstaddr: '52.94.133.131', region: 'us-east-1', az_id: 'use1-az4', sublocation_type: null, sublocation_id: null,
      pkt_src_aws_service: null, pkt_dst_aws_service: 'DYNAMODB', flow_direction: 'egress', traffic_path: 8,
    });
    expect(v5.rows[1]!.row).toMatchObject({ sublocation_type: 'wavelength', sublocation_id: 'wlz-0a1b2c3d', flow_direction: 'ingress', traffic_path: null });
    expect(v5.rows[2]!.row).toMatchObject({ srcaddr: '10.0.1.200', pkt_srcaddr: '10.0.1.15', instance_id: null, tcp_flags: 19 });
    expect([v8.variant, v8.problems, v8.rows.length]).toEqual(['v8', [], 2]);
    expect(v8.rows[0]!.row).toMatchObject({
      ecs_cluster_arn: 'arn:aws:ecs:us-east-1:111122223333:cluster/prod', ecs_cluster_name: 'prod', ecs_container_instance_id: 'i-0abcdef1234567890',
      ecs_service_name: 'orders', ecs_task_definition_arn: 'arn:aws:ecs:us-east-1:111122223333:task-definition/orders:42', ecs_task_id: '9f8e7d6c5b4a', reject_reason: null,
    });
    expect(v8.rows[1]!.row).toMatchObject({ action: 'REJECT', reject_reason: 'BPA', ecs_cluster_name: 'prod', ecs_task_arn: null });
  });

  it('reads a custom format by its header, whatever the order and subset of fields', () => {
    // Act
    const result = parse('custom-order');

    // Assess
    expect(result.variant).toBe('custom');
    expect(result.problems).toEqual([]);
    expect(result.rows.map((r) => r.row)).toEqual([
      { start: T0, srcaddr: '10.0.1.15', dstaddr: '203.0.113.50', dstport: 443, action: 'ACCEPT', bytes: 20000, end: T0 + 60, interface_id: 'eni-0a1b2c3d4e5f60718', flow_direction: 'egress', tcp_flags: 19, pkt_dstaddr: '203.0.113.50', time: '2026-03-14T01:05:00Z' },
      { start: T0 + 1, srcaddr: '198.51.100.7', dstaddr: '10.0.1.15', dstport: 22, action: 'REJECT', bytes: 44, end: T0 + 60, interface_id: 'eni-0a1b2c3d4e5f60718', flow_direction: 'ingress', tcp_flags: 2, pkt_dstaddr: '10.0.1.15', time: '2026-03-14T01:05:01Z' },
    ]);
  });

  it('reads headerless lines with the default layout their field count selects (v2, v5, v8), line by line', () => {
    // Act
    const result = parse('no-header');

    // Assess
    expect(result.variant).toBe('no-header/v2+v5+v8');
    expect(result.problems).toEqual([]);
    expect(result.rows.map((r) => [r.index, r.row.version, r.row.flow_direction ?? null, r.row.reject_reason ?? null, r.row.log_status])).toEqual([
      [0, 2, null, null, 'OK'], [1, 5, 'egress', null, 'OK'], [2, 8, 'ingress', 'BPA', 'OK'], [3, 2, null, null, 'NODATA'],
    ]);
  });

  it('names each default layout by its distinct field count', () => {
    // Assess
    expect([...DEFAULT_FORMATS.entries()].map(([n, f]) => [f.name, n])).toEqual([['v2', 14], ['v3', 21], ['v4', 25], ['v5', 29], ['v7', 39], ['v8', 40], ['transit-gateway', 36]]);
  });

  it('reads a CloudWatch Logs export task file (timestamp-prefixed lines), falling back on the event time only when a record has no start or end', () => {
    // Act
    const result = parse('cloudwatch-export');

    // Assess
    expect(result.variant).toBe('cloudwatch-export/v2');
    expect(result.problems).toEqual([]);
    expect(result.rows.map((r) => [r.index, r.row.srcaddr, r.row.log_status, r.row.time])).toEqual([
      [0, '10.0.1.15', 'OK', '2026-03-14T01:05:00Z'], [1, '198.51.100.7', 'OK', '2026-03-14T01:05:05Z'], [2, null, 'NODATA', '2026-03-14T01:06:00Z'],
    ]);
    const custom = parseVpcFlowLogs('2026-03-14T01:05:07.000Z srcaddr dstaddr\n', 'x');
    expect(custom.rows).toEqual([]);
    const noTimes = parseVpcFlowLogs('srcaddr dstaddr action\n2026-03-14T01:05:07.250Z 10.0.0.1 10.0.0.2 ACCEPT\n', 'x');
    expect(noTimes.rows.map((r) => r.row.time)).toEqual(['2026-03-14T01:05:07Z']);
  });

  it('reads get-log-events JSON (events with a message), positions being the event ordinals', () => {
    // Act
    const result = parse('cloudwatch-events');

    // Assess
    expect(result.variant).toBe('cloudwatch-events/v2+v5');
    expect(result.problems).toEqual([]);
    expect(result.rows.map((r) => [r.index, r.row.srcaddr, r.row.version])).toEqual([[0, '10.0.1.15', 2], [1, '198.51.100.7', 2], [2, '10.0.1.15', 5]]);
  });

  it('reads concatenated subscription-filter payloads (Firehose), skipping CloudWatch control messages but counting their positions', () => {
    // Act
    const result = parse('cloudwatch-subscription');

    // Assess
    expect(result.variant).toBe('cloudwatch-subscription/v2');
    expect(result.problems).toEqual([]);
    expect(result.rows.map((r) => [r.index, r.row.log_status, r.row.interface_id])).toEqual([
      [1, 'OK', 'eni-0a1b2c3d4e5f60718'], [2, 'OK', 'eni-0a1b2c3d4e5f60718'], [3, 'SKIPDATA', 'eni-0f0e0d0c0b0a09081'],
    ]);
  });

  it('reads JSON Lines of events, one event per line with its line number', () => {
    // Prepare
    const line = (m: string, ts: number) => JSON.stringify({ timestamp: ts * 1000, message: m });
    const text = [line(`2 111122223333 eni-0a 10.0.0.1 203.0.113.1 1 2 6 1 40 ${T0} ${T0 + 1} ACCEPT OK`, T0), '{"timestamp": 1, "nomessage": true}', line('garbage', T0)].join('\n');

    // Act
    const result = parseVpcFlowLogs(text, 'events.jsonl');

    // Assess
    expect(result.variant).toBe('cloudwatch-jsonl/v2');
    expect(result.rows.map((r) => [r.index, r.line])).toEqual([[0, 1]]);
    expect(result.problems).toEqual([
      { index: 1, line: 2, reason: 'log event has no string "message"' },
      { index: 2, line: 3, reason: expect.stringContaining('1 space-separated fields and no header line naming them') },
    ]);
  });

  it('reads Transit Gateway flow logs with their header, and headerless (all 36 fields, their default)', () => {
    // Act
    const walk = readdirSync(join(FIXTURES, 'transit-gateway'));
    expect(walk.sort()).toEqual(['AWSLogs', 'headerless.log']);
    const withHeader = parse('transit-gateway/AWSLogs');
    const headerless = parseVpcFlowLogs(readFileSync(join(FIXTURES, 'transit-gateway/headerless.log'), 'utf8'), 'headerless.log');

    // Assess
    expect([withHeader.variant, withHeader.problems, withHeader.rows.length]).toEqual(['transit-gateway', [], 3]);
    expect(withHeader.rows[0]!.row).toMatchObject({
      version: 6, resource_type: 'TransitGateway', account_id: '111122223333', tgw_id: 'tgw-0a1b2c3d4e5f60718', tgw_attachment_id: 'tgw-attach-0a1b2c3d4e5f60718',
      tgw_src_vpc_account_id: '111122223333', tgw_dst_vpc_account_id: '444455556666', tgw_src_vpc_id: 'vpc-0a1b2c3d', tgw_dst_vpc_id: 'vpc-0f1e2d3c',
      tgw_src_subnet_id: 'subnet-0a1b2c3d', tgw_dst_subnet_id: 'subnet-0f1e2d3c', tgw_src_eni: 'eni-0a1b2c3d4e5f60718', tgw_dst_eni: 'eni-0f1e2d3c4b5a69788',
      tgw_src_az_id: 'use1-az4', tgw_dst_az_id: 'use1-az6', tgw_pair_attachment_id: 'tgw-attach-0f1e2d3c4b5a69788', srcaddr: '10.0.1.15', dstaddr: '10.1.2.20',
      bytes: 25000, log_status: 'OK', type: 'IPv4', packets_lost_no_route: 0, packets_lost_blackhole: 0, packets_lost_mtu_exceeded: 0, packets_lost_ttl_expired: 0,
      tcp_flags: 19, region: 'us-east-1', flow_direction: 'egress', pkt_src_aws_service: null, pkt_dst_aws_service: null, time: '2026-03-14T01:05:00Z',
    });
    expect(withHeader.rows[1]!.row).toMatchObject({ resource_type: 'TransitGatewayAttachment', packets_lost_no_route: 5 });
    expect(withHeader.rows[2]!.row).toMatchObject({ log_status: 'NODATA', tgw_attachment_id: null, srcaddr: null });
    expect(withHeader.rows[0]!.row).not.toHaveProperty('action');
    expect([headerless.variant, headerless.problems]).toEqual(['no-header/transit-gateway', []]);
    expect(headerless.rows.map((r) => r.row)).toEqual(withHeader.rows.slice(0, 2).map((r) => r.row));
  });

  it('reports every bad line with its line and reason, keeps the good ones, and keeps hostile strings byte for byte (CRLF file)', () => {
    // Act
    const result = parse('bad-lines');

    // Assess
    expect(result.rows.map((r) => r.line)).toEqual([2, 3, 8]);
    expect(result.problems).toEqual([
      { index: 3, line: 4, reason: '15 fields where the header names 17' },
      { index: 4, line: 5, reason: 'field srcport is not a 32-bit unsigned integer: "http"' },
      { index: 5, line: 6, reason: 'field 12 (end) is empty: two spaces in a row' },
      { index: 6, line: 7, reason: 'field bytes is not an unsigned integer: "99999999999999999999"' },
    ]);
    expect(result.rows[0]!.row).toMatchObject({
      interface_id: 'eni-<script>alert(1)</script>', vpc_id: "vpc-'--;DROP\\TABLE", subnet_id: 'subnet-\u00e9\u00f1\u2603\u202eevil', instance_id: 'i-\\u0041\\n%00',
    });
    expect(result.rows[1]!.row.interface_id).toBe('=HYPERLINK("http://x.example","x")');
    expect(result.rows[2]!.row.instance_id).toBe('i-0123456789abcdef0');
  });

  it('loads header fields it does not know as nothing, says so once, and keeps the following fields aligned', () => {
    // Act
    const result = parseVpcFlowLogs(`srcaddr some-future-field dstaddr start\n10.0.0.1 xyz 10.0.0.2 ${T0}\n`, 'x');

    // Assess
    expect(result.problems).toEqual([{ index: 0, line: 1, reason: expect.stringContaining('some-future-field') }]);
    expect(result.rows.map((r) => r.row)).toEqual([{ srcaddr: '10.0.0.1', dstaddr: '10.0.0.2', start: T0, time: '2026-03-14T01:05:00Z' }]);
  });

  it('reports a line that fits no default layout and has no header, and a record that cannot be placed in time', () => {
    // Act
    const result = parseVpcFlowLogs('2 111122223333 eni-0a 10.0.0.1\nsrcaddr dstaddr\n10.0.0.1 10.0.0.2\n', 'x');

    // Assess
    expect(result.rows).toEqual([]);
    expect(result.problems).toEqual([
      { index: 0, line: 1, reason: expect.stringContaining('4 space-separated fields and no header line naming them') },
      { index: 2, line: 3, reason: 'the record has neither start nor end, and no log event time: it cannot be placed in time' },
    ]);
  });

  it('reports truncated or invalid JSON instead of throwing', () => {
    // Act
    const truncated = parseVpcFlowLogs('{"events": [{"message": "2 1', 'x');
    const invalid = parseVpcFlowLogs('{"events": [1,]}\n', 'x');

    // Assess
    expect(truncated.problems).toEqual([{ index: 0, line: 1, reason: 'JSON value is not terminated (truncated file?)' }]);
    expect(invalid.problems).toEqual([{ index: 0, line: 1, reason: expect.stringMatching(/^invalid JSON: /) }]);
  });
});

describe('Function: sniffVpcFlow', () => {
  it.each(['v2', 'v5', 'v8', 'custom-order', 'no-header', 'cloudwatch-export', 'cloudwatch-events', 'cloudwatch-subscription', 'transit-gateway/AWSLogs', 'bad-lines'])(
    'recognises the %s fixture, and S3 access logs do not claim it',
    (variant) => {
      // Prepare
      const { key, text } = fixture(variant);

      // Act / Assess
      expect(VPC_FLOW_SOURCE.sniff(text, key)).toBe(true);
      expect(S3_ACCESS_SOURCE.sniff(text, key)).toBe(false);
    },
  );

  it.each([
    ['a CloudTrail file', '{"Records":[{"eventVersion":"1.08","eventName":"GetObject"}]}'],
    ['CloudWatch events of another log', '{"events":[{"timestamp":1,"message":"START RequestId: 1 Version: $LATEST"}]}'],
    ['plain text', 'hello world\n'],
    ['an S3 server access log', '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be b [06/Feb/2019:00:00:38 +0000] 192.0.2.3 - 3E57427F3EXAMPLE REST.GET.VERSIONING - "GET /b?versioning HTTP/1.1" 200 - 113 - 7 - "-" "S3Console/0.4" -\n'],
    ['fourteen numbers', '1 2 3 4 5 6 7 8 9 10 11 12 13 14\n'],
    ['an empty file', ''],
  ])('does not claim %s', (_what, head) => {
    // Act / Assess
    expect(sniffVpcFlow(head)).toBe(false);
  });

  it('looks past a damaged first line, and accepts the shortened account ids of anonymised samples', () => {
    // Assess
    expect(sniffVpcFlow(`garbage at the top\n2 111122223333 eni-0a 10.0.0.1 203.0.113.1 1 2 6 1 40 ${T0} ${T0 + 1} ACCEPT OK\n`)).toBe(true);
    expect(sniffVpcFlow(`2 6411111761 eni-0a 10.0.0.1 203.0.113.1 1 2 6 1 40 ${T0} ${T0 + 1} ACCEPT OK\n`)).toBe(true);
  });

  it('takes only field-name lines with known names as headers', () => {
    // Assess
    expect(isHeader(['version', 'srcaddr'])).toBe(true);
    expect(isHeader(['eni-0a1b', 'accept'])).toBe(false);
    expect(isHeader(['srcaddr', '10.0.0.1'])).toBe(false);
  });
});

describe('Source: vpcflow', () => {
  it('declares the Athena column names, time last, and one column per known field', () => {
    // Assess
    expect(VPC_FLOW_SOURCE).toMatchObject({ id: 'vpcflow', cloud: 'aws', table: 'vpc_flow_logs', timeColumn: 'time' });
    const names = VPC_FLOW_COLUMNS.map((c) => c.name);
    expect(names.slice(0, 14)).toEqual(['version', 'account_id', 'interface_id', 'srcaddr', 'dstaddr', 'srcport', 'dstport', 'protocol', 'packets', 'bytes', 'start', 'end', 'action', 'log_status']);
    expect(names).toEqual(expect.arrayContaining(['vpc_id', 'tcp_flags', 'pkt_srcaddr', 'az_id', 'sublocation_id', 'flow_direction', 'traffic_path', 'ecs_task_id', 'reject_reason', 'resource_type', 'tgw_id', 'packets_lost_ttl_expired']));
    expect(names.at(-1)).toBe('time');
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('Robustness: parseVpcFlowLogs', () => {
  it('never throws, and accounts for every non-blank line, on a thousand mangled files', () => {
    // Prepare: real lines cut, spliced and sprinkled with hostile characters, plus JSON fragments
    const seedText = [fixture('v2').text, fixture('v8').text, fixture('cloudwatch-events').text, fixture('cloudwatch-export').text].join('\n');
    let a = 2026;
    const rnd = (): number => {
      a = (Math.imul(a, 1103515245) + 12345) >>> 0;
      return a / 4294967296;
    };
    const alphabet = [' ', '-', '"', '{', '}', '[', ']', '\\', '\n', '\r', '\u0000', '\u202e', '9', '99999999999999999999', 'version', 'srcaddr', '2026-03-14T01:05:07.000Z ', '{"timestamp":1e300,"message":"'];

    for (let n = 0; n < 1000; n++) {
      let text = seedText.slice(Math.floor(rnd() * seedText.length / 2), Math.floor(seedText.length / 2 + rnd() * seedText.length / 2));
      for (let k = 0; k < 20; k++) {
        const at = Math.floor(rnd() * text.length);
        text = text.slice(0, at) + alphabet[Math.floor(rnd() * alphabet.length)]! + text.slice(at + Math.floor(rnd() * 3));
      }

      // Act
      const result = parseVpcFlowLogs(text, 'fuzz');

      // Assess
      if (!/^\s*[[{]/.test(text)) {
        const nonBlank = text.split('\n').filter((l) => l.replace(/\r$/, '').trim() !== '').length;
        const headers = text.split('\n').filter((l) => isHeader(l.replace(/\r$/, '').replace(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z /, '').split(' '))).length;
        expect(result.rows.length + result.problems.filter((p) => !/^header names/.test(p.reason)).length + headers).toBe(nonBlank);
      }
      for (const r of result.rows) expect(r.row.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    }
  });
});
