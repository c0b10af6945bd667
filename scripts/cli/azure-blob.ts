/** Azure Blob wiring for the CLI, loaded only when an azblob:// locker or source is named (keeps start-up fast). */
import { blobServiceFromEnv, parseAzblobUri } from '../../functions/azure/adapters/blob-client.ts';
import { BlobObjectStore } from '../../functions/azure/adapters/blob-object-store.ts';
import { BlobEvidenceSource } from '../../functions/azure/adapters/blob-source.ts';
import type { EvidenceSource } from '../../shared/ports/evidence-source.ts';
import type { ObjectStore } from '../../shared/ports/object-store.ts';
import type { Io } from './io.ts';

/** Opens `azblob://account/container[/prefix]` as a locker (connection string, else Entra ID). */
export async function openBlobLocker(uri: string, io: Io): Promise<ObjectStore> {
  const { account, container, prefix } = parseAzblobUri(uri);
  const service = await blobServiceFromEnv(account, io.env);
  return BlobObjectStore.open({ service, account, container, ...(prefix ? { prefix } : {}) });
}

/** Opens `azblob://account/container/prefix` as a source; every blob version with `allVersions`. */
export async function openBlobSource(uri: string, io: Io, allVersions: boolean): Promise<EvidenceSource> {
  const { account } = parseAzblobUri(uri);
  return new BlobEvidenceSource({ uri, service: await blobServiceFromEnv(account, io.env), allVersions });
}
