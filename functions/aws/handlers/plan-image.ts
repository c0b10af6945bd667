/**
 * Lambda handler `plan-image` (contract: ./contracts.ts). Lists the snapshot's blocks once (EBS
 * ListSnapshotBlocks) and splits the raw image into chunks, each with its block range and how many of its
 * blocks hold data. It writes the plan and, as the Distributed Map's items, the chunks the case's custody ledger
 * does not record yet: running the same request again resumes, storing only what is missing.
 */
import { CollectorConfigs } from '../adapters/collector-config.ts';
import { EbsSnapshotBlocks } from '../adapters/ebs-snapshot-blocks.ts';
import { chunkBlocksOf, ebsClientFor, planKeyOf } from '../adapters/image-task.ts';
import { createS3Client, s3ConfigFromEnv } from '../adapters/s3-client.ts';
import { S3ObjectStore } from '../adapters/s3-object-store.ts';
import { readEnv } from '../env.ts';
import { imageTask } from '../payloads.ts';
import { createLogger, placeOf, withInvocation, type LambdaContext } from '../runtime.ts';
import { CustodyLedger } from '../../../shared/evidence/ledger.ts';
import { sha256Hex } from '../../../shared/evidence/hashing.ts';
import { evidenceKey } from '../../../shared/evidence/names.ts';
import { planImage } from '../../../shared/imaging/snapshot-image.ts';
import type { ImagePlanOutput, ImageTaskInput } from './contracts.ts';

const env = readEnv('plan-image');
const logger = createLogger('plan-image');
const store = new S3ObjectStore({ bucket: env.EVIDENCE_BUCKET, client: createS3Client(s3ConfigFromEnv()) });

export const handler = async (event: ImageTaskInput, context?: LambdaContext): Promise<ImagePlanOutput> => {
  const task = imageTask<ImageTaskInput>(event, 'plan-image');
  return withInvocation(logger, context, { case: task.case, requestId: task.requestId }, async () => {
    const configs = new CollectorConfigs({ collectorRoleName: env.COLLECTOR_ROLE_NAME, externalId: env.COLLECTOR_EXTERNAL_ID, ownAccountId: placeOf(context).accountId, sessionName: 'amber-plan-image' });
    const blocks = new EbsSnapshotBlocks({ snapshotId: task.snapshotId, client: ebsClientFor(configs, task) });
    const plan = await planImage(blocks, chunkBlocksOf(task));
    const recorded = (await CustodyLedger.open(store, task.case)).items();
    const todo = plan.chunks.filter((c) => !recorded.has(evidenceKey(task.case, c.relPath)));
    const base = planKeyOf(task);
    // Keyed by the request and its chunk size: a retry writes the same bytes, which the write-once bucket accepts.
    await store.putImmutable(`${base}.json`, Buffer.from(`${JSON.stringify(plan)}\n`), { mediaType: 'application/json' });
    // The items differ between a first run and a resumed one: their key names their content.
    const items = Buffer.from(`${JSON.stringify(todo)}\n`);
    const itemsKey = `${base}-items-${sha256Hex(items).slice(0, 16)}.json`;
    await store.putImmutable(itemsKey, items, { mediaType: 'application/json' });
    logger.info('image planned', { snapshotId: task.snapshotId, chunks: plan.chunks.length, toStore: todo.length, blocksWithData: plan.chunks.reduce((n, c) => n + c.blocksWithData, 0) });
    return { planKey: `${base}.json`, itemsBucket: env.EVIDENCE_BUCKET, itemsKey, volumeBytes: plan.volumeBytes, blockBytes: plan.blockBytes, chunks: plan.chunks.length, count: todo.length };
  });
};
