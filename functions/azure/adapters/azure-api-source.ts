/**
 * The EvidenceSource port over Azure APIs: a source is a list of parts (one stream of pages, one Management
 * Activity slice, one mailbox...), read one after the other, one page at a time (each page is stored before the
 * next is asked for, so a resumed run never finds a later page without the one before it). A part that fails is
 * reported through `onProblem`, naming the exact request, and the other parts go on.
 */
import { isAmberError, type AcquisitionError } from '../../../shared/errors.ts';
import type { EvidenceSource, SourceObject, SourceProblem } from '../../../shared/ports/evidence-source.ts';

/** One independently failing piece of a source. */
export interface SourcePart {
  /** Origin reported when the part fails before naming a request of its own. */
  readonly origin: string;
  /** Yields the part's objects; problems that do not end the part (one mailbox of many) go to `onProblem`. */
  run(onProblem: (problem: SourceProblem) => void): AsyncGenerator<SourceObject, unknown>;
}

/** How one Management Activity slice (or any time slice) ended, for `--json` and the terminal. */
export interface SliceStatus {
  readonly source: string;
  readonly contentType?: string;
  readonly start: string;
  readonly end: string;
  readonly complete: boolean;
  /** Pages of the content listing and content blobs preserved for the slice (this run and earlier ones). */
  readonly listingPages: number;
  readonly blobs: number;
  /** Why the slice is not complete, or what about it the user must know. */
  readonly reason?: string;
}

/** An EvidenceSource made of parts; see the top of this file. */
export class AzureApiSource implements EvidenceSource {
  readonly concurrency = 1;
  /** Slices the source read, filled while listing (Management Activity only). */
  readonly slices: SliceStatus[] = [];
  /** What the user must know that is not a failure (a part refused by design, a user without a mailbox). */
  readonly notes: string[] = [];

  constructor(
    readonly spec: string,
    private readonly parts: readonly SourcePart[],
    /** Parts refused before any request (with the reason), reported as problems of this source. */
    private readonly refusals: readonly SourceProblem[] = [],
  ) {}

  async *list(onProblem: (problem: SourceProblem) => void): AsyncIterable<SourceObject> {
    for (const refusal of this.refusals) onProblem(refusal);
    for (const part of this.parts) {
      try {
        yield* part.run(onProblem);
      } catch (error) {
        onProblem(problemOf(error, part.origin));
      }
    }
  }
}

/** A failure as a SourceProblem: the request it names (else the part's), what went wrong and the fix. */
export function problemOf(error: unknown, fallbackOrigin: string): SourceProblem {
  if (isAmberError(error)) {
    const origin = (error as AcquisitionError).origin ?? fallbackOrigin;
    return { origin, reason: `${error.message}${error.hint ? `; ${error.hint}` : ''}` };
  }
  return { origin: fallbackOrigin, reason: `${(error as Error).message ?? String(error)}; run the same command again (it resumes after the last preserved page)` };
}

/** `2024-03-05T10:00:00.000Z` -> `20240305T100000Z`: sortable, no characters a path dislikes (the CloudTrail source's form; its module loads the AWS SDK). */
export function compactTime(date: Date): string {
  const iso = date.toISOString();
  const ms = iso.slice(20, 23);
  return `${iso.slice(0, 19).replace(/[-:]/g, '')}${ms === '000' ? '' : `.${ms}`}Z`;
}

/** An id from an API as one path segment: characters a key dislikes become `_`. */
export function segment(id: string): string {
  const clean = id.replace(/[^A-Za-z0-9._$@-]/g, '_').replace(/^\.+/, '_');
  return clean === '' ? '_' : clean.slice(0, 200);
}

/** A time as Graph and Azure Monitor filters take it: ISO-8601 UTC, whole seconds when they are whole. */
export function filterTime(date: Date): string {
  return date.toISOString().replace('.000Z', 'Z');
}
