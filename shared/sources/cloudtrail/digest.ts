/**
 * CloudTrail log file integrity validation, offline: the checks `aws cloudtrail validate-logs` makes,
 * over digests and log files already in the evidence store.
 *
 * The scheme (CloudTrail User Guide, "Digest file structure" and "Custom implementations of log file
 * integrity validation"):
 * - each digest is signed (RSA PKCS#1 v1.5 with SHA-256) over the string
 *   `digestEndTime \n digestS3Bucket/digestS3Object \n hex SHA-256 of the uncompressed digest \n previousDigestSignature`
 *   (the literal `null` for a starting digest); the hex signature lives in the digest object's S3 metadata
 *   (`x-amz-meta-signature`), so the caller supplies it, and each later digest repeats it as `previousDigestSignature`;
 * - the public key is chosen by `digestPublicKeyFingerprint`, the MD5 hex of the DER key exactly as
 *   ListPublicKeys returns it (checked against both keys in the User Guide's ListPublicKeys sample: one is
 *   PKCS#1, one SPKI, and each fingerprint is the MD5 of its own encoding);
 * - `logFiles[].hashValue` and `previousDigestHashValue` are SHA-256 of the UNCOMPRESSED content. So the
 *   SHA-256 in Amber's manifest (of the stored .json.gz bytes) can never match them: the validator asks for
 *   the log file bytes (it inflates them) or for the SHA-256 of the inflated content.
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { ParseError } from '../../errors.ts';
import { sha256Hex } from '../../evidence/hashing.ts';
import { DEFAULT_MAX_INFLATED_BYTES, inflateGzip, isGzip } from './bytes.ts';
import { findJsonSyntaxError, lineAndColumn } from './json-scan.ts';

/** One entry of a digest's `logFiles`. */
export interface CloudTrailDigestLogFile {
  s3Bucket: string;
  s3Object: string;
  /** Hex SHA-256 of the log file's uncompressed content. */
  hashValue: string;
  hashAlgorithm: string;
  newestEventTime?: string | null;
  oldestEventTime?: string | null;
  [key: string]: unknown;
}

/** A digest file's content, as the CloudTrail User Guide documents it. */
export interface CloudTrailDigest {
  awsAccountId: string;
  digestStartTime: string;
  digestEndTime: string;
  digestS3Bucket: string;
  digestS3Object: string;
  digestPublicKeyFingerprint: string;
  digestSignatureAlgorithm: string;
  newestEventTime: string | null;
  oldestEventTime: string | null;
  /** The five previous* fields are null in a starting digest. */
  previousDigestS3Bucket: string | null;
  previousDigestS3Object: string | null;
  previousDigestHashValue: string | null;
  previousDigestHashAlgorithm: string | null;
  previousDigestSignature: string | null;
  logFiles: CloudTrailDigestLogFile[];
  [key: string]: unknown;
}

/** A parsed digest with the inflated bytes its signature and chain hash cover. */
export interface ParsedCloudTrailDigest {
  readonly digest: CloudTrailDigest;
  /** The uncompressed digest content: what `previousDigestHashValue` and the signing string hash. */
  readonly content: Uint8Array;
  readonly contentSha256: string;
  /** Oddities that do not stop validation (a hash value that is not 64 hex digits, ...). */
  readonly warnings: string[];
}

const HEX64 = /^[0-9a-f]{64}$/i;
const HEX = /^(?:[0-9a-f]{2})+$/i;
const SIGNATURE_ALGORITHM = 'SHA256withRSA';
const HASH_ALGORITHM = 'SHA-256';

/** Parses a digest object as stored (gzip or already inflated). Throws ParseError naming the file. */
export function parseCloudTrailDigest(bytes: Uint8Array, name: string, maxInflatedBytes: number = DEFAULT_MAX_INFLATED_BYTES): ParsedCloudTrailDigest {
  if (!isGzip(bytes)) return parseCloudTrailDigestContent(bytes, name);
  const inflated = inflateGzip(bytes, maxInflatedBytes);
  if (inflated.damage !== undefined) {
    throw new ParseError(`digest file is unreadable: ${inflated.damage}`, name, undefined, {
      hint: 'a damaged digest cannot be validated; fetch it again from the trail bucket if it still exists',
    });
  }
  return parseCloudTrailDigestContent(inflated.data, name);
}

