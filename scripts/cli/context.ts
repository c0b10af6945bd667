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
import type { AzureApiOptions } from './azure-api.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** `amber/<version>`, recorded in every ledger entry. */
export const TOOL = `amber/${pkg.version}`;

/** Default locker folder, relative to the working directory. */
export const DEFAULT_LOCKER = 'evidence';

/** The locker a command works on: --locker, else AMBER_LOCKER, else ./evidence. */
export function lockerSpec(flag: string | undefined, io: Io): string {
  return flag ?? io.env.AMBER_LOCKER ?? resolve(io.cwd, DEFAULT_LOCKER);
}

/** True for a locker or anchor destination in a cloud store (s3://, azblob://, gs://) rather than a local path. */
export function isCloudStoreUri(spec: string): boolean {
  return spec.startsWith('s3://') || spec.startsWith('azblob://') || spec.startsWith('gs://');
}

/** Opens the locker named by `spec` (a folder, s3://bucket[/prefix], azblob://account/container[/prefix] or gs://bucket[/prefix]). */
export async function openLocker(spec: string, io: Io, options: { create: boolean }): Promise<ObjectStore> {
  if (spec.startsWith('s3://')) {
    const { openS3Locker } = await import('./aws.ts');
    return openS3Locker(spec, io);
  }
  if (spec.startsWith('azblob://')) {
    const { openBlobLocker } = await import('./azure-blob.ts');
    return openBlobLocker(spec, io);
  }
  if (spec.startsWith('gs://')) {
    const { openGcsLocker } = await import('./gcs.ts');
    return openGcsLocker(spec, io, options);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) {
    throw new InvalidInputError(`unsupported locker ${JSON.stringify(spec)}`, { hint: 'use a folder path, s3://bucket, azblob://account/container or gs://bucket' });
  }
  return LocalObjectStore.open(resolve(io.cwd, spec), options);
}

/** Opens a source (a file, a folder, s3://bucket/prefix, azblob://account/container/prefix, gs://bucket/prefix, or an api: source given its window). */
export async function openSource(spec: string, io: Io, api?: ApiSourceOptions & AzureApiOptions & { readonly specs?: readonly string[] }, options: { allVersions?: boolean } = {}): Promise<EvidenceSource> {
  if (spec.startsWith('api:')) {
    if (!api) throw new InvalidInputError(`${spec} cannot be collected here`, { hint: 'use amber collect --from api:aws-cloudtrail --since T --until T' });
    if (spec === 'api:gcp-logging') {
      const { openGcpLoggingSource } = await import('./gcp-logging-api.ts');
      return openGcpLoggingSource(io, api);
    }
    const azure = await import('./azure-api.ts');
    if (azure.isAzureApiSpec(spec)) return azure.openAzureApiSource(spec, io, api, api.specs ?? [spec]);
    if (spec !== 'api:aws-cloudtrail') throw azure.unknownApiSource(spec);
    const { openApiSource } = await import('./cloudtrail-api.ts');
    return openApiSource(spec, io, api);
  }
  if (spec.startsWith('s3://')) {
    const { openS3Source } = await import('./aws.ts');
    return openS3Source(spec, io, options);
  }
  if (spec.startsWith('azblob://')) {
    const { openBlobSource } = await import('./azure-blob.ts');
    return openBlobSource(spec, io, options.allVersions === true);
  }
  if (spec.startsWith('gs://')) {
    const { openGcsSource } = await import('./gcs.ts');
    return openGcsSource(spec, io, options.allVersions === true || api?.gcp?.allVersions === true);
  }
  return LocalEvidenceSource.open(spec, io.cwd);
}

/**
 * The signing key of a writing command: --signing-key, else AMBER_SIGNING_KEY, else none (an unsigned run; a
 * keyed case then refuses it before anything is written). `kms:<key id | ARN | alias/name>` names an AWS KMS
 * Ed25519 key; `akv:https://<vault>.vault.azure.net/keys/<name>[/<version>]` an Azure Key Vault EC P-256 key
 * (ES256); anything else is an Ed25519 key file.
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
  if (spec.startsWith('akv:')) {
    const keyId = spec.slice('akv:'.length).trim();
    const { parseKeyVaultKeyId } = await import('../../functions/azure/adapters/key-vault-signer.ts');
    parseKeyVaultKeyId(keyId); // a malformed identifier is a usage error before any sign-in
    const { openKeyVaultSigner } = await import('./akv.ts');
    return withTsa(await openKeyVaultSigner(keyId), io);
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
