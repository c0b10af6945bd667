import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ParseError, UnsupportedFormatError, isAmberError } from '../../../../shared/errors.ts';
import {
  locateRecord,
  normalizeTimestamp,
  parseCloudTrail,
  sniffCloudTrail,
  toNdjsonLines,
  type CloudTrailShape,
} from '../../../../shared/sources/cloudtrail/index.ts';

const FIXTURES = new URL('../../../fixtures/aws/cloudtrail/', import.meta.url);
const RECORDS_FILE = 'records/123456789012_CloudTrail_us-east-1_20240305T1005Z_AmbrFixtureRec01.json';
const MALFORMED_FILE = 'malformed/123456789012_CloudTrail_us-east-1_20240305T1010Z_AmbrFixtureBad01.json';

function fixture(path: string): Buffer {
  return readFileSync(new URL(path, FIXTURES));
}

/** The fixture's records exactly as JSON.parse reads them: the oracle for "nothing altered". */
function jsonLines(path: string): unknown[] {
  return fixture(path)
    .toString('utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as unknown);
}

/** A synthetic S3 log file with `count` records, big enough that a cut lands mid-stream. */
function syntheticRecordsFile(count: number): { text: string; records: Array<Record<string, unknown>> } {
  const records = Array.from({ length: count }, (_, i) => ({
    eventVersion: '1.09',
    eventTime: `2024-03-05T10:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`,
    eventSource: 'ec2.amazonaws.com',
    eventName: 'DescribeInstances',
    awsRegion: 'us-east-1',
    eventID: `b0000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    requestParameters: { filterSet: {}, note: `record ${i} ${'x'.repeat(i % 97)}` },
  }));
  return { text: JSON.stringify({ Records: records }), records };
}

describe('Function: sniffCloudTrail', () => {
  const cases: Array<[string, CloudTrailShape]> = [
    [RECORDS_FILE, 'records'],
    ['array/records.json', 'array'],
    ['single/record.json', 'single'],
    ['jsonl/records.jsonl', 'jsonl'],
    ['logstash/logstash.jsonl', 'jsonl'],
    ['lookup-events/lookup-events.json', 'lookup-events'],
    ['lake/query-results.json', 'lake'],
    ['lake/event-json.json', 'lake'],
    ['hostile/hostile.jsonl', 'jsonl'],
    [MALFORMED_FILE, 'records'],
  ];

  it.each(cases)('recognises %s as %s, plain and gzip-compressed', (path, shape) => {
    // Prepare
    const plain = fixture(path);

    // Act
    const sniffedPlain = sniffCloudTrail(plain, path);
    const sniffedGzip = sniffCloudTrail(gzipSync(plain), `${path}.gz`);

    // Assess
    expect(sniffedPlain).toEqual({ shape, gzip: false });
    expect(sniffedGzip).toEqual({ shape, gzip: true });
  });

  it('recognises a digest by its CloudTrail-Digest path even before reading fields', () => {
    const bytes = gzipSync(JSON.stringify({ awsAccountId: '123456789012' }));
    const key = 'AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2024/03/05/123456789012_CloudTrail-Digest_us-east-1_trail_us-east-1_20240305T110000Z.json.gz';

    expect(sniffCloudTrail(bytes, key)).toEqual({ shape: 'digest', gzip: true });
  });

  it('recognises a digest by its fields under any name', () => {
    const bytes = Buffer.from(JSON.stringify({ awsAccountId: '123456789012', digestStartTime: '2024-03-05T10:00:00Z', digestEndTime: '2024-03-05T11:00:00Z' }));

    expect(sniffCloudTrail(bytes, 'copy.json').shape).toBe('digest');
  });

  it('says why it does not recognise other content', () => {
    const zip = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00]);

    expect(sniffCloudTrail(fixture('unknown/notes.txt'), 'notes.txt')).toMatchObject({ shape: undefined, reason: expect.stringContaining('not JSON') });
    expect(sniffCloudTrail(fixture('unknown/other.json'), 'other.json').reason).toMatch(/not a CloudTrail record.*"timestamp", "level", "message"/);
    expect(sniffCloudTrail(zip, 'logs.zip').reason).toMatch(/ZIP archive/);
    expect(sniffCloudTrail(Buffer.alloc(0), 'empty.json').reason).toMatch(/empty/);
    expect(sniffCloudTrail(Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad]), 'bad.json.gz').reason).toMatch(/gzip stream cannot be inflated/);
  });
});

describe('Function: parseCloudTrail', () => {
  describe('shapes', () => {
    it('reads an S3-delivered {"Records":[...]} file, keeping each record at its array position', () => {
      // Prepare
      const bytes = fixture(RECORDS_FILE);
      const original = (JSON.parse(bytes.toString('utf8')) as { Records: unknown[] }).Records;

      // Act
      const plain = parseCloudTrail(bytes, RECORDS_FILE);
      const gz = parseCloudTrail(gzipSync(bytes), `${RECORDS_FILE}.gz`);

      // Assess
      for (const result of [plain, gz]) {
        expect(result).toMatchObject({ shape: 'records', container: '.Records', rejected: [], errors: [], warnings: [] });
        expect(result.records.map((r) => r.index)).toEqual([0, 1, 2]);
        expect(result.records.map((r) => r.record)).toEqual(original);
        expect(result.records.every((r) => r.derived === undefined && r.record.__amber === undefined)).toBe(true);
      }
      expect(gz.gzip).toBe(true);
      expect(locateRecord(plain, 2)).toBe('.Records[2]');
    });

    it('reads a JSON array of records', () => {
      const result = parseCloudTrail(gzipSync(fixture('array/records.json')), 'array/records.json.gz');

      expect(result).toMatchObject({ shape: 'array', container: '.', rejected: [], errors: [] });
      expect(result.records.map((r) => [r.index, r.record.eventName])).toEqual([
        [0, 'AssumeRole'],
        [1, 'GetObject'],
      ]);
      expect(locateRecord(result, 1)).toBe('.[1]');
    });

    it('reads one pretty-printed record as index 0', () => {
      const result = parseCloudTrail(fixture('single/record.json'), 'single/record.json');

      expect(result).toMatchObject({ shape: 'single', rejected: [], errors: [] });
      expect(result.records).toEqual([{ index: 0, record: JSON.parse(fixture('single/record.json').toString('utf8')) }]);
      expect(locateRecord(result, 0)).toBe('.');
    });

    it('reads JSON Lines with index = physical line - 1, so blank lines leave a hole and CRLF is accepted', () => {
      const result = parseCloudTrail(gzipSync(fixture('jsonl/records.jsonl')), 'jsonl/records.jsonl.gz');

      expect(result).toMatchObject({ shape: 'jsonl', rejected: [], errors: [] });
      expect(result.records.map((r) => [r.index, r.line, r.record.eventName])).toEqual([
        [0, 1, 'ConsoleLogin'],
        [1, 2, 'AssumeRole'],
        [3, 4, 'GetObject'],
      ]);
      expect(result.records.map((r) => r.record)).toEqual(jsonLines('jsonl/records.jsonl'));
      expect(locateRecord(result, 3)).toBe('line 4');
    });

    it('reads `aws cloudtrail lookup-events` output from the CloudTrailEvent strings and rejects entries without a usable one', () => {
      const result = parseCloudTrail(fixture('lookup-events/lookup-events.json'), 'lookup-events.json');
      const events = (JSON.parse(fixture('lookup-events/lookup-events.json').toString('utf8')) as { Events: Array<{ CloudTrailEvent: string }> }).Events;

      expect(result).toMatchObject({ shape: 'lookup-events', container: '.Events', errors: [] });
      expect(result.records.map((r) => r.index)).toEqual([0, 1]);
      expect(result.records.map((r) => r.record)).toEqual([JSON.parse(events[0]!.CloudTrailEvent), JSON.parse(events[1]!.CloudTrailEvent)]);
      expect(result.rejected.map((r) => [r.index, r.locator])).toEqual([
        [2, '.Events[2]'],
        [3, '.Events[3]'],
      ]);
      expect(result.rejected[0]!.reason).toMatch(/CloudTrailEvent that is not valid JSON: unterminated string/);
      expect(result.rejected[1]!.reason).toMatch(/no CloudTrailEvent string .* \(it is missing\)/);
      expect(result.rejected[1]!.error.message).toBe(
        'lookup-events.json record 3: (.Events[3]) has no CloudTrailEvent string holding the full event (it is missing)',
      );
    });

    it('reads the bare Events array of lookup-events output', () => {
      const events = (JSON.parse(fixture('lookup-events/lookup-events.json').toString('utf8')) as { Events: unknown[] }).Events.slice(0, 2);

      const result = parseCloudTrail(Buffer.from(JSON.stringify(events)), 'events.json');

      expect(result).toMatchObject({ shape: 'lookup-events', container: '.', rejected: [], errors: [] });
      expect(result.records).toHaveLength(2);
    });

    it('reads CloudTrail Lake query results, merging the column cells and reformatting Lake time with a trace', () => {
      const result = parseCloudTrail(fixture('lake/query-results.json'), 'query-results.json');

      expect(result).toMatchObject({ shape: 'lake', container: '.QueryResultRows', rejected: [], errors: [], warnings: [] });
      expect(result.records[0]).toEqual({
        index: 0,
        record: {
          eventID: 'a0000000-0000-4000-8000-000000000000',
          eventTime: '2024-03-05T10:01:02Z',
          eventSource: 'signin.amazonaws.com',
          eventName: 'ConsoleLogin',
          awsRegion: 'us-east-1',
          sourceIPAddress: '198.51.100.10',
          recipientAccountId: '123456789012',
          __amber: { eventTime: { from: 'eventTime', original: '2024-03-05 10:01:02.000' } },
        },
        derived: { eventTime: { from: 'eventTime', original: '2024-03-05 10:01:02.000' } },
      });
    });

    it('reads Lake `SELECT eventJson` rows as the original events', () => {
      const result = parseCloudTrail(fixture('lake/event-json.json'), 'event-json.json');
      const expected = jsonLines('jsonl/records.jsonl').slice(1);

      expect(result).toMatchObject({ shape: 'lake', rejected: [], errors: [] });
      expect(result.records.map((r) => r.record)).toEqual(expected);
    });

    it('warns that a Lake page is partial when the query did not finish', () => {
      const bytes = Buffer.from(JSON.stringify({ QueryStatus: 'TIMED_OUT', QueryResultRows: [], NextToken: 't' }));

      const result = parseCloudTrail(bytes, 'lake.json');

      expect(result.warnings).toEqual([expect.stringMatching(/TIMED_OUT.*partial/), expect.stringMatching(/NextToken/)]);
    });

    it('reads a digest as the digest shape, with no records', () => {
      const digest = {
        awsAccountId: '123456789012',
        digestStartTime: '2024-03-05T10:00:00Z',
        digestEndTime: '2024-03-05T11:00:00Z',
        digestS3Bucket: 'amber-trail',
        digestS3Object: 'AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2024/03/05/123456789012_CloudTrail-Digest_us-east-1_t_us-east-1_20240305T110000Z.json.gz',
        digestPublicKeyFingerprint: '0123456789abcdef0123456789abcdef',
        digestSignatureAlgorithm: 'SHA256withRSA',
        newestEventTime: null,
        oldestEventTime: null,
        previousDigestS3Bucket: null,
        previousDigestS3Object: null,
        previousDigestHashValue: null,
        previousDigestHashAlgorithm: null,
        previousDigestSignature: null,
        logFiles: [],
      };

      const result = parseCloudTrail(gzipSync(JSON.stringify(digest)), digest.digestS3Object);

      expect(result).toMatchObject({ shape: 'digest', records: [], rejected: [], errors: [] });
      expect(result.digest?.digest).toEqual(digest);
    });

    it('reads UTF-16 text (PowerShell redirection) and says it transcoded it', () => {
      const text = fixture('lookup-events/lookup-events.json').toString('utf8');
      const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);

      const result = parseCloudTrail(utf16, 'lookup-events.utf16.json');

      expect(result.shape).toBe('lookup-events');
      expect(result.records).toHaveLength(2);
      expect(result.warnings).toEqual([expect.stringContaining('utf-16le')]);
    });
  });

  describe('eventTime from @timestamp', () => {
    it('fills a missing eventTime from @timestamp in CloudTrail format, marks it, and rejects what it cannot use', () => {
      // Prepare: the fixture's non-blank lines, one of them deliberately not JSON
      const lines = fixture('logstash/logstash.jsonl').toString('utf8').split('\n').filter((l) => l !== '');

      // Act
      const result = parseCloudTrail(fixture('logstash/logstash.jsonl'), 'logstash.jsonl');

      // Assess
      expect(result.errors).toEqual([]);
      expect(result.records.map((r) => [r.index, r.record.eventTime, r.derived?.eventTime.original])).toEqual([
        [0, '2024-03-05T10:01:02Z', '2024-03-05T10:01:02.000Z'],
        [1, '2024-03-05T10:02:03Z', '2024-03-05T12:02:03.250+02:00'],
        [4, '2024-03-05T10:04:05Z', undefined],
      ]);
      expect(result.records[0]!.record.__amber).toEqual({ eventTime: { from: '@timestamp', original: '2024-03-05T10:01:02.000Z' } });
      // Nothing else in the record changed: it is the original plus eventTime and the trace.
      const { eventTime: _t, __amber: _a, ...rest } = result.records[0]!.record;
      expect(rest).toEqual(JSON.parse(lines[0]!));
      expect(result.records[2]!.record).toEqual(JSON.parse(lines[4]!));

      expect(result.rejected.map((r) => [r.index, r.line, r.reason])).toEqual([
        [2, 3, 'has no eventTime, and no @timestamp to fall back on'],
        [3, 4, 'has no eventTime, and its @timestamp "yesterday at noon" is not an ISO-8601 timestamp with a time zone'],
        [5, 6, 'is not a JSON object (it is an array)'],
        [6, 7, "is not valid JSON: expected ',' or '}', found \"\\\"\" at column 80"],
      ]);
      expect(result.rejected[0]!.error).toBeInstanceOf(ParseError);
      expect(result.rejected[0]!.error.message).toBe('logstash.jsonl record 2: (line 3) has no eventTime, and no @timestamp to fall back on');
      // Zero silent loss: every non-blank line is a record or a rejection.
      expect(result.records.length + result.rejected.length).toBe(lines.length);
    });

    it('rejects an eventTime that is present but not a string rather than replacing it', () => {
      const bytes = Buffer.from(`${JSON.stringify({ eventVersion: '1.09', eventTime: 1709632800, '@timestamp': '2024-03-05T10:00:00Z' })}\n`);

      const result = parseCloudTrail(bytes, 'numeric.jsonl');

      expect(result.records).toEqual([]);
      expect(result.rejected[0]!.reason).toBe('has an eventTime that is not a non-empty string (it is a number)');
    });

    it('rejects a record that already carries the reserved __amber key, so a trace cannot be forged', () => {
      const bytes = Buffer.from(`${JSON.stringify({ eventVersion: '1.09', eventTime: '2024-03-05T10:00:00Z', __amber: { eventTime: { from: '@timestamp' } } })}\n`);

      const result = parseCloudTrail(bytes, 'forged.jsonl');

      expect(result.records).toEqual([]);
      expect(result.rejected[0]!.reason).toMatch(/reserves/);
    });
  });

  describe('hostile content', () => {
    it('passes hostile strings through unaltered, from parse to the derived NDJSON', () => {
      // Prepare
      const [original] = jsonLines('hostile/hostile.jsonl') as Array<Record<string, unknown>>;

      // Act
      const result = parseCloudTrail(fixture('hostile/hostile.jsonl'), 'hostile.jsonl');
      const ndjson = toNdjsonLines(result, 'cases/c1/hostile.jsonl');

      // Assess
      expect(result.rejected).toEqual([]);
      expect(result.records[0]!.record).toEqual(original);
      const line = JSON.parse(ndjson.trimEnd()) as { record: Record<string, Record<string, unknown>> };
      expect(line.record).toEqual(original);
      const params = line.record['requestParameters']!;
      expect(Object.hasOwn(params, '__proto__')).toBe(true);
      expect(params['lone']).toBe('\ud800x');
      expect(params['control']).toBe('nul\u0000bell\u0007esc\u001b[31mred\r\nnewline');
      expect(params['bucketName']).toBe('amber\u202efixture\u200b');
      expect(line.record['userAgent']).toContain('</script>');
      // JSON.parse defines __proto__ as a plain key; nothing leaked into Object.prototype.
      expect((({}) as Record<string, unknown>)['polluted']).toBeUndefined();
    });

    it('keeps a __proto__ column of a Lake row as data, never as a prototype', () => {
      const text = '{"QueryResultRows":[[{"eventVersion":"1.09"},{"eventTime":"2024-03-05 10:00:00.000"},{"eventName":"X"},{"__proto__":"p"}]]}';

      const result = parseCloudTrail(Buffer.from(text), 'lake.json');

      const record = result.records[0]!.record;
      expect(Object.getPrototypeOf(record)).toBe(Object.prototype);
      expect(Object.hasOwn(record, '__proto__')).toBe(true);
      expect(JSON.stringify(record)).toContain('"__proto__":"p"');
    });
  });

  describe('damaged input', () => {
    it('reports a truncated gzip naming the file, and returns the complete records before the cut, cleanly', () => {
      // Prepare
      const { text, records } = syntheticRecordsFile(400);
      const gz = gzipSync(text);
      const cut = gz.subarray(0, Math.floor(gz.length * 0.6));

      // Act
      const result = parseCloudTrail(cut, 'cases/c1/trail.json.gz');

      // Assess
      expect(result.shape).toBe('records');
      expect(result.errors).toHaveLength(2);
      expect(result.errors[0]!.message).toMatch(/^cases\/c1\/trail\.json\.gz: gzip stream is damaged \(unexpected end of file\): the stream ends early/);
      expect(result.errors[1]!.message).toMatch(/malformed JSON .*truncated.*complete record\(s\) before the damage were recovered; the damage is in element \d+/);
      const n = result.records.length;
      expect(n).toBeGreaterThan(50);
      expect(n).toBeLessThan(400);
      expect(result.records.map((r) => r.index)).toEqual([...Array(n).keys()]);
      expect(result.records.map((r) => r.record)).toEqual(records.slice(0, n));
      expect(result.rejected).toEqual([]);
    });

    it('recovers the lines before a truncated gzip JSON Lines stream and rejects the cut last line', () => {
      const { records } = syntheticRecordsFile(300);
      const gz = gzipSync(records.map((r) => JSON.stringify(r)).join('\n'));

      const result = parseCloudTrail(gz.subarray(0, Math.floor(gz.length / 2)), 'trail.jsonl.gz');

      expect(result.shape).toBe('jsonl');
      expect(result.errors[0]!.message).toMatch(/^trail\.jsonl\.gz: gzip stream is damaged/);
      const n = result.records.length;
      expect(result.records.map((r) => r.record)).toEqual(records.slice(0, n));
      expect(result.rejected).toHaveLength(1);
      expect(result.rejected[0]).toMatchObject({ index: n, line: n + 1 });
      expect(result.rejected[0]!.reason).toMatch(/not valid JSON: .*cut short by the damage/);
    });

    it('reports corruption inside a gzip stream and keeps only what precedes it', () => {
      const { text, records } = syntheticRecordsFile(400);
      const gz = Buffer.from(gzipSync(text));
      gz[Math.floor(gz.length * 0.7)]! ^= 0xff;

      const result = parseCloudTrail(gz, 'corrupt.json.gz');

      expect(result.errors[0]!.message).toMatch(/^corrupt\.json\.gz: gzip stream is damaged/);
      expect(result.records.map((r) => r.record)).toEqual(records.slice(0, result.records.length));
    });

    it('reports a gzip stream that inflates beyond the limit instead of exhausting memory', () => {
      const bomb = gzipSync(Buffer.alloc(4 * 1024 * 1024, 0x20));

      const result = parseCloudTrail(bomb, 'bomb.json.gz', { maxInflatedBytes: 1024 * 1024 });

      expect(result.shape).toBeUndefined();
      expect(result.errors[0]!.message).toMatch(/bomb\.json\.gz: inflates to more than 1048576 bytes .*maxInflatedBytes.*gzip bomb/);
    });

    it('reports malformed JSON with the file, line and column, and keeps the records before it', () => {
      const result = parseCloudTrail(fixture(MALFORMED_FILE), MALFORMED_FILE);

      expect(result.errors).toHaveLength(1);
      expect(result.errors[0]).toBeInstanceOf(ParseError);
      expect(result.errors[0]!.message).toBe(
        `${MALFORMED_FILE}: malformed JSON at line 49 column 7 (character 1591): expected ',' or '}', found "\\""; ` +
          '1 complete record(s) before the damage were recovered; the damage is in element 1 (.Records[1])',
      );
      expect(result.records.map((r) => [r.index, r.record.eventName])).toEqual([[0, 'ConsoleLogin']]);
    });

    it('suggests JSON Lines for several pretty-printed records in one file', () => {
      const text = `${fixture('single/record.json').toString('utf8')}${fixture('single/record.json').toString('utf8')}`;

      const result = parseCloudTrail(Buffer.from(text), 'two.json');

      expect(result.shape).toBe('single');
      expect(result.errors[0]!.message).toMatch(/two\.json: malformed JSON at line 34 column 1 .*after the end of the JSON value/);
      expect(result.errors[0]!.hint).toMatch(/jq -c/);
    });

    it('rejects a JSON line longer than maxRecordBytes without reading it, and goes on', () => {
      // Prepare
      const huge = JSON.stringify({ eventVersion: '1.09', eventTime: '2024-03-05T10:00:00Z', eventName: 'Huge', pad: 'x'.repeat(2 * 1024 * 1024) });
      const small = JSON.stringify({ eventVersion: '1.09', eventTime: '2024-03-05T10:00:01Z', eventName: 'Small' });
      const bytes = Buffer.from(`${small}\n${huge}\n${small}\n`);

      // Act
      const byDefault = parseCloudTrail(bytes, 'huge.jsonl');
      const raised = parseCloudTrail(bytes, 'huge.jsonl', { maxRecordBytes: 4 * 1024 * 1024 });

      // Assess
      expect(byDefault.records.map((r) => r.index)).toEqual([0, 2]);
      expect(byDefault.rejected).toHaveLength(1);
      expect(byDefault.rejected[0]!.error.message).toBe(
        `huge.jsonl record 1: (line 2) is ${Buffer.byteLength(huge)} bytes long, over the 1048576-byte limit (maxRecordBytes); it was not read`,
      );
      expect(raised.records.map((r) => r.index)).toEqual([0, 1, 2]);
    });

    it('rejects a JSON line that is not valid UTF-8, naming the column', () => {
      const good = Buffer.from(`${JSON.stringify({ eventVersion: '1.09', eventTime: '2024-03-05T10:00:00Z', eventName: 'A' })}\n`);
      const bad = Buffer.concat([Buffer.from('{"eventVersion":"1.09","eventTime":"2024-03-05T10:00:00Z","eventName":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]);

      const result = parseCloudTrail(Buffer.concat([good, bad]), 'bytes.jsonl');

      expect(result.records).toHaveLength(1);
      expect(result.rejected[0]).toMatchObject({ index: 1, line: 2, reason: 'is not valid UTF-8 (bad byte at column 72)' });
    });

    it('reports invalid UTF-8 in a whole document as a file error', () => {
      const text = fixture(RECORDS_FILE);
      const damaged = Buffer.from(text);
      damaged[text.indexOf('amber-analyst')] = 0xff;

      const result = parseCloudTrail(damaged, 'utf8.json');

      expect(result.records).toHaveLength(3);
      expect(result.errors[0]!.message).toMatch(/^utf8\.json: is not valid UTF-8 \(first bad byte at offset \d+\)/);
    });

    it('reports Records that is not an array', () => {
      const result = parseCloudTrail(Buffer.from('{"Records":{"eventVersion":"1.09"}}'), 'odd.json');

      expect(result.errors[0]!.message).toBe('odd.json: .Records is not an array (it is an object)');
    });
  });

  describe('unknown formats', () => {
    it.each([
      ['unknown/notes.txt', /notes\.txt: not a CloudTrail file: it is not JSON: it starts with "These are not CloudTrail"/],
      ['unknown/other.json', /other\.json: not a CloudTrail file: its first JSON object is not a CloudTrail record/],
    ])('throws UnsupportedFormatError naming %s and the reason', (path, message) => {
      const act = (): unknown => parseCloudTrail(gzipSync(fixture(path)), path);

      expect(act).toThrow(UnsupportedFormatError);
      expect(act).toThrow(message);
      try {
        act();
      } catch (error) {
        expect(isAmberError(error) && error.hint).toMatch(/still preserved and hashed/);
      }
    });
  });
});

describe('Function: toNdjsonLines', () => {
  it('writes one {"evidence_key","evidence_record","record"} line per record, in that key order', () => {
    const result = parseCloudTrail(fixture('jsonl/records.jsonl'), 'records.jsonl');

    const ndjson = toNdjsonLines(result, 'cases/c1/aws/cloudtrail/records.jsonl');

    const lines = ndjson.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toBe('');
    expect(lines[2]!.startsWith('{"evidence_key":"cases/c1/aws/cloudtrail/records.jsonl","evidence_record":3,"record":{"eventVersion":"1.09"')).toBe(true);
    expect(lines.slice(0, 3).map((l) => (JSON.parse(l) as { evidence_record: number }).evidence_record)).toEqual([0, 1, 3]);
  });
});

describe('Function: normalizeTimestamp', () => {
  it.each([
    ['2020-09-14T00:44:23.000Z', '2020-09-14T00:44:23Z'],
    ['2024-03-05T12:02:03.250+02:00', '2024-03-05T10:02:03Z'],
    ['2024-03-05T00:30:00-0130', '2024-03-05T02:00:00Z'],
    ['2024-03-05 10:00:00Z', '2024-03-05T10:00:00Z'],
    ['2024-02-30T10:00:00Z', undefined],
    ['2024-03-05T10:00:00', undefined],
    ['1709632800', undefined],
  ])('normalizes %s to %s', (input, expected) => {
    expect(normalizeTimestamp(input)).toBe(expected);
  });
});
