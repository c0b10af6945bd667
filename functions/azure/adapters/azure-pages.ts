/**
 * Paging shared by the Azure API sources: the pages of one request chain (a "stream") preserved byte for byte,
 * one at a time, resumable from what the locker already holds.
 *
 * - Continuation in the body (`@odata.nextLink` of Graph, `nextLink` of Azure Monitor): a resumed run reads the
 *   preserved pages in order, follows the link each carries, and asks the API only for what follows the last
 *   one, so no page is stored twice and no preserved page is asked for again (a nextLink's skip token may not
 *   give the same bytes twice).
 * - Continuation in a response header (`NextPageUri` of the Management Activity API, `x-ms-continuation` of IoT
 *   Hub): the header is not in the body, so each page gets a small companion item `page-NNNNN.next.json`
 *   (`{"header": name, "value": what the API sent or null}`), stored right after the page. A page found without
 *   its companion (a run interrupted between the two) is asked for again with the same request.
 * - A page that is not JSON is preserved as received and reported naming the page and the position of the damage;
 *   its stream stops there, because the continuation inside it cannot be read.
 */
import { Readable } from 'node:stream';
import { AcquisitionError } from '../../../shared/errors.ts';
import type { PreservedPages } from '../../../shared/evidence/api-pages.ts';
import type { SourceObject } from '../../../shared/ports/evidence-source.ts';
import { publicUrl, type AzureHttp, type AzureRequest } from './azure-http.ts';

/** Shared with the other api: sources (shared/evidence/api-pages.ts). */
export { preservedPagesIn, type PreservedPages } from '../../../shared/evidence/api-pages.ts';

/** How a stream finds its next request. */
export type Continuation =
  | { readonly kind: 'body'; readonly key: string }
  | { readonly kind: 'header'; readonly header: string; readonly apply: (first: AzureRequest, previous: AzureRequest, value: string) => AzureRequest };

/** One request chain whose every page is preserved. */
export interface PageStream {
  /** The spec of the source (`api:entra-signins`), the start of every origin. */
  readonly spec: string;
  /** Folder of the pages, relative to the case. */
  readonly folder: string;
  /** What the stream is, in words, for messages (`interactive sign-ins`). */
  readonly label: string;
  readonly first: AzureRequest;
  readonly continuation: Continuation;
  /** Further origin parameters (`slice`, `contentType`). */
  readonly params?: Readonly<Record<string, string>>;
  /**
   * A next request must stay on this origin (scheme, host, port), so a hostile or broken page cannot send the
   * bearer token elsewhere.
   * @default the origin of `first.url`
   */
  readonly allowedOrigin?: string;
}

/** Page numbers have five digits so keys sort in page order. */
export const MAX_PAGES = 99_999;

/** `folder/page-00001.json`. */
export function pagePath(folder: string, page: number): string {
  return `${folder}/page-${String(page).padStart(5, '0')}.json`;
}

function companionPath(folder: string, page: number): string {
  return `${folder}/page-${String(page).padStart(5, '0')}.next.json`;
}

/** `api:<source>?method=GET&url=...&page=N&...`: the exact request of one page, without secrets. */
export function pageOrigin(stream: PageStream, request: AzureRequest, page: number): string {
  const q = new URLSearchParams({ method: request.method, url: publicUrl(request.url) });
  if (request.body !== undefined) q.set('body', request.body);
  for (const [name, value] of Object.entries(request.headers ?? {})) q.set(`header.${name}`, value);
  q.set('page', String(page));
  for (const [name, value] of Object.entries(stream.params ?? {})) q.set(name, value);
  return `${stream.spec}?${q.toString()}`;
}

/** The origin of a page's companion: the page's request, and which response header the companion holds. */
function companionOrigin(pageOriginText: string, header: string): string {
  return `${pageOriginText}&responseHeader=${encodeURIComponent(header)}`;
}

/** A SourceObject over bytes already in memory. */
export function objectOf(origin: string, relPath: string, bytes: Buffer): SourceObject {
  return { origin, relPath, size: bytes.length, open: () => Promise.resolve(Readable.from([bytes])) };
}

/** What reading a stream ended with. */
export interface StreamEnd {
  /** Pages of the stream now preserved (from earlier runs and this one). */
  readonly pages: number;
  /** The preserved pages' bytes, in order (for sources that read them, such as content listings). */
  readonly bodies: readonly Buffer[];
}

/**
 * Yields every page of `stream` (preserved ones first, from the locker), and returns what was read. Throws an
 * AcquisitionError naming the page that could not be had; the pages yielded before it stay preserved.
 */
