/**
 * Lambda handler `isolate-instance` (contract: ./contracts.ts). Only when the request asked for isolation:
 * out of its Auto Scaling group, termination protection on, the quarantine security group in place of all its
 * groups (the previous ones are reported and kept in a tag on each interface). Otherwise it changes nothing
 * and says so.
 */
import { Ec2SnapshotProvider } from '../adapters/ec2-snapshot-provider.ts';
import { readEnv } from '../env.ts';
import { instanceTask } from '../payloads.ts';
import { createLogger, withInvocation, type LambdaContext } from '../runtime.ts';
import { isolateInstance } from '../../../shared/preservation/snapshot-instance.ts';
import type { InstanceTaskInput, IsolatedInstance } from './contracts.ts';

const env = readEnv('isolate-instance');
const logger = createLogger('isolate-instance');
const provider = new Ec2SnapshotProvider({ collectorRoleName: env.COLLECTOR_ROLE_NAME, externalId: env.COLLECTOR_EXTERNAL_ID, sessionName: 'amber-isolate-instance' });

export const handler = async (event: InstanceTaskInput, context?: LambdaContext): Promise<IsolatedInstance> => {
  const task = instanceTask<InstanceTaskInput>(event, 'isolate-instance');
  return withInvocation(logger, context, { case: task.case, requestId: task.requestId }, async () => {
    const result = await isolateInstance({ provider }, task);
    if (!result.applied) {
      logger.info('isolation not applied', { instanceId: task.instanceId, reason: result.reason });
      return { ...task, isolation: { applied: false, reason: result.reason } };
    }
    logger.warn('instance isolated', { instanceId: task.instanceId, ...result.outcome });
    return { ...task, isolation: { applied: true, ...result.outcome } };
  });
};
