/**
 * The `verify` use case: recompute every preserved object's SHA-256, check the custody ledger's chain and
 * checkpoints and every sealed manifest, and list each failure with its reason.
 *
 * Verify decides by reading only. An intact result is recorded in the ledger (`verified` and a checkpoint),
 * best effort: a read-only or full locker still gets its report. A broken case's ledger and checkpoints are
 * never touched (anchoring or extending them would bless what was found broken): the failure is recorded in a
 * write-once verification record beside the chain (`_amber/verifications/`), and every later verify reports
 * it again until a person accepts it in the ledger (`amber accept`, an `accepted` entry with a reason).
 *
 * In a case whose ledger records a public key (`keyed`), every checkpoint and sealed manifest written from that
 * entry on must carry a valid signature by that key (signatures.ts); recording an intact result then needs the
 * signer, and without it the result is reported, not recorded.
 */
import { InvalidInputError } from '../errors.ts';
import type { ObjectStore, StoredObject } from '../ports/object-store.ts';
import type { Signer } from '../ports/signer.ts';
import { canonicalJson } from './canonical-json.ts';
import { forEachConcurrent } from './concurrency.ts';
import { hashStream, sha256Hex } from './hashing.ts';
import {
  CustodyLedger,
  itemsOf,
  manifestKeysOf,
  readCheckpoints,
  unfinishedJournals,
  verifyLedgerChain,
  type LedgerFailureKind,
} from './ledger.ts';
import type { Actor, EvidenceItem, LedgerEntry } from './model.ts';
import { amberPrefix, casePrefix, ledgerKey, validateCaseName, verificationsPrefix } from './names.ts';
import { publicKeyFingerprint } from './key-file-signer.ts';
import { parseSigningPublicKey } from './signature-algorithms.ts';
import { checkSignature, recordedKeyProblem, recordedKeys, signaturesPrefix, type SignatureCheck } from './signatures.ts';
import { checkTimestamp, timestampRequirement, timestampsPrefix, type TimestampCheck } from './timestamps.ts';
import { checkAnchors, type AnchorCheck, type LoadedAnchor } from './anchor.ts';
import type * as pkijs from 'pkijs';

export type VerifyFailureKind =
  | 'hash-mismatch'
  | 'size-mismatch'
  | 'missing-object'
  | 'extra-object'
  | 'manifest-missing'
  | 'manifest-mismatch'
  /** Entries past the last checkpoint written by an interrupted Amber run (`amber recover` finishes it). */
  | 'ledger-interrupted'
  /** A failure an earlier verification recorded, not accepted since (even if the evidence looks right now). */
  | 'previously-failed'
  /** A checkpoint or manifest of a keyed case without its signature object. */
  | 'signature-missing'
  /** A signature that does not match the file as stored (or cannot be read). */
  | 'signature-invalid'
  /** A signature by another key, a second key recorded, a recorded key that is not what it claims, or not the expected key. */
  | 'signature-key-mismatch'
  /** A checkpoint or seal of a timestamped case without its RFC 3161 token, or tokens in a case that records no `timestamped` entry. */
  | 'timestamp-missing'
  /** A token that cannot be read, stamps other bytes, or whose CMS signature does not verify. */
  | 'timestamp-invalid'
  /** A token whose TSA certificate does not chain to the trust anchor given (--tsa-ca). */
  | 'timestamp-untrusted'
  /** The ledger is shorter than an anchor kept outside the locker records: it was rolled back. */
  | 'anchor-behind'
  /** The entry at an anchored seq is not the one anchored: the ledger was rewritten. */
  | 'anchor-beside'
  /** An anchor that is unreadable, for another case, or whose signature does not verify with the case's key. */
  | 'anchor-invalid'
  | LedgerFailureKind;

/** What identifies one failure across verifications (kind, where, and the bad hash when there is one). */
export interface FailureIdentity {
  readonly kind: VerifyFailureKind;
  readonly key?: string;
  readonly seq?: number;
  readonly line?: number;
  readonly actual?: string;
}

