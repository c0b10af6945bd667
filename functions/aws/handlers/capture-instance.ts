/**
 * Lambda handler `capture-instance` (contract: ./contracts.ts). Captures the instance's metadata (instance,
 * volumes, network interfaces, security groups, instance profile, tags, console output) as evidence JSON in
 * the evidence bucket, under keys fixed by the request: a retry keeps the first capture.
 */
import { createS3Client, s3ConfigFromEnv } from '../adapters/s3-client.ts';
import { S3ObjectStore } from '../adapters/s3-object-store.ts';
import { Ec2SnapshotProvider } from '../adapters/ec2-snapshot-provider.ts';
import { positiveIntVar, readEnv } from '../env.ts';
import { instanceTask } from '../payloads.ts';
import { actorOf, createLogger, retainUntil, withInvocation, type LambdaContext } from '../runtime.ts';
import { captureInstance } from '../../../shared/preservation/snapshot-instance.ts';
import type { CapturedInstance, InstanceTaskInput } from './contracts.ts';

const env = readEnv('capture-instance');
const retentionDays = positiveIntVar('RETENTION_DAYS', env.RETENTION_DAYS);
const logger = createLogger('capture-instance');
const store = new S3ObjectStore({ bucket: env.EVIDENCE_BUCKET, client: createS3Client(s3ConfigFromEnv()) });
const provider = new Ec2SnapshotProvider({ collectorRoleName: env.COLLECTOR_ROLE_NAME, externalId: env.COLLECTOR_EXTERNAL_ID, sessionName: 'amber-capture-instance' });

export const handler = async (event: InstanceTaskInput, context?: LambdaContext): Promise<CapturedInstance> => {
  const task = instanceTask<InstanceTaskInput>(event, 'capture-instance');
  return withInvocation(logger, context, { case: task.case, requestId: task.requestId }, async () => {
    const captured = await captureInstance({ provider, store, actor: actorOf(context), retainUntil: retainUntil(retentionDays) }, task);
    logger.info('instance metadata captured', { instanceId: task.instanceId, volumes: captured.volumeIds.length, evidenceKeys: captured.evidenceKeys });
    return {
      ...task,
      volumeIds: captured.volumeIds,
      evidenceKeys: captured.evidenceKeys,
      items: captured.items,
      ...(captured.networkId ? { networkId: captured.networkId } : {}),
    };
  });
};
