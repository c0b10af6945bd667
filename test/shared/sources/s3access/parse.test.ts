/**
 * The S3 server access log parser on every variant, from the synthetic fixtures under
 * test/fixtures/aws/s3access/<variant>/ (written to the documented record format).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseS3AccessLogs, S3_ACCESS_COLUMNS, S3_ACCESS_SOURCE, s3TimeToIso, sniffS3Access } from '../../../../shared/sources/s3access/index.ts';
import { VPC_FLOW_SOURCE } from '../../../../shared/sources/vpcflow/index.ts';

const FIXTURES = fileURLToPath(new URL('../../../fixtures/aws/s3access/', import.meta.url));
const OWNER = '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be';
const HOST_ID = 'Zm9yZW5zaWMtZml4dHVyZS1ob3N0LWlkLTAwMDE=';

function fixture(variant: string): { key: string; text: string } {
  const walk = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]));
  const files = walk(join(FIXTURES, variant));
  if (files.length !== 1) throw new Error(`${variant}: expected one fixture file, found ${files.length}`);
  return { key: files[0]!.slice(FIXTURES.length), text: readFileSync(files[0]!, 'utf8') };
}

const parse = (variant: string) => {
  const { key, text } = fixture(variant);
  return parseS3AccessLogs(text, key);
};

describe('Function: parseS3AccessLogs', () => {
  it('reads the full current record: bracketed time, quoted fields without their quotes, "-" as NULL, numbers as numbers', () => {
    // Act
    const result = parse('standard');

    // Assess
    expect(result.problems).toEqual([]);
    expect(result.variant).toBe('27-fields');
    expect(result.rows.map((r) => [r.index, r.line])).toEqual([[0, 1], [1, 2], [2, 3], [3, 4], [4, 5]]);
    expect(result.rows[0]!.row).toEqual({
      bucketowner: OWNER, bucket_name: 'customer-exports', requestdatetime: '14/Mar/2026:00:59:01 +0000', remoteip: '203.0.113.66',
      requester: 'arn:aws:iam::111122223333:user/alice', requestid: '3E57427F3EXAMPLE', operation: 'REST.GET.OBJECT', key: 'exports/customers.csv.gz',
      request_uri: 'GET /customer-exports/exports/customers.csv.gz HTTP/1.1', httpstatus: 200, errorcode: null, bytessent: 419430400, objectsize: 419430400,
      totaltime: 3821, turnaroundtime: 112, referrer: null, useragent: 'aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64 prompt/off command/s3.cp',
      versionid: '3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY', hostid: HOST_ID, sigv: 'SigV4', ciphersuite: 'ECDHE-RSA-AES128-GCM-SHA256', authtype: 'AuthHeader',
      endpoint: 'customer-exports.s3.us-east-1.amazonaws.com', tlsversion: 'TLSv1.3', accesspointarn: null, aclrequired: null, sourceregion: 'us-east-1',
      extra_fields: null, time: '2026-03-14T00:59:01Z',
    });
    expect(result.rows[2]!.row).toMatchObject({ requester: null, httpstatus: 403, errorcode: 'AccessDenied', referrer: 'https://evil.example/x?a=1', sigv: null, authtype: null });
    expect(result.rows[3]!.row).toMatchObject({ operation: 'REST.PUT.BUCKETPOLICY', key: null, httpstatus: 204, bytessent: null, objectsize: null, turnaroundtime: null });
    expect(result.rows[4]!.row).toMatchObject({ accesspointarn: 'arn:aws:s3:us-east-1:111122223333:accesspoint/my-ap', aclrequired: 'Yes', remoteip: '10.0.1.15' });
  });

  it('accepts older, shorter records (17, 18, 22 and 24 fields): the fields they predate are NULL', () => {
    // Act
    const result = parse('short-old');

    // Assess
    expect(result.problems).toEqual([]);
    expect(result.variant).toBe('17-24-fields');
    expect(result.rows.map((r) => [r.row.useragent, r.row.versionid, r.row.hostid, r.row.authtype, r.row.endpoint, r.row.tlsversion, r.row.time])).toEqual([
      ['S3Console/0.4', null, null, null, null, null, '2014-02-06T00:00:38Z'],
      ['S3Console/0.4', null, null, null, null, null, '2015-02-06T00:00:38Z'],
      ['S3Console/0.4', null, HOST_ID, 'AuthHeader', null, null, '2017-02-06T00:00:38Z'],
      ['S3Console/0.4', null, HOST_ID, 'AuthHeader', 'customer-exports.s3.us-east-1.amazonaws.com', 'TLSv1.3', '2019-02-06T00:00:38Z'],
    ]);
    expect(result.rows[2]!.row).toMatchObject({ httpstatus: 404, errorcode: 'NoSuchBucketPolicy' });
  });

  it('keeps lifecycle and other S3-internal operations as rows (requester AmazonS3, no remote IP, no Request-URI)', () => {
    // Act
    const result = parse('lifecycle');

    // Assess
    expect(result.problems).toEqual([]);
    expect(result.rows.map((r) => [r.row.operation, r.row.requester, r.row.remoteip, r.row.request_uri, r.row.httpstatus, r.row.objectsize, r.row.versionid])).toEqual([
      ['S3.EXPIRE.OBJECT', 'AmazonS3', null, null, null, 317, 'qsEq9bDa2VyxyZ4cz0c7oBnF67VYTTij'],
      ['S3.TRANSITION_SIA.OBJECT', 'AmazonS3', null, null, null, 88000000, null],
      ['S3.TRANSITION_GIR.OBJECT', 'AmazonS3', null, null, null, 88000000, null],
      ['S3.CREATE.DELETEMARKER', 'AmazonS3', null, null, null, null, 'Xy1Zz2AaBbCcDdEeFfGgHhIiJjKkLlMm'],
    ]);
  });

  it('keeps hostile strings byte for byte (quotes inside quoted fields, formulas, markup, Unicode controls), converts a +0530 time to UTC, keeps unknown trailing fields', () => {
    // Act
    const result = parse('hostile');

    // Assess
    expect(result.problems).toEqual([]);
    expect(result.rows[0]!.row).toMatchObject({
      requester: null,
      key: '%3Cscript%3E%27%3B--.txt',
      request_uri: 'GET /customer-exports/%3Cscript%3E%27%3B--.txt?x=\\"y\\" HTTP/1.1',
      referrer: '=HYPERLINK(\\"http://evil.example\\")',
      useragent: 'Mozilla/5.0 \\"quoted\\" and "bare" quotes =cmd|\' /C calc\'!A0 <script>alert(1)</script> \u00e9\u00f1 \u2603 \u202eevil \\x00 %00',
      versionid: null,
      hostid: HOST_ID,
      sourceregion: 'us-east-1',
    });
    expect(result.rows[1]!.row).toMatchObject({
      requester: "arn:aws:iam::111122223333:user/o'brien",
      requestdatetime: '14/Mar/2026:05:30:00 +0530',
      time: '2026-03-14T00:00:00Z',
      extra_fields: 'futurefield1 future-field-2',
    });
  });

  it('reports each damaged or invalid line with its line and reason, and keeps the valid ones', () => {
    // Act
    const result = parse('bad-lines');

    // Assess
    expect(result.rows.map((r) => [r.line, r.row.key])).toEqual([[1, 'ok.txt'], [7, 'ok2.txt']]);
    expect(result.problems).toEqual([
      { index: 1, line: 2, reason: 'a quoted field (Request-URI, Referer or User-Agent) is not closed: the line is cut short or damaged' },
      { index: 2, line: 3, reason: expect.stringContaining('fewer than the 17 fields every record has') },
      { index: 3, line: 4, reason: 'time [31/Feb/2026:03:00:03 +0000] is not dd/Mon/yyyy:HH:mm:ss +zzzz' },
      { index: 4, line: 5, reason: 'not a server access log record: expected "<bucket owner> <bucket> [<time>] ..." at the start' },
      { index: 5, line: 6, reason: 'Bytes Sent is too large a number: 99999999999999999999' },
    ]);
  });

  it('reports an overlong line without trying to match it', () => {
    // Act
    const result = parseS3AccessLogs(`${OWNER} b [06/Feb/2019:00:00:38 +0000] ${'x'.repeat(300_000)}\n`, 'x');

    // Assess
    expect(result.rows).toEqual([]);
    expect(result.problems).toEqual([{ index: 0, line: 1, reason: expect.stringContaining('over the 262144') }]);
  });

  it('finishes on a line built to make a backtracking regex explode (a catastrophic one would outlast the test timeout)', () => {
    // Prepare: many quote candidates and no closing structure
    const evil = `${OWNER} b [06/Feb/2019:00:00:38 +0000] 1.2.3.4 - ID REST.GET.OBJECT k "${'" 200 - 1 2 3 4 "'.repeat(400)}`;

    // Act
    const result = parseS3AccessLogs(`${evil}\n`, 'x');

    // Assess: one outcome for the one line, a row or a problem naming it (its speed is measured by bench:hostile)
    expect(result.rows.length + result.problems.length).toBe(1);
  });
});

describe('Function: s3TimeToIso', () => {
  it.each([
    ['06/Feb/2019:00:00:38 +0000', '2019-02-06T00:00:38Z'],
    ['01/Jan/2026:01:00:00 +0200', '2025-12-31T23:00:00Z'],
    ['31/Dec/2025:23:30:00 -0100', '2026-01-01T00:30:00Z'],
    ['29/Feb/2024:12:00:00 +0000', '2024-02-29T12:00:00Z'],
  ])('converts %s to %s', (text, iso) => {
    // Act / Assess
    expect(s3TimeToIso(text)).toBe(iso);
  });

  it.each(['29/Feb/2025:12:00:00 +0000', '06/feb/2019:00:00:38 +0000', '06/Feb/2019:24:00:00 +0000', '06/Feb/2019:00:00:38', '2019-02-06T00:00:38Z'])('rejects %s', (text) => {
    // Act / Assess
    expect(s3TimeToIso(text)).toBeUndefined();
  });
});

describe('Function: sniffS3Access', () => {
  it.each(['standard', 'short-old', 'lifecycle', 'hostile', 'bad-lines'])('recognises the %s fixture, and the flow log source does not claim it', (variant) => {
    // Prepare
    const { key, text } = fixture(variant);

    // Act / Assess
    expect(S3_ACCESS_SOURCE.sniff(text, key)).toBe(true);
    expect(VPC_FLOW_SOURCE.sniff(text, key)).toBe(false);
  });

  it('looks past a damaged first line', () => {
    // Prepare
    const { text } = fixture('standard');

    // Act / Assess
    expect(sniffS3Access(`this line was cut\n${text}`)).toBe(true);
  });

  it.each([
    ['a CloudTrail file', '{"Records":[]}'],
    ['a flow log', 'version account-id interface-id srcaddr dstaddr\n'],
    ['an Apache access log', '192.0.2.3 - - [06/Feb/2019:00:00:38 +0000] "GET / HTTP/1.1" 200 113\n'],
    ['an empty file', ''],
  ])('does not claim %s', (_what, head) => {
    // Act / Assess
    expect(sniffS3Access(head)).toBe(false);
  });
});

describe('Source: s3access', () => {
  it('declares the Athena column names in record order, then extra_fields and time', () => {
    // Assess
    expect(S3_ACCESS_SOURCE).toMatchObject({ id: 's3access', cloud: 'aws', table: 's3_access_logs', timeColumn: 'time' });
    expect(S3_ACCESS_COLUMNS.map((c) => c.name)).toEqual([
      'bucketowner', 'bucket_name', 'requestdatetime', 'remoteip', 'requester', 'requestid', 'operation', 'key', 'request_uri', 'httpstatus', 'errorcode',
      'bytessent', 'objectsize', 'totaltime', 'turnaroundtime', 'referrer', 'useragent', 'versionid', 'hostid', 'sigv', 'ciphersuite', 'authtype', 'endpoint',
      'tlsversion', 'accesspointarn', 'aclrequired', 'sourceregion', 'extra_fields', 'time',
    ]);
  });
});

describe('Robustness: parseS3AccessLogs', () => {
  it('never throws, and accounts for every non-blank line, on a thousand mangled files', () => {
    // Prepare
    const seedText = [fixture('standard').text, fixture('hostile').text, fixture('lifecycle').text].join('');
    let a = 314;
    const rnd = (): number => {
      a = (Math.imul(a, 1103515245) + 12345) >>> 0;
      return a / 4294967296;
    };
    const alphabet = [' ', '-', '"', '[', ']', '\\', '\n', '\r', '\u0000', '\u202e', '99999999999999999999', '[06/Feb/0019:00:00:38 +0000]', '" 200 - 1 2 3 4 "'];
    for (let n = 0; n < 1000; n++) {
      let text = seedText;
      for (let k = 0; k < 15; k++) {
        const at = Math.floor(rnd() * text.length);
        text = text.slice(0, at) + alphabet[Math.floor(rnd() * alphabet.length)]! + text.slice(at + Math.floor(rnd() * 3));
      }

      // Act
      const result = parseS3AccessLogs(text, 'fuzz');

      // Assess
      const nonBlank = text.split('\n').filter((l) => l.replace(/\r$/, '').trim() !== '').length;
      expect(result.rows.length + result.problems.length).toBe(nonBlank);
      for (const r of result.rows) expect(r.row.time).toMatch(/^(19[7-9]\d|[2-9]\d{3})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    }
  });
});
