/**
 * Lambda handler `check-snapshots` (contract: ./contracts.ts). One look at the snapshot set: `completed`,
 * `pending` (the state machine waits and calls again: no function polls past its limit) or `error`, with each
 * failed snapshot's reason (EC2's state message, or that it no longer exists).
 */
import { Ec2SnapshotProvider } from '../adapters/ec2-snapshot-provider.ts';
import { readEnv } from '../env.ts';
import { snapshotSet } from '../payloads.ts';
import { createLogger, withInvocation, type LambdaContext } from '../runtime.ts';
import { checkSnapshots } from '../../../shared/preservation/snapshot-instance.ts';
import type { SnapshotCheck, SnapshotSet } from './contracts.ts';

const env = readEnv('check-snapshots');
const logger = createLogger('check-snapshots');
const provider = new Ec2SnapshotProvider({ collectorRoleName: env.COLLECTOR_ROLE_NAME, externalId: env.COLLECTOR_EXTERNAL_ID, sessionName: 'amber-check-snapshots' });

export const handler = async (event: SnapshotSet, context?: LambdaContext): Promise<SnapshotCheck> => {
  const set = snapshotSet(event, 'check-snapshots');
  return withInvocation(logger, context, { case: set.case, requestId: set.requestId }, async () => {
    const refs = set.snapshots.map((s) => ({ snapshotId: s.snapshotId, volumeId: s.volumeId, accountId: s.accountId, region: s.region ?? set.region }));
    const checked = await checkSnapshots({ provider }, refs);
    const log = checked.status === 'error' ? logger.error.bind(logger) : logger.info.bind(logger);
    log(`snapshots ${checked.status}`, { stage: set.stage, failed: checked.failed, progress: checked.snapshots.map((s) => `${s.snapshotId}:${s.progress ?? s.state}`) });
    return {
      ...set,
      status: checked.status,
      failed: checked.failed,
      states: checked.snapshots.map((s) => ({
        snapshotId: s.snapshotId,
        volumeId: s.volumeId,
        state: s.state,
        ...(s.progress !== undefined ? { progress: s.progress } : {}),
        ...(s.sizeGiB !== undefined ? { sizeGiB: s.sizeGiB } : {}),
        ...(s.encrypted !== undefined ? { encrypted: s.encrypted } : {}),
        ...(s.kmsKeyId !== undefined ? { kmsKeyId: s.kmsKeyId } : {}),
        ...(s.startedAt !== undefined ? { startedAt: s.startedAt } : {}),
        ...(s.reason !== undefined ? { reason: s.reason } : {}),
      })),
    };
  });
};
