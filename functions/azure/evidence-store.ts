/**
 * The evidence store of the Azure functions, by locker URI: a folder (the local write-once locker, for runs
 * outside Azure and for tests) or `azblob://<account>/<container>`.
 */
import { InvalidInputError } from '../../shared/errors.ts';
import { LocalObjectStore } from '../../shared/evidence/local-object-store.ts';
import type { ObjectStore } from '../../shared/ports/object-store.ts';
// The Blob adapters (and @azure/storage-blob) are loaded only for an azblob:// locker, on first use.
import type { BlobEnv } from './adapters/blob-client.ts';

/**
 * Opens the locker the AMBER_LOCKER setting names. In Azure the function app's managed identity signs in
 * (DefaultAzureCredential); AZURE_STORAGE_CONNECTION_STRING, when set, is used instead (Azurite in tests).
 */
export async function openEvidenceStore(locker: string, env: BlobEnv = process.env): Promise<ObjectStore> {
  if (locker.startsWith('azblob://')) {
    const [{ blobServiceFromEnv, parseAzblobUri }, { BlobObjectStore }] = await Promise.all([import('./adapters/blob-client.ts'), import('./adapters/blob-object-store.ts')]);
    const { account, container, prefix } = parseAzblobUri(locker);
    return BlobObjectStore.open({ service: await blobServiceFromEnv(account, env), account, container, ...(prefix ? { prefix } : {}) });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(locker) && !locker.startsWith('file://')) {
    throw new InvalidInputError(`AMBER_LOCKER must be azblob://<account>/<container> or a folder, got ${JSON.stringify(locker)}`);
  }
  return LocalObjectStore.open(locker.startsWith('file://') ? new URL(locker).pathname : locker, { create: true });
}
