/**
 * Lambda handler `assemble-image` (contract: ./contracts.ts). After the map: reads every chunk of the plan back
 * from the evidence bucket in order, checks each against the SHA-256 the custody ledger recorded, computes the
 * whole raw image's SHA-256 in the same pass and stores `aws/ebs/<snapshot>/image.json` (the layout `amber image`
 * writes). Missing or damaged chunks are answered as failures with `complete: false`, image.json is not written,
 * and the same request run again stores only what is missing. It reads the whole image once: at about 100 MB/s
 * an image of up to roughly 80 GiB fits the function's 15 minutes.
 */
import { createS3Client, s3ConfigFromEnv } from '../adapters/s3-client.ts';
import { S3ObjectStore } from '../adapters/s3-object-store.ts';
import { planKeyOf } from '../adapters/image-task.ts';
import { positiveIntVar, readEnv } from '../env.ts';
import { imageTask } from '../payloads.ts';
import { actorOf, createLogger, retainUntil, withInvocation, type LambdaContext } from '../runtime.ts';
import { CustodyLedger } from '../../../shared/evidence/ledger.ts';
import { evidenceKey } from '../../../shared/evidence/names.ts';
import { assembleImage, imageRecordBytes, type ImagePlan } from '../../../shared/imaging/snapshot-image.ts';
import { itemOf } from '../../../shared/preservation/volatile.ts';
import { InvalidInputError } from '../../../shared/errors.ts';
import type { AssembledImageOutput, ImageTaskInput } from './contracts.ts';

const env = readEnv('assemble-image');
const retentionDays = positiveIntVar('RETENTION_DAYS', env.RETENTION_DAYS);
const logger = createLogger('assemble-image');
const store = new S3ObjectStore({ bucket: env.EVIDENCE_BUCKET, client: createS3Client(s3ConfigFromEnv()) });

export const handler = async (event: ImageTaskInput, context?: LambdaContext): Promise<AssembledImageOutput> => {
  const task = imageTask<ImageTaskInput>(event, 'assemble-image');
  return withInvocation(logger, context, { case: task.case, requestId: task.requestId }, async () => {
    const planText = await store.readText(`${planKeyOf(task)}.json`);
    if (planText === undefined) throw new InvalidInputError(`no image plan for ${task.snapshotId} in case ${task.case} (request ${task.requestId})`, { hint: 'plan-image runs first in the same execution' });
    const plan = JSON.parse(planText) as ImagePlan;
    const recorded = (await CustodyLedger.open(store, task.case)).items();
    const assembled = await assembleImage({ store, caseName: task.case, plan, recorded: (key) => recorded.get(key) });
    if (!assembled.record) {
      const failures = [
        ...assembled.missing.map((key) => ({ origin: plan.chunks.find((c) => evidenceKey(task.case, c.relPath) === key)?.origin ?? key, reason: `chunk ${key} is not in the custody ledger: its task failed or did not run; run the image again to store it` })),
        ...assembled.damaged.map((d) => ({ origin: d.key, reason: d.reason })),
      ];
      logger.warn('image incomplete', { snapshotId: task.snapshotId, missing: assembled.missing.length, damaged: assembled.damaged.length });
      return { complete: false, items: [], failures };
    }
    const put = await store.putImmutable(evidenceKey(task.case, `aws/ebs/${task.snapshotId}/image.json`), imageRecordBytes(assembled.record), { mediaType: 'application/json', retainUntil: retainUntil(retentionDays) });
    const origin = `api:aws-ebs?${new URLSearchParams({ SnapshotId: task.snapshotId }).toString()}`;
    logger.info('image assembled', { snapshotId: task.snapshotId, sha256: assembled.record.sha256, chunks: plan.chunks.length });
    return { complete: true, items: [itemOf(task.case, origin, put, new Date(), actorOf(context), 'application/json')], failures: [], sha256: assembled.record.sha256 };
  });
};
