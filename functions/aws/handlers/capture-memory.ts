/**
 * Lambda handler `capture-memory` (contract: ./contracts.ts). A memory image of one instance through SSM Run
 * Command: AVML on Linux, WinPmem on Windows, each fetched from the tools bucket and run only with the SHA-256
 * pinned in the deployment (AVML_* / WINPMEM_*; empty: that platform is refused as `no-tool`). The instance
 * streams the image to the evidence bucket's staging prefix and hashes it; this function stores it into the
 * case, hashing it again, and compares (a mismatch: `integrity-mismatch`, the bytes kept as they arrived). It
 * waits for the command within its own timeout; a command still running then is recorded `still-running`, with
 * where its image will land.
 */
import { SSMClient } from '@aws-sdk/client-ssm';
import { CollectorConfigs } from '../adapters/collector-config.ts';
import { managedInstance, notSent, resultOf, SSM_STAGING_PREFIX, stagedOutputs, waitBudgetMs } from '../adapters/remote-capture-task.ts';
import { parseS3Uri } from '../adapters/s3-source.ts';
import { createS3Client, s3ConfigFromEnv } from '../adapters/s3-client.ts';
import { S3ObjectStore } from '../adapters/s3-object-store.ts';
import { SsmRemoteCommand } from '../adapters/ssm-remote-command.ts';
import { positiveIntVar, readEnv } from '../env.ts';
import { instanceTask } from '../payloads.ts';
import { actorOf, createLogger, placeOf, retainUntil, withInvocation, type LambdaContext } from '../runtime.ts';
import { checkPinnedTool, runMemory, type PinnedTool } from '../../../shared/preservation/memory.ts';
import type { RemoteCaptureInput, RemoteCaptureResult } from './contracts.ts';

const env = readEnv('capture-memory');
const retentionDays = positiveIntVar('RETENTION_DAYS', env.RETENTION_DAYS);
const logger = createLogger('capture-memory');
const s3 = createS3Client(s3ConfigFromEnv());
const store = new S3ObjectStore({ bucket: env.EVIDENCE_BUCKET, client: s3 });

function pinned(uri: string, sha256: string, label: string): PinnedTool | undefined {
  if (uri === '' && sha256 === '') return undefined;
  const parsed = parseS3Uri(uri);
  return checkPinnedTool({ bucket: parsed.bucket, key: parsed.prefix, sha256 }, label);
}
const avml = pinned(env.AVML_URI, env.AVML_SHA256, 'AVML (AVML_URI, AVML_SHA256)');
const winpmem = pinned(env.WINPMEM_URI, env.WINPMEM_SHA256, 'WinPmem (WINPMEM_URI, WINPMEM_SHA256)');

export const handler = async (event: RemoteCaptureInput, context?: LambdaContext): Promise<RemoteCaptureResult> => {
  const task = instanceTask<RemoteCaptureInput>(event, 'capture-memory');
  return withInvocation(logger, context, { case: task.case, requestId: task.requestId }, async () => {
    const configs = new CollectorConfigs({ collectorRoleName: env.COLLECTOR_ROLE_NAME, externalId: env.COLLECTOR_EXTERNAL_ID, ownAccountId: placeOf(context).accountId, sessionName: 'amber-capture-memory' });
    const where = CollectorConfigs.where(task.accountId, task.region);
    const ssm = new SSMClient(configs.for(task.accountId, task.region));
    const managed = await managedInstance(ssm, task.instanceId, where);
    if ('reason' in managed) {
      logger.warn('memory capture not sent', { instanceId: task.instanceId, reason: managed.reason });
      return notSent(task.instanceId, managed.reason, managed.message);
    }
    const run = await runMemory(
      {
        runner: new SsmRemoteCommand({ client: ssm, where }),
        store,
        openOutput: stagedOutputs(s3),
        outputBucket: env.EVIDENCE_BUCKET,
        outputPrefix: SSM_STAGING_PREFIX,
        actor: actorOf(context),
        retainUntil: retainUntil(retentionDays),
        // Memory takes longer than triage: the command may run up to 50 minutes on the instance.
        executionTimeoutSeconds: 3000,
        waitMs: waitBudgetMs(context?.getRemainingTimeInMillis?.(), 12 * 60_000),
        ...(avml ? { avml } : {}),
        ...(winpmem ? { winpmem } : {}),
      },
      { case: task.case, requestId: task.requestId, instances: [{ instanceId: task.instanceId, platform: managed.platform }] },
    );
    const outcome = run.instances[0]!;
    logger.info('memory capture', { instanceId: task.instanceId, outcome: outcome.outcome, reason: outcome.reason, integrityFailure: outcome.integrityFailure ?? false });
    return resultOf(outcome, managed.platform, run.batches);
  });
};
