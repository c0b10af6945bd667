/**
 * Reads what a Step Functions Distributed Map wrote with its ResultWriter: the manifest
 * (`ResultFiles: { SUCCEEDED, FAILED, PENDING }`) and each result file (a JSON array of child executions
 * with their `Input` and `Output` as JSON text). copy-log-objects batches become custody batches in a stable
 * order; batches that failed or never ran become failures naming every object they held, so nothing a listing
 * named is left out of the manifest silently.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { InvalidInputError } from '../../../shared/errors.ts';
import type { EvidenceItem } from '../../../shared/evidence/model.ts';
import type { CustodyBatch } from '../../../shared/preservation/custody.ts';
import { toStoreError } from './s3-errors.ts';

/** Where a Map run's ResultWriter put its manifest (the state's `ResultWriterDetails`). */
export interface ResultWriterDetails {
  readonly Bucket: string;
  readonly Key: string;
}

interface ResultEntry {
  readonly Input?: string;
  readonly Output?: string;
  readonly Status?: string;
  readonly Error?: string;
  readonly Cause?: string;
}

/** The Map run's results as custody batches: copied items (one batch per child), then failures. */
export interface MapResults {
  readonly batches: readonly CustodyBatch[];
  readonly succeeded: number;
  readonly failed: number;
  readonly pending: number;
}

/** Reads the manifest and every result file of a Distributed Map run. */
export async function readMapResults(client: S3Client, details: ResultWriterDetails): Promise<MapResults> {
  const manifest = parseJson(await readObject(client, details.Bucket, details.Key), `s3://${details.Bucket}/${details.Key}`) as {
    DestinationBucket?: string;
    ResultFiles?: Record<string, { Key?: string }[] | undefined>;
  };
  if (!manifest || typeof manifest !== 'object' || typeof manifest.ResultFiles !== 'object') {
    throw new InvalidInputError(`s3://${details.Bucket}/${details.Key} is not a Distributed Map result manifest (no ResultFiles)`, {
      hint: 'pass the Map state\'s ResultWriterDetails (Bucket and Key of manifest.json) as resultWriterDetails',
    });
  }
  const bucket = manifest.DestinationBucket ?? details.Bucket;
  const read = async (status: string): Promise<ResultEntry[]> => {
    const out: ResultEntry[] = [];
    for (const file of manifest.ResultFiles?.[status] ?? []) {
      if (!file.Key) continue;
      const entries = parseJson(await readObject(client, bucket, file.Key), `s3://${bucket}/${file.Key}`);
      if (Array.isArray(entries)) out.push(...(entries as ResultEntry[]));
    }
    return out;
  };
  const [succeeded, failed, pending] = [await read('SUCCEEDED'), await read('FAILED'), await read('PENDING')];

  const copied: CustodyBatch[] = succeeded.map((entry, i) => copiedBatch(entry, `result ${i + 1}`)).filter((b) => (b.items?.length ?? 0) + (b.failures?.length ?? 0) > 0);
  copied.sort((a, b) => firstKey(a).localeCompare(firstKey(b)));
  const notCopied: CustodyBatch[] = [...failed, ...pending].map((entry) => {
    const origins = inputOrigins(entry);
    const reason = entry.Status === 'FAILED' || entry.Error ? `the batch failed after its retries: ${entry.Error ?? 'error'}: ${(entry.Cause ?? '').slice(0, 500)}` : 'the batch never ran (the map run stopped first)';
    return { failures: origins.map((origin) => ({ origin, reason })), detail: { batch: entry.Status ?? 'unknown' } };
  });
  notCopied.sort((a, b) => (a.failures?.[0]?.origin ?? '').localeCompare(b.failures?.[0]?.origin ?? ''));
  return { batches: [...copied, ...notCopied], succeeded: succeeded.length, failed: failed.length, pending: pending.length };
}

function copiedBatch(entry: ResultEntry, where: string): CustodyBatch {
  let output = parseJson(entry.Output ?? 'null', `the Output of ${where}`) as Record<string, unknown> | null;
  // The Lambda task's raw result wraps the function's answer in Payload unless the state selected it.
  if (output && typeof output === 'object' && 'Payload' in output && typeof output.Payload === 'object') output = output.Payload as Record<string, unknown>;
  const items = output?.items;
  if (!Array.isArray(items) || !items.every(isItem)) {
    throw new InvalidInputError(`${where} of the map run is not a copy-log-objects result (no items list of evidence items)`, {
      hint: 'the Map\'s item processor must return copy-log-objects\' answer (select $.Payload of the Lambda task)',
    });
  }
  const failures = Array.isArray(output?.failures) ? (output.failures as { origin: string; reason: string }[]).map(({ origin, reason }) => ({ origin, reason })) : [];
  return { items: items as EvidenceItem[], failures };
}

function isItem(x: unknown): boolean {
  const i = x as Partial<EvidenceItem>;
  return typeof i === 'object' && i !== null && typeof i.key === 'string' && typeof i.sha256 === 'string' && /^[0-9a-f]{64}$/.test(i.sha256) && typeof i.case === 'string';
}

function inputOrigins(entry: ResultEntry): string[] {
  try {
    const input = JSON.parse(entry.Input ?? '{}') as { Items?: { bucket?: string; key?: string }[]; chunk?: { origin?: unknown } };
    // A disk-image chunk (ItemSelector, one item per child) names the request that reads it.
    if (typeof input.chunk?.origin === 'string') return [input.chunk.origin];
    return (input.Items ?? []).map((r) => `s3://${r.bucket ?? '?'}/${r.key ?? '?'}`);
  } catch {
    return ['(the failed batch\'s input could not be read)'];
  }
}

function firstKey(b: CustodyBatch): string {
  return b.items?.[0]?.key ?? b.failures?.[0]?.origin ?? '';
}

async function readObject(client: S3Client, bucket: string, key: string): Promise<string> {
  try {
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return (await out.Body?.transformToString('utf8')) ?? '';
  } catch (err) {
    throw toStoreError(err, 'read', `s3://${bucket}/${key}`);
  }
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new InvalidInputError(`${where} is not JSON`, { cause, hint: 'point resultWriterDetails at the manifest.json a Distributed Map ResultWriter wrote' });
  }
}
