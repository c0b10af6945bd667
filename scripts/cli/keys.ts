/** `amber keys init`: a new Ed25519 signing key file, kept outside the locker. */
import { writeFile } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { InvalidInputError, UsageError } from '../../shared/errors.ts';
import { Ed25519KeySigner } from '../../shared/evidence/key-file-signer.ts';
import type { Values } from '../amber.ts';
import { optionalString, requireString } from './args.ts';
import { isCloudStoreUri, lockerSpec } from './context.ts';
import { t, type Io } from './io.ts';
import { safeOutputPath } from './output-path.ts';

export const KEYS_USAGE = 'amber keys init --out FILE [--public-out FILE] [--json]';

/** Runs `amber keys <subcommand>` (only `init` exists). */
export async function runKeys(values: Values, positionals: string[], io: Io): Promise<number> {
  if (positionals.length !== 1 || positionals[0] !== 'init') {
    throw new UsageError(`unknown keys subcommand ${JSON.stringify(positionals.join(' '))}`, { hint: `usage: ${KEYS_USAGE}` });
  }
  const out = await keyPath(requireString(values, 'out', KEYS_USAGE), io);
  const publicFlag = optionalString(values, 'public-out');
  const publicOut = publicFlag === undefined ? undefined : await keyPath(publicFlag, io);
  if (publicOut === out) throw new UsageError('--out and --public-out name the same file', { hint: 'give the public key its own file, e.g. --public-out amber-signing.pub' });
  const key = Ed25519KeySigner.generate();
  // 'wx': an existing key file is never replaced (it may be the only key that signs a case); 0600: only its owner reads it.
  await writeFile(out, key.privateKeyPem, { flag: 'wx', mode: 0o600 }).catch((error: NodeJS.ErrnoException) => refuseWrite(out, error));
  if (publicOut) await writeFile(publicOut, key.publicKeyPem, { flag: 'wx', mode: 0o644 }).catch((error: NodeJS.ErrnoException) => refuseWrite(publicOut, error));
  if (values.json) {
    io.out(`${JSON.stringify({ privateKey: out, ...(publicOut ? { publicKey: publicOut } : {}), algorithm: 'ed25519', fingerprint: key.fingerprint }, null, 2)}\n`);
    return 0;
  }
  io.out(
    `Wrote an Ed25519 signing key to ${t(out)} (mode 0600; keep it outside the locker, and a copy offline)\n` +
      `  fingerprint: ${key.fingerprint} (sha256 of the public key's DER SubjectPublicKeyInfo)\n` +
      (publicOut ? `  public key:  ${t(publicOut)} (give it to whoever verifies: amber verify --public-key FILE)\n` : '') +
      `  sign a case: amber collect --case C --signing-key ${t(out)} ... (or set AMBER_SIGNING_KEY)\n`,
  );
  return 0;
}

/** Where a key file may go: never inside the locker (its cases/ tree or anywhere under a local locker). */
async function keyPath(path: string, io: Io): Promise<string> {
  const spec = lockerSpec(undefined, io);
  const locker = isCloudStoreUri(spec) ? undefined : resolve(io.cwd, spec);
  const real = await safeOutputPath(path, io.cwd, locker);
  if (locker && (real === locker || real.startsWith(locker + sep))) {
    throw new InvalidInputError(`refusing to write the key ${JSON.stringify(path)} inside the evidence locker ${locker}`, {
      hint: 'keep signing keys outside the locker, e.g. --out ~/.amber/signing.key',
    });
  }
  return real;
}

function refuseWrite(path: string, error: NodeJS.ErrnoException): never {
  if (error.code === 'EEXIST') {
    throw new InvalidInputError(`refusing to overwrite ${path}: it exists, and may be the key that signs a case`, { hint: 'choose another --out file, or move the old key away yourself if you are sure it signs nothing' });
  }
  throw new InvalidInputError(`cannot write ${path}: ${error.code ?? error.message}`, { hint: 'choose a folder you can write to, outside the locker' });
}
