/**
 * Lambda handler `capture-volatile` (contract: ./contracts.ts). The volatile triage of one instance through SSM
 * Run Command, before its disks are snapshotted: processes with their command lines and executables' hashes,
 * connections, users, scheduled jobs, shell histories, kernel modules. The instance writes the output to the
 * evidence bucket's staging prefix; this function stores it into the case (hashed by Amber) and returns the items
 * for record-custody. An instance without a reachable agent is an outcome (`no-agent`), not an error.
 */
import { SSMClient } from '@aws-sdk/client-ssm';
import { CollectorConfigs } from '../adapters/collector-config.ts';
import { managedInstance, notSent, resultOf, SSM_STAGING_PREFIX, stagedOutputs, waitBudgetMs } from '../adapters/remote-capture-task.ts';
import { createS3Client, s3ConfigFromEnv } from '../adapters/s3-client.ts';
import { S3ObjectStore } from '../adapters/s3-object-store.ts';
import { SsmRemoteCommand } from '../adapters/ssm-remote-command.ts';
import { positiveIntVar, readEnv } from '../env.ts';
import { instanceTask } from '../payloads.ts';
import { actorOf, createLogger, placeOf, retainUntil, withInvocation, type LambdaContext } from '../runtime.ts';
import { runVolatile } from '../../../shared/preservation/volatile.ts';
import type { RemoteCaptureInput, RemoteCaptureResult } from './contracts.ts';

const env = readEnv('capture-volatile');
const retentionDays = positiveIntVar('RETENTION_DAYS', env.RETENTION_DAYS);
const logger = createLogger('capture-volatile');
const s3 = createS3Client(s3ConfigFromEnv());
const store = new S3ObjectStore({ bucket: env.EVIDENCE_BUCKET, client: s3 });

export const handler = async (event: RemoteCaptureInput, context?: LambdaContext): Promise<RemoteCaptureResult> => {
  const task = instanceTask<RemoteCaptureInput>(event, 'capture-volatile');
  return withInvocation(logger, context, { case: task.case, requestId: task.requestId }, async () => {
    const configs = new CollectorConfigs({ collectorRoleName: env.COLLECTOR_ROLE_NAME, externalId: env.COLLECTOR_EXTERNAL_ID, ownAccountId: placeOf(context).accountId, sessionName: 'amber-capture-volatile' });
    const where = CollectorConfigs.where(task.accountId, task.region);
    const ssm = new SSMClient(configs.for(task.accountId, task.region));
    const managed = await managedInstance(ssm, task.instanceId, where);
    if ('reason' in managed) {
      logger.warn('volatile triage not sent', { instanceId: task.instanceId, reason: managed.reason });
      return notSent(task.instanceId, managed.reason, managed.message);
    }
    const run = await runVolatile(
      {
        runner: new SsmRemoteCommand({ client: ssm, where }),
        store,
        openOutput: stagedOutputs(s3),
        outputBucket: env.EVIDENCE_BUCKET,
        outputPrefix: SSM_STAGING_PREFIX,
        actor: actorOf(context),
        retainUntil: retainUntil(retentionDays),
        waitMs: waitBudgetMs(context?.getRemainingTimeInMillis?.(), 10 * 60_000),
      },
      { case: task.case, requestId: task.requestId, instances: [{ instanceId: task.instanceId, platform: managed.platform }] },
    );
    const outcome = run.instances[0]!;
    logger.info('volatile triage', { instanceId: task.instanceId, outcome: outcome.outcome, reason: outcome.reason, items: outcome.items.length });
    return resultOf(outcome, managed.platform, run.batches);
  });
};