export interface VerifyFailure {
  readonly kind: VerifyFailureKind;
  readonly reason: string;
  readonly key?: string;
  /** 1-based ledger line, for ledger failures. */
  readonly line?: number;
  readonly seq?: number;
  readonly expected?: string;
  readonly actual?: string;
  /** For `previously-failed`: the verification record and the failure it recorded. */
  readonly recorded?: { readonly record: string; readonly recordSha256: string; readonly failure: FailureIdentity };
}

/** A failure a person accepted in the ledger: reported, not failing. */
export interface AcceptedFailure {
  readonly failure: FailureIdentity & { readonly reason?: string };
  /** Sequence number of the `accepted` entry, and the reason it gives. */
  readonly acceptedIn: number;
  readonly reason: string;
}

/** Where verify recorded its result, or why it could not. */
export type VerifyRecording =
  | { readonly where: 'ledger'; readonly seq: number }
  | { readonly where: 'verification-record'; readonly key: string }
  | { readonly where: 'nowhere'; readonly reason: string };

/** Something worth a responder's attention that does not change a preserved byte. */
export interface VerifyWarning {
  readonly key: string;
  readonly reason: string;
}

/** One item as verification found it. */
export interface VerifiedItem {
  readonly key: string;
  readonly versionId?: string;
  readonly size: number;
  /** SHA-256 recorded at acquisition. */
  readonly recordedSha256: string;
  /** SHA-256 computed now from the stored bytes (undefined when they could not be read). */
  readonly storedSha256?: string;
  readonly ok: boolean;
}

export interface VerifyReport {
  readonly case: string;
  readonly locker: string;
  readonly intact: boolean;
  readonly checkedAt: string;
  readonly ledgerEntries: number;
  readonly bytes: number;
  readonly items: readonly VerifiedItem[];
  readonly failures: readonly VerifyFailure[];
  /** Failures found (now or by an earlier verification) that a person accepted with a reason. */
  readonly accepted: readonly AcceptedFailure[];
  readonly warnings: readonly VerifyWarning[];
  /** Absent when recording was not asked for. */
  readonly recorded?: VerifyRecording;
  /** The public key the ledger records (absent: an unsigned case), and every signature checked against it. */
  readonly signing?: { readonly fingerprint: string; readonly keyedIn: number; readonly signatures: readonly SignatureCheck[] };
  /**
   * RFC 3161 tokens checked (absent: the case holds none and requires none): the `timestamped` entry (if any),
   * whether TSA certificates were checked against a trust anchor (--tsa-ca), and every token with its genTime.
   */
  readonly timestamps?: { readonly requiredSince?: number; readonly tsa?: string; readonly trustAnchor: boolean; readonly tokens: readonly TimestampCheck[] };
  /** Anchors kept outside the locker that the case was checked against (--anchor). */
  readonly anchors?: readonly AnchorCheck[];
}

export interface VerifyOptions {
  readonly store: ObjectStore;
  readonly caseName: string;
  readonly actor: Actor;
  readonly clock?: () => Date;
  readonly concurrency?: number;
  /** Record the result (default true): intact in the ledger, broken in a verification record. */
  readonly record?: boolean;
  readonly onProgress?: (done: number, total: number) => void;
  /** Signs the checkpoint recording an intact result of a keyed case (without it, such a result is not recorded). */
  readonly signer?: Signer;
  /**
   * The public key (SPKI PEM) the case must be signed with, as its owner holds it outside the locker: an
   * unsigned case, or one keyed with another key, fails with signature-key-mismatch.
   */
  readonly expectedPublicKeyPem?: string;
  /** Trust anchors (PEM certificates) for the TSA certificates of timestamp tokens; without them chains are not checked. */
  readonly tsaTrustAnchorsPem?: string;
  /** Anchors read from outside the locker (amber anchor): the case must be neither behind nor beside any of them. */
  readonly anchors?: readonly LoadedAnchor[];
}

/** Throws InvalidInputError when the locker holds nothing for the case. */
export async function assertCaseExists(store: ObjectStore, caseName: string): Promise<void> {
  for await (const _ of store.list(casePrefix(caseName))) return;
  throw new InvalidInputError(`unknown case ${JSON.stringify(caseName)} in ${store.uri}`, {
    hint: 'run `amber cases` to list the cases in this locker, or pass --locker with the locker that holds it',
  });
}

