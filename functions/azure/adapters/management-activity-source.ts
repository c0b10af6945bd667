/**
 * `api:m365-audit`: the Microsoft 365 unified audit log through the Office 365 Management Activity API.
 *
 * Per content type (Audit.AzureActiveDirectory, Audit.Exchange, Audit.SharePoint, Audit.General by default):
 * 1. `POST {base}/api/v1.0/{tenant}/activity/feed/subscriptions/start?contentType=...`: the subscription must be
 *    on for content to be listed; the answer "already enabled" (error AF20024) is accepted as on.
 * 2. The window is cut into slices of at most 24 hours (the longest span `subscriptions/content` accepts), from
 *    `--since`; each slice is listed with `GET .../subscriptions/content?contentType&startTime&endTime`, paging
 *    by the `NextPageUri` response header (kept beside each listing page, see azure-pages.ts).
 * 3. Every content blob the listing names (`contentUri`) is fetched and preserved as received (a JSON array of
 *    audit records, which the `m365-audit` parser reads) under its `contentId`; one already preserved is not
 *    asked for again. A `contentUri` off the API's own host is refused, so the token is never sent elsewhere.
 *
 * The API serves content from the last 7 days only: slices wholly older are not asked for, a slice reaching
 * further back is asked from 7 days ago on; both are reported incomplete with that reason. Each slice's status
 * (complete, or incomplete and why) is kept in `source.slices` for the terminal and `--json`.
 */
import { AcquisitionError } from '../../../shared/errors.ts';
import type { SourceObject, SourceProblem } from '../../../shared/ports/evidence-source.ts';
import { AzureApiSource, compactTime, problemOf, segment, type SliceStatus, type SourcePart } from './azure-api-source.ts';
import { publicUrl, type AzureHttp, type AzureRequest } from './azure-http.ts';
import { objectOf, readStream, type PageStream, type PreservedPages } from './azure-pages.ts';

export const M365_SPEC = 'api:m365-audit';
export const M365_CONTENT_TYPES = ['Audit.AzureActiveDirectory', 'Audit.Exchange', 'Audit.SharePoint', 'Audit.General'] as const;
/** Every content type the API knows (DLP.All needs the extra ActivityFeed.ReadDlp permission). */
export const M365_ALL_CONTENT_TYPES: readonly string[] = [...M365_CONTENT_TYPES, 'DLP.All'];
/** How far back the API serves content. */
export const M365_RETENTION_DAYS = 7;
/** Longest span one content listing may cover. */
export const SLICE_MS = 24 * 3_600_000;
/** Margin kept off the 7-day edge, so a slice asked for is not already out of reach when it arrives. */
const EDGE_MARGIN_MS = 10 * 60_000;

export interface ManagementActivityOptions {
  /** e.g. https://manage.office.com */
  readonly m365Url: string;
  /** The tenant (directory) id, part of every URL and key. */
  readonly tenant: string;
  readonly contentTypes: readonly string[];
  readonly since: Date;
  readonly until: Date;
  /** Now, for the 7-day reach. */
  readonly now: Date;
  readonly http: AzureHttp;
  readonly preserved?: PreservedPages;
}

/** Consecutive slices of at most 24 hours covering [since, until], from `since`. */
export function slicesOf(since: Date, until: Date): Array<{ start: Date; end: Date }> {
  const out: Array<{ start: Date; end: Date }> = [];
  for (let t = since.getTime(); t < until.getTime(); t += SLICE_MS) out.push({ start: new Date(t), end: new Date(Math.min(t + SLICE_MS, until.getTime())) });
  return out;
}

/** `2026-03-01T00:00:00`: the time form the API documents (UTC, no zone). */
function apiTime(date: Date): string {
  return date.toISOString().slice(0, 19);
}

