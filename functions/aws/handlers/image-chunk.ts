/**
 * Lambda handler `image-chunk` (contract: ./contracts.ts). One child of the disk-image Distributed Map: lists
 * the snapshot from the chunk's first block, reads its blocks (each checked against the checksum EBS sent,
 * unlisted blocks as zeros) and stores the chunk write-once into the case, hashed as it is stored. It returns
 * the chunk's evidence item in copy-log-objects' shape (the ResultWriter keeps it for record-custody) and does
 * not touch the ledger.
 */
import { CollectorConfigs } from '../adapters/collector-config.ts';
import { EbsSnapshotBlocks } from '../adapters/ebs-snapshot-blocks.ts';
import { ebsClientFor } from '../adapters/image-task.ts';
import { createS3Client, s3ConfigFromEnv } from '../adapters/s3-client.ts';
import { S3ObjectStore } from '../adapters/s3-object-store.ts';
import { positiveIntVar, readEnv } from '../env.ts';
import { imageTask } from '../payloads.ts';
import { actorOf, createLogger, placeOf, retainUntil, withInvocation, type LambdaContext } from '../runtime.ts';
import { InvalidInputError } from '../../../shared/errors.ts';
import { storeImageChunk } from '../../../shared/imaging/snapshot-image.ts';
import type { CopyBatchOutput, ImageChunkInput } from './contracts.ts';

const env = readEnv('image-chunk');
const retentionDays = positiveIntVar('RETENTION_DAYS', env.RETENTION_DAYS);
const logger = createLogger('image-chunk');
const store = new S3ObjectStore({ bucket: env.EVIDENCE_BUCKET, client: createS3Client(s3ConfigFromEnv()) });

export const handler = async (event: ImageChunkInput, context?: LambdaContext): Promise<CopyBatchOutput> => {
  const task = imageTask<ImageChunkInput>(event, 'image-chunk');
  const c = task.chunk;
  if (!c || ![c.index, c.firstBlock, c.lastBlock, c.blocksWithData, task.volumeBytes, task.blockBytes].every((n) => Number.isSafeInteger(n) && n >= 0) || c.lastBlock < c.firstBlock || typeof c.relPath !== 'string' || typeof c.origin !== 'string') {
    throw new InvalidInputError(`invalid image-chunk payload: chunk ${JSON.stringify(c)?.slice(0, 200)}`, { hint: 'the map\'s ItemSelector passes one plan-image item as `chunk`, with volumeBytes and blockBytes' });
  }
  return withInvocation(logger, context, { case: task.case, requestId: task.requestId }, async () => {
    const configs = new CollectorConfigs({ collectorRoleName: env.COLLECTOR_ROLE_NAME, externalId: env.COLLECTOR_EXTERNAL_ID, ownAccountId: placeOf(context).accountId, sessionName: 'amber-image-chunk' });
    const blocks = new EbsSnapshotBlocks({ snapshotId: task.snapshotId, client: ebsClientFor(configs, task), startingBlockIndex: c.firstBlock });
    const item = await storeImageChunk({ blocks, store, caseName: task.case, plan: task, chunk: c, actor: actorOf(context), retainUntil: retainUntil(retentionDays) });
    logger.info('chunk stored', { snapshotId: task.snapshotId, chunk: c.index, sha256: item.sha256, size: item.size });
    return { case: task.case, requestId: task.requestId, items: [item], failures: [], alreadyPreserved: 0 };
  });
};
