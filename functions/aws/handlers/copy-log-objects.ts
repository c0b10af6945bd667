/**
 * Lambda handler `copy-log-objects` (contract: ./contracts.ts). One Distributed Map batch: each object copied
 * server-side into `cases/<case>/<source key>` with a SHA-256 checksum and hashed by Amber. It returns the
 * evidence items and does not touch the ledger (parallel batches would race on it; record-custody appends them).
 * Copies are write-once, so a retried batch finds them (same bytes: created false) and returns the same items.
 */
import { createS3Client, s3ConfigFromEnv } from '../adapters/s3-client.ts';
import { S3ObjectStore } from '../adapters/s3-object-store.ts';
import { positiveIntVar, readEnv } from '../env.ts';
import { copyBatch } from '../payloads.ts';
import { actorOf, createLogger, retainUntil, withInvocation, type LambdaContext } from '../runtime.ts';
import { copyLogObjects } from '../../../shared/preservation/preserve-logs.ts';
import type { CopyBatchInput, CopyBatchOutput } from './contracts.ts';

const env = readEnv('copy-log-objects');
const retentionDays = positiveIntVar('RETENTION_DAYS', env.RETENTION_DAYS);
const logger = createLogger('copy-log-objects');
const store = new S3ObjectStore({ bucket: env.EVIDENCE_BUCKET, client: createS3Client(s3ConfigFromEnv()) });

export const handler = async (event: CopyBatchInput, context?: LambdaContext): Promise<CopyBatchOutput> => {
  const batch = copyBatch(event, 'copy-log-objects');
  const { case: caseName, requestId } = batch.BatchInput;
  return withInvocation(logger, context, { case: caseName, requestId }, async () => {
    const copied = await copyLogObjects({ store, actor: actorOf(context), retainUntil: retainUntil(retentionDays) }, { case: caseName, requestId, items: batch.Items });
    logger.info('batch copied', { objects: batch.Items.length, items: copied.items.length, alreadyPreserved: copied.alreadyPreserved, failures: copied.failures.length });
    for (const f of copied.failures) logger.warn('object not preserved', { origin: f.origin, reason: f.reason, code: f.code });
    return { case: caseName, requestId, items: copied.items, failures: copied.failures, alreadyPreserved: copied.alreadyPreserved };
  });
};