/** The Management Activity source; see the top of this file. */
export function managementActivitySource(o: ManagementActivityOptions): AzureApiSource {
  const parts: SourcePart[] = [];
  const source = new AzureApiSource(M365_SPEC, parts);
  for (const contentType of o.contentTypes) {
    parts.push({ origin: `${M365_SPEC}?contentType=${encodeURIComponent(contentType)}`, run: (onProblem) => contentTypeRun(o, contentType, source.slices, onProblem) });
  }
  return source;
}

function feedUrl(o: ManagementActivityOptions, path: string, query: Record<string, string>): string {
  const q = Object.entries({ ...query, PublisherIdentifier: o.tenant }).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  return `${o.m365Url.replace(/\/+$/, '')}/api/v1.0/${encodeURIComponent(o.tenant)}/activity/feed/${path}?${q}`;
}

async function* contentTypeRun(o: ManagementActivityOptions, contentType: string, slices: SliceStatus[], onProblem: (p: SourceProblem) => void): AsyncGenerator<SourceObject, void> {
  const oldest = new Date(o.now.getTime() - M365_RETENTION_DAYS * 86_400_000 + EDGE_MARGIN_MS);
  const status = (start: Date, end: Date, complete: boolean, listingPages: number, blobs: number, reason?: string): void => {
    slices.push({ source: M365_SPEC, contentType, start: start.toISOString(), end: end.toISOString(), complete, listingPages, blobs, ...(reason === undefined ? {} : { reason }) });
  };
  const all = slicesOf(o.since, o.until);
  const reachable = all.filter((s) => s.end.getTime() > oldest.getTime());
  for (const s of all.filter((x) => x.end.getTime() <= oldest.getTime())) {
    status(s.start, s.end, false, 0, 0, `not asked for: the Management Activity API serves only the last ${M365_RETENTION_DAYS} days (from ${oldest.toISOString()}); older audit records must come from a Purview audit search export (Search-UnifiedAuditLog)`);
  }
  if (reachable.length === 0) return;
  // 1. The subscription must be on for content to be listed.
  const start: AzureRequest = { api: 'm365', method: 'POST', url: feedUrl(o, 'subscriptions/start', { contentType }) };
  const startOrigin = `${M365_SPEC}?${new URLSearchParams({ method: 'POST', url: publicUrl(start.url) }).toString()}`;
  try {
    await o.http.send(start, startOrigin);
  } catch (error) {
    if (!(error instanceof AcquisitionError && /AF20024/.test(error.message))) {
      const p = problemOf(error, startOrigin);
      for (const s of reachable) status(s.start, s.end, false, 0, 0, `the ${contentType} subscription could not be started: ${p.reason}`);
      throw error;
    }
  }
  for (const s of reachable) {
    const clipped = s.start.getTime() < oldest.getTime();
    const from = clipped ? oldest : s.start;
    const sliceLabel = `${s.start.toISOString()}/${s.end.toISOString()}`;
    const folder = `m365/management-activity/${segment(o.tenant)}/${contentType}/${compactTime(from)}_${compactTime(s.end)}`;
    const stream: PageStream = {
      spec: M365_SPEC,
      folder,
      label: `the ${contentType} content listing of slice ${sliceLabel}`,
      first: { api: 'm365', method: 'GET', url: feedUrl(o, 'subscriptions/content', { contentType, startTime: apiTime(from), endTime: apiTime(s.end) }) },
      continuation: { kind: 'header', header: 'NextPageUri', apply: (first, _previous, value) => ({ ...first, url: value }) },
      params: { contentType, slice: sliceLabel },
    };
    let listingPages = 0;
    let blobs = 0;
    const damaged: string[] = [];
    try {
      const listing = readStream(stream, o.http, o.preserved);
      const bodies: Buffer[] = [];
      for (;;) {
        const step = await listing.next();
        if (step.done) break;
        if (!step.value.relPath.endsWith('.next.json')) {
          listingPages += 1;
          bodies.push(await bytesOf(step.value));
        }
        yield step.value;
      }
      const stored = new Set(o.preserved ? await o.preserved.list(`${folder}/content/`) : []);
      const seen = new Set<string>();
      for (const [index, body] of bodies.entries()) {
        for (const content of contentsOf(body, index + 1, stream)) {
          const relPath = `${folder}/content/${segment(content.contentId)}.json`;
          if (seen.has(relPath)) continue; // listed twice (a duplicate delivery): the blob is one object
          seen.add(relPath);
          const request: AzureRequest = { api: 'm365', method: 'GET', url: content.contentUri };
          const origin = `${M365_SPEC}?${new URLSearchParams({ method: 'GET', url: publicUrl(content.contentUri), contentType, slice: sliceLabel, contentId: content.contentId, listingPage: String(index + 1) }).toString()}`;
          let bytes: Buffer;
          if (stored.has(relPath)) {
            bytes = await o.preserved!.read(relPath);
          } else {
            if (new URL(content.contentUri, 'http://invalid').origin !== new URL(o.m365Url).origin) {
              throw new AcquisitionError(`listing page ${index + 1} of ${stream.label} names content ${content.contentId} on ${new URL(content.contentUri, 'http://invalid').origin}, not on ${new URL(o.m365Url).origin}: not fetched, so the token is not sent there`, origin, {
                hint: 'the listing page is preserved; if the API moved, point AMBER_M365_URL at it',
              });
            }
            try {
              bytes = (await o.http.send(request, origin)).bytes;
            } catch (error) {
              // One blob that cannot be had must not cost the others of the slice; the slice is incomplete.
              onProblem(problemOf(error, origin));
              damaged.push(`content ${content.contentId} not fetched`);
              continue;
            }
          }
          blobs += 1;
          yield objectOf(origin, relPath, bytes);
          const problem = jsonProblem(bytes);
          if (problem !== undefined) damaged.push(`${relPath} is not JSON (${problem}); preserved as received`);
        }
      }
      const notFetched = damaged.filter((d) => d.endsWith('not fetched'));
      const reasons = [
        ...(clipped ? [`asked from ${oldest.toISOString()} only: the API serves the last ${M365_RETENTION_DAYS} days`] : []),
        ...damaged,
      ];
      status(from, s.end, !clipped && notFetched.length === 0, listingPages, blobs, reasons.length === 0 ? undefined : reasons.join('; '));
    } catch (error) {
      const p = problemOf(error, `${M365_SPEC}?contentType=${encodeURIComponent(contentType)}&slice=${encodeURIComponent(sliceLabel)}`);
      status(from, s.end, false, listingPages, blobs, p.reason);
      onProblem(p);
    }
  }
}

