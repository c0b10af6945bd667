/**
 * Lambda handler `record-custody` (contract: ./contracts.ts). The single writer of a case's custody ledger
 * in S3: it appends what a step did (its evidence items, failures and facts), or, given a Distributed Map's
 * ResultWriter manifest, every batch's copied items in a stable order and then seals a manifest. Each entry
 * carries an idempotency key, so a retried step records nothing twice; appends are compare-and-swap, so
 * concurrent executions of one case cannot drop each other's entries. Seals and checkpoints are signed with
 * the KMS key SIGNING_KEY_ARN names (a case not keyed yet records that key's public key in its first entry).
 * After every invocation the case's ledger head is anchored, signed with the same key, as a write-once object in
 * the anchor bucket (ANCHOR_BUCKET, Object Lock), so `amber verify --anchor s3://<bucket>` catches a case later
 * rolled back or rewritten in the evidence bucket. A retry anchors the head again (one more object, same head).
 */
import { lazyKmsSigner } from '../adapters/kms-signer.ts';
import { createS3Client, s3ConfigFromEnv } from '../adapters/s3-client.ts';
import { S3ObjectStore } from '../adapters/s3-object-store.ts';
import { readMapResults } from '../adapters/map-results.ts';
import { readEnv } from '../env.ts';
import { custodyInput } from '../payloads.ts';
import { actorOf, createLogger, withInvocation, type LambdaContext } from '../runtime.ts';
import { recordCustody, type CustodyBatch } from '../../../shared/preservation/custody.ts';
import { readInventoryBatch } from '../../../shared/preservation/take-inventory.ts';
import { createAnchor, putAnchor } from '../../../shared/evidence/anchor.ts';
import type { CustodyInput, CustodyOutput } from './contracts.ts';

const env = readEnv('record-custody');
const logger = createLogger('record-custody');
const client = createS3Client(s3ConfigFromEnv());
const store = new S3ObjectStore({ bucket: env.EVIDENCE_BUCKET, client });
const anchors = new S3ObjectStore({ bucket: env.ANCHOR_BUCKET, client });
const signer = lazyKmsSigner({ keyId: env.SIGNING_KEY_ARN });

export const handler = async (event: CustodyInput, context?: LambdaContext): Promise<CustodyOutput> => {
  const input = custodyInput(event, 'record-custody');
  return withInvocation(logger, context, { case: input.case, requestId: input.requestId }, async () => {
    const batches: CustodyBatch[] = [];
    let mapSummary: Record<string, unknown> = {};
    if (input.resultWriterDetails) {
      const results = await readMapResults(client, input.resultWriterDetails);
      mapSummary = { succeeded: results.succeeded, failed: results.failed, pending: results.pending, mapResults: `s3://${input.resultWriterDetails.Bucket}/${input.resultWriterDetails.Key}` };
      // Each batch's entry holds only what the batch is (its idempotency key hashes it); the step's detail and
      // which Map run was read go once into the seal's entry, not into every batch's.
      batches.push(...results.batches);
      if (input.failures && input.failures.length > 0) batches.push({ failures: input.failures, detail: { ...input.detail } });
    } else if (input.itemsObject) {
      // A step's items too many for a payload (take-inventory): read from its work object, 100 to an entry.
      const read = await readInventoryBatch(store, input.itemsObject.key);
      const detail = { ...input.detail, itemsObject: input.itemsObject.key };
      batches.push(...(read.length > 0 ? [{ ...read[0], detail }, ...read.slice(1)] : [{ detail }]));
    } else {
      batches.push({
        ...(input.items ? { items: input.items } : {}),
        ...(input.failures ? { failures: input.failures } : {}),
        ...(input.detail ? { detail: input.detail } : {}),
      });
    }
    const action = input.action ?? (input.resultWriterDetails ? 'copied' : (input.items && input.items.length > 0) || input.itemsObject ? 'acquired' : 'accessed');
    const actor = actorOf(context);
    const key = await signer();
    const recorded = await recordCustody(
      { store, actor, signer: key },
      { case: input.case, requestId: input.requestId, step: input.step, action, batches, seal: input.seal ?? input.resultWriterDetails !== undefined, sealDetail: { ...input.detail, ...mapSummary } },
    );
    // The head as recorded, anchored outside the evidence bucket; a failure here fails the step (and its retry
    // records nothing twice, then anchors again), so no head goes unanchored silently.
    const anchor = await createAnchor({ caseName: recorded.case, head: recorded.ledgerHead, signer: key, actor, at: new Date() });
    const put = await putAnchor(anchors, anchor);
    logger.info('custody recorded', { step: input.step, action, ...mapSummary, appended: recorded.appended, alreadyRecorded: recorded.alreadyRecorded, items: recorded.items, failures: recorded.failures, sealed: recorded.sealed?.key, attempts: recorded.attempts, anchored: put.key });
    return {
      case: recorded.case,
      requestId: input.requestId,
      step: input.step,
      appended: recorded.appended,
      alreadyRecorded: recorded.alreadyRecorded,
      items: recorded.items,
      failures: recorded.failures,
      ...(recorded.sealed ? { sealed: recorded.sealed } : {}),
      ledgerHead: recorded.ledgerHead,
      anchored: { bucket: env.ANCHOR_BUCKET, key: put.key },
    };
  });
};
