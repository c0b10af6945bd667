/**
 * Which preserved objects an S3 `Object Created` event (EventBridge, delivered through SQS) names. Only a case's
 * own objects are derived: keys under `cases/<case>/`, never Amber's records (`cases/<case>/_amber/...`, the
 * custody ledger) nor anything outside a case, so the derived Parquet the function writes never triggers it again.
 * The EventBridge rule already leaves those keys out; this is the second fence, for events sent by other means.
 */
import { validateCaseName } from '../../../shared/evidence/names.ts';
import type { DeriveObjectRequest } from '../handlers/contracts.ts';

/** The EventBridge event S3 sends for a new object (detail-type `Object Created`), the fields read here. */
export interface ObjectCreatedEvent {
  readonly source?: string;
  readonly 'detail-type'?: string;
  readonly detail?: { readonly bucket?: { readonly name?: string }; readonly object?: { readonly key?: string; readonly 'version-id'?: string } };
}

/** Keys Amber writes itself inside a case (never derived). */
export const AMBER_OWN_KEYS: readonly string[] = ['cases/*/_amber/*', 'cases/*/custody-ledger.jsonl'];

/** The request an event makes, or why it makes none (another bucket, not a case's object, Amber's own record). */
export function requestOfObjectCreated(event: ObjectCreatedEvent, bucket: string): { request?: DeriveObjectRequest; ignored?: string } {
  if (event.source !== 'aws.s3' || event['detail-type'] !== 'Object Created') return { ignored: `not an S3 Object Created event (${String(event.source)} / ${String(event['detail-type'])})` };
  if (event.detail?.bucket?.name !== bucket) return { ignored: `an object of bucket ${String(event.detail?.bucket?.name)}, not the evidence bucket ${bucket}` };
  // S3 event keys are URL-encoded, spaces as '+'.
  const raw = event.detail.object?.key;
  if (typeof raw !== 'string') return { ignored: 'the event names no object key' };
  const key = decodeURIComponent(raw.replace(/\+/g, ' '));
  const m = /^cases\/([^/]+)\/(.+)$/.exec(key);
  if (!m) return { ignored: `${key} is outside any case` };
  if (m[2]!.startsWith('_amber/') || m[2] === 'custody-ledger.jsonl') return { ignored: `${key} is one of Amber's own records` };
  let caseName: string;
  try {
    caseName = validateCaseName(m[1]!);
  } catch {
    return { ignored: `${key}: ${JSON.stringify(m[1])} is not a case name` };
  }
  const versionId = event.detail.object?.['version-id'];
  return { request: { case: caseName, key, ...(versionId ? { versionId } : {}) } };
}
