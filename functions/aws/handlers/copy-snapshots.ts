/**
 * Lambda handler `copy-snapshots` (contract: ./contracts.ts). Shares the completed snapshot set with the
 * evidence account and copies it there, re-encrypted with the evidence KMS key (`stage: 'evidence'`). A set
 * in the evidence account already is returned as is. A set encrypted with a key the evidence account cannot
 * use gets re-encrypted copies in its own account first (`stage: 'source'`: wait for them, then call again).
 * Copies already made for this request are found by tag, never made twice.
 */
import { Ec2SnapshotProvider } from '../adapters/ec2-snapshot-provider.ts';
import { accountIdVar, readEnv } from '../env.ts';
import { snapshotSet } from '../payloads.ts';
import { createLogger, withInvocation, type LambdaContext } from '../runtime.ts';
import { InvalidInputError } from '../../../shared/errors.ts';
import { copySnapshotsToEvidence } from '../../../shared/preservation/snapshot-instance.ts';
import type { SnapshotCheck, SnapshotSet } from './contracts.ts';

const env = readEnv('copy-snapshots');
const evidenceAccountId = accountIdVar('EVIDENCE_ACCOUNT_ID', env.EVIDENCE_ACCOUNT_ID);
const evidenceRegion = process.env.AWS_REGION ?? '';
if (!/^arn:[\w-]+:kms:[\w-]+:\d{12}:key\/[\w-]+$/.test(env.EVIDENCE_KMS_KEY_ARN)) {
  throw new InvalidInputError(`EVIDENCE_KMS_KEY_ARN must be a KMS key ARN, got ${JSON.stringify(env.EVIDENCE_KMS_KEY_ARN)}`, { hint: 'use the full key ARN (not an alias): it is used from member accounts too' });
}
if (!evidenceRegion) throw new InvalidInputError('AWS_REGION is not set', { hint: 'the Lambda runtime sets it; when running elsewhere set it to the evidence region' });
const logger = createLogger('copy-snapshots');
const provider = new Ec2SnapshotProvider({
  collectorRoleName: env.COLLECTOR_ROLE_NAME,
  externalId: env.COLLECTOR_EXTERNAL_ID,
  ownAccountId: evidenceAccountId,
  sessionName: 'amber-copy-snapshots',
});

export const handler = async (event: SnapshotSet | SnapshotCheck, context?: LambdaContext): Promise<SnapshotSet> => {
  const set = snapshotSet(event, 'copy-snapshots');
  return withInvocation(logger, context, { case: set.case, requestId: set.requestId }, async () => {
    const refs = set.snapshots.map((s) => ({ snapshotId: s.snapshotId, volumeId: s.volumeId, accountId: s.accountId, region: s.region ?? set.region }));
    const copied = await copySnapshotsToEvidence({ provider }, { ...set, snapshots: refs }, { accountId: evidenceAccountId, region: evidenceRegion, kmsKeyArn: env.EVIDENCE_KMS_KEY_ARN });
    logger.info(copied.stage === 'evidence' ? 'evidence copies started' : 're-encrypted copies started in the source account', {
      from: refs.map((r) => r.snapshotId),
      to: copied.snapshots.map((s) => s.snapshotId),
      reused: copied.reused,
    });
    // The check fields of the previous loop do not describe the new set.
    const { status: _status, failed: _failed, states: _states, ...rest } = set as SnapshotCheck;
    return { ...rest, snapshots: copied.snapshots.map((s) => ({ ...s })), stage: copied.stage };
  });
};
