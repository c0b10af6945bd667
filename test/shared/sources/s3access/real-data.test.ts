/**
 * The S3 server access log parser on the public corpora in ../shared/data, read in place:
 * - elastic-integrations-tests/aws_s3access: all 10 lines parse (zero losses) and match the expected output
 *   field by field, Elastic's names mapped to ours, plus the region Elastic derives from the Host header
 *   against the timeline's;
 * - panther-analysis-tests: the unauthenticated-access rule's labelled cases, rendered as log lines, through
 *   the s3-anonymous-access detection.
 * Skips, saying so, when ../shared/data is absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDetection } from '../../../../shared/detections/catalogue.ts';
import { DuckDbQueryEngine } from '../../../../shared/query/duckdb-engine.ts';
import { parseS3AccessLogs, S3_ACCESS_SOURCE } from '../../../../shared/sources/s3access/index.ts';
import { loadSourceTable, sourceRowLine } from '../../../../shared/sources/source-table.ts';
import { tempDir } from '../../../helpers/tmp.ts';

const PROJECT_ROOT = resolve(fileURLToPath(new URL('../../../../', import.meta.url)));
const DATA = resolve(PROJECT_ROOT, '../shared/data');
const present = existsSync(DATA);
const title = present ? 'S3 server access log corpora in ../shared/data' : 'S3 server access log corpora in ../shared/data (skipped: ../shared/data is absent)';
const ELASTIC = 'elastic-integrations-tests/aws_s3access';

const read = (path: string): string => readFileSync(join(DATA, path), 'utf8');

function at(event: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), event);
}

/**
 * Elastic's aws.s3access.* field -> our column. Elastic drops a field whose value is "-", except request_uri,
 * which it keeps as "-" for requests without one (lifecycle operations); we hold NULL for every "-".
 */
const MAPPING: ReadonlyArray<readonly [string, string]> = [
  ['bucket_owner', 'bucketowner'], ['bucket', 'bucket_name'], ['remote_ip', 'remoteip'], ['requester', 'requester'], ['request_id', 'requestid'],
  ['operation', 'operation'], ['key', 'key'], ['request_uri', 'request_uri'], ['http_status', 'httpstatus'], ['error_code', 'errorcode'],
  ['bytes_sent', 'bytessent'], ['object_size', 'objectsize'], ['total_time', 'totaltime'], ['turn_around_time', 'turnaroundtime'],
  ['referrer', 'referrer'], ['user_agent', 'useragent'], ['version_id', 'versionid'], ['host_id', 'hostid'], ['signature_version', 'sigv'],
  ['cipher_suite', 'ciphersuite'], ['authentication_type', 'authtype'], ['host_header', 'endpoint'], ['tls_version', 'tlsversion'],
  ['point_arn', 'accesspointarn'], ['aclrequired', 'aclrequired'],
];

describe.skipIf(!present)(title, () => {
  it('elastic test-s3-server-access.log: all 10 events field by field (REST.GET, BATCH.DELETE, access point ARN, aclRequired, "-" status, S3.EXPIRE.OBJECT)', async () => {
    // Prepare
    const expected = (JSON.parse(read(`${ELASTIC}/test-s3-server-access.log-expected.subset.json`)) as { expected: Array<Record<string, unknown>> }).expected;
    const text = read(`${ELASTIC}/test-s3-server-access.log`);
    const lines = text.split('\n').filter((l) => l.trim() !== '');

    // Act
    const result = parseS3AccessLogs(text, 'test-s3-server-access.log');

    // Assess
    expect(S3_ACCESS_SOURCE.sniff(text, 'test-s3-server-access.log')).toBe(true);
    expect(result.problems).toEqual([]);
    expect(result.rows).toHaveLength(10);
    expect(lines).toHaveLength(10);
    expect(expected).toHaveLength(10);
    let compared = 0;
    for (const [i, event] of expected.entries()) {
      const original = at(event, 'event.original');
      expect(lines[i]).toBe(original);
      const row = result.rows.find((r) => r.index === i)!.row;
      for (const [theirs, ours] of MAPPING) {
        const value = at(event, `aws.s3access.${theirs}`);
        const want = value === '-' ? null : value;
        expect(row[ours] ?? undefined, `${theirs} of line ${i + 1}`).toEqual(want ?? undefined);
        if (value !== undefined) compared++;
      }
      expect(row.time, `@timestamp of line ${i + 1}`).toBe(String(at(event, '@timestamp')).replace('.000Z', 'Z'));
      compared++;
    }
    // 162 aws.s3access values Elastic wrote (it leaves out the "-" ones) plus the 10 timestamps
    expect(compared).toBe(172);

    // The region the timeline gives (from the Host header), against Elastic's cloud.region.
    const engine = await DuckDbQueryEngine.create();
    try {
      const path = join(await tempDir(), 'elastic.ndjson');
      await writeFile(path, result.rows.map((r) => `${sourceRowLine('elastic.log', r.index, r.row)}\n`).join(''));
      await loadSourceTable(engine, S3_ACCESS_SOURCE, [path]);
      const timeline = await engine.query<{ region: string | null; outcome: string; evidence_record: number }>(`SELECT * FROM (${S3_ACCESS_SOURCE.timelineSql}) ORDER BY evidence_record`);
      expect(timeline.map((t) => t.region ?? undefined)).toEqual(expected.map((e) => at(e, 'cloud.region')));
      expect(timeline.map((t) => t.outcome)).toEqual(expected.map((e) => at(e, 'event.outcome')));
    } finally {
      await engine.close();
    }
  });

  describe('panther-analysis-tests: AWS.S3.ServerAccess.Unauthenticated cases through s3-anonymous-access', () => {
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
          .filter((c) => c.rule_id === 'AWS.S3.ServerAccess.Unauthenticated')
      : [];

    it('has the two labelled cases', () => {
      expect(cases.map((c) => [c.test_name, c.expected])).toEqual([['Authenticated Access', false], ['Unauthenticated Access', true]]);
    });

    it.each(cases.map((c) => [c.test_name, c] as const))('%s', async (_name, c) => {
      // Prepare: Panther's case names the bucket and, when authenticated, the requester. Its rule does not look at
      // the status or the address, which the log line needs: a successful GET (200) from a documentation address.
      const detection = await loadDetection(fileURLToPath(new URL('../../../../shared/detections/s3-anonymous-access', import.meta.url)));
      const requester = typeof c.log.requester === 'string' ? c.log.requester : '-';
      const line = `79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be ${String(c.log.bucket)} [14/Mar/2026:01:00:00 +0000] 192.0.2.10 ${requester} 0123456789ABCDEF REST.GET.OBJECT k "GET /k HTTP/1.1" 200 - 10 10 1 1 "-" "-" -\n`;
      const parsed = parseS3AccessLogs(line, 'panther.log');
      expect(parsed.problems).toEqual([]);
      const path = join(await tempDir(), 'panther.ndjson');
      await writeFile(path, parsed.rows.map((r) => `${sourceRowLine('panther.log', r.index, r.row)}\n`).join(''));
      await loadSourceTable(engine, S3_ACCESS_SOURCE, [path]);

      // Act
      const findings = await engine.query(detection.sql);

      // Assess
      expect(findings.length > 0).toBe(c.expected);
    });
  });
});
