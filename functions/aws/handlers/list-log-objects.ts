/**
 * Lambda handler `list-log-objects` (contract: ./contracts.ts). Lists the CloudTrail log and digest files of
 * the window (per account, region and day) in the trail bucket and writes the list, a JSON array of
 * {bucket, key}, to the evidence bucket for the Distributed Map's ItemReader. The list's key carries its
 * hash: a retry that lists the same objects writes nothing new.
 */
import { createS3Client, s3ConfigFromEnv } from '../adapters/s3-client.ts';
import { S3ObjectStore } from '../adapters/s3-object-store.ts';
import { S3EvidenceSource } from '../adapters/s3-source.ts';
import { readEnv } from '../env.ts';
import { logTask } from '../payloads.ts';
import { createLogger, withInvocation, type LambdaContext } from '../runtime.ts';
import { listLogObjects } from '../../../shared/preservation/preserve-logs.ts';
import type { LogListing, LogTaskInput } from './contracts.ts';

const env = readEnv('list-log-objects');
const logger = createLogger('list-log-objects');
const client = createS3Client(s3ConfigFromEnv());
const store = new S3ObjectStore({ bucket: env.EVIDENCE_BUCKET, client });
const trail = { bucket: env.TRAIL_BUCKET, prefix: env.TRAIL_PREFIX, organizationId: env.ORGANIZATION_ID };

export const handler = async (event: LogTaskInput, context?: LambdaContext): Promise<LogListing> => {
  const task = logTask(event, 'list-log-objects');
  return withInvocation(logger, context, { case: task.case, requestId: task.requestId }, async () => {
    const listed = await listLogObjects({ store, trail, sourceFor: (uri) => new S3EvidenceSource({ uri, client }) }, task);
    logger.info('log objects listed', { count: listed.count, itemsKey: listed.itemsKey, skipped: listed.skipped.length });
    for (const s of listed.skipped) logger.warn('log object cannot be preserved under its key', { origin: s.origin, reason: s.reason });
    return { ...task, itemsBucket: env.EVIDENCE_BUCKET, itemsKey: listed.itemsKey, count: listed.count, skipped: listed.skipped };
  });
};
