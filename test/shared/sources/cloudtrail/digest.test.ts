import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { ParseError } from '../../../../shared/errors.ts';
import {
  digestSigningString,
  formatDigestValidationReport,
  parseCloudTrailDigest,
  parseDigestKey,
  parseLogFileKey,
  publicKeysFromListPublicKeys,
  validateCloudTrailDigests,
  type DigestObjectInput,
  type DigestValidationInput,
  type LogFileContent,
} from '../../../../shared/sources/cloudtrail/index.ts';
import {
  ACCOUNT,
  BUCKET,
  FIRST_START,
  makeChain,
  makeDigest,
  makeKeyPair,
  makeLogFile,
  tamperDigest,
  type BuiltChain,
  type BuiltDigest,
  type BuiltLogFile,
  type KeyPair,
} from './digest-chain.ts';

const HOUR = 3_600_000;
const MINUTE = 60_000;

let keys: KeyPair;
let chain: BuiltChain;

beforeAll(() => {
  keys = makeKeyPair();
  chain = makeChain(keys, 3);
});

/** Evidence as Amber holds it: digests under a case prefix with their S3 metadata, log files by original location. */
function evidence(
  options: {
    digests?: BuiltDigest[];
    logs?: BuiltLogFile[];
    present?: BuiltLogFile[];
    signatures?: 'all' | 'newest' | 'none';
  } = {},
): DigestValidationInput {
  const digests = options.digests ?? chain.digests;
  const logs = options.logs ?? chain.logs;
  const signatures = options.signatures ?? 'all';
  const newest = digests[digests.length - 1];
  const byS3 = new Map(logs.map((l) => [l.s3, l]));
  return {
    digests: digests.map(
      (d): DigestObjectInput => ({
        key: `cases/c1/aws/cloudtrail/${d.key}`,
        bytes: d.gz,
        origin: d.s3,
        ...(signatures === 'all' || (signatures === 'newest' && d === newest) ? { signatureHex: d.signature, signatureAlgorithm: 'SHA256withRSA' } : {}),
      }),
    ),
    publicKeys: [{ value: keys.der, fingerprint: keys.fingerprint }],
    logFile: (bucket, key): LogFileContent | undefined => {
      const log = byS3.get(`s3://${bucket}/${key}`);
      return log === undefined ? undefined : { bytes: log.gz };
    },
    presentLogFiles: (options.present ?? logs).map((l) => l.s3),
  };
}