/** Verifies a case end to end; never throws for integrity problems, it reports them. */
export async function verifyCase(options: VerifyOptions): Promise<VerifyReport> {
  const { store, actor } = options;
  const caseName = validateCaseName(options.caseName);
  const clock = options.clock ?? (() => new Date());
  await assertCaseExists(store, caseName);
  let release = async (): Promise<void> => undefined;
  let cannotRecord: string | undefined;
  if (options.record !== false) {
    try {
      release = await store.lock(`case-${caseName}`);
    } catch (error) {
      // A read-only or full locker cannot take the lock; reading needs no lock to decide.
      if (!isWriteRefused(error)) throw error;
      cannotRecord = `the locker cannot be written (${(error as NodeJS.ErrnoException).code})`;
    }
  }
  try {
    const decision = await decide(store, caseName, options);
    const checkedAt = clock();
    const base = { case: caseName, locker: store.uri, checkedAt: checkedAt.toISOString(), ...decision.report };
    if (options.record === false) return base;
    if (cannotRecord) return { ...base, recorded: { where: 'nowhere', reason: cannotRecord } };
    try {
      return { ...base, recorded: await recordResult(store, caseName, actor, checkedAt, base, decision.pendingRun !== undefined, options.signer) };
    } catch (error) {
      return { ...base, recorded: { where: 'nowhere', reason: (error as Error).message } };
    }
  } finally {
    await release();
  }
}

function isWriteRefused(error: unknown): boolean {
  return ['EROFS', 'EACCES', 'EPERM', 'ENOSPC', 'EDQUOT'].includes((error as NodeJS.ErrnoException)?.code ?? '');
}

/** Intact: a `verified` entry and a checkpoint. Broken: a write-once record beside the chain, never in it. */
async function recordResult(store: ObjectStore, caseName: string, actor: Actor, at: Date, report: Omit<VerifyReport, 'recorded'>, runPending: boolean, signer: Signer | undefined): Promise<VerifyRecording> {
  if (report.intact) {
    // Journaled: should the checkpoint fail (disk full), the next writer finishes this run's work.
    const ledger = await CustodyLedger.open(store, caseName, { journaled: true, ...(signer ? { signer } : {}) });
    // A keyed case's checkpoint needs its key: without it the result is reported and not recorded.
    ledger.assertCanWrite();
    const entry = await ledger.append('verified', actor, at, {
      detail: {
        intact: true,
        items: report.items.length,
        failures: 0,
        accepted: report.accepted.length,
        warnings: report.warnings.length,
        ...(report.signing ? { signatures: report.signing.signatures.length, signedBy: report.signing.fingerprint } : {}),
      },
    });
    await ledger.checkpoint();
    return { where: 'ledger', seq: entry.seq };
  }
  // Not put on record: failures already there (previously-failed), and what an interrupted run leaves until it
  // is finished (its unanchored entries; objects and a manifest it stored but did not record yet).
  const fresh = report.failures.filter((f) => f.kind !== 'previously-failed' && f.kind !== 'ledger-interrupted' && !(runPending && f.kind === 'extra-object'));
  if (fresh.length === 0) {
    return { where: 'nowhere', reason: runPending ? 'an interrupted run awaits `amber recover` or the next collect; what it left is not put on record' : 'every failure found is already on record' };
  }
  const { key } = await writeVerificationRecord(store, caseName, actor, at, fresh);
  return { where: 'verification-record', key };
}

/** Writes a write-once record of failures found; its name carries the time and a hash of its content. */
export async function writeVerificationRecord(
  store: ObjectStore,
  caseName: string,
  actor: Actor,
  at: Date,
  failures: readonly VerifyFailure[],
): Promise<{ key: string; sha256: string }> {
  const body = `${canonicalJson({ case: caseName, checkedAt: at.toISOString(), actor: actor.principal, tool: actor.tool, intact: false, failures })}\n`;
  const sha256 = sha256Hex(body);
  const key = `${verificationsPrefix(caseName)}${at.toISOString().replace(/[:.]/g, '')}-${sha256.slice(0, 12)}.json`;
  await store.putImmutable(key, Buffer.from(body), { mediaType: 'application/json' });
  return { key, sha256 };
}

