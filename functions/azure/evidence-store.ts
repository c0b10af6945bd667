/**
 * The evidence store of the Azure functions, by locker URI: a folder (the local write-once locker, for runs
 * outside Azure and for tests) or `azblob://<account>/<container>`.
 */
import { InvalidInputError, NotImplementedError } from '../../shared/errors.ts';
import { LocalObjectStore } from '../../shared/evidence/local-object-store.ts';
import type { ObjectStore } from '../../shared/ports/object-store.ts';

/** Opens the locker the AMBER_LOCKER setting names. */
export async function openEvidenceStore(locker: string): Promise<ObjectStore> {
  if (locker.startsWith('azblob://')) {
    throw new NotImplementedError(`the Azure Blob evidence store (${locker}) is not built into the functions yet`, {
      hint: 'the Blob ObjectStore adapter (functions/azure/adapters/blob-object-store.ts) is needed; until then the functions run against a folder locker only',
    });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(locker) && !locker.startsWith('file://')) {
    throw new InvalidInputError(`AMBER_LOCKER must be azblob://<account>/<container> or a folder, got ${JSON.stringify(locker)}`);
  }
  return LocalObjectStore.open(locker.startsWith('file://') ? new URL(locker).pathname : locker, { create: true });
}
