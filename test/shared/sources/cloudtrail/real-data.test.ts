/**
 * The parser against every public CloudTrail corpus in ../shared/data, read in place. Each count is
 * established independently (plain JSON.parse) and the parser must account for every record: accepted
 * plus rejected equals the total, with the exact numbers pinned. Skips, saying so, when the folder is absent.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { UnsupportedFormatError } from '../../../../shared/errors.ts';
import {
  parseCloudTrail,
  parseCloudTrailDigestContent,
  parseDigestKey,
  parseLogFileKey,
  sniffCloudTrail,
  type CloudTrailParseResult,
} from '../../../../shared/sources/cloudtrail/index.ts';

const PROJECT_ROOT = resolve(fileURLToPath(new URL('../../../../', import.meta.url)));
const DATA = resolve(PROJECT_ROOT, '../shared/data');
const present = existsSync(DATA);
const title = present ? 'CloudTrail corpora in ../shared/data' : 'CloudTrail corpora in ../shared/data (skipped: ../shared/data is absent)';

function read(path: string): Buffer {
  return readFileSync(join(DATA, path));
}

function list(dir: string, suffix: string): string[] {
  return readdirSync(join(DATA, dir))
    .filter((f) => f.endsWith(suffix))
    .sort()
    .map((f) => `${dir}/${f}`);
}

/** Independent count: how many records a file holds, by the plainest reading of its shape. */
function countRecords(text: string): number {
  const trimmed = text.trim();
  if (trimmed === '') return 0;
  try {
    const doc = JSON.parse(trimmed) as unknown;
    if (Array.isArray(doc)) return doc.length;
    if (typeof doc === 'object' && doc !== null && Array.isArray((doc as { Records?: unknown }).Records)) return (doc as { Records: unknown[] }).Records.length;
    return 1;
  } catch {
    return trimmed.split('\n').filter((l) => l.trim() !== '').length;
  }
}

/** Parses a file plain and gzip-compressed; both must agree, sniffing must agree, and nothing may be lost. */
function parseBoth(path: string): CloudTrailParseResult {
  const bytes = read(path);
  const plain = parseCloudTrail(bytes, path);
  const gz = parseCloudTrail(gzipSync(bytes), `${path}.gz`);
  expect(gz.records).toEqual(plain.records);
  expect(gz.rejected.map((r) => [r.index, r.reason])).toEqual(plain.rejected.map((r) => [r.index, r.reason]));
  expect(sniffCloudTrail(bytes, path).shape).toBe(plain.shape);
  expect(plain.errors).toEqual([]);
  expect(plain.records.length + plain.rejected.length).toBe(countRecords(bytes.toString('utf8')));
  return plain;
}

