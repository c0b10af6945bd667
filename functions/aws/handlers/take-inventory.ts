/**
 * Lambda handler `take-inventory` (contract: ./contracts.ts InventoryRequestInput → InventoryTaken). Takes the
 * inventory of a member account (`amber inventory --cloud aws`, the same source and parser) through the account's
 * collector role, stores every answer write-once in the evidence bucket under the case, and writes the evidence
 * items to a work object that record-custody records (`itemsObject`). Runs on demand (the inventory state machine,
 * started by the `Inventory Requested` event) and as the first step of instance preservation.
 *
 * The inventory's stamp comes from `observedAt` (the execution's start time): a retried attempt resumes the same
 * inventory, reading the answers the first attempt kept instead of asking again.
 */
import { STSClient } from '@aws-sdk/client-sts';
import { AwsInventorySource } from '../adapters/inventory-source.ts';
import { assumedRoleCredentials, collectorRoleArn } from '../adapters/assume-role.ts';
import { partitionOf, sdkClientConfig, type AwsClientConfig } from '../adapters/aws-client.ts';
import { createS3Client, s3ConfigFromEnv } from '../adapters/s3-client.ts';
import { S3ObjectStore } from '../adapters/s3-object-store.ts';
import { positiveIntVar, readEnv } from '../env.ts';
import { inventoryRequest } from '../payloads.ts';
import { actorOf, createLogger, retainUntil, withInvocation, type LambdaContext } from '../runtime.ts';
import type { ObjectStore } from '../../../shared/ports/object-store.ts';
import { fromKeys, inventoryStamps } from '../../../shared/preservation/inventory-resume.ts';
import { preserveInventory, writeInventoryBatch } from '../../../shared/preservation/take-inventory.ts';
import type { InventoryTaken } from './contracts.ts';

export interface TakeInventoryDeps {
  readonly store: ObjectStore;
  readonly collectorRoleName: string;
  readonly externalId: string;
  readonly retentionDays: number;
  /** Base config of the inventory's and STS's clients (tests: endpoints, retries). */
  readonly clientConfig?: AwsClientConfig;
  readonly sts?: STSClient;
}

/** The handler over its dependencies (the module's `handler` wires them from the environment). */
export function takeInventoryHandler(deps: TakeInventoryDeps) {
  const logger = createLogger('take-inventory');
  const sts = deps.sts ?? new STSClient(sdkClientConfig(deps.clientConfig));
  return async (event: unknown, context?: LambdaContext): Promise<InventoryTaken> => {
    const request = inventoryRequest(event, 'take-inventory');
    return withInvocation(logger, context, { case: request.case, requestId: request.requestId }, async () => {
      const home = request.regions[0]!;
      const credentials = assumedRoleCredentials({
        sts,
        roleArn: collectorRoleArn(partitionOf(home), request.accountId, deps.collectorRoleName),
        externalId: deps.externalId,
        sessionName: 'amber-take-inventory',
      });
      const observedAt = request.observedAt ? new Date(request.observedAt) : new Date();
      const probe = new AwsInventorySource({ regions: request.regions, homeRegion: home, account: request.accountId, observedAt });
      // A retry of this request (same stamp): what the first attempt kept is read back, not asked again.
      const [earlier] = await inventoryStamps(deps.store, request.case, request.accountId, probe.stamp);
      const resume = earlier ? await fromKeys(deps.store, request.case, probe.stamp, observedAt, earlier.keys) : undefined;
      const source = new AwsInventorySource({
        regions: request.regions,
        homeRegion: home,
        account: request.accountId,
        observedAt,
        clientConfig: { ...deps.clientConfig, credentials },
        ...(resume ? { preserved: resume.preserved } : {}),
      });
      const batch = await preserveInventory({ store: deps.store, actor: actorOf(context), retainUntil: retainUntil(deps.retentionDays) }, request.case, source);
      const key = await writeInventoryBatch(deps.store, request.case, request.requestId, source.stamp, batch);
      for (const p of source.problems) logger.warn('not read', { ...p });
      logger.info('inventory preserved', { accountId: request.accountId, regions: request.regions, stamp: source.stamp, answers: source.answers, resumed: source.resumed, items: batch.items.length, problems: source.problems.length, itemsObject: key });
      return {
        case: request.case,
        requestId: request.requestId,
        accountId: request.accountId,
        regions: request.regions,
        inventory: {
          prefix: `cases/${request.case}/${source.prefix()}/`,
          stamp: source.stamp,
          answers: source.answers,
          resumed: source.resumed,
          items: batch.items.length,
          problems: batch.failures.length,
          itemsObject: { key },
        },
      };
    });
  };
}

const env = readEnv('take-inventory');

export const handler = takeInventoryHandler({
  store: new S3ObjectStore({ bucket: env.EVIDENCE_BUCKET, client: createS3Client(s3ConfigFromEnv()) }),
  collectorRoleName: env.COLLECTOR_ROLE_NAME,
  externalId: env.COLLECTOR_EXTERNAL_ID,
  retentionDays: positiveIntVar('RETENTION_DAYS', env.RETENTION_DAYS),
});
