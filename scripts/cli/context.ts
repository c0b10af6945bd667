/** What every command needs: the locker, the actor, the tool version. Read once from flags and env. */
import { readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { resolve } from 'node:path';
import { InvalidInputError } from '../../shared/errors.ts';
import { LocalObjectStore } from '../../shared/evidence/local-object-store.ts';
import type { Actor } from '../../shared/evidence/model.ts';
import type { EvidenceSource } from '../../shared/ports/evidence-source.ts';
import type { ObjectStore } from '../../shared/ports/object-store.ts';
import type { Signer } from '../../shared/ports/signer.ts';
import { LocalEvidenceSource } from '../../shared/evidence/local-source.ts';
import type { Io } from './io.ts';
import type { ApiSourceOptions } from './cloudtrail-api.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** `amber/<version>`, recorded in every ledger entry. */
export const TOOL = `amber/${pkg.version}`;

/** Default locker folder, relative to the working directory. */
export const DEFAULT_LOCKER = 'evidence';

/** The locker a command works on: --locker, else AMBER_LOCKER, else ./evidence. */
export function lockerSpec(flag: string | undefined, io: Io): string {
  return flag ?? io.env.AMBER_LOCKER ?? resolve(io.cwd, DEFAULT_LOCKER);
}

/** Opens the locker named by `spec` (a folder or s3://bucket[/prefix]). */
export async function openLocker(spec: string, io: Io, options: { create: boolean }): Promise<ObjectStore> {
  if (spec.startsWith('s3://')) {
    const { openS3Locker } = await import('./aws.ts');
    return openS3Locker(spec, io);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) {
    throw new InvalidInputError(`unsupported locker ${JSON.stringify(spec)}`, { hint: 'use a folder path or s3://bucket' });
  }
  return LocalObjectStore.open(resolve(io.cwd, spec), options);
}

/** Opens a source (a file, a folder, s3://bucket/prefix, or an api: source given its window). */
export async function openSource(spec: string, io: Io, api?: ApiSourceOptions, s3?: { readonly allVersions?: boolean }): Promise<EvidenceSource> {
  if (spec.startsWith('api:')) {
    if (!api) throw new InvalidInputError(`${spec} cannot be collected here`, { hint: 'use amber collect --from api:aws-cloudtrail --since T --until T' });
    const { openApiSource } = await import('./cloudtrail-api.ts');
    return openApiSource(spec, io, api);
  }
  if (spec.startsWith('s3://')) {
    const { openS3Source } = await import('./aws.ts');
    return openS3Source(spec, io, s3);
  }
  return LocalEvidenceSource.open(spec, io.cwd);
}

/**
 * The signing key of a writing command: --signing-key, else AMBER_SIGNING_KEY, else none (an unsigned run; a
 * keyed case then refuses it before anything is written). `kms:<key id | ARN | alias/name>` names an AWS KMS
 * Ed25519 key; anything else is an Ed25519 key file.
 */
export async function signerFrom(flag: string | undefined, io: Io): Promise<Signer | undefined> {
  const spec = flag ?? (io.env.AMBER_SIGNING_KEY || undefined);
  if (spec === undefined) return undefined;
  if (spec.startsWith('kms:')) {
    const keyId = spec.slice('kms:'.length).trim();
    if (keyId === '') {
      throw new InvalidInputError('--signing-key kms: names no KMS key', { hint: 'use kms:<key id | key ARN | alias/name>, e.g. kms:alias/amber-signing' });
    }
    const { openKmsSigner } = await import('./kms.ts');
    return withTsa(await openKmsSigner(keyId, io), io);
  }
  const { Ed25519KeySigner } = await import('../../shared/evidence/key-file-signer.ts');
  return withTsa(await Ed25519KeySigner.fromFile(resolve(io.cwd, spec)), io);
}

/**
 * The signer with the RFC 3161 timestamp authority that stamps what it signs: --tsa-url (main() puts the flag
 * in AMBER_TSA_URL's place), else AMBER_TSA_URL, else none (seals are signed, not timestamped).
 */
export async function withTsa<S extends Signer>(signer: S, io: Io): Promise<S> {
  const url = io.env.AMBER_TSA_URL || undefined;
  if (url === undefined) return signer;
  const [{ Rfc3161Timestamper }, { withTimestamper }] = await Promise.all([import('../../shared/evidence/rfc3161.ts'), import('../../shared/ports/timestamper.ts')]);
  return withTimestamper(signer, new Rfc3161Timestamper(url));
}

/** Who is acting: AMBER_ACTOR, else user@host. */
export function actorFrom(io: Io): Actor {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (some containers): keep "unknown"
  }
  return { principal: io.env.AMBER_ACTOR ?? `${user}@${hostname()}`, tool: TOOL };
}