describe.skipIf(!present)(title, () => {
  it('invictus-aws-dataset: all 2,900 records of the 55 S3-delivered files, each at its Records position', () => {
    // Prepare
    const files = list('invictus-aws-dataset/CloudTrail', '.json');
    let total = 0;
    let accepted = 0;

    // Act / Assess (per file)
    for (const path of files) {
      const original = (JSON.parse(read(path).toString('utf8')) as { Records: Array<{ eventID: string }> }).Records;
      const result = parseBoth(path);
      expect(result.shape).toBe('records');
      expect(result.rejected).toEqual([]);
      expect(result.records.map((r) => r.index)).toEqual([...original.keys()]);
      expect(result.records.map((r) => r.record.eventID)).toEqual(original.map((r) => r.eventID));
      total += original.length;
      accepted += result.records.length;
    }

    // Assess (corpus)
    expect(files).toHaveLength(55);
    expect(total).toBe(2900);
    expect(accepted).toBe(2900);
  });

  it('otrf-security-datasets: all 103 Logstash-shipped events get eventTime from @timestamp, marked', () => {
    const path = 'otrf-security-datasets/extracted/ec2_proxy_s3_exfiltration/ec2_proxy_s3_exfiltration_2020-09-14011940.json';
    const lines = read(path).toString('utf8').split('\n').filter((l) => l.trim() !== '');

    const result = parseBoth(path);

    expect(result.shape).toBe('jsonl');
    expect(lines).toHaveLength(103);
    expect(result.records).toHaveLength(103);
    expect(result.rejected).toEqual([]);
    expect(result.records.every((r) => r.derived?.eventTime.from === '@timestamp')).toBe(true);
    const times = result.records.map((r) => r.record.eventTime as string).sort();
    expect([times[0], times[times.length - 1]]).toEqual(['2020-09-14T00:44:20Z', '2020-09-14T01:13:20Z']);
    expect(result.records[0]!.record.eventTime).toBe('2020-09-14T00:44:23Z');
    expect(result.records[0]!.record['@timestamp']).toBe('2020-09-14T00:44:23.000Z');
  });

  it('aws-cloudtrail-userguide-examples: 19 events and 3 Insights events as JSON Lines', () => {
    const events = parseBoth('aws-cloudtrail-userguide-examples/cloudtrail_doc_events.jsonl');
    const insights = parseBoth('aws-cloudtrail-userguide-examples/cloudtrail_doc_insights.jsonl');

    expect([events.records.length, events.rejected.length]).toEqual([19, 0]);
    expect([insights.records.length, insights.rejected.length]).toEqual([3, 0]);
    expect(events.records.filter((r) => r.record.eventSource === 'signin.amazonaws.com')).toHaveLength(10);
    expect(events.records.filter((r) => r.record.eventName === 'ConsoleLogin')).toHaveLength(7);
    expect(insights.records.every((r) => r.record.eventType === 'AwsCloudTrailInsight')).toBe(true);
  });

  it('traildiscover: every example record (315 under events/, 563 under docs/logExamples/)', () => {
    const corpora: Array<[string[], number]> = [
      [readdirSync(join(DATA, 'traildiscover/events')).sort().flatMap((service) => list(`traildiscover/events/${service}`, '.json.cloudtrail')), 315],
      [list('traildiscover/docs/logExamples', '.cloudtrail'), 563],
    ];
    for (const [files, expected] of corpora) {
      let total = 0;
      let accepted = 0;
      for (const path of files) {
        const result = parseBoth(path);
        expect(result.rejected).toEqual([]);
        total += countRecords(read(path).toString('utf8'));
        accepted += result.records.length;
      }
      expect(total).toBe(expected);
      expect(accepted).toBe(expected);
    }
  });

  it('crowdsec-hub-aws: the 13 CloudTrail records of the scenario test logs', () => {
    const files = readdirSync(join(DATA, 'crowdsec-hub-aws/tests')).sort().flatMap((dir) => list(`crowdsec-hub-aws/tests/${dir}`, '.log'));

    const results = files.map((path) => parseBoth(path));

    expect(results.map((r) => r.shape)).toEqual(['jsonl', 'jsonl', 'jsonl', 'jsonl']);
    expect(results.reduce((n, r) => n + r.records.length, 0)).toBe(13);
    expect(results.every((r) => r.rejected.length === 0)).toBe(true);
  });

  it('elastic-integrations-tests: the ConsoleLogin lines parse and the digest line is recognised', () => {
    const logins = parseBoth('elastic-integrations-tests/aws_cloudtrail/test-console-login-json.log');
    const digest = parseCloudTrail(read('elastic-integrations-tests/aws_cloudtrail/test-cloudtrail-digest-json.log'), 'test-cloudtrail-digest-json.log');

    expect([logins.records.length, logins.rejected.length]).toEqual([3, 0]);
    expect(digest.shape).toBe('digest');
    expect(digest.digest?.digest.logFiles).toHaveLength(3);
  });

  it('panther-analysis-tests: the 324 CloudTrail rule-test events, the 14 without any time rejected with a reason', () => {
    // Prepare: the CloudTrail test events as JSON Lines, built in memory from the flattened file
    const cases = read('panther-analysis-tests/panther_rule_tests.flattened.jsonl')
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { log_types: string[] | null; log: Record<string, unknown> | null })
      .filter((c) => c.log_types?.includes('AWS.CloudTrail') === true && c.log !== null);
    const logs = cases.map((c) => c.log as Record<string, unknown>);
    const timeless = logs.filter((l) => !(typeof l['eventTime'] === 'string' && l['eventTime'] !== '') && l['@timestamp'] === undefined);

    // Act
    const result = parseCloudTrail(Buffer.from(logs.map((l) => JSON.stringify(l)).join('\n')), 'panther-cloudtrail-tests.jsonl');

    // Assess
    expect(logs).toHaveLength(324);
    expect(timeless).toHaveLength(14);
    expect(result.records).toHaveLength(310);
    expect(result.rejected.map((r) => r.index)).toEqual(logs.flatMap((l, i) => (timeless.includes(l) ? [i] : [])));
    expect(new Set(result.rejected.map((r) => r.reason))).toEqual(new Set(['has no eventTime, and no @timestamp to fall back on']));
  });

  it('cloudtrail-digest-validation: the documented and Elastic digest samples parse, oddities reported', () => {
    const docs = read('cloudtrail-digest-validation/awsdocs-digest-examples.jsonl')
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((line, i) => parseCloudTrailDigestContent(Buffer.from(line), `awsdocs-digest-examples.jsonl line ${i + 1}`));
    const elastic = parseCloudTrail(read('cloudtrail-digest-validation/elastic-test-cloudtrail-digest.json'), 'elastic-test-cloudtrail-digest.json');

    expect(docs.map((d) => [d.digest.logFiles.length, d.digest.newestEventTime, d.warnings])).toEqual([
      [1, '2015-08-17T14:52:27Z', []],
      [0, null, []],
    ]);
    expect(elastic.shape).toBe('digest');
    const digest = elastic.digest!;
    expect(digest.digest.digestPublicKeyFingerprint).toBe('47aaa19f7eec22e9bd0b5e58cfade8cb');
    expect(digest.digest.logFiles.map((l) => parseLogFileKey(l.s3Object)?.time)).toEqual(['2020-09-11T19:30:00Z', '2020-09-11T19:15:00Z', '2020-09-11T18:35:00Z']);
    expect(parseDigestKey(digest.digest.digestS3Object)).toMatchObject({ accountId: '123456789123', region: 'us-west-2', trailName: 'leh-ct-test', endTime: '2020-09-11T19:36:49Z' });
    // The sample's previousDigestHashValue has 63 hex digits: say so rather than fail later with a hash mismatch.
    expect(digest.warnings).toEqual(['previousDigestHashValue is not 64 hex digits (63 characters): it can never match a SHA-256']);
  });

  it('non-CloudTrail files next to the corpora are refused with a reason, not parsed into nothing', () => {
    const cases: Array<[string, RegExp]> = [
      ['otrf-security-datasets/raw/ec2_proxy_s3_exfiltration.zip', /ZIP archive/],
      ['otrf-security-datasets/extracted/aws_s3_honeybucketlogs/AWS_S3_HoneyBucketLogs.csv', /looks like CSV/],
      ['aws-iot-core-log-examples/aws_iot_core_cwl_examples.jsonl', /not a CloudTrail record/],
      ['traildiscover/docs/logExamples/index.html', /XML or HTML/],
    ];
    for (const [path, reason] of cases) {
      expect(() => parseCloudTrail(read(path), path)).toThrow(UnsupportedFormatError);
      expect(() => parseCloudTrail(read(path), path)).toThrow(reason);
    }
  });
});