/** The identity of a failure, as a string to compare. */
export function failureId(f: FailureIdentity): string {
  return [f.kind, f.key ?? '', f.seq ?? f.line ?? '', f.actual ?? ''].join('|');
}

/** Reads everything and decides; writes nothing. */
async function decide(store: ObjectStore, caseName: string, options: VerifyOptions) {
  const failures: VerifyFailure[] = [];
  const warnings: VerifyWarning[] = [];
  const ledgerText = await store.readText(ledgerKey(caseName));
  if (ledgerText === undefined) failures.push({ kind: 'ledger-missing', key: ledgerKey(caseName), reason: 'the custody ledger is missing' });
  const { checkpoints, failures: checkpointFailures } = await readCheckpoints(store, caseName);
  const chain = [...checkpointFailures, ...verifyLedgerChain(ledgerText ?? '', checkpoints)];
  // A tail past the last checkpoint that an unfinished run journal starts at is an interrupted Amber run.
  const last = checkpoints.at(-1);
  const interrupted = (await unfinishedJournals(store, caseName)).find((j) => (last ? j.start.seq === last.seq && j.start.sha256 === last.sha256 : j.start.seq === 0));
  const onlyTail = chain.every((f) => f.kind === 'ledger-unanchored' || f.kind === 'ledger-torn');
  for (const f of chain) {
    if (interrupted && onlyTail) {
      failures.push({
        ...f,
        kind: 'ledger-interrupted',
        reason: `${f.reason} (run ${interrupted.key} was interrupted; \`amber recover --case ${caseName}\` or the next collect finishes it)`,
      });
    } else failures.push(f);
  }

  const ledger = await CustodyLedger.open(store, caseName);
  const entries = ledger.entries;
  const items = itemsOf(entries);
  const manifests = sealedManifests(entries);

  // What the store holds, to find extra objects and keys hidden by delete markers.
  const stored = new Map<string, StoredObject>();
  for await (const obj of store.list(casePrefix(caseName))) stored.set(obj.key, obj);
  const amber = amberPrefix(caseName);
  const bookkeeping = new Set<string>([ledgerKey(caseName), ...manifests.keys(), ...checkpoints.map((c) => c.key)]);
  const ownPrefixes = [`${amber}checkpoints/`, `${amber}runs/`, verificationsPrefix(caseName), signaturesPrefix(caseName), timestampsPrefix(caseName)];
  for (const [key, obj] of stored) {
    if (obj.deleteMarkerOnTop) {
      warnings.push({ key, reason: 'a delete marker hides this key from plain reads; the preserved version is still held and was verified' });
    }
    if (items.has(key) || bookkeeping.has(key) || ownPrefixes.some((p) => key.startsWith(p))) continue;
    const run = interrupted ? ` (an interrupted run, ${interrupted.key}, may have stored it: collecting the same sources again records it)` : '';
    failures.push({ kind: 'extra-object', key, reason: `object in the case folder that the custody ledger does not record${run}` });
  }

  for (const [key, sha256] of manifests) {
    const text = await store.readText(key);
    if (text === undefined) failures.push({ kind: 'manifest-missing', key, reason: 'sealed manifest is missing' });
    else {
      const actual = sha256Hex(text);
      if (actual !== sha256) failures.push({ kind: 'manifest-mismatch', key, expected: sha256, actual, reason: 'sealed manifest does not match the hash the ledger recorded' });
    }
  }

  const signing = await checkSignatures(store, caseName, entries, checkpoints, stored, options.expectedPublicKeyPem);
  failures.push(...signing.failures);
  const timestamps = await checkTimestamps(store, caseName, entries, checkpoints, stored, options.tsaTrustAnchorsPem);
  failures.push(...timestamps.failures);
  const anchors = options.anchors ? await checkAnchors(caseName, ledgerText ?? '', entries, options.anchors, options.tsaTrustAnchorsPem) : undefined;
  if (anchors) failures.push(...anchors.flatMap((a) => (a.ok ? [] : [{ kind: a.kind!, key: a.source, reason: a.reason! }])));

  const results: VerifiedItem[] = [];
  let done = 0;
  let bytes = 0;
  await forEachConcurrent(items.values(), options.concurrency ?? 4, async (item: EvidenceItem) => {
    const result = await checkItem(store, item, stored.has(item.key));
    results.push(result.item);
    if (result.failure) failures.push(result.failure);
    bytes += result.item.ok ? item.size : 0;
    options.onProgress?.((done += 1), items.size);
  });
  results.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

  // Earlier verifications that found the case broken, and what people accepted since.
  const acceptedBy = acceptances(entries);
  const current = new Set(failures.map(failureId));
  for await (const obj of store.list(verificationsPrefix(caseName))) {
    const text = (await store.readText(obj.key)) ?? '';
    let recorded: { checkedAt?: string; failures?: FailureIdentity[] & Array<{ reason?: string }> };
    try {
      recorded = JSON.parse(text) as typeof recorded;
    } catch {
      failures.push({ kind: 'previously-failed', key: obj.key, reason: 'a verification record is unreadable: what it recorded cannot be shown' });
      continue;
    }
    for (const f of recorded.failures ?? []) {
      const id = failureId(f);
      if (current.has(id) || acceptedBy.has(id)) continue;
      current.add(id);
      const where = f.key ?? (f.seq !== undefined ? `entry ${f.seq}` : f.line !== undefined ? `ledger line ${f.line}` : 'the case');
      failures.push({
        kind: 'previously-failed',
        key: obj.key,
        reason: `the verification of ${recorded.checkedAt ?? 'an earlier run'} found ${f.kind} at ${where}: ${f.reason ?? ''}; not accepted since, so the case stays broken (accept it with \`amber accept --case ${caseName} --reason "..."\` if a person has established why)`,
        recorded: { record: obj.key, recordSha256: sha256Hex(text), failure: identityOf(f) },
      });
    }
  }
  const accepted: AcceptedFailure[] = [];
  const failing = failures.filter((f) => {
    const by = acceptedBy.get(failureId(f));
    if (!by) return true;
    accepted.push({ failure: { ...identityOf(f), reason: f.reason }, acceptedIn: by.seq, reason: by.reason });
    return false;
  });
  for (const [id, by] of acceptedBy) {
    if (!accepted.some((a) => failureId(a.failure) === id)) accepted.push({ failure: by.failure, acceptedIn: by.seq, reason: by.reason });
  }
  return {
    report: { intact: failing.length === 0, ledgerEntries: entries.length, bytes, items: results, failures: failing, accepted, warnings, ...(signing.report ? { signing: signing.report } : {}), ...(timestamps.report ? { timestamps: timestamps.report } : {}), ...(anchors ? { anchors } : {}) },
    pendingRun: interrupted?.key,
  };
}

