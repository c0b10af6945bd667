/**
 * The EvidenceSource port on Azure Blob Storage: every blob under `azblob://account/container/prefix`, listed
 * lazily page by page, each kept under its blob name. With `allVersions` (an account with blob versioning),
 * every version is collected: the current one under its name, each earlier one under
 * `_versions/<version id>/<name>`, and each read by its version id so what is stored is exactly that version.
 * Without versions, a blob is read on the condition that its ETag is still the one listed: a blob replaced
 * between listing and reading is reported, never silently mixed up.
 */
import { Readable } from 'node:stream';
import type { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import { AcquisitionError } from '../../../shared/errors.ts';
import type { EvidenceSource, SourceObject, SourceProblem } from '../../../shared/ports/evidence-source.ts';
import { blobErrorInfo, blobHint, isBlobNotFound, parseAzblobUri } from './blob-client.ts';
import { keyProblem } from './blob-object-store.ts';

export interface BlobEvidenceSourceOptions {
  /** `azblob://account/container/prefix`, as the user wrote it. */
  readonly uri: string;
  /** The client of the storage account (built by blobServiceFromEnv). */
  readonly service: BlobServiceClient;
  /**
   * Collect every version of every blob (needs blob versioning on the account).
   * @default false (current blobs only)
   */
  readonly allVersions?: boolean;
}

/** Where an earlier version of `name` is kept under the case: its version id (colons made safe) before the name. */
export function versionRelPath(name: string, versionId: string): string {
  return `_versions/${versionId.replaceAll(':', '-')}/${name}`;
}

/** Every blob (or every blob version) under an Azure Blob prefix, listed lazily. */
export class BlobEvidenceSource implements EvidenceSource {
  readonly spec: string;
  private readonly base: string;
  private readonly prefix: string;
  private readonly container: ContainerClient;
  private readonly allVersions: boolean;

  constructor(options: BlobEvidenceSourceOptions) {
    const { account, container, prefix } = parseAzblobUri(options.uri);
    this.spec = options.uri;
    this.base = `azblob://${account}/${container}`;
    this.prefix = prefix;
    this.container = options.service.getContainerClient(container);
    this.allVersions = options.allVersions ?? false;
  }

  async *list(onProblem: (problem: SourceProblem) => void): AsyncIterable<SourceObject> {
    const pages = this.container
      .listBlobsFlat({ ...(this.prefix === '' ? {} : { prefix: this.prefix }), includeVersions: this.allVersions })
      .byPage({ maxPageSize: 1000 });
    for (;;) {
      let page;
      try {
        page = await pages.next();
      } catch (err) {
        // Without a listing nothing can be collected: stop with the reason rather than report 0 objects.
        const { status, code, name } = blobErrorInfo(err);
        throw new AcquisitionError(`cannot list ${this.spec}: ${code || name}${status === undefined ? '' : ` (HTTP ${status})`}`, this.spec, {
          hint: blobHint(err, this.spec),
          cause: err,
        });
      }
      if (page.done) return;
      for (const item of page.value.segment.blobItems) {
        const name = item.name;
        const pinned = this.allVersions ? item.versionId : undefined;
        const origin = `${this.base}/${name}${pinned === undefined ? '' : `?versionid=${encodeURIComponent(pinned)}`}`;
        const problem = keyProblem(name);
        if (problem !== undefined) {
          onProblem({ origin, reason: `${problem}; it was not collected (copy it by hand under a clean name)` });
          continue;
        }
        const earlier = pinned !== undefined && item.isCurrentVersion !== true;
        const etag = item.properties.etag;
        yield {
          origin,
          relPath: earlier ? versionRelPath(name, pinned) : name,
          size: item.properties.contentLength,
          open: () => this.open(name, origin, pinned, pinned === undefined ? etag : undefined),
        };
      }
    }
  }

  private async open(name: string, origin: string, versionId: string | undefined, etag: string | undefined): Promise<Readable> {
    const blob = versionId === undefined ? this.container.getBlobClient(name) : this.container.getBlobClient(name).withVersion(versionId);
    let body: NodeJS.ReadableStream | undefined;
    try {
      body = (await blob.download(0, undefined, etag === undefined ? {} : { conditions: { ifMatch: etag } })).readableStreamBody;
    } catch (err) {
      const { status, code, name: errName } = blobErrorInfo(err);
      const hint = status === 412
        ? 'the blob was replaced after it was listed; run the collection again to preserve its current content (and enable blob versioning to keep every state)'
        : isBlobNotFound(err)
          ? 'the blob was deleted after it was listed; list the source again'
          : blobHint(err, origin);
      throw new AcquisitionError(`cannot read ${origin}: ${code || errName}${status === undefined ? '' : ` (HTTP ${status})`}`, origin, { hint, cause: err });
    }
    if (body === undefined) {
      throw new AcquisitionError(`Azure returned no body for ${origin}`, origin, { hint: 'run again; report it if it persists' });
    }
    return body instanceof Readable ? body : Readable.from(body as AsyncIterable<Buffer>);
  }
}