describe('Function: validateCloudTrailDigests', () => {
  describe('an intact chain', () => {
    it('validates every digest, every log file and the links, like validate-logs', () => {
      // Act
      const report = validateCloudTrailDigests(evidence());

      // Assess
      expect(report.ok).toBe(true);
      expect(report.digests.map((d) => [d.s3, d.status, d.signatureSource])).toEqual(chain.digests.map((d) => [d.s3, 'valid', 'metadata']));
      expect(report.logFiles.map((l) => [l.s3, l.status])).toEqual(chain.logs.map((l) => [l.s3, 'valid']));
      expect(report).toMatchObject({ extraLogFiles: [], uncoveredLogFiles: [], chain: [], warnings: [] });
      expect(report.summary).toEqual({
        validDigests: 3,
        invalidDigests: 0,
        validLogFiles: 6,
        invalidLogFiles: 0,
        extraLogFiles: 0,
        uncoveredLogFiles: 0,
        missingDigests: 0,
        gaps: 0,
      });
      const text = formatDigestValidationReport(report);
      expect(text).toContain(`Digest file\t${chain.digests[0]!.s3}\tvalid\n`);
      expect(text).toContain(`Log file\t${chain.logs[5]!.s3}\tvalid\n`);
      expect(text).toContain('\n3/3 digest files valid\n6/6 log files valid\n');
    });

    it('takes the signature of older digests from the next digest when only the newest has S3 metadata', () => {
      const report = validateCloudTrailDigests(evidence({ signatures: 'newest' }));

      expect(report.ok).toBe(true);
      expect(report.digests.map((d) => d.signatureSource)).toEqual(['next-digest', 'next-digest', 'metadata']);
    });

    it('cannot validate the newest digest without its S3 metadata, and says how to fix that', () => {
      const report = validateCloudTrailDigests(evidence({ signatures: 'none' }));

      expect(report.ok).toBe(false);
      expect(report.digests.map((d) => d.status)).toEqual(['valid', 'valid', 'no-signature']);
      expect(report.digests[2]!.message).toMatch(/INVALID: no signature: .*capture the object metadata/);
    });

    it('accepts the key as ListPublicKeys output, as PEM, and with its fingerprint computed', () => {
      const listOutput = JSON.stringify({
        PublicKeyList: [{ Value: keys.der.toString('base64'), ValidityStartTime: '2024-03-01T00:00:00Z', ValidityEndTime: '2024-04-01T00:00:00Z', Fingerprint: keys.fingerprint }],
      });
      const pem = keys.publicKey.export({ format: 'pem', type: 'spki' }) as string;

      for (const publicKeys of [publicKeysFromListPublicKeys(listOutput), [{ value: pem }], [{ value: keys.der }]]) {
        const report = validateCloudTrailDigests({ ...evidence(), publicKeys });
        expect(report.ok).toBe(true);
        expect(report.warnings).toEqual([]);
      }
    });

    it('accepts the SHA-256 of the uncompressed log content instead of the bytes', () => {
      const base = evidence();
      const bySha = new Map(chain.logs.map((l) => [l.s3, createHash('sha256').update(l.content).digest('hex')]));

      const report = validateCloudTrailDigests({
        ...base,
        logFile: (bucket, key) => {
          const sha = bySha.get(`s3://${bucket}/${key}`);
          return sha === undefined ? undefined : { uncompressedSha256: sha };
        },
      });

      expect(report.ok).toBe(true);
    });

    it('does not accept the SHA-256 of the stored .gz object: digests hash the uncompressed content', () => {
      const base = evidence();
      const gzSha = new Map(chain.logs.map((l) => [l.s3, createHash('sha256').update(l.gz).digest('hex')]));

      const report = validateCloudTrailDigests({ ...base, logFile: (bucket, key) => ({ uncompressedSha256: gzSha.get(`s3://${bucket}/${key}`)! }) });

      expect(report.logFiles.every((l) => l.status === 'modified')).toBe(true);
    });

    it('reports a restart of the chain as a gap, not as tampering', () => {
      // Prepare: logging stopped for two hours, then a starting digest (no previous) began a new chain
      const later = FIRST_START + 5 * HOUR;
      const log = makeLogFile(later + 10 * MINUTE, 'restart000000000');
      const restart = makeDigest(later, [log], undefined, keys);

      // Act
      const report = validateCloudTrailDigests(evidence({ digests: [...chain.digests, restart], logs: [...chain.logs, log] }));

      // Assess
      expect(report.ok).toBe(true);
      expect(report.summary.gaps).toBe(1);
      expect(report.chain).toEqual([
        expect.objectContaining({
          kind: 'chain-restart',
          integrity: false,
          digest: restart.s3,
          message: expect.stringMatching(/^No log files were delivered by CloudTrail between 2024-03-05T13:00:31Z and 2024-03-05T15:00:31Z/),
        }),
      ]);
    });

    it('notes that the chain goes on before the earliest digest supplied, without calling it missing', () => {
      const report = validateCloudTrailDigests(evidence({ digests: chain.digests.slice(1), logs: chain.logs.slice(2) }));

      expect(report.ok).toBe(true);
      expect(report.chain).toEqual([expect.objectContaining({ kind: 'chain-continues-before-input', integrity: false, related: chain.digests[0]!.s3 })]);
    });
  });

  describe('tampering', () => {
    it('reports a modified log file', () => {
      // Prepare: one record edited after delivery, file re-compressed
      const target = chain.logs[3]!;
      const content = Buffer.from(target.content.toString('utf8').replace('DescribeInstances', 'DescribeInstanceZ'));
      const modified = { ...target, content, gz: gzipSync(content) };
      const logs = chain.logs.map((l) => (l === target ? modified : l));

      // Act
      const report = validateCloudTrailDigests(evidence({ logs }));

      // Assess
      expect(report.ok).toBe(false);
      const bad = report.logFiles.filter((l) => l.status !== 'valid');
      expect(bad).toEqual([
        expect.objectContaining({
          s3: target.s3,
          status: 'modified',
          digestValid: true,
          expectedSha256: createHash('sha256').update(target.content).digest('hex'),
          actualSha256: createHash('sha256').update(content).digest('hex'),
          message: `Log file\t${target.s3}\tINVALID: hash value doesn't match`,
        }),
      ]);
      expect(report.summary).toMatchObject({ validLogFiles: 5, invalidLogFiles: 1 });
      expect(formatDigestValidationReport(report)).toContain('5/6 log files valid, 1/6 log files INVALID');
    });

    it('reports a deleted log file as not found', () => {
      const removed = chain.logs[1]!;

      const report = validateCloudTrailDigests(evidence({ logs: chain.logs.filter((l) => l !== removed) }));

      expect(report.ok).toBe(false);
      expect(report.logFiles.filter((l) => l.status !== 'valid')).toEqual([
        expect.objectContaining({ s3: removed.s3, status: 'missing', message: `Log file\t${removed.s3}\tINVALID: not found` }),
      ]);
    });

    it('reports a damaged (truncated) log file as invalid format', () => {
      const target = chain.logs[0]!;
      const logs = chain.logs.map((l) => (l === target ? { ...l, gz: l.gz.subarray(0, l.gz.length - 6) } : l));

      const report = validateCloudTrailDigests(evidence({ logs }));

      expect(report.logFiles[0]).toMatchObject({ status: 'invalid-format', message: expect.stringMatching(/INVALID: invalid format \(gzip stream is damaged/) });
    });

    it('reports an extra log file that the digests covering its delivery time do not list', () => {
      // Prepare: a planted file named 11:20, inside the second digest's window
      const planted = makeLogFile(FIRST_START + HOUR + 20 * MINUTE, 'planted000000000', 'CreateUser');
      // and one from the next day, which no supplied digest covers
      const nextDay = makeLogFile(FIRST_START + 26 * HOUR, 'nextday000000000');

      // Act
      const report = validateCloudTrailDigests(evidence({ logs: [...chain.logs, planted, nextDay] }));

      // Assess
      expect(report.ok).toBe(false);
      expect(report.extraLogFiles).toEqual([
        { s3: planted.s3, message: `Log file\t${planted.s3}\tINVALID: not listed in any digest, though the digests cover its delivery time (2024-03-05T11:20:00Z + 15 min)` },
      ]);
      expect(report.uncoveredLogFiles).toEqual([{ s3: nextDay.s3, reason: expect.stringMatching(/outside .* the time the supplied digests cover/) }]);
      expect(report.logFiles.every((l) => l.status === 'valid')).toBe(true);
    });

    it('reports a deleted digest in the middle of the chain as missing, and the log files it listed as uncovered', () => {
      // Prepare
      const [first, middle, last] = chain.digests as [BuiltDigest, BuiltDigest, BuiltDigest];

      // Act
      const report = validateCloudTrailDigests(evidence({ digests: [first, last] }));

      // Assess
      expect(report.ok).toBe(false);
      expect(report.digests.map((d) => [d.s3, d.status])).toEqual([
        [first.s3, 'valid'],
        [last.s3, 'valid'],
      ]);
      expect(report.chain).toEqual([
        {
          kind: 'missing-digest',
          integrity: true,
          digest: middle.s3,
          related: last.s3,
          message: `Digest file\t${middle.s3}\tINVALID: not found (named as previous by ${last.s3}; the chain resumes at ${first.s3}, so digests between 2024-03-05T11:00:31Z and 2024-03-05T12:00:31Z are missing)`,
        },
      ]);
      expect(report.summary).toMatchObject({ validDigests: 2, invalidDigests: 1, missingDigests: 1 });
      expect(report.uncoveredLogFiles.map((u) => u.s3)).toEqual([chain.logs[2]!.s3, chain.logs[3]!.s3]);
      expect(report.uncoveredLogFiles[0]!.reason).toContain(`where digest ${middle.s3} is missing`);
      expect(report.extraLogFiles).toEqual([]);
    });

    it('cannot vouch for the digest before a deleted one when signatures were not captured', () => {
      const [first, , last] = chain.digests as [BuiltDigest, BuiltDigest, BuiltDigest];

      const report = validateCloudTrailDigests(evidence({ digests: [first, last], signatures: 'newest' }));

      expect(report.digests.map((d) => d.status)).toEqual(['no-signature', 'valid']);
    });

    it('reports an altered digest: its signature fails and the next digest no longer matches its hash', () => {
      // Prepare: the middle digest rewritten to "bless" a modified log file, with its old signature kept
      const [first, middle, last] = chain.digests as [BuiltDigest, BuiltDigest, BuiltDigest];
      const altered = tamperDigest(middle, (fields) => {
        (fields['logFiles'] as Array<Record<string, unknown>>)[0]!['hashValue'] = 'f'.repeat(64);
      });

      // Act
      const report = validateCloudTrailDigests(evidence({ digests: [first, altered, last] }));

      // Assess
      expect(report.ok).toBe(false);
      expect(report.digests.map((d) => d.status)).toEqual(['valid', 'invalid-signature', 'valid']);
      expect(report.digests[1]!.message).toBe(`Digest file\t${middle.s3}\tINVALID: signature verification failed`);
      expect(report.chain).toEqual([
        expect.objectContaining({ kind: 'previous-digest-modified', integrity: true, digest: middle.s3, related: last.s3 }),
      ]);
      // The log file the altered digest lists is flagged as checked against an untrusted digest.
      expect(report.logFiles[2]).toMatchObject({ status: 'modified', digestValid: false, message: expect.stringContaining('(listed by a digest that failed validation)') });
    });

    it('reports a signature in the S3 metadata that differs from the one the next digest recorded', () => {
      const input = evidence();
      const forged = 'ab'.repeat(256);
      const digests = input.digests.map((d, i) => (i === 0 ? { ...d, signatureHex: forged } : d));

      const report = validateCloudTrailDigests({ ...input, digests });

      expect(report.ok).toBe(false);
      expect(report.digests[0]!.status).toBe('invalid-signature');
      expect(report.chain).toEqual([expect.objectContaining({ kind: 'previous-signature-mismatch', digest: chain.digests[1]!.s3, related: chain.digests[0]!.s3 })]);
    });

    it('reports digests signed by a key it was not given as unknown public key', () => {
      const other = makeKeyPair();

      const report = validateCloudTrailDigests({ ...evidence(), publicKeys: [{ value: other.der }] });

      expect(report.ok).toBe(false);
      expect(report.digests.map((d) => d.status)).toEqual(['unknown-public-key', 'unknown-public-key', 'unknown-public-key']);
      expect(report.digests[0]!.message).toBe(`Digest file\t${chain.digests[0]!.s3}\tINVALID: public key not found in region us-east-1 for fingerprint ${keys.fingerprint}`);
    });

    it('fails the signature when a wrong key is supplied under the right fingerprint, and warns about the fingerprint', () => {
      const other = makeKeyPair();

      const report = validateCloudTrailDigests({ ...evidence(), publicKeys: [{ value: other.der, fingerprint: keys.fingerprint }] });

      expect(report.digests.map((d) => d.status)).toEqual(['invalid-signature', 'invalid-signature', 'invalid-signature']);
      expect(report.warnings).toEqual([expect.stringMatching(new RegExp(`supplied fingerprint ${keys.fingerprint} is not the MD5 of the key`))]);
    });

    it('reports a digest acquired from somewhere other than the location it names as moved', () => {
      const input = evidence();
      const digests = input.digests.map((d, i) => (i === 2 ? { ...d, origin: `s3://other-bucket/${chain.digests[2]!.key}` } : d));

      const report = validateCloudTrailDigests({ ...input, digests });

      expect(report.digests[2]).toMatchObject({ status: 'moved', message: expect.stringMatching(/INVALID: has been moved from its original location/) });
    });

    it('reports a digest that cannot be read as invalid format, naming the evidence key', () => {
      const input = evidence();
      const digests = [...input.digests, { key: 'cases/c1/broken-digest.json.gz', bytes: gzipSync('{"awsAccountId":') }];

      const report = validateCloudTrailDigests({ ...input, digests });

      expect(report.digests[3]).toMatchObject({
        key: 'cases/c1/broken-digest.json.gz',
        status: 'invalid-format',
        message: expect.stringMatching(/^Digest file\tcases\/c1\/broken-digest\.json\.gz\tINVALID: invalid format \(.*unexpected end of input/),
      });
    });
  });
});

describe('Function: digestSigningString', () => {
  it('builds endTime, bucket/key, content hash and previous signature, with "null" for a starting digest', () => {
    const first = chain.digests[0]!;
    const parsed = parseCloudTrailDigest(first.gz, first.key);

    expect(digestSigningString(parsed.digest, parsed.contentSha256)).toBe(
      `2024-03-05T11:00:31Z\n${BUCKET}/${first.key}\n${createHash('sha256').update(first.content).digest('hex')}\nnull`,
    );
  });
});

describe('Function: parseCloudTrailDigest', () => {
  it('throws a ParseError naming the file and the field when a required field is missing', () => {
    const act = (): unknown => parseCloudTrailDigest(Buffer.from('{"digestStartTime":"x","logFiles":[]}'), 'digest.json');

    expect(act).toThrow(ParseError);
    expect(act).toThrow('digest.json: not a valid CloudTrail digest: digestEndTime is missing or not a string');
  });
});

describe('Function: parseDigestKey / parseLogFileKey', () => {
  it('reads account, region, trail and time from CloudTrail key names', () => {
    expect(parseDigestKey(`prefix/AWSLogs/o-abc123/${ACCOUNT}/CloudTrail-Digest/eu-west-1/2024/03/05/${ACCOUNT}_CloudTrail-Digest_eu-west-1_my_trail_us-east-1_20240305T110031Z_backfill.json.gz`)).toEqual({
      prefix: 'prefix/',
      organizationId: 'o-abc123',
      accountId: ACCOUNT,
      region: 'eu-west-1',
      trailName: 'my_trail',
      homeRegion: 'us-east-1',
      endTime: '2024-03-05T11:00:31Z',
      backfill: true,
    });
    expect(parseLogFileKey(chain.logs[0]!.key)).toEqual({ prefix: '', accountId: ACCOUNT, region: 'us-east-1', time: '2024-03-05T10:10:00Z' });
    expect(parseLogFileKey('AWSLogs/123/CloudTrail/x.json')).toBeUndefined();
  });
});