function identityOf(f: FailureIdentity): FailureIdentity {
  return {
    kind: f.kind,
    ...(f.key !== undefined ? { key: f.key } : {}),
    ...(f.seq !== undefined ? { seq: f.seq } : {}),
    ...(f.line !== undefined ? { line: f.line } : {}),
    ...(f.actual !== undefined ? { actual: f.actual } : {}),
  };
}

/** Failure identity → the `accepted` entry that accepted it. */
function acceptances(entries: readonly LedgerEntry[]): Map<string, { seq: number; reason: string; failure: FailureIdentity }> {
  const out = new Map<string, { seq: number; reason: string; failure: FailureIdentity }>();
  for (const e of entries) {
    if (e.action !== 'accepted') continue;
    const d = e.detail as { reason?: unknown; accepts?: unknown } | undefined;
    if (typeof d?.reason !== 'string' || !Array.isArray(d.accepts)) continue;
    for (const a of d.accepts as FailureIdentity[]) if (typeof a?.kind === 'string') out.set(failureId(a), { seq: e.seq, reason: d.reason, failure: identityOf(a) });
  }
  return out;
}

async function checkItem(store: ObjectStore, item: EvidenceItem, listed: boolean): Promise<{ item: VerifiedItem; failure?: VerifyFailure }> {
  const base = { key: item.key, ...(item.versionId ? { versionId: item.versionId } : {}), size: item.size, recordedSha256: item.sha256 };
  let found;
  try {
    found = await hashStream(await store.get(item.key, item.versionId));
  } catch (error) {
    const reason = listed ? `stored object cannot be read: ${(error as Error).message}` : 'preserved object is missing from the locker';
    return { item: { ...base, ok: false }, failure: { kind: 'missing-object', key: item.key, reason } };
  }
  const stored = { ...base, storedSha256: found.sha256 };
  if (found.sha256 !== item.sha256) {
    return {
      item: { ...stored, ok: false },
      failure: { kind: 'hash-mismatch', key: item.key, expected: item.sha256, actual: found.sha256, reason: `sha256 is ${found.sha256}, the ledger recorded ${item.sha256}` },
    };
  }
  if (found.size !== item.size) {
    return { item: { ...stored, ok: false }, failure: { kind: 'size-mismatch', key: item.key, expected: String(item.size), actual: String(found.size), reason: `size is ${found.size}, the ledger recorded ${item.size}` } };
  }
  return { item: { ...stored, ok: true } };
}

