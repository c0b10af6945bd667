/**
 * Builds signed CloudTrail digest chains for tests, the way CloudTrail does (per the User Guide), with a
 * key pair generated at test time: no public sample with matching keys exists. The signing string is
 * written out here independently of shared/, so the tests check the implementation against the spec.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { gzipSync } from 'node:zlib';

/** Synthetic trail identity used by every built chain. */
export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const BUCKET = 'amber-trail-bucket';
export const TRAIL = 'amber-trail';
/** Digest windows start at this time plus whole hours (CloudTrail's windows end at an odd second, as here). */
export const FIRST_START = Date.parse('2024-03-05T10:00:31Z');
const HOUR = 3_600_000;
const MINUTE = 60_000;

export interface KeyPair {
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
  /** MD5 hex of the PKCS#1 DER, as ListPublicKeys fingerprints it. */
  readonly fingerprint: string;
  /** The PKCS#1 DER, as ListPublicKeys returns `Value`. */
  readonly der: Buffer;
}

/** A fresh RSA key pair (2048-bit, like CloudTrail's). */
export function makeKeyPair(): KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const der = publicKey.export({ format: 'der', type: 'pkcs1' });
  return { publicKey, privateKey, der, fingerprint: createHash('md5').update(der).digest('hex') };
}

export interface BuiltLogFile {
  readonly s3: string;
  readonly key: string;
  /** Stored bytes (.json.gz). */
  readonly gz: Buffer;
  /** Uncompressed content: what the digest hashes. */
  readonly content: Buffer;
}

export interface BuiltDigest {
  readonly s3: string;
  readonly key: string;
  readonly gz: Buffer;
  readonly content: Buffer;
  readonly fields: Record<string, unknown>;
  /** Hex RSA-SHA256 signature, the `x-amz-meta-signature` of the object. */
  readonly signature: string;
}

export interface BuiltChain {
  readonly logs: BuiltLogFile[];
  readonly digests: BuiltDigest[];
}

function stamp(ms: number, withSeconds: boolean): string {
  const iso = new Date(ms).toISOString();
  const compact = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}`;
  return withSeconds ? `${compact}${iso.slice(17, 19)}Z` : `${compact}Z`;
}

function datePath(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}`;
}

/** A CloudTrail log file named for `ms`, holding one synthetic record. */
export function makeLogFile(ms: number, id: string, eventName = 'DescribeInstances'): BuiltLogFile {
  const key = `AWSLogs/${ACCOUNT}/CloudTrail/${REGION}/${datePath(ms)}/${ACCOUNT}_CloudTrail_${REGION}_${stamp(ms, false)}_${id}.json.gz`;
  const eventTime = `${new Date(ms - 2 * MINUTE).toISOString().slice(0, 19)}Z`;
  const content = Buffer.from(JSON.stringify({ Records: [{ eventVersion: '1.09', eventTime, eventSource: 'ec2.amazonaws.com', eventName, awsRegion: REGION }] }));
  return { s3: `s3://${BUCKET}/${key}`, key, content, gz: gzipSync(content) };
}

/** The S3 key CloudTrail gives the digest whose window ends at `endMs`. */
export function digestKey(endMs: number): string {
  return `AWSLogs/${ACCOUNT}/CloudTrail-Digest/${REGION}/${datePath(endMs)}/${ACCOUNT}_CloudTrail-Digest_${REGION}_${TRAIL}_${REGION}_${stamp(endMs, true)}.json.gz`;
}

function iso(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/** Signs digest content as CloudTrail does: RSA PKCS#1 v1.5 over SHA-256 of the signing string. */
export function signDigest(fields: Record<string, unknown>, content: Buffer, privateKey: KeyObject): string {
  const toSign = [
    fields['digestEndTime'],
    `${String(fields['digestS3Bucket'])}/${String(fields['digestS3Object'])}`,
    createHash('sha256').update(content).digest('hex'),
    fields['previousDigestSignature'] ?? 'null',
  ].join('\n');
  return sign('sha256', Buffer.from(toSign, 'utf8'), privateKey).toString('hex');
}

/** Builds one digest over `logs`, linked to `previous` (or a starting digest when undefined). */
export function makeDigest(startMs: number, logs: BuiltLogFile[], previous: BuiltDigest | undefined, keys: KeyPair): BuiltDigest {
  const endMs = startMs + HOUR;
  const key = digestKey(endMs);
  const fields: Record<string, unknown> = {
    awsAccountId: ACCOUNT,
    digestStartTime: iso(startMs),
    digestEndTime: iso(endMs),
    digestS3Bucket: BUCKET,
    digestS3Object: key,
    digestPublicKeyFingerprint: keys.fingerprint,
    digestSignatureAlgorithm: 'SHA256withRSA',
    newestEventTime: logs.length === 0 ? null : iso(startMs + 50 * MINUTE),
    oldestEventTime: logs.length === 0 ? null : iso(startMs + 5 * MINUTE),
    previousDigestS3Bucket: previous === undefined ? null : BUCKET,
    previousDigestS3Object: previous?.key ?? null,
    previousDigestHashValue: previous === undefined ? null : createHash('sha256').update(previous.content).digest('hex'),
    previousDigestHashAlgorithm: previous === undefined ? null : 'SHA-256',
    previousDigestSignature: previous?.signature ?? null,
    logFiles: logs.map((log) => ({
      s3Bucket: BUCKET,
      s3Object: log.key,
      hashValue: createHash('sha256').update(log.content).digest('hex'),
      hashAlgorithm: 'SHA-256',
      newestEventTime: iso(startMs + 5 * MINUTE),
      oldestEventTime: iso(startMs + 5 * MINUTE),
    })),
  };
  const content = Buffer.from(JSON.stringify(fields));
  return { s3: `s3://${BUCKET}/${key}`, key, fields, content, gz: gzipSync(content), signature: signDigest(fields, content, keys.privateKey) };
}

/** A chain of `hours` hourly digests, each listing two log files named 10 and 40 minutes into its window. */
export function makeChain(keys: KeyPair, hours = 3): BuiltChain {
  const logs: BuiltLogFile[] = [];
  const digests: BuiltDigest[] = [];
  for (let h = 0; h < hours; h += 1) {
    const start = FIRST_START + h * HOUR;
    const hourLogs = [makeLogFile(start + 10 * MINUTE, `h${h}a${'0'.repeat(12)}`), makeLogFile(start + 40 * MINUTE, `h${h}b${'0'.repeat(12)}`)];
    logs.push(...hourLogs);
    digests.push(makeDigest(start, hourLogs, digests[digests.length - 1], keys));
  }
  return { logs, digests };
}

/** Re-gzips a digest after changing its fields, keeping the original signature (what a tamperer can do). */
export function tamperDigest(digest: BuiltDigest, change: (fields: Record<string, unknown>) => void): BuiltDigest {
  const fields = structuredClone(digest.fields);
  change(fields);
  const content = Buffer.from(JSON.stringify(fields));
  return { ...digest, fields, content, gz: gzipSync(content) };
}
