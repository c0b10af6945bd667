/** `amber verify`: recompute hashes and check the ledger; exit 3 on any integrity failure. */
import { resolve } from 'node:path';
import { ExitCode, InvalidInputError } from '../../shared/errors.ts';
import { validateCaseName } from '../../shared/evidence/names.ts';
import { verifyCase, type VerifyReport } from '../../shared/evidence/verify.ts';
import type { Values } from '../amber.ts';
import { optionalString, requireString } from './args.ts';
import { actorFrom, lockerSpec, openLocker, signerFrom } from './context.ts';
import { formatBytes, ProgressBar, t, type Io } from './io.ts';

const USAGE = 'amber verify --case C [--public-key FILE] [--tsa-ca FILE] [--anchor FILE|s3://bucket/prefix] [--signing-key FILE] [--locker DIR|s3://bucket] [--json]';

/** Runs `amber verify`. */
export async function runVerify(values: Values, _positionals: string[], io: Io): Promise<number> {
  const caseName = validateCaseName(requireString(values, 'case', USAGE));
  const signer = await signerFrom(optionalString(values, 'signing-key'), io);
  const expected = await readPublicKey(optionalString(values, 'public-key'), io);
  const tsaCa = await readTsaCa(optionalString(values, 'tsa-ca'), io);
  const anchorSpecs = Array.isArray(values.anchor) ? values.anchor : [];
  const anchors = anchorSpecs.length > 0 ? await (await import('./anchor.ts')).loadAnchors(anchorSpecs, caseName, io) : undefined;
  const store = await openLocker(lockerSpec(optionalString(values, 'locker'), io), io, { create: false });
  const progress = new ProgressBar(io, 'verifying');
  const report = await verifyCase({
    store,
    caseName,
    actor: actorFrom(io),
    ...(signer ? { signer } : {}),
    ...(expected ? { expectedPublicKeyPem: expected } : {}),
    ...(tsaCa ? { tsaTrustAnchorsPem: tsaCa } : {}),
    ...(anchors ? { anchors } : {}),
    onProgress: (done, total) => progress.update(done, total, `${done}/${total} objects`),
  });
  progress.done();
  io.out(values.json ? `${JSON.stringify(report, null, 2)}\n` : describe(report));
  // The decision stands without its record (read-only or full locker): say so where people look for problems.
  if (report.recorded?.where === 'nowhere') io.err(`amber: warning: result not recorded: ${t(report.recorded.reason)}\n`);
  return report.intact ? ExitCode.ok : ExitCode.integrity;
}

/** Reads `--public-key FILE` (the case's public key as its owner keeps it outside the locker). */
async function readPublicKey(path: string | undefined, io: Io): Promise<string | undefined> {
  if (path === undefined) return undefined;
  const { readFile } = await import('node:fs/promises');
  const { parseSigningPublicKey } = await import('../../shared/evidence/signature-algorithms.ts');
  const pem = await readFile(resolve(io.cwd, path), 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new InvalidInputError(`cannot read the public key ${path}: ${error.code ?? error.message}`, { hint: 'pass the file `amber keys init --public-out FILE` wrote' });
  });
  if (!parseSigningPublicKey(pem)) {
    throw new InvalidInputError(`${path} is not an Ed25519 or EC P-256 public key in PEM`, { hint: 'pass the file `amber keys init --public-out FILE` wrote ("BEGIN PUBLIC KEY"), or the public key of the KMS or Key Vault key, not a private key' });
  }
  return pem;
}

/** Reads `--tsa-ca FILE`: the root certificate(s) the timestamp authority's certificate must chain to. */
async function readTsaCa(path: string | undefined, io: Io): Promise<string | undefined> {
  if (path === undefined) return undefined;
  const { readFile } = await import('node:fs/promises');
  const pem = await readFile(resolve(io.cwd, path), 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new InvalidInputError(`cannot read the TSA trust anchor ${path}: ${error.code ?? error.message}`, { hint: 'pass --tsa-ca the PEM certificate of the timestamp authority\'s root CA' });
  });
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new InvalidInputError(`${path} holds no PEM certificate`, { hint: 'pass --tsa-ca the PEM certificate ("BEGIN CERTIFICATE") of the timestamp authority\'s root CA' });
  }
  return pem;
}

