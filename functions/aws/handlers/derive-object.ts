/**
 * Lambda handler `derive-object` (contract: ./contracts.ts). Derives each newly preserved object of a case into
 * Parquet evidence (shared/sources/derive-object.ts): fed by an SQS queue that receives the evidence bucket's
 * `Object Created` events from EventBridge (every object preserved: the log-preservation map's copies, collect
 * --locker s3://, objects put there by other means), or invoked directly with a copy step's items. A message whose
 * object has no custody record yet (a collect records after it uploads) is returned as a batch item failure, so SQS
 * delivers it again after the visibility timeout and, after the queue's receive limit, to its dead-letter queue. An
 * integrity failure is recorded in the case's ledger and is not retried (the bytes will not change back).
 *
 * DuckDB writes the Parquet: its native bindings (@duckdb/node-api, linux-x64) ship beside the bundle in
 * node_modules (about 70 MB unzipped, within Lambda's 250 MB), as the Azure function ships them; see AmberFunction.
 */
import { createS3Client, s3ConfigFromEnv } from '../adapters/s3-client.ts';
import { S3ObjectStore } from '../adapters/s3-object-store.ts';
import { lazyKmsSigner } from '../adapters/kms-signer.ts';
import { requestOfObjectCreated, type ObjectCreatedEvent } from '../adapters/object-created.ts';
import { readEnv } from '../env.ts';
import { actorOf, createLogger, withInvocation, type LambdaContext } from '../runtime.ts';
import { isAmberError } from '../../../shared/errors.ts';
import { deriveObject } from '../../../shared/sources/derive-object.ts';
import type { DeriveObjectEvent, DeriveObjectOutput, DeriveObjectRequest } from './contracts.ts';

const env = readEnv('derive-object');
const logger = createLogger('derive-object');
const store = new S3ObjectStore({ bucket: env.EVIDENCE_BUCKET, client: createS3Client(s3ConfigFromEnv()) });
const signer = lazyKmsSigner({ keyId: env.SIGNING_KEY_ARN });

export const handler = async (event: DeriveObjectEvent, context?: LambdaContext): Promise<DeriveObjectOutput> =>
  withInvocation(logger, context, {}, async () => {
    const work: { id?: string; request: DeriveObjectRequest }[] = [];
    const results: DeriveObjectOutput['results'][number][] = [];
    if ('Records' in event) {
      for (const record of event.Records) {
        let parsed: ObjectCreatedEvent;
        try {
          parsed = JSON.parse(record.body) as ObjectCreatedEvent;
        } catch {
          logger.warn('message is not JSON; dropped', { messageId: record.messageId });
          continue;
        }
        const { request, ignored } = requestOfObjectCreated(parsed, env.EVIDENCE_BUCKET);
        if (request) work.push({ id: record.messageId, request });
        else logger.info('event ignored', { messageId: record.messageId, reason: ignored });
      }
    } else {
      for (const item of event.items ?? []) work.push({ request: { case: event.case, key: item.key, ...(item.sha256 ? { sha256: item.sha256 } : {}), ...(item.versionId ? { versionId: item.versionId } : {}) } });
    }
    const failures: { itemIdentifier: string }[] = [];
    const key = work.length > 0 ? await signer() : undefined;
    for (const { id, request } of work) {
      try {
        const result = await deriveObject({ store, actor: actorOf(context), ...(key ? { signer: key } : {}) }, request);
        const log = result.status === 'integrity-failure' ? logger.error.bind(logger) : logger.info.bind(logger);
        log('object derived', { case: result.case, key: result.key, status: result.status, source: result.source, files: result.files.length, problems: result.problems.length, entry: result.entry, reason: result.reason });
        results.push({ key: result.key, status: result.status, files: result.files.length, ...(result.reason ? { reason: result.reason } : {}) });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        logger.warn('derivation failed; will be retried', { case: request.case, key: request.key, code: isAmberError(error) ? error.code : undefined, error: message });
        results.push({ key: request.key, status: 'failed', reason: message });
        if (id) failures.push({ itemIdentifier: id });
        else throw error;
      }
    }
    return { batchItemFailures: failures, results };
  });
