/**
 * Which log source an object is, from its first bytes: CloudTrail (any shape, digests included) or one of
 * the registered sources. Used by `collect` to record each item's source as it is preserved, and by the
 * case loader when an item has none recorded.
 */
import { sniffCloudTrail } from './cloudtrail/index.ts';
import { decodeUtf8, inflateHead, isGzip } from './cloudtrail/bytes.ts';
import type { LogSource } from './log-source.ts';
import { detectSource, LOG_SOURCES } from './registry.ts';

/** How many leading bytes recognition looks at (gzip: compressed bytes, inflated up to four times that). */
export const RECOGNITION_BYTES = 64 * 1024;

/** The first bytes as text, gunzipped when compressed. */
export function headText(head: Uint8Array): string {
  const raw = isGzip(head) ? inflateHead(head, head.length, RECOGNITION_BYTES * 4) : head;
  return decodeUtf8(raw).text;
}

/** The source id of an object (`cloudtrail`, `vpcflow`, ...), or undefined when nothing claims it. */
export function recogniseSource(head: Uint8Array, key: string, sources: readonly LogSource[] = LOG_SOURCES): string | undefined {
  if (sniffCloudTrail(head, key).shape) return 'cloudtrail';
  return detectSource(headText(head), key, sources).source?.id;
}
