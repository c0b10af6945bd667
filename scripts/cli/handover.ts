/**
 * `amber export`: hands a case over as a folder or a zip that a third party checks without Amber (sha256sum,
 * openssl, sh). The case is verified first (read-only) and a broken one is refused; the bundle is cut at the
 * ledger head that verification saw, under the case lock, and the export is then recorded in the ledger
 * (`exported`, with the bundle's SHA-256, file count and bytes) and anchored by a (signed) checkpoint.
 */
import { lstat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ExitCode, IntegrityError, NotImplementedError } from '../../shared/errors.ts';
import { CustodyLedger } from '../../shared/evidence/ledger.ts';
import { LocalObjectStore } from '../../shared/evidence/local-object-store.ts';
import { ledgerKey, validateCaseName } from '../../shared/evidence/names.ts';
import { sha256Hex } from '../../shared/evidence/hashing.ts';
import { assertCaseExists, verifyCase, type VerifyReport } from '../../shared/evidence/verify.ts';
import { planBundle, type PaperSource } from '../../shared/export/bundle.ts';
import { assertOutputFree, writeBundleFolder, writeBundleZip } from '../../shared/export/write.ts';
import type { Values } from '../amber.ts';
import { optionalString, requireString } from './args.ts';
import { actorFrom, lockerSpec, openLocker, signerFrom, TOOL } from './context.ts';
import { formatBytes, t, type Io } from './io.ts';
import { safeOutputPath } from './output-path.ts';
import { counted } from '../../shared/text/plural.ts';

export const EXPORT_USAGE = 'amber export --case C --out DIR|FILE.zip [--signing-key FILE] [--locker DIR|s3://bucket] [--json]';

/**
 * The papers every export carries under `papers/`: the Section 63 certificate and the chain-of-custody report,
 * as PDF, rendered from the case at the bundle's head (its entries, the verification the export just ran) and
 * issued at the head entry's time, so two exports of one head by one actor stay byte-identical.
 */
export function papersFor(verification: VerifyReport, issuedBy: string): readonly PaperSource[] {
  return [
    async (c) => {
      const { renderCertificatePdf, renderCustodyPdf, readVerificationRecords } = await import('../../shared/papers/index.ts');
      const input = {
        case: c.caseName,
        issuedAt: c.head.at,
        issuedBy,
        tool: TOOL,
        locker: c.store.uri,
        entries: c.entries,
        ledgerHead: { seq: c.head.seq, sha256: c.head.sha256 },
        // The verification as of the head: its check time is the head's, like the papers' issue time.
        verification: { ...verification, checkedAt: c.head.at },
        verificationRecords: await readVerificationRecords(c.store, c.caseName),
      };
      return [
        { name: 'certificate.pdf', bytes: await renderCertificatePdf(input) },
        { name: 'custody.pdf', bytes: await renderCustodyPdf(input) },
      ];
    },
  ];
}