/** Lines about RFC 3161 tokens and anchors: what was checked, each genTime, and what was not checked. */
function describeTimesAndAnchors(r: VerifyReport): string[] {
  const lines: string[] = [];
  const ts = r.timestamps;
  if (ts) {
    const good = ts.tokens.filter((c) => c.ok);
    const since = ts.requiredSince !== undefined ? `, required since entry ${ts.requiredSince} (TSA ${t(ts.tsa ?? '')})` : '';
    lines.push(`  ${good.length} of ${ts.tokens.length} RFC 3161 timestamp tokens valid${since}`);
    for (const c of good) lines.push(`    ${t(c.signed)}: genTime ${c.genTime ?? '?'} by ${t(c.tsa ?? 'unknown TSA')}`);
    lines.push(
      ts.trustAnchor
        ? '    TSA certificates checked against the trust anchor given (--tsa-ca)'
        : '    TSA certificates NOT checked against a trusted root (pass --tsa-ca FILE to check them); each token verifies with the certificate it carries',
    );
  }
  for (const a of r.anchors ?? []) {
    if (!a.ok) continue;
    const signed = a.signedBy ? `signed by ${a.signedBy}` : 'UNSIGNED (the case had no key when it was anchored)';
    lines.push(`  anchor ${t(a.source)}: entry ${a.seq} of ${t(a.at ?? '?')} matches the ledger; ${signed}${a.genTime ? `; genTime ${a.genTime}` : ''}`);
  }
  return lines;
}

function describe(r: VerifyReport): string {
  const lines: string[] = [];
  if (r.intact) {
    lines.push(
      `Case ${t(r.case)}: INTACT`,
      `  ${r.items.length} objects (${formatBytes(r.bytes)}) re-hashed: every SHA-256 matches the custody ledger`,
      `  ${r.ledgerEntries} ledger entries: chain and checkpoints unbroken`,
    );
    if (r.signing) lines.push(`  ${r.signing.signatures.length} signatures valid: every seal and checkpoint since entry ${r.signing.keyedIn} signed by key ${r.signing.fingerprint}`);
    else lines.push('  unsigned case: no signing key recorded (a consistent rewrite of the whole locker would not show)');
  } else {
    lines.push(`Case ${t(r.case)}: INTEGRITY FAILURE (${r.failures.length} problem${r.failures.length === 1 ? '' : 's'})`);
    const width = Math.max(...r.failures.map((f) => f.kind.length));
    for (const f of r.failures) {
      const where = f.key ? `${t(f.key)}: ` : f.line ? `ledger line ${f.line}: ` : '';
      lines.push(`  ${f.kind.padEnd(width)}  ${where}${t(f.reason)}`);
    }
    const ok = r.items.filter((i) => i.ok).length;
    lines.push(`  ${ok} of ${r.items.length} objects match their recorded SHA-256`);
  }
  lines.push(...describeTimesAndAnchors(r));
  for (const a of r.accepted) {
    const where = a.failure.key ?? (a.failure.seq !== undefined ? `entry ${a.failure.seq}` : `ledger line ${a.failure.line ?? '?'}`);
    lines.push(`  accepted  ${a.failure.kind} at ${t(where)} (ledger entry ${a.acceptedIn}: ${t(a.reason)})`);
  }
  for (const w of r.warnings) lines.push(`  warning: ${t(w.key)}: ${t(w.reason)}`);
  const recorded =
    r.recorded?.where === 'ledger'
      ? `recorded in the ledger (entry ${r.recorded.seq})`
      : r.recorded?.where === 'verification-record'
        ? `recorded in ${t(r.recorded.key)} (outside the chain it judged; the ledger was not touched)`
        : 'not recorded';
  lines.push(`  locker: ${t(r.locker)}; this verification is ${recorded}`);
  return `${lines.join('\n')}\n`;
}