/** Parses uncompressed digest content. Throws ParseError naming the file and the bad field. */
export function parseCloudTrailDigestContent(content: Uint8Array, name: string): ParsedCloudTrailDigest {
  const fail = (message: string): never => {
    throw new ParseError(`not a valid CloudTrail digest: ${message}`, name, undefined, {
      hint: 'a digest is one JSON object with digestStartTime, digestEndTime, digestS3Bucket, digestS3Object, digestPublicKeyFingerprint, previousDigestSignature and logFiles',
    });
  };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(content);
  } catch {
    return fail('not valid UTF-8');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    const problem = findJsonSyntaxError(text);
    if (problem === undefined) return fail(`not one JSON document (${error instanceof Error ? error.message : String(error)})`);
    const { line, column } = lineAndColumn(text, problem.position);
    return fail(`not one JSON document: ${problem.message} at line ${line} column ${column}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return fail('not a JSON object');
  const d = doc as Record<string, unknown>;
  const warnings: string[] = [];
  // The fields aws-cli requires before it validates a digest, plus logFiles which it reads afterwards.
  for (const field of ['digestStartTime', 'digestEndTime', 'digestS3Bucket', 'digestS3Object', 'digestPublicKeyFingerprint'] as const) {
    if (typeof d[field] !== 'string' || d[field] === '') fail(`${field} is missing or not a string`);
  }
  if (!Object.hasOwn(d, 'previousDigestSignature')) fail('previousDigestSignature is missing (it is null in a starting digest, never absent)');
  for (const field of ['previousDigestS3Bucket', 'previousDigestS3Object', 'previousDigestHashValue', 'previousDigestHashAlgorithm', 'previousDigestSignature'] as const) {
    const v = d[field];
    if (v !== undefined && v !== null && typeof v !== 'string') fail(`${field} is neither a string nor null`);
  }
  if (typeof d['awsAccountId'] !== 'string') warnings.push('awsAccountId is missing or not a string');
  if (d['digestSignatureAlgorithm'] !== SIGNATURE_ALGORITHM) {
    warnings.push(`digestSignatureAlgorithm is ${JSON.stringify(d['digestSignatureAlgorithm'])}, not ${SIGNATURE_ALGORITHM}`);
  }
  if (!Array.isArray(d['logFiles'])) fail('logFiles is missing or not an array');
  (d['logFiles'] as unknown[]).forEach((entry, i) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) fail(`logFiles[${i}] is not an object`);
    const lf = entry as Record<string, unknown>;
    for (const field of ['s3Bucket', 's3Object', 'hashValue'] as const) {
      if (typeof lf[field] !== 'string' || lf[field] === '') fail(`logFiles[${i}].${field} is missing or not a string`);
    }
    if (!HEX64.test(lf['hashValue'] as string)) warnings.push(`logFiles[${i}].hashValue is not 64 hex digits: ${JSON.stringify(lf['hashValue'])}`);
  });
  const previousHash = d['previousDigestHashValue'];
  if (typeof previousHash === 'string' && !HEX64.test(previousHash)) {
    warnings.push(`previousDigestHashValue is not 64 hex digits (${previousHash.length} characters): it can never match a SHA-256`);
  }
  const fingerprint = d['digestPublicKeyFingerprint'] as string;
  if (!/^[0-9a-f]{32}$/i.test(fingerprint)) warnings.push(`digestPublicKeyFingerprint is not 32 hex digits: ${JSON.stringify(fingerprint)}`);
  return { digest: d as CloudTrailDigest, content, contentSha256: sha256Hex(content), warnings };
}

/** The exact string CloudTrail signs for a digest (see the file comment). */
export function digestSigningString(digest: CloudTrailDigest, contentSha256: string): string {
  // A starting digest has no previous signature; CloudTrail signs the literal "null" (as aws-cli does).
  const previous = digest.previousDigestSignature ?? 'null';
  return `${digest.digestEndTime}\n${digest.digestS3Bucket}/${digest.digestS3Object}\n${contentSha256}\n${previous}`;
}

/** What a digest's S3 key says about it: `.../AWSLogs/[o-id/]<acct>/CloudTrail-Digest/<region>/y/m/d/<acct>_CloudTrail-Digest_<region>_<trail>_<home>_<end>[_backfill].json.gz`. */
export interface DigestKeyInfo {
  readonly prefix: string;
  readonly organizationId?: string;
  readonly accountId: string;
  readonly region: string;
  readonly trailName: string;
  readonly homeRegion: string;
  /** End timestamp from the name, ISO `YYYY-MM-DDTHH:MM:SSZ`. */
  readonly endTime: string;
  readonly backfill: boolean;
}

const DIGEST_KEY =
  /^(?<prefix>(?:.*\/)?)AWSLogs\/(?:(?<org>o-[a-z0-9]+)\/)?(?<acct>\d{12})\/CloudTrail-Digest\/(?<region>[a-z0-9-]+)\/\d{4}\/\d{2}\/\d{2}\/\k<acct>_CloudTrail-Digest_\k<region>_(?<trail>.+)_(?<home>[a-z0-9-]+)_(?<ts>\d{8}T\d{6}Z)(?<backfill>_backfill)?\.json(?:\.gz)?$/;
const LOG_KEY =
  /^(?<prefix>(?:.*\/)?)AWSLogs\/(?:(?<org>o-[a-z0-9]+)\/)?(?<acct>\d{12})\/CloudTrail\/(?<region>[a-z0-9-]+)\/\d{4}\/\d{2}\/\d{2}\/\k<acct>_CloudTrail_\k<region>_(?<ts>\d{8}T\d{4}Z)_[A-Za-z0-9]+\.json(?:\.gz)?$/;

/** Reads account, region, trail and time from a digest key; undefined when it does not follow CloudTrail's naming. */
export function parseDigestKey(key: string): DigestKeyInfo | undefined {
  const g = DIGEST_KEY.exec(key)?.groups;
  if (g === undefined) return undefined;
  const ts = g['ts'] as string;
  const info = {
    prefix: g['prefix'] as string,
    accountId: g['acct'] as string,
    region: g['region'] as string,
    trailName: g['trail'] as string,
    homeRegion: g['home'] as string,
    endTime: `${ts.slice(0, 4)}-${ts.slice(4, 6)}-${ts.slice(6, 8)}T${ts.slice(9, 11)}:${ts.slice(11, 13)}:${ts.slice(13, 15)}Z`,
    backfill: g['backfill'] !== undefined,
  };
  return g['org'] === undefined ? info : { ...info, organizationId: g['org'] };
}

/** What a log file's S3 key says about it: account, region, and the minute in its name. */
export interface LogFileKeyInfo {
  readonly prefix: string;
  readonly organizationId?: string;
  readonly accountId: string;
  readonly region: string;
  /** Timestamp from the name, ISO `YYYY-MM-DDTHH:MM:00Z`. */
  readonly time: string;
}

/** Reads account, region and time from a CloudTrail log file key; undefined when it does not follow the naming. */
export function parseLogFileKey(key: string): LogFileKeyInfo | undefined {
  const g = LOG_KEY.exec(key)?.groups;
  if (g === undefined) return undefined;
  const ts = g['ts'] as string;
  const info = {
    prefix: g['prefix'] as string,
    accountId: g['acct'] as string,
    region: g['region'] as string,
    time: `${ts.slice(0, 4)}-${ts.slice(4, 6)}-${ts.slice(6, 8)}T${ts.slice(9, 11)}:${ts.slice(11, 13)}:00Z`,
  };
  return g['org'] === undefined ? info : { ...info, organizationId: g['org'] };
}

// ---------------------------------------------------------------------------------------------------
// Public keys

/** A CloudTrail public key, from a file (PEM or DER) or from ListPublicKeys. */
export interface CloudTrailPublicKey {
  /** PEM text, DER bytes, or base64 DER text exactly as `aws cloudtrail list-public-keys` prints `Value`. PKCS#1 or SPKI. */
  readonly value: string | Uint8Array;
  /** The `Fingerprint` ListPublicKeys returns. @default MD5 of the key's DER encodings (PKCS#1 and SPKI) */
  readonly fingerprint?: string;
}

/** Parses `aws cloudtrail list-public-keys` JSON output (`{"PublicKeyList":[{"Value","Fingerprint",...}]}`) into keys. */
export function publicKeysFromListPublicKeys(json: string | Uint8Array, name = 'list-public-keys output'): CloudTrailPublicKey[] {
  let doc: unknown;
  try {
    doc = JSON.parse(typeof json === 'string' ? json : new TextDecoder().decode(json));
  } catch (error) {
    throw new ParseError(`not JSON: ${error instanceof Error ? error.message : String(error)}`, name, undefined);
  }
  const list = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>)['PublicKeyList'] : undefined;
  if (!Array.isArray(list)) throw new ParseError('has no PublicKeyList array', name, undefined, { hint: 'save the output of `aws cloudtrail list-public-keys --start-time ... --end-time ...`' });
  return list.map((entry, i) => {
    const e = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    const value = e['Value'];
    if (typeof value !== 'string') throw new ParseError(`PublicKeyList[${i}].Value is not a base64 string`, name, i);
    const fingerprint = e['Fingerprint'];
    return typeof fingerprint === 'string' ? { value, fingerprint } : { value };
  });
}

/** Loads a public key and the MD5 fingerprints of its DER encodings (the form ListPublicKeys fingerprints). */
export function loadPublicKey(value: string | Uint8Array): { key: KeyObject; fingerprints: string[] } {
  let key: KeyObject;
  const supplied: Buffer[] = [];
  if (typeof value === 'string' && value.includes('-----BEGIN')) {
    key = createPublicKey(value);
  } else {
    const der = typeof value === 'string' ? Buffer.from(value.replace(/\s+/g, ''), 'base64') : Buffer.from(value);
    supplied.push(der);
    try {
      key = createPublicKey({ key: der, format: 'der', type: 'pkcs1' });
    } catch {
      key = createPublicKey({ key: der, format: 'der', type: 'spki' });
    }
  }
  if (key.asymmetricKeyType !== 'rsa') throw new Error(`not an RSA key (${key.asymmetricKeyType ?? 'unknown type'})`);
  const encodings = [...supplied, key.export({ format: 'der', type: 'pkcs1' }), key.export({ format: 'der', type: 'spki' })];
  const fingerprints = [...new Set(encodings.map((der) => createHash('md5').update(der).digest('hex')))];
  return { key, fingerprints };
}

// ---------------------------------------------------------------------------------------------------
// Validation

/** One digest object from the evidence. */
export interface DigestObjectInput {
  /** Where the digest is kept (evidence key or path); named in messages. */
  readonly key: string;
  /** The object's bytes as stored (gzip) or inflated. */
  readonly bytes: Uint8Array;
  /**
   * The object's `x-amz-meta-signature` (hex), captured at acquisition. Optional for all but the newest
   * digest of a chain: each later digest repeats it as `previousDigestSignature`.
   */
  readonly signatureHex?: string;
  /** The object's `x-amz-meta-signature-algorithm`; must be SHA256withRSA when given. */
  readonly signatureAlgorithm?: string;
  /** `s3://bucket/key` it was acquired from; must equal digestS3Bucket/digestS3Object when given (aws-cli's "moved" check). */
  readonly origin?: string;
}

/** A log file's content for hash checking: its bytes (gzip or not), or the SHA-256 of its UNCOMPRESSED content. */
export type LogFileContent = { readonly bytes: Uint8Array } | { readonly uncompressedSha256: string };

/** Everything the validator needs; all of it already in the evidence store or the case file. */
export interface DigestValidationInput {
  readonly digests: readonly DigestObjectInput[];
  readonly publicKeys: readonly CloudTrailPublicKey[];
  /**
   * Finds a log file named by a digest, by its ORIGINAL S3 location (the evidence store maps that to its
   * preserved key); undefined when the evidence does not hold it. Not the manifest SHA-256 of the .gz: see the file comment.
   */
  readonly logFile: (bucket: string, key: string) => LogFileContent | undefined;
  /** Original S3 locations (`s3://bucket/key` or `{bucket, key}`) of the CloudTrail log files in the evidence, to find extra files. */
  readonly presentLogFiles?: Iterable<string | { readonly bucket: string; readonly key: string }>;
  /**
   * How long after the time in its name a log file may be delivered. A present file is called extra only
   * when its whole delivery window lies inside time the supplied digests cover.
   * @default 15 minutes
   */
  readonly deliveryGraceMinutes?: number;
  /** @default 1 GiB */
  readonly maxInflatedBytes?: number;
}

/** Outcome for one digest; every status but `valid` counts as INVALID, as in aws-cli. */
export type DigestStatus = 'valid' | 'invalid-signature' | 'unknown-public-key' | 'no-signature' | 'invalid-format' | 'moved' | 'unsupported-algorithm';

/** Result for one supplied digest object. */
export interface DigestResult {
  /** The evidence key the caller gave. */
  readonly key: string;
  /** `s3://digestS3Bucket/digestS3Object` when the digest could be read. */
  readonly s3?: string;
  readonly status: DigestStatus;
  /** aws-cli style: `Digest file\ts3://...\tvalid` or `...\tINVALID: reason`. */
  readonly message: string;
  readonly digestStartTime?: string;
  readonly digestEndTime?: string;
  /** Where the signature came from: the object's S3 metadata, or the next digest's previousDigestSignature. */
  readonly signatureSource?: 'metadata' | 'next-digest';
  readonly backfill: boolean;
  readonly warnings: string[];
}

/** Outcome for one log file a digest lists. */
export type LogFileStatus = 'valid' | 'modified' | 'missing' | 'invalid-format' | 'unsupported-algorithm';

/** Result for one log file listed by a digest. */
export interface LogFileResult {
  readonly s3: string;
  readonly bucket: string;
  readonly key: string;
  /** s3:// location of the digest listing it. */
  readonly digest: string;
  /** False when that digest failed validation: the expected hash then has no authority. */
  readonly digestValid: boolean;
  readonly status: LogFileStatus;
  readonly message: string;
  readonly expectedSha256: string;
  readonly actualSha256?: string;
}

/** A log file in the evidence that the digests covering its delivery time do not list. */
export interface ExtraLogFile {
  readonly s3: string;
  readonly message: string;
}

/** A log file in the evidence that no supplied digest can vouch for either way, and why. */
export interface UncoveredLogFile {
  readonly s3: string;
  readonly reason: string;
}

/** Findings about the chain of digests. `integrity` ones fail validation; the others explain gaps. */
export type ChainFindingKind =
  | 'missing-digest'
  | 'previous-digest-modified'
  | 'previous-signature-mismatch'
  | 'duplicate-digest'
  | 'chain-restart'
  | 'time-gap'
  | 'unlinked-digest'
  | 'chain-continues-before-input';

/** One finding about the chain. */
export interface ChainFinding {
  readonly kind: ChainFindingKind;
  /** True when it is evidence of deletion or modification (it makes `ok` false). */
  readonly integrity: boolean;
  /** The digest the finding is about (s3:// location). */
  readonly digest: string;
  /** The other digest involved, when there is one. */
  readonly related?: string;
  readonly message: string;
}

/** The full validation report, shaped after `aws cloudtrail validate-logs` output. */
export interface DigestValidationReport {
  /** True when nothing was modified, deleted or added: every digest and log file valid, no extra file, no integrity finding. */
  readonly ok: boolean;
  readonly digests: DigestResult[];
  readonly logFiles: LogFileResult[];
  readonly extraLogFiles: ExtraLogFile[];
  readonly uncoveredLogFiles: UncoveredLogFile[];
  readonly chain: ChainFinding[];
  readonly warnings: string[];
  readonly summary: {
    readonly validDigests: number;
    /** Includes missing digests, as aws-cli counts them. */
    readonly invalidDigests: number;
    readonly validLogFiles: number;
    readonly invalidLogFiles: number;
    readonly extraLogFiles: number;
    readonly uncoveredLogFiles: number;
    readonly missingDigests: number;
    /** Chain restarts and time gaps: periods no digest covers, not by themselves evidence of tampering. */
    readonly gaps: number;
  };
}

interface DigestEntry {
  readonly input: DigestObjectInput;
  readonly parsed: ParsedCloudTrailDigest;
  readonly s3: string;
  readonly keyInfo: DigestKeyInfo | undefined;
  readonly start: number;
  readonly end: number;
  valid: boolean;
}

const MINUTE = 60_000;

/**
 * Validates digests, their chain and the log files they list, like `aws cloudtrail validate-logs`, plus
 * what only an evidence store can check: log files present that no digest lists.
 */
export function validateCloudTrailDigests(input: DigestValidationInput): DigestValidationReport {
  const warnings: string[] = [];
  const maxInflated = input.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES;
  const keysByFingerprint = indexPublicKeys(input.publicKeys, warnings);

  const results = new Map<DigestObjectInput, DigestResult>();
  const entries: DigestEntry[] = [];
  const byS3 = new Map<string, DigestEntry>();
  const chain: ChainFinding[] = [];
  const duplicates: Array<{ input: DigestObjectInput; of: DigestObjectInput }> = [];
  for (const digestInput of input.digests) {
    let parsed: ParsedCloudTrailDigest;
    try {
      parsed = parseCloudTrailDigest(digestInput.bytes, digestInput.key, maxInflated);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      results.set(digestInput, {
        key: digestInput.key,
        status: 'invalid-format',
        message: `Digest file\t${digestInput.key}\tINVALID: invalid format (${reason})`,
        backfill: false,
        warnings: [],
      });
      continue;
    }
    const d = parsed.digest;
    const s3 = s3Uri(d.digestS3Bucket, d.digestS3Object);
    const entry: DigestEntry = {
      input: digestInput,
      parsed,
      s3,
      keyInfo: parseDigestKey(d.digestS3Object),
      start: Date.parse(d.digestStartTime),
      end: Date.parse(d.digestEndTime),
      valid: false,
    };
    const earlier = byS3.get(s3);
    if (earlier !== undefined) {
      const same = earlier.parsed.contentSha256 === parsed.contentSha256;
      chain.push({
        kind: 'duplicate-digest',
        integrity: !same,
        digest: s3,
        message: same
          ? `Digest file\t${s3}\tsupplied twice (${earlier.input.key} and ${digestInput.key}) with identical content`
          : `Digest file\t${s3}\tINVALID: two different objects (${earlier.input.key}, ${digestInput.key}) claim this location`,
      });
      if (same) {
        duplicates.push({ input: digestInput, of: earlier.input });
        continue;
      }
    } else {
      byS3.set(s3, entry);
    }
    entries.push(entry);
  }

  // The digest that names each digest as its previous one; it carries that digest's signature.
  const successor = new Map<string, DigestEntry>();
  for (const entry of entries) {
    const previous = previousS3(entry.parsed.digest);
    if (previous !== undefined && !successor.has(previous)) successor.set(previous, entry);
  }

  for (const entry of entries) {
    const result = validateOne(entry, successor.get(entry.s3), keysByFingerprint, chain);
    entry.valid = result.status === 'valid';
    results.set(entry.input, result);
  }

  for (const { input: copy, of } of duplicates) {
    const first = results.get(of);
    if (first !== undefined) results.set(copy, { ...first, key: copy.key });
  }

  const logFiles: LogFileResult[] = [];
  const listed = new Set<string>();
  for (const entry of entries) {
    for (const lf of entry.parsed.digest.logFiles) {
      const s3 = s3Uri(lf.s3Bucket, lf.s3Object);
      listed.add(s3);
      logFiles.push(checkLogFile(lf, s3, entry, input.logFile, maxInflated));
    }
  }

  const missingWindows = analyseChain(entries, byS3, chain);
  const { extra, uncovered } = findExtraLogFiles(input, entries, listed, missingWindows);

  const digests = input.digests.map((d) => results.get(d)).filter((r): r is DigestResult => r !== undefined);
  const missingDigests = chain.filter((f) => f.kind === 'missing-digest').length;
  const validDigests = digests.filter((r) => r.status === 'valid').length;
  const validLogFiles = logFiles.filter((r) => r.status === 'valid').length;
  const summary = {
    validDigests,
    invalidDigests: digests.length - validDigests + missingDigests,
    validLogFiles,
    invalidLogFiles: logFiles.length - validLogFiles,
    extraLogFiles: extra.length,
    uncoveredLogFiles: uncovered.length,
    missingDigests,
    gaps: chain.filter((f) => f.kind === 'chain-restart' || f.kind === 'time-gap').length,
  };
  const ok = summary.invalidDigests === 0 && summary.invalidLogFiles === 0 && extra.length === 0 && !chain.some((f) => f.integrity);
  return { ok, digests, logFiles, extraLogFiles: extra, uncoveredLogFiles: uncovered, chain, warnings, summary };
}

/** The report as text in `aws cloudtrail validate-logs` style: one status line per item, then the totals. */
export function formatDigestValidationReport(report: DigestValidationReport): string {
  const lines: string[] = [];
  for (const d of report.digests) lines.push(d.message);
  for (const f of report.chain) lines.push(f.message);
  for (const l of report.logFiles) lines.push(l.message);
  for (const e of report.extraLogFiles) lines.push(e.message);
  for (const u of report.uncoveredLogFiles) lines.push(`Log file\t${u.s3}\tnot covered: ${u.reason}`);
  const s = report.summary;
  const ratio = (valid: number, invalid: number, name: string): string => {
    const total = valid + invalid;
    return invalid > 0 ? `${valid}/${total} ${name} files valid, ${invalid}/${total} ${name} files INVALID` : `${valid}/${total} ${name} files valid`;
  };
  lines.push('', ratio(s.validDigests, s.invalidDigests, 'digest'), ratio(s.validLogFiles, s.invalidLogFiles, 'log'));
  if (s.extraLogFiles > 0) lines.push(`${s.extraLogFiles} log files present that no digest lists`);
  if (s.gaps > 0) lines.push(`${s.gaps} gaps in the digest chain`);
  return `${lines.join('\n')}\n`;
}

function indexPublicKeys(keys: readonly CloudTrailPublicKey[], warnings: string[]): Map<string, KeyObject[]> {
  const map = new Map<string, KeyObject[]>();
  keys.forEach((supplied, i) => {
    let loaded: { key: KeyObject; fingerprints: string[] };
    try {
      loaded = loadPublicKey(supplied.value);
    } catch (error) {
      warnings.push(`public key ${i}${supplied.fingerprint === undefined ? '' : ` (${supplied.fingerprint})`} cannot be loaded: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    const names = new Set(loaded.fingerprints);
    if (supplied.fingerprint !== undefined) {
      const claimed = supplied.fingerprint.toLowerCase();
      // A fingerprint that is not the key's own means the key source is wrong (or lying): say so.
      if (!names.has(claimed)) {
        warnings.push(`public key ${i}: the supplied fingerprint ${claimed} is not the MD5 of the key (${loaded.fingerprints.join(' or ')}); check where the key came from`);
      }
      names.add(claimed);
    }
    for (const name of names) map.set(name, [...(map.get(name) ?? []), loaded.key]);
  });
  return map;
}

function validateOne(entry: DigestEntry, next: DigestEntry | undefined, keys: Map<string, KeyObject[]>, chain: ChainFinding[]): DigestResult {
  const d = entry.parsed.digest;
  const base = {
    key: entry.input.key,
    s3: entry.s3,
    digestStartTime: d.digestStartTime,
    digestEndTime: d.digestEndTime,
    backfill: entry.keyInfo?.backfill ?? false,
    warnings: entry.parsed.warnings,
  };
  const invalid = (status: DigestStatus, reason: string, extra: Partial<DigestResult> = {}): DigestResult => ({
    ...base,
    ...extra,
    status,
    message: `Digest file\t${entry.s3}\tINVALID: ${reason}`,
  });

  if (entry.input.origin !== undefined) {
    const origin = parseS3Uri(entry.input.origin);
    if (origin !== undefined && (origin.bucket !== d.digestS3Bucket || origin.key !== d.digestS3Object)) {
      return invalid('moved', `has been moved from its original location (acquired from ${entry.input.origin})`);
    }
  }
  if (d.digestSignatureAlgorithm !== SIGNATURE_ALGORITHM) {
    return invalid('unsupported-algorithm', `digestSignatureAlgorithm ${JSON.stringify(d.digestSignatureAlgorithm)} is not ${SIGNATURE_ALGORITHM}`);
  }
  if (entry.input.signatureAlgorithm !== undefined && entry.input.signatureAlgorithm !== SIGNATURE_ALGORITHM) {
    return invalid('unsupported-algorithm', `signature-algorithm metadata ${JSON.stringify(entry.input.signatureAlgorithm)} is not ${SIGNATURE_ALGORITHM}`);
  }

  const fromMetadata = entry.input.signatureHex?.trim().toLowerCase();
  const fromNext = next?.parsed.digest.previousDigestSignature?.toLowerCase() ?? undefined;
  if (fromMetadata !== undefined && fromNext !== undefined && fromMetadata !== fromNext && next !== undefined) {
    chain.push({
      kind: 'previous-signature-mismatch',
      integrity: true,
      digest: next.s3,
      related: entry.s3,
      message: `Digest file\t${next.s3}\tINVALID: its previousDigestSignature differs from the signature stored with ${entry.s3}`,
    });
  }
  const signature = fromMetadata ?? fromNext;
  const signatureSource = fromMetadata !== undefined ? ('metadata' as const) : ('next-digest' as const);
  if (signature === undefined) {
    return invalid('no-signature', 'no signature: the x-amz-meta-signature metadata was not captured and no later digest records it (capture the object metadata when acquiring digests)');
  }
  if (!HEX.test(signature)) return invalid('invalid-signature', 'signature is not hex', { signatureSource });

  const fingerprint = d.digestPublicKeyFingerprint.toLowerCase();
  const candidates = keys.get(fingerprint);
  if (candidates === undefined) {
    const region = entry.keyInfo?.region;
    return invalid('unknown-public-key', `public key not found${region === undefined ? '' : ` in region ${region}`} for fingerprint ${fingerprint}`, { signatureSource });
  }
  const message = Buffer.from(digestSigningString(d, entry.parsed.contentSha256), 'utf8');
  const signatureBytes = Buffer.from(signature, 'hex');
  const verified = candidates.some((key) => {
    try {
      return verify('sha256', message, key, signatureBytes);
    } catch {
      return false;
    }
  });
  if (!verified) return invalid('invalid-signature', 'signature verification failed', { signatureSource });
  return { ...base, status: 'valid', signatureSource, message: `Digest file\t${entry.s3}\tvalid` };
}

function checkLogFile(
  lf: CloudTrailDigestLogFile,
  s3: string,
  entry: DigestEntry,
  lookup: DigestValidationInput['logFile'],
  maxInflated: number,
): LogFileResult {
  const expected = lf.hashValue.toLowerCase();
  const base = { s3, bucket: lf.s3Bucket, key: lf.s3Object, digest: entry.s3, digestValid: entry.valid, expectedSha256: expected };
  const note = entry.valid ? '' : ' (listed by a digest that failed validation)';
  const result = (status: LogFileStatus, text: string, actual?: string): LogFileResult => ({
    ...base,
    status,
    message: `Log file\t${s3}\t${text}${note}`,
    ...(actual === undefined ? {} : { actualSha256: actual }),
  });
  if (lf.hashAlgorithm !== HASH_ALGORITHM) return result('unsupported-algorithm', `INVALID: hash algorithm ${JSON.stringify(lf.hashAlgorithm)} is not ${HASH_ALGORITHM}`);
  const content = lookup(lf.s3Bucket, lf.s3Object);
  if (content === undefined) return result('missing', 'INVALID: not found');
  let actual: string;
  if ('bytes' in content) {
    if (isGzip(content.bytes)) {
      const inflated = inflateGzip(content.bytes, maxInflated);
      if (inflated.damage !== undefined) return result('invalid-format', `INVALID: invalid format (${inflated.damage})`);
      actual = sha256Hex(inflated.data);
    } else {
      actual = sha256Hex(content.bytes);
    }
  } else {
    actual = content.uncompressedSha256.toLowerCase();
  }
  if (actual !== expected) return result('modified', "INVALID: hash value doesn't match", actual);
  return result('valid', 'valid', actual);
}

interface Window {
  readonly start: number;
  readonly end: number;
  readonly missing?: string;
}

/** Walks each trail's digests in time order: links, hashes, gaps. Returns the windows of missing digests by stream. */
function analyseChain(entries: DigestEntry[], byS3: Map<string, DigestEntry>, chain: ChainFinding[]): Map<string, Window[]> {
  const streams = new Map<string, DigestEntry[]>();
  for (const entry of entries) {
    // Backfill digests list late log files outside the hourly chain; they are validated but not chained.
    if (entry.keyInfo?.backfill === true) continue;
    const key = chainKey(entry);
    streams.set(key, [...(streams.get(key) ?? []), entry]);
  }
  const missing = new Map<string, Window[]>();
  for (const stream of streams.values()) {
    stream.sort((a, b) => a.end - b.end);
    const linked = new Set<DigestEntry>();
    stream.forEach((entry, k) => {
      const older = stream[k - 1];
      const d = entry.parsed.digest;
      const previous = previousS3(d);
      if (previous === undefined) {
        if (older !== undefined) {
          chain.push({
            kind: 'chain-restart',
            integrity: false,
            digest: entry.s3,
            related: older.s3,
            message: `No log files were delivered by CloudTrail between ${older.parsed.digest.digestEndTime} and ${d.digestStartTime} (the digest chain restarts at ${entry.s3}: logging or log file validation was off)`,
          });
        }
        return;
      }
      const prev = byS3.get(previous);
      if (prev === undefined) {
        if (older === undefined) {
          chain.push({
            kind: 'chain-continues-before-input',
            integrity: false,
            digest: entry.s3,
            related: previous,
            message: `Digest file\t${entry.s3}\tlinks to ${previous}, which was not supplied; supply older digests to validate further back`,
          });
          return;
        }
        const window = { start: older.end, end: entry.start, missing: previous };
        missing.set(streamKey(entry), [...(missing.get(streamKey(entry)) ?? []), window]);
        chain.push({
          kind: 'missing-digest',
          integrity: true,
          digest: previous,
          related: entry.s3,
          message: `Digest file\t${previous}\tINVALID: not found (named as previous by ${entry.s3}; the chain resumes at ${older.s3}, so digests between ${older.parsed.digest.digestEndTime} and ${d.digestStartTime} are missing)`,
        });
        return;
      }
      linked.add(prev);
      const expectedHash = d.previousDigestHashValue?.toLowerCase();
      if (expectedHash !== prev.parsed.contentSha256) {
        chain.push({
          kind: 'previous-digest-modified',
          integrity: true,
          digest: prev.s3,
          related: entry.s3,
          message: `Digest file\t${prev.s3}\tINVALID: its SHA-256 ${prev.parsed.contentSha256} does not match previousDigestHashValue ${String(d.previousDigestHashValue)} recorded in ${entry.s3}`,
        });
      }
      if (d.digestStartTime !== prev.parsed.digest.digestEndTime) {
        chain.push({
          kind: 'time-gap',
          integrity: false,
          digest: entry.s3,
          related: prev.s3,
          message: `Digest file\t${entry.s3}\tstarts at ${d.digestStartTime} but its previous digest ${prev.s3} ends at ${prev.parsed.digest.digestEndTime}`,
        });
      }
    });
    // A digest nothing links to, other than the newest, is explained by a restart or a missing digest
    // after it; otherwise the chain forks around it.
    stream.forEach((entry, k) => {
      const newer = stream[k + 1];
      if (newer === undefined || linked.has(entry)) return;
      const newerPrevious = previousS3(newer.parsed.digest);
      if (newerPrevious === undefined || !byS3.has(newerPrevious)) return;
      chain.push({
        kind: 'unlinked-digest',
        integrity: false,
        digest: entry.s3,
        message: `Digest file\t${entry.s3}\tno later digest links to it (the next digest, ${newer.s3}, links to ${newerPrevious})`,
      });
    });
  }
  return missing;
}

function findExtraLogFiles(
  input: DigestValidationInput,
  entries: DigestEntry[],
  listed: Set<string>,
  missingWindows: Map<string, Window[]>,
): { extra: ExtraLogFile[]; uncovered: UncoveredLogFile[] } {
  const extra: ExtraLogFile[] = [];
  const uncovered: UncoveredLogFile[] = [];
  if (input.presentLogFiles === undefined) return { extra, uncovered };
  const grace = (input.deliveryGraceMinutes ?? 15) * MINUTE;
  const coverage = new Map<string, Window[]>();
  for (const entry of entries) {
    if (Number.isNaN(entry.start) || Number.isNaN(entry.end)) continue;
    const key = streamKey(entry);
    coverage.set(key, [...(coverage.get(key) ?? []), { start: entry.start, end: entry.end }]);
  }
  for (const [key, windows] of coverage) coverage.set(key, mergeWindows(windows));

  const seen = new Set<string>();
  for (const item of input.presentLogFiles) {
    const location = typeof item === 'string' ? parseS3Uri(item) : item;
    if (location === undefined) {
      uncovered.push({ s3: String(item), reason: 'not an s3://bucket/key location' });
      continue;
    }
    const s3 = s3Uri(location.bucket, location.key);
    if (seen.has(s3) || listed.has(s3)) continue;
    seen.add(s3);
    if (parseDigestKey(location.key) !== undefined) continue;
    const info = parseLogFileKey(location.key);
    if (info === undefined) {
      uncovered.push({ s3, reason: 'its key does not follow CloudTrail log file naming (AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<time>_<id>.json.gz)' });
      continue;
    }
    const key = `${location.bucket}|${info.prefix}|${info.organizationId ?? ''}|${info.accountId}|${info.region}`;
    const windows = coverage.get(key);
    if (windows === undefined) {
      uncovered.push({ s3, reason: `no digest was supplied for account ${info.accountId} in ${info.region} (bucket ${location.bucket})` });
      continue;
    }
    const from = Date.parse(info.time);
    const to = from + grace;
    if (windows.some((w) => w.start <= from && to <= w.end)) {
      extra.push({ s3, message: `Log file\t${s3}\tINVALID: not listed in any digest, though the digests cover its delivery time (${info.time} + ${grace / MINUTE} min)` });
      continue;
    }
    const gap = (missingWindows.get(key) ?? []).find((w) => w.start < to && from < w.end);
    uncovered.push({
      s3,
      reason:
        gap?.missing !== undefined
          ? `it was delivered around ${info.time}, where digest ${gap.missing} is missing`
          : `it was delivered around ${info.time}, outside (or at the edge of) the time the supplied digests cover`,
    });
  }
  return { extra, uncovered };
}

function mergeWindows(windows: Window[]): Window[] {
  const sorted = [...windows].sort((a, b) => a.start - b.start);
  const merged: Window[] = [];
  for (const w of sorted) {
    const last = merged[merged.length - 1];
    // Consecutive digests share their boundary (end of one = start of the next), so touching windows merge.
    if (last !== undefined && w.start <= last.end) merged[merged.length - 1] = { start: last.start, end: Math.max(last.end, w.end) };
    else merged.push(w);
  }
  return merged;
}

function chainKey(entry: DigestEntry): string {
  const info = entry.keyInfo;
  return info === undefined ? `${entry.parsed.digest.digestS3Bucket}|?|${String(entry.parsed.digest.awsAccountId)}` : `${streamKey(entry)}|${info.trailName}|${info.homeRegion}`;
}

/** Log files carry no trail name, so coverage is keyed by bucket, prefix, organisation, account and region. */
function streamKey(entry: DigestEntry): string {
  const info = entry.keyInfo;
  const bucket = entry.parsed.digest.digestS3Bucket;
  return info === undefined ? `${bucket}|?|${String(entry.parsed.digest.awsAccountId)}` : `${bucket}|${info.prefix}|${info.organizationId ?? ''}|${info.accountId}|${info.region}`;
}

function previousS3(d: CloudTrailDigest): string | undefined {
  return d.previousDigestS3Bucket && d.previousDigestS3Object ? s3Uri(d.previousDigestS3Bucket, d.previousDigestS3Object) : undefined;
}

function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

function parseS3Uri(uri: string): { bucket: string; key: string } | undefined {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  return m === null ? undefined : { bucket: m[1] as string, key: m[2] as string };
}