/** Runs `amber export`. */
export async function runExport(values: Values, _positionals: string[], io: Io): Promise<number> {
  const caseName = validateCaseName(requireString(values, 'case', EXPORT_USAGE));
  const outFlag = requireString(values, 'out', EXPORT_USAGE);
  const signer = await signerFrom(optionalString(values, 'signing-key'), io);
  const store = await openLocker(lockerSpec(optionalString(values, 'locker'), io), io, { create: false });
  await assertCaseExists(store, caseName);
  const format = /\.zip$/i.test(outFlag) ? 'zip' : 'folder';
  // The path as given is never a link (checked before it is resolved); its parents resolve as the kernel would.
  const given = resolve(io.cwd, outFlag);
  if ((await lstat(given).catch(() => undefined))?.isSymbolicLink()) await assertOutputFree(given, format);
  const out = await safeOutputPath(outFlag, io.cwd, store instanceof LocalObjectStore ? store.root : undefined);
  await assertOutputFree(out, format);

  const actor = actorFrom(io);
  const release = await store.lock(`case-${caseName}`);
  try {
    // A signed case needs its key for the `exported` entry: refused now, before anything is read or written.
    (await CustodyLedger.open(store, caseName, signer ? { signer } : {})).assertCanWrite();
    const report = await verifyCase({ store, caseName, actor, record: false });
    if (!report.intact) return refuse(report, values, io);
    const unmatched = report.items.filter((i) => !i.ok);
    if (unmatched.length > 0) {
      // Intact only because a person accepted these: their bytes are not what the ledger records.
      throw new NotImplementedError(`case ${caseName}: ${unmatched.length} object(s) no longer match their recorded SHA-256 and that failure was accepted (${unmatched.map((i) => i.key).join(', ')}); exporting such a case is not built yet`, {
        hint: 'the bundle would list bytes the signed ledger does not vouch for; hand the case over with `amber verify --json` output and the locker itself for now',
      });
    }
    const ledger = await CustodyLedger.openForWriting(store, caseName, actor, new Date(), signer ? { signer } : {});
    const ledgerText = (await store.readText(ledgerKey(caseName))) ?? '';
    const lastLine = ledgerText.replace(/\n$/, '').split('\n').at(-1) ?? '';
    if (sha256Hex(lastLine) !== ledger.head.sha256) {
      throw new IntegrityError(`case ${caseName}: the ledger changed between its verification and the export`, { hint: 'another process wrote to the locker without its lock; run `amber verify`, then export again' });
    }
    const accepted = report.accepted.map((a) => ({ kind: a.failure.kind, where: a.failure.key ?? (a.failure.seq !== undefined ? `entry ${a.failure.seq}` : `ledger line ${a.failure.line ?? '?'}`), acceptedIn: a.acceptedIn, reason: a.reason }));
    const plan = await planBundle({ store, caseName, ledgerText, tool: TOOL, papers: papersFor(report, actor.principal), accepted });
    const written = format === 'zip' ? await writeBundleZip(plan, store, out) : await writeBundleFolder(plan, store, out);
    const entry = await ledger.append('exported', actor, new Date(), {
      detail: {
        purpose: 'handover',
        to: written.path,
        format: written.format,
        sha256: written.sha256,
        sha256Of: written.sha256Of,
        // What a recipient who unzipped the bundle can match too.
        sumsSha256: sha256Hex(plan.sums),
        files: written.files,
        bytes: written.bytes,
        ...(written.zipBytes !== undefined ? { zipBytes: written.zipBytes } : {}),
        objects: plan.objects,
        renamed: plan.renamed.length,
        signatures: plan.signatures.length,
        ledgerHead: { seq: plan.head.seq, sha256: plan.head.sha256 },
        verified: { items: report.items.length, bytes: report.bytes, accepted: report.accepted.length },
      },
    });
    await ledger.checkpoint();
    const result = {
      case: caseName,
      out: written.path,
      format: written.format,
      sha256: written.sha256,
      sha256Of: written.sha256Of,
      files: written.files,
      bytes: written.bytes,
      ...(written.zipBytes !== undefined ? { zipBytes: written.zipBytes } : {}),
      objects: plan.objects,
      renamed: plan.renamed.map((r) => ({ key: r.key, file: r.file, reason: r.reason })),
      signatures: plan.signatures.length,
      ledgerHead: { seq: plan.head.seq, sha256: plan.head.sha256 },
      exportedIn: entry.seq,
    };
    if (values.json) io.out(`${JSON.stringify(result, null, 2)}\n`);
    else {
      const lines = [
        `Case ${t(caseName)}: verified intact and exported to ${t(written.path)}`,
        `  ${plan.objects} objects, ${written.files} files (${formatBytes(written.bytes)}), cut at ledger entry ${plan.head.seq}`,
        `  ${written.sha256Of === 'zip' ? 'zip' : 'SHA256SUMS'} sha256 ${written.sha256}, recorded in ledger entry ${entry.seq} (exported)`,
        plan.signatures.length > 0 ? `  ${counted(plan.signatures.length, 'signature')}, each with its openssl command in README.txt` : '  unsigned case: README.txt says what that leaves unchecked',
      ];
      if (plan.renamed.length > 0) lines.push(`  ${counted(plan.renamed.length, 'object')} with keys unsafe as file names are under renamed/ (renamed-keys.jsonl)`);
      lines.push(`  check it without Amber: ${format === 'zip' ? 'unzip it, then ' : ''}follow README.txt (sha256sum -c SHA256SUMS; sh check-ledger.sh; openssl pkeyutl -verify ...)`);
      io.out(`${lines.join('\n')}\n`);
    }
    return ExitCode.ok;
  } finally {
    await release();
  }
}

/** A broken case is never exported: the failures, and exit 3. */
function refuse(report: VerifyReport, values: Values, io: Io): number {
  if (values.json) io.out(`${JSON.stringify({ case: report.case, exported: false, verification: report }, null, 2)}\n`);
  else {
    const lines = [`Case ${t(report.case)}: INTEGRITY FAILURE (${counted(report.failures.length, 'problem')}): not exported`];
    for (const f of report.failures) {
      const where = f.key ? `${t(f.key)}: ` : f.line ? `ledger line ${f.line}: ` : '';
      lines.push(`  ${f.kind}  ${where}${t(f.reason)}`);
    }
    io.out(`${lines.join('\n')}\n`);
  }
  io.err(`amber: error: case ${t(report.case)} failed verification; a broken case is not exported as if it were sound\n`);
  io.err(`  fix: run \`amber verify --case ${t(report.case)}\` to record and inspect the failures; once a person has established why, \`amber accept --case ${t(report.case)} --reason "..."\` and export again\n`);
  return ExitCode.integrity;
}
