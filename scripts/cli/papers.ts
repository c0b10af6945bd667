/** `amber certificate` and `amber custody`: issue a court paper from a case, after a read-only verification. */
import { extname } from 'node:path';
import { ExitCode, IntegrityError, UsageError } from '../../shared/errors.ts';
import { CustodyLedger } from '../../shared/evidence/ledger.ts';
import { LocalObjectStore } from '../../shared/evidence/local-object-store.ts';
import { validateCaseName } from '../../shared/evidence/names.ts';
import { assertCaseExists, verifyCase } from '../../shared/evidence/verify.ts';
import { renderCertificateHtml, renderCertificatePdf } from '../../shared/papers/certificate.ts';
import { renderCustodyHtml, renderCustodyPdf } from '../../shared/papers/custody.ts';
import { manifestsOf, readPapersInput, type PapersInput } from '../../shared/papers/input.ts';
import type { Values } from '../amber.ts';
import { optionalString, requireString } from './args.ts';
import { actorFrom, lockerSpec, openLocker, signerFrom, TOOL } from './context.ts';
import { writeExport } from './export.ts';
import { t, type Io } from './io.ts';
import { safeOutputPath } from './output-path.ts';

export type PaperKind = 'certificate' | 'custody';

const RENDER: Record<PaperKind, { pdf: (i: PapersInput) => Promise<Uint8Array>; html: (i: PapersInput) => string; title: string }> = {
  certificate: { pdf: renderCertificatePdf, html: renderCertificateHtml, title: 'Section 63 certificate' },
  custody: { pdf: renderCustodyPdf, html: renderCustodyHtml, title: 'Chain-of-custody report' },
};

/** The format an --out name asks for: .pdf or .html (.htm). */
export function paperFormat(out: string): 'pdf' | 'html' {
  const ext = extname(out).toLowerCase();
  if (ext === '.pdf') return 'pdf';
  if (ext === '.html' || ext === '.htm') return 'html';
  throw new UsageError(`--out ${JSON.stringify(out)}: the file name must end in .pdf or .html`, { hint: 'the extension chooses the format, e.g. --out INC-1-certificate.pdf or --out INC-1-certificate.html' });
}

/**
 * Verifies the case (read-only: nothing recorded by the check), renders the paper from the ledger as it stands,
 * writes it and records the issue in the ledger (`exported`, with the paper's SHA-256), all under the case lock
 * so nothing is appended between the check and the paper. A certificate is refused (exit 3) for a case with
 * unaccepted failures; a custody report is issued, shows the failures, and exits 3.
 */
export async function issuePaper(kind: PaperKind, values: Values, io: Io, usage: string): Promise<number> {
  const caseName = validateCaseName(requireString(values, 'case', usage));
  const out = optionalString(values, 'out') ?? `amber-${kind}-${caseName}.pdf`;
  const format = paperFormat(out);
  const signer = await signerFrom(optionalString(values, 'signing-key'), io);
  const store = await openLocker(lockerSpec(optionalString(values, 'locker'), io), io, { create: false });
  await assertCaseExists(store, caseName);
  const root = store instanceof LocalObjectStore ? store.root : undefined;
  // Refused before anything is checked or recorded (writeExport checks again at the moment of writing).
  await safeOutputPath(out, io.cwd, root);
  // A keyed case without its key is refused before anything is written.
  (await CustodyLedger.open(store, caseName, signer ? { signer } : {})).assertCanWrite();
  const actor = actorFrom(io);
  const release = await store.lock(`case-${caseName}`);
  try {
    const issued = new Date();
    const verification = await verifyCase({ store, caseName, actor, record: false, clock: () => issued, ...(signer ? { signer } : {}) });
    if (!verification.intact && kind === 'certificate') {
      const lines = verification.failures.slice(0, 5).map((f) => `${f.kind}${f.key ? ` ${f.key}` : f.seq !== undefined ? ` entry ${f.seq}` : ''}: ${f.reason}`);
      throw new IntegrityError(
        `case ${caseName}: verify finds ${verification.failures.length} failure(s) not accepted, so no certificate is issued: ${lines.join('; ')}${verification.failures.length > 5 ? '; ...' : ''}`,
        { hint: `run \`amber verify --case ${caseName}\` to see and record every failure; only if a person establishes why they happened, \`amber accept --case ${caseName} --reason "..."\` records it, and the certificate then lists them as accepted` },
      );
    }
    const ledger = await CustodyLedger.openForWriting(store, caseName, actor, issued, signer ? { signer } : {});
    const input = await readPapersInput(store, caseName, { verification, issuedAt: issued.toISOString(), issuedBy: actor.principal, tool: TOOL, ledger });
    const render = RENDER[kind];
    const body = format === 'pdf' ? await render.pdf(input) : render.html(input);
    const latest = manifestsOf(input.entries).at(-1);
    const exported = await writeExport({ ...(root === undefined ? {} : { localRoot: root }), ledger, actor }, io, [body], out, {
      what: kind,
      kind,
      format,
      issuedAt: input.issuedAt,
      ledgerHead: input.ledgerHead,
      ...(latest ? { manifest: latest.key, manifestSha256: latest.sha256 } : {}),
      intact: verification.intact,
      accepted: verification.accepted.length,
    });
    const recordedIn = ledger.head.seq;
    await ledger.checkpoint();
    const summary = {
      case: caseName,
      kind,
      format,
      path: exported.path,
      bytes: exported.bytes,
      sha256: exported.sha256,
      issuedAt: input.issuedAt,
      ledgerHead: input.ledgerHead,
      latestManifest: latest ? { key: latest.key, sha256: latest.sha256 } : null,
      verification: { intact: verification.intact, failures: verification.failures.length, accepted: verification.accepted.length, signaturesChecked: verification.signing?.signatures.length ?? 0 },
      recordedIn,
    };
    if (values.json) io.out(`${JSON.stringify(summary, null, 2)}\n`);
    else {
      const state = verification.intact ? (verification.accepted.length ? `intact apart from ${verification.accepted.length} accepted failure(s), which it lists` : 'intact') : `BROKEN (${verification.failures.length} failure(s), listed in the report)`;
      io.out(
        `${render.title} for case ${t(caseName)}: ${t(exported.path ?? '')}\n` +
          `  sha256 ${exported.sha256}, ${exported.bytes} bytes; issued at ${input.issuedAt}; recorded in ledger entry ${recordedIn}\n` +
          `  verification: ${state}\n`,
      );
    }
    return verification.intact ? ExitCode.ok : ExitCode.integrity;
  } finally {
    await release();
  }
}
