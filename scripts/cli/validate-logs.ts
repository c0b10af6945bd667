/**
 * `amber validate-logs`: CloudTrail log file integrity validation over a case, like
 * `aws cloudtrail validate-logs` but on the preserved copies: each digest's RSA-SHA256 signature, each log
 * file's SHA-256 against its digest, the chain of digests, and log files present that no digest lists.
 */
import { readFileSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ExitCode, UsageError } from '../../shared/errors.ts';
import { CustodyLedger } from '../../shared/evidence/ledger.ts';
import { CachedLocker } from '../../shared/evidence/read-cache.ts';
import { analysisLocker } from './case-session.ts';
import type { EvidenceItem } from '../../shared/evidence/model.ts';
import { validateCaseName } from '../../shared/evidence/names.ts';
import { assertCaseExists } from '../../shared/evidence/verify.ts';
import {
  formatDigestValidationReport,
  parseCloudTrailDigest,
  parseLogFileKey,
  publicKeysFromListPublicKeys,
  sniffCloudTrail,
  validateCloudTrailDigests,
  type CloudTrailPublicKey,
} from '../../shared/sources/cloudtrail/index.ts';
import { RECOGNITION_BYTES } from '../../shared/sources/recognise.ts';
import { VerifiedInputs } from '../../shared/sources/verified-inputs.ts';
import type { Values } from '../amber.ts';
import { optionalString, requireString } from './args.ts';
import { actorFrom, lockerSpec, openLocker, signerFrom } from './context.ts';
import { t, type Io } from './io.ts';

const USAGE = 'amber validate-logs --case C --public-key FILE [--public-key FILE ...] [--locker DIR] [--json]';

/** The part of a key CloudTrail itself names (`[prefix/]AWSLogs/...`), found inside a preserved key. */
function trailKey(item: EvidenceItem): string | undefined {
  if (item.origin.startsWith('s3://')) return item.origin.slice(5).split('/').slice(1).join('/');
  const at = item.key.indexOf('/AWSLogs/');
  return at < 0 ? undefined : item.key.slice(at + 1);
}

/** Runs `amber validate-logs`. */
export async function runValidateLogs(values: Values, _positionals: string[], io: Io): Promise<number> {
  const caseName = validateCaseName(requireString(values, 'case', USAGE));
  const keyFiles = (values['public-key'] as string[] | undefined) ?? [];
  if (keyFiles.length === 0) {
    throw new UsageError('missing --public-key', {
      hint: 'save the trail\'s public keys with `aws cloudtrail list-public-keys --start-time T --end-time T > keys.json` and pass --public-key keys.json (a PEM or DER key file works too)',
    });
  }
  const publicKeys: CloudTrailPublicKey[] = [];
  for (const file of keyFiles) {
    const bytes = await readFile(resolve(io.cwd, file)).catch((error: Error) => {
      throw new UsageError(`cannot read --public-key ${file}: ${error.message}`);
    });
    publicKeys.push(...(bytes.subarray(0, 1).toString() === '{' ? publicKeysFromListPublicKeys(bytes, file) : [{ value: bytes }]));
  }
  const signer = await signerFrom(optionalString(values, 'signing-key'), io);
  const opened = await openLocker(lockerSpec(optionalString(values, 'locker'), io), io, { create: false });
  await assertCaseExists(opened, caseName);
  // A remote locker is read through the local cache: every object still checked against its custody record.
  const store = await analysisLocker(opened, io);
  const release = await store.lock(`case-${caseName}`);
  try {
    // Its result goes into the ledger: never on top of entries no checkpoint or interrupted run accounts for.
    const ledger = await CustodyLedger.openForWriting(store, caseName, actorFrom(io), new Date(), signer ? { signer } : {});
    const items = [...ledger.items().values()].filter((i) => !i.derivedFrom);
    // Every object validated is read once from the locker, hashed against its custody record, and read from a
    // private copy from then on: a mismatch or a missing object stops here (exit 3), naming each one.
    const inputs = await VerifiedInputs.open(store, items, { scan: () => false });
    try {
      return await validate(ledger, inputs, items);
    } finally {
      await inputs.close();
    }
  } finally {
    await release();
    if (store instanceof CachedLocker) await store.close();
  }

  async function validate(ledger: CustodyLedger, inputs: VerifiedInputs, items: readonly EvidenceItem[]): Promise<number> {
    const digests = [];
    const logFiles = new Map<string, EvidenceItem>();
    for (const item of items) {
      const copy = inputs.get(item.key)!.path;
      const name = trailKey(item);
      // Digests are recognised by content wherever they sit, not only under CloudTrail-Digest/.
      const head = await readHead(copy);
      if (sniffCloudTrail(head, item.key).shape === 'digest') {
        const bytes = await readFile(copy);
        digests.push({ key: item.key, bytes, ...(item.origin.startsWith('s3://') ? { origin: item.origin } : {}) });
      } else if (name && parseLogFileKey(name)) {
        logFiles.set(name, item);
      }
    }
    if (digests.length === 0) {
      throw new UsageError(`case ${caseName} holds no CloudTrail digest files`, { hint: 'collect the trail\'s CloudTrail-Digest/ folder into the case along with its logs' });
    }
    // Local copies lose the S3 bucket name; the digests name it.
    const buckets = digests.map((d) => parseCloudTrailDigest(d.bytes, d.key).digest?.digestS3Bucket).filter((b): b is string => typeof b === 'string');
    const bucket = buckets[0] ?? 'unknown-bucket';
    const report = validateCloudTrailDigests({
      digests,
      publicKeys,
      logFile: (_bucket, key) => {
        const item = logFiles.get(key);
        // The validator asks one file at a time, synchronously: read it then, not all of them up front.
        return item ? { bytes: readFileSync(inputs.get(item.key)!.path) } : undefined;
      },
      presentLogFiles: [...logFiles.keys()].map((key) => ({ bucket, key })),
    });
    // The newest digest's signature is S3 object metadata, which a copy made outside S3 does not carry: that
    // digest is unverifiable, which is a limit of the copy, not a sign of tampering. Anything else fails.
    const unsigned = report.digests.filter((d) => d.status === 'no-signature');
    const failed = report.digests.filter((d) => d.status !== 'valid' && d.status !== 'no-signature');
    const intact =
      report.ok ||
      (unsigned.length === 1 && failed.length === 0 && report.summary.invalidLogFiles === 0 && report.summary.extraLogFiles === 0 && !report.chain.some((c) => c.integrity));
    await ledger.append('verified', actorFrom(io), new Date(), { detail: { what: 'cloudtrail-digests', intact, unsignedDigests: unsigned.length, ...report.summary } });
    await ledger.checkpoint();
    if (values.json) io.out(`${JSON.stringify({ intact, ...report }, null, 2)}\n`);
    else {
      io.out(`${t(formatDigestValidationReport(report))}\n`);
      io.out(`Case ${t(caseName)}: CloudTrail log integrity ${intact ? 'VALID' : 'FAILED'} (${report.summary.validDigests} valid digests, ${report.summary.validLogFiles} valid log files)\n`);
      if (intact && unsigned.length > 0) {
        io.out(`  note: ${t(unsigned[0]!.key)} (the newest digest) could not be checked: its signature is S3 object metadata, absent from this copy; every older digest is verified through the next one's previousDigestSignature\n`);
      }
    }
    return intact ? ExitCode.ok : ExitCode.integrity;
  }
}

async function readHead(path: string): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(RECOGNITION_BYTES);
    const { bytesRead } = await fh.read(buffer, 0, RECOGNITION_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}