/** Manifest key → SHA-256, from `sealed` entries and manifests an interrupted run left (`recovered`). */
function sealedManifests(entries: readonly LedgerEntry[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of entries) {
    const d = e.detail as { manifest?: unknown; sha256?: unknown; unsealedManifests?: Array<{ key?: unknown; sha256?: unknown }> } | undefined;
    if (e.action === 'sealed' && typeof d?.manifest === 'string' && typeof d.sha256 === 'string') out.set(d.manifest, d.sha256);
    if (e.action === 'recovered') {
      for (const key of manifestKeysOf(e)) {
        const sha = d?.unsealedManifests?.find((m) => m.key === key)?.sha256;
        if (typeof sha === 'string') out.set(key, sha);
      }
    }
  }
  return out;
}

/**
 * Signatures of a keyed case: the first `keyed` entry names the key; every checkpoint from that entry on and
 * every manifest sealed after it must be signed by it. A second `keyed` entry with another key, a recorded key
 * whose fingerprint is not its own, signature objects in a case that records no key (its `keyed` entry
 * removed), and a key other than the expected one are all signature-key-mismatch.
 */
async function checkSignatures(
  store: ObjectStore,
  caseName: string,
  entries: readonly LedgerEntry[],
  checkpoints: ReadonlyArray<{ seq: number; key: string }>,
  stored: ReadonlyMap<string, StoredObject>,
  expectedPem: string | undefined,
): Promise<{ failures: VerifyFailure[]; report?: VerifyReport['signing'] }> {
  const failures: VerifyFailure[] = [];
  const keys = recordedKeys(entries);
  const key = keys[0];
  const expected = expectedPem === undefined ? undefined : expectedFingerprint(expectedPem);
  if (!key) {
    const leftover = [...stored.keys()].find((k) => k.startsWith(signaturesPrefix(caseName)));
    if (leftover) failures.push({ kind: 'signature-key-mismatch', key: leftover, reason: 'the case holds signatures but its ledger records no signing key: the `keyed` entry was removed and the ledger rewritten' });
    if (expected) failures.push({ kind: 'signature-key-mismatch', reason: `the case is not signed, but it was expected to be signed with key ${expected}` });
    return { failures };
  }
  const problem = recordedKeyProblem(key);
  if (problem) failures.push({ kind: 'signature-key-mismatch', seq: key.seq, reason: problem });
  if (expected && expected !== key.fingerprint) {
    failures.push({ kind: 'signature-key-mismatch', seq: key.seq, reason: `ledger entry ${key.seq} records key ${key.fingerprint}, not the expected key ${expected}: the recorded key was replaced, or this is another case` });
  }
  for (const later of keys.slice(1)) {
    if (later.fingerprint !== key.fingerprint) {
      failures.push({ kind: 'signature-key-mismatch', seq: later.seq, reason: `ledger entry ${later.seq} records another key (${later.fingerprint}) after entry ${key.seq} keyed the case with ${key.fingerprint}: a case keeps one key` });
    }
  }
  const signed: string[] = [
    ...checkpoints.filter((c) => c.seq >= key.seq).map((c) => c.key),
    ...entries.filter((e) => e.action === 'sealed' && e.seq > key.seq).flatMap(manifestKeysOf),
  ];
  const checks: SignatureCheck[] = [];
  for (const file of signed) {
    const text = await store.readText(file);
    if (text === undefined) continue; // a missing manifest or checkpoint is already reported as such
    const check = await checkSignature(store, caseName, key, file, text);
    checks.push(check);
    if (!check.ok) failures.push({ kind: check.kind!, key: file, reason: check.reason! });
  }
  return { failures, report: { fingerprint: key.fingerprint, keyedIn: key.seq, signatures: checks } };
}

