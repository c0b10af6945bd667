/**
 * Lambda handler `create-snapshots` (contract: ./contracts.ts). Crash-consistent snapshots of all the
 * instance's volumes at once (CreateSnapshots), tagged with case, request, instance and evidence ids. The
 * snapshots already tagged with this request are looked up first: a duplicated event or a retry yields the
 * same single set (`reused: true`).
 */
import { Ec2SnapshotProvider } from '../adapters/ec2-snapshot-provider.ts';
import { readEnv } from '../env.ts';
import { instanceTask } from '../payloads.ts';
import { createLogger, withInvocation, type LambdaContext } from '../runtime.ts';
import { createInstanceSnapshots } from '../../../shared/preservation/snapshot-instance.ts';
import type { CapturedInstance, SnapshotSet } from './contracts.ts';

const env = readEnv('create-snapshots');
const logger = createLogger('create-snapshots');
const provider = new Ec2SnapshotProvider({ collectorRoleName: env.COLLECTOR_ROLE_NAME, externalId: env.COLLECTOR_EXTERNAL_ID, sessionName: 'amber-create-snapshots' });

export const handler = async (event: CapturedInstance, context?: LambdaContext): Promise<SnapshotSet> => {
  const task = instanceTask<CapturedInstance>(event, 'create-snapshots');
  return withInvocation(logger, context, { case: task.case, requestId: task.requestId }, async () => {
    const created = await createInstanceSnapshots({ provider }, { ...task, volumeIds: Array.isArray(task.volumeIds) ? task.volumeIds : [] });
    logger.info(created.reused ? 'snapshot set already existed for this request' : 'snapshots started', {
      instanceId: task.instanceId,
      snapshots: created.snapshots.map((s) => s.snapshotId),
      uncoveredVolumes: created.uncoveredVolumes,
    });
    if (created.uncoveredVolumes.length > 0) logger.warn('volumes captured but not in the snapshot set', { volumes: created.uncoveredVolumes });
    return {
      ...task,
      snapshots: created.snapshots.map((s) => ({ snapshotId: s.snapshotId, volumeId: s.volumeId, accountId: s.accountId, region: s.region })),
      stage: 'source',
      reused: created.reused,
      uncoveredVolumes: created.uncoveredVolumes,
    };
  });
};