async function bytesOf(object: SourceObject): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await object.open()) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function jsonProblem(bytes: Buffer): string | undefined {
  try {
    JSON.parse(bytes.toString('utf8'));
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** The `{contentId, contentUri}` entries of a listing page (a JSON array, as documented). */
function contentsOf(body: Buffer, page: number, stream: PageStream): Array<{ contentId: string; contentUri: string }> {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch (cause) {
    throw new AcquisitionError(`listing page ${page} of ${stream.label} is not JSON (${(cause as Error).message}): preserved as received, but the content it lists cannot be read from it`, `${stream.spec}?slice=${encodeURIComponent(stream.params?.slice ?? '')}&listingPage=${page}`, {
      hint: 'run the same command again later; if the API keeps sending it damaged, the slice stays incomplete',
      cause,
    });
  }
  if (!Array.isArray(doc)) {
    throw new AcquisitionError(`listing page ${page} of ${stream.label} is not the documented JSON array of content entries`, `${stream.spec}?slice=${encodeURIComponent(stream.params?.slice ?? '')}&listingPage=${page}`, { hint: 'the page is preserved as received; check AMBER_M365_URL points at the Management Activity API' });
  }
  return doc.flatMap((e: unknown) => {
    const c = e as { contentId?: unknown; contentUri?: unknown };
    return typeof c?.contentId === 'string' && typeof c.contentUri === 'string' ? [{ contentId: c.contentId, contentUri: c.contentUri }] : [];
  });
}