/** The fingerprint of the expected public key (a PEM the caller read); an unreadable one is a usage error. */
function expectedFingerprint(pem: string): string {
  const parsed = parseSigningPublicKey(pem);
  if (!parsed) throw new InvalidInputError('the expected public key is not an Ed25519 or EC P-256 public key in PEM', { hint: 'pass the public key file `amber keys init --public-out FILE` wrote, or the public key of the KMS or Key Vault key that signs the case' });
  return publicKeyFingerprint(parsed.key);
}

/**
 * RFC 3161 tokens: every checkpoint from the `timestamped` entry on and every manifest sealed after it must have
 * a token over its exact bytes; any other token found is checked too. Tokens in a case whose ledger records no
 * `timestamped` entry mean that entry was removed (timestamp-missing, as a token's requirement went missing).
 */
async function checkTimestamps(
  store: ObjectStore,
  caseName: string,
  entries: readonly LedgerEntry[],
  checkpoints: ReadonlyArray<{ seq: number; key: string }>,
  stored: ReadonlyMap<string, StoredObject>,
  trustPem: string | undefined,
): Promise<{ failures: VerifyFailure[]; report?: VerifyReport['timestamps'] }> {
  const failures: VerifyFailure[] = [];
  const required = timestampRequirement(entries);
  const held = [...stored.keys()].filter((k) => k.startsWith(timestampsPrefix(caseName)));
  if (!required && held.length === 0) return { failures };
  let anchors: pkijs.Certificate[] = [];
  if (trustPem !== undefined) {
    try {
      anchors = (await import('./rfc3161.ts')).parseCertificatesPem(trustPem);
    } catch (error) {
      throw new InvalidInputError(`the TSA trust anchor is not a PEM certificate: ${(error as Error).message}`, { hint: 'pass --tsa-ca the TSA\'s root CA certificate (PEM, "BEGIN CERTIFICATE")' });
    }
  }
  if (!required) {
    failures.push({ kind: 'timestamp-missing', key: held[0], reason: `the case holds ${held.length} timestamp token(s) but its ledger records no \`timestamped\` entry: the entry was removed and the ledger rewritten` });
  }
  const files: Array<{ key: string; required: boolean }> = [
    ...checkpoints.map((c) => ({ key: c.key, required: required !== undefined && c.seq >= required.seq })),
    ...entries.filter((e) => e.action === 'sealed').flatMap((e) => manifestKeysOf(e).map((key) => ({ key, required: required !== undefined && e.seq > required.seq }))),
  ];
  const tokens: TimestampCheck[] = [];
  for (const file of files) {
    const text = await store.readText(file.key);
    if (text === undefined) continue; // a missing manifest or checkpoint is already reported as such
    const check = await checkTimestamp(store, caseName, file.key, Buffer.from(text, 'utf8'), file.required, anchors);
    if (!check) continue;
    tokens.push(check);
    if (!check.ok) failures.push({ kind: check.kind!, key: file.key, reason: check.reason! });
  }
  return {
    failures,
    report: { ...(required ? { requiredSince: required.seq, tsa: required.tsa } : {}), trustAnchor: trustPem !== undefined, tokens },
  };
}
