/**
 * Lambda handler `lookup-cloudtrail-events` (contract: ./contracts.ts). CloudTrail event history (LookupEvents)
 * of the request's window in every account and region it names, through the collector role in member accounts:
 * each response page preserved byte for byte under `aws/cloudtrail-api/<account>/<region>/...` (the
 * CloudTrailLookupSource, paced under 2 requests per second per region). It returns the items for record-custody
 * and does not touch the ledger. A call stops after PAGES_PER_CALL pages or before its time runs out and answers
 * `complete: false`; the state machine records what it got and calls again, which resumes after the last page
 * stored (the tokens the stored pages carry), so nothing is fetched or recorded twice.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { CloudTrailLookupSource, preservedPagesIn } from '../adapters/cloudtrail-lookup-source.ts';
import { CollectorConfigs } from '../adapters/collector-config.ts';
import { createS3Client, s3ConfigFromEnv } from '../adapters/s3-client.ts';
import { S3ObjectStore } from '../adapters/s3-object-store.ts';
import { positiveIntVar, readEnv } from '../env.ts';
import { logTask } from '../payloads.ts';
import { actorOf, createLogger, placeOf, retainUntil, withInvocation, type LambdaContext } from '../runtime.ts';
import type { EvidenceItem } from '../../../shared/evidence/model.ts';
import { evidenceKey } from '../../../shared/evidence/names.ts';
import { itemOf } from '../../../shared/preservation/volatile.ts';
import type { LogTaskInput, LookupEventsResult } from './contracts.ts';

/** Pages preserved per call: their items must fit the 256 KiB Step Functions payload beside the request. */
export const PAGES_PER_CALL = 150;
/** Time kept back to return before the Lambda timeout. */
const MARGIN_MS = 60_000;

const env = readEnv('lookup-cloudtrail-events');
const retentionDays = positiveIntVar('RETENTION_DAYS', env.RETENTION_DAYS);
const logger = createLogger('lookup-cloudtrail-events');
const store = new S3ObjectStore({ bucket: env.EVIDENCE_BUCKET, client: createS3Client(s3ConfigFromEnv()) });

export const handler = async (event: LogTaskInput & { lookup?: LookupEventsResult }, context?: LambdaContext): Promise<LookupEventsResult> => {
  const task = logTask(event, 'lookup-cloudtrail-events');
  // The first call of an execution also returns pages an earlier execution stored (record-custody skips what
  // the ledger holds already); later calls return only what they stored.
  const firstCall = event.lookup === undefined;
  return withInvocation(logger, context, { case: task.case, requestId: task.requestId }, async () => {
    const configs = new CollectorConfigs({ collectorRoleName: env.COLLECTOR_ROLE_NAME, externalId: env.COLLECTOR_EXTERNAL_ID, ownAccountId: placeOf(context).accountId, sessionName: 'amber-lookup-events' });
    const actor = actorOf(context);
    const until = retainUntil(retentionDays);
    const items: EvidenceItem[] = [];
    const failures: { origin: string; reason: string }[] = [];
    let stored = 0;
    let complete = true;
    const outOfTime = (): boolean => stored >= PAGES_PER_CALL || (context?.getRemainingTimeInMillis?.() ?? Number.POSITIVE_INFINITY) < MARGIN_MS;
    accounts: for (const account of [...task.accounts].sort()) {
      const known = preservedPagesIn(store, task.case);
      const resumed = new Set<string>();
      const preserved = { list: async (p: string) => (await known.list(p)).map((r) => (resumed.add(r), r)), read: (r: string) => known.read(r) };
      const source = new CloudTrailLookupSource({
        regions: [...task.regions].sort(),
        since: new Date(task.since),
        until: new Date(task.until),
        account,
        preserved,
        clientFor: (region) => new CloudTrailClient(configs.for(account, region)),
      });
      for await (const object of source.list((problem) => failures.push({ origin: `${problem.origin} (account ${account})`, reason: problem.reason }))) {
        const key = evidenceKey(task.case, object.relPath);
        if (resumed.has(object.relPath)) {
          if (firstCall) items.push(itemOf(task.case, object.origin, { key, ...(await hashOf(object)) }, new Date(), actor, 'application/json'));
          continue;
        }
        if (outOfTime()) {
          complete = false;
          break accounts;
        }
        const put = await store.putImmutable(key, await object.open(), { mediaType: 'application/json', retainUntil: until });
        items.push(itemOf(task.case, object.origin, put, new Date(), actor, 'application/json'));
        stored += 1;
      }
    }
    logger.info('event history', { pages: stored, complete, failures: failures.length });
    return { complete, items, failures, pages: stored };
  });
};

/** SHA-256 and size of a page already in the locker (read back, as the ledger would have it). */
async function hashOf(object: { open(): Promise<Readable> }): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of await object.open()) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}
