/**
 * The EvidenceSource port on Cloud Storage: every live object under `gs://bucket/prefix` (every generation with
 * `allVersions`), listed lazily page by page. Each object is read by the generation the listing named, so what is
 * preserved is exactly the generation listed even if the object is overwritten meanwhile; the origin records it
 * (`gs://bucket/name#generation`, gsutil's notation).
 *
 * Keys: a live object keeps its own name under the case (so a log sink's date folders stay as they are); with
 * `allVersions`, noncurrent generations are kept beside them under `noncurrent/<generation>/<name>`.
 */
import type { Readable } from 'node:stream';
import { AcquisitionError, ObjectNotFoundError, type StoreError } from '../../../shared/errors.ts';
import type { EvidenceSource, SourceObject, SourceProblem } from '../../../shared/ports/evidence-source.ts';
import { GcsObjectStore, parseGsUri, type GcsObjectStoreOptions } from './gcs-object-store.ts';

export interface GcsEvidenceSourceOptions extends Omit<GcsObjectStoreOptions, 'bucket' | 'prefix'> {
  /** `gs://bucket/prefix`, as the user wrote it. */
  readonly uri: string;
  /**
   * Every generation, noncurrent ones included (a versioned bucket keeps overwritten and deleted objects).
   * @default false
   */
  readonly allVersions?: boolean;
}

/** Why an object name cannot be kept as a relative path under a case, or undefined when it can. */
export function objectNameProblem(name: string): string | undefined {
  if (name.includes('\0')) return 'the name contains a NUL character';
  if (name.startsWith('/')) return 'the name starts with /, so it cannot be kept as a relative path';
  if (name.endsWith('/')) return 'the name ends with / (a folder placeholder), so it cannot be kept as a file';
  const segments = name.split('/');
  if (segments.includes('..')) return 'the name has a .. segment, which would leave the case folder';
  if (segments.includes('.')) return 'the name has a . segment, which is ambiguous as a path';
  if (segments.includes('')) return 'the name has an empty segment (//), which is ambiguous as a path';
  return undefined;
}

/** Every object (or generation) under a Cloud Storage prefix. */
export class GcsEvidenceSource implements EvidenceSource {
  readonly spec: string;
  readonly bucket: string;
  readonly prefix: string;
  private readonly store: GcsObjectStore;
  private readonly allVersions: boolean;

  constructor(options: GcsEvidenceSourceOptions) {
    const { bucket, prefix } = parseGsUri(options.uri);
    this.spec = options.uri;
    this.bucket = bucket;
    this.prefix = prefix;
    this.allVersions = options.allVersions === true;
    this.store = new GcsObjectStore({ ...options, bucket });
  }

  async *list(onProblem: (problem: SourceProblem) => void): AsyncIterable<SourceObject> {
    const objects = this.store.listObjects(this.prefix, this.allVersions)[Symbol.asyncIterator]();
    for (;;) {
      let next: IteratorResult<Awaited<ReturnType<typeof objects.next>>['value']>;
      try {
        next = await objects.next();
      } catch (err) {
        // Without a listing nothing can be collected: stop with the reason rather than report 0 objects.
        throw new AcquisitionError(`cannot list ${this.spec}: ${(err as Error).message}`, this.spec, {
          hint: `${(err as StoreError).hint ?? 'run again'} (listing needs storage.objects.list, e.g. roles/storage.objectViewer on gs://${this.bucket})`,
          cause: err,
        });
      }
      if (next.done) return;
      const o = next.value;
      const origin = `gs://${this.bucket}/${o.name}#${o.generation}`;
      const problem = objectNameProblem(o.name);
      if (problem !== undefined) {
        onProblem({ origin, reason: `${problem}; it was not collected (copy it by hand under a clean name)` });
        continue;
      }
      const noncurrent = o.timeDeleted !== undefined;
      yield {
        origin,
        relPath: noncurrent ? `noncurrent/${o.generation}/${o.name}` : o.name,
        size: Number(o.size ?? 0),
        open: () => this.open(o.name, o.generation, origin),
      };
    }
  }

  private async open(name: string, generation: string, origin: string): Promise<Readable> {
    try {
      return await this.store.openObject(name, generation);
    } catch (err) {
      throw new AcquisitionError(`cannot read ${origin}: ${(err as Error).message}`, origin, {
        hint: err instanceof ObjectNotFoundError ? 'the generation was deleted after it was listed; list the source again' : ((err as StoreError).hint ?? 'run again'),
        cause: err,
      });
    }
  }
}