export async function* readStream(stream: PageStream, http: AzureHttp, preserved: PreservedPages | undefined): AsyncGenerator<SourceObject, StreamEnd> {
  const bodies: Buffer[] = [];
  const stored = new Set(preserved ? await preserved.list(`${stream.folder}/`) : []);
  const allowed = stream.allowedOrigin ?? new URL(stream.first.url).origin;
  let request: AzureRequest | undefined = stream.first;
  let page = 0;
  // Resume: what is preserved, in page order, following the continuation each page carries.
  while (request !== undefined && stored.has(pagePath(stream.folder, page + 1))) {
    const relPath = pagePath(stream.folder, page + 1);
    let next: string | undefined | null;
    if (stream.continuation.kind === 'body') {
      const bytes = await preserved!.read(relPath);
      page += 1;
      bodies.push(bytes);
      yield objectOf(pageOrigin(stream, request, page), relPath, bytes);
      next = bodyContinuation(bytes, stream.continuation.key, stream, request, page);
    } else {
      const companion = companionPath(stream.folder, page + 1);
      if (!stored.has(companion)) break; // interrupted between page and companion: ask for this page again
      const bytes = await preserved!.read(relPath);
      const note = await preserved!.read(companion);
      next = companionValue(note, companion);
      page += 1;
      bodies.push(bytes);
      yield objectOf(pageOrigin(stream, request, page), relPath, bytes);
      yield objectOf(companionOrigin(pageOrigin(stream, request, page), stream.continuation.header), companion, note);
    }
    request = next == null ? undefined : nextRequest(stream, request, next, allowed, page);
  }
  while (request !== undefined) {
    if (page >= MAX_PAGES) {
      throw new AcquisitionError(`more than ${MAX_PAGES} pages of ${stream.label}`, pageOrigin(stream, request, page + 1), { hint: 'the pages read so far are preserved; collect the rest in narrower windows' });
    }
    const origin = pageOrigin(stream, request, page + 1);
    const response = await http.send(request, origin);
    page += 1;
    bodies.push(response.bytes);
    yield objectOf(origin, pagePath(stream.folder, page), response.bytes);
    let next: string | undefined | null;
    if (stream.continuation.kind === 'body') {
      next = bodyContinuation(response.bytes, stream.continuation.key, stream, request, page);
    } else {
      next = response.headers.get(stream.continuation.header);
      if (next === '') next = null;
      const note = Buffer.from(`${JSON.stringify({ header: stream.continuation.header, value: next ?? null })}\n`);
      yield objectOf(companionOrigin(origin, stream.continuation.header), companionPath(stream.folder, page), note);
    }
    request = next == null ? undefined : nextRequest(stream, request, next, allowed, page);
  }
  return { pages: page, bodies };
}

function nextRequest(stream: PageStream, current: AzureRequest, value: string, allowed: string, page: number): AzureRequest {
  let next: AzureRequest;
  if (stream.continuation.kind === 'body') {
    next = { ...current, url: value };
  } else {
    next = stream.continuation.apply(stream.first, current, value);
  }
  if (next.url === current.url && next.body === current.body && JSON.stringify(next.headers) === JSON.stringify(current.headers)) {
    throw new AcquisitionError(`page ${page} of ${stream.label} points to itself as the next page, so reading on would never end`, pageOrigin(stream, current, page), {
      hint: 'the pages read so far are preserved; collect the rest in a narrower window',
    });
  }
  let target: string;
  try {
    target = new URL(next.url).origin;
  } catch (cause) {
    throw new AcquisitionError(`page ${page} of ${stream.label} names a next page that is not a URL: ${JSON.stringify(value.slice(0, 200))}`, pageOrigin(stream, current, page), { hint: 'the pages read so far are preserved', cause });
  }
  if (target !== allowed) {
    throw new AcquisitionError(`page ${page} of ${stream.label} names a next page on ${target}, not on ${allowed}: not followed, so the token is not sent there`, pageOrigin(stream, current, page), {
      hint: 'the pages read so far are preserved; if the API moved, point AMBER_GRAPH_URL / AMBER_ARM_URL / AMBER_M365_URL at it',
    });
  }
  return next;
}

/** The continuation link of a JSON page, null on the last page; a page that is not JSON stops the stream. */
function bodyContinuation(bytes: Buffer, key: string, stream: PageStream, request: AzureRequest, page: number): string | null {
  const text = bytes.toString('utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (cause) {
    throw new AcquisitionError(
      `page ${page} of ${stream.label} is not JSON (${(cause as Error).message}): it is preserved as received (${pagePath(stream.folder, page)}), but the link to the next page cannot be read from it, so the pages after it were not asked for`,
      pageOrigin(stream, request, page),
      { hint: 'run the same command again later: a resumed run stops at the same page, so collect the rest of the window into another case if the API keeps sending it damaged', cause },
    );
  }
  const link = doc !== null && typeof doc === 'object' ? (doc as Record<string, unknown>)[key] : undefined;
  return typeof link === 'string' && link !== '' ? link : null;
}

function companionValue(note: Buffer, relPath: string): string | null {
  try {
    const doc = JSON.parse(note.toString('utf8')) as { value?: unknown };
    return typeof doc.value === 'string' && doc.value !== '' ? doc.value : null;
  } catch (cause) {
    throw new AcquisitionError(`the preserved ${relPath} is not JSON, so the run cannot resume after it`, relPath, { hint: 'run amber verify on the case', cause });
  }
}
