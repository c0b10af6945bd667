/**
 * The member collector role's share of memory / volatile capture, disk images and event history: exactly
 * ssm:SendCommand on instances and the two AWS-owned shell documents, the invocation and instance-information
 * reads, the EBS direct read APIs on case-tagged snapshots, and LookupEvents, read from the synthesized template
 * and (the EBS reads) evaluated with iam-simulate. iam-simulate has no resource type for AWS-owned SSM
 * documents (their ARN has no account), so SendCommand's resources are asserted as written.
 */
import { INVENTORY_ACTIONS } from '../../infra/lib/inventory-permissions.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { rolePolicies, type CfnEnv, type CfnTemplate } from '../helpers/cfn.ts';
import { MEMBER_ACCOUNT, MULTI_ACCOUNT, REGION, testApp, templates } from '../helpers/infra.ts';

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, unknown>> };
const list = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);

describe('Collector role: SSM capture, EBS direct reads, event history', () => {
  let json: CfnTemplate;
  let roleId: string;
  let statements: Statement[];
  const env: CfnEnv = { account: MEMBER_ACCOUNT, region: REGION };

  beforeAll(async () => {
    // GIVEN an evidence account and a member account; WHEN synthesized
    ({ memberJson: json } = templates(await testApp({ context: { ...MULTI_ACCOUNT } })));
    roleId = Object.entries(json.Resources).find(([, r]) => r.Type === 'AWS::IAM::Role' && r.Properties?.RoleName === 'amber-collector')![0];
    statements = rolePolicies(json, roleId, env).flatMap(({ policy }) => list((policy as { Statement: Statement | Statement[] }).Statement));
  });

  async function decide(action: string, resource: string, context: Record<string, string | string[]> = {}): Promise<string> {
    const principal = `arn:aws:iam::${MEMBER_ACCOUNT}:role/amber-collector`;
    const result = await runSimulation(
      {
        request: { principal, action, resource: { resource, accountId: MEMBER_ACCOUNT }, contextVariables: { 'aws:SecureTransport': 'true', ...context } },
        identityPolicies: rolePolicies(json, roleId, env),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
      },
      {},
    );
    if (result.resultType === 'error') throw new Error(`simulation rejected ${action}: ${JSON.stringify(result.errors)}`);
    return String(result.overallResult);
  }

  it('names exactly these statements and actions for the new steps', () => {
    const bySid = (sid: string) => statements.find((s) => s.Sid === sid)!;
    expect(bySid('RunAmberScripts')).toMatchObject({ Effect: 'Allow', Action: 'ssm:SendCommand' });
    // Instances of this account, and the two AWS-owned documents (no account in their ARN), not tag-scoped: a
    // compromised instance is captured whatever its tags say.
    expect(list(bySid('RunAmberScripts').Resource as string[]).sort()).toEqual(
      [`arn:aws:ec2:*:${MEMBER_ACCOUNT}:instance/*`, 'arn:aws:ssm:*::document/AWS-RunPowerShellScript', 'arn:aws:ssm:*::document/AWS-RunShellScript'].sort(),
    );
    expect(bySid('RunAmberScripts').Condition).toBeUndefined();
    expect(bySid('WatchCommands')).toMatchObject({ Effect: 'Allow', Action: ['ssm:DescribeInstanceInformation', 'ssm:GetCommandInvocation'], Resource: '*' });
    expect(bySid('ReadCaseSnapshotBlocks')).toMatchObject({
      Effect: 'Allow',
      Action: ['ebs:GetSnapshotBlock', 'ebs:ListSnapshotBlocks'],
      Resource: 'arn:aws:ec2:*::snapshot/*',
      Condition: { Null: { 'aws:ResourceTag/amber:case': 'false' } },
    });
    expect(bySid('DecryptCaseSnapshotsThroughEbs')).toMatchObject({
      Action: ['kms:Decrypt', 'kms:DescribeKey'],
      Resource: `arn:aws:kms:*:${MEMBER_ACCOUNT}:key/*`,
      Condition: { StringLike: { 'kms:ViaService': 'ebs.*.amazonaws.com' } },
    });
    expect(bySid('LookupEventHistory')).toMatchObject({ Effect: 'Allow', Action: 'cloudtrail:LookupEvents', Resource: '*' });
    const actions = statements.filter((s) => s.Effect === 'Allow').flatMap((s) => list(s.Action));
    const ssm = actions.filter((a) => a.startsWith('ssm:')).sort();
    expect(ssm).toEqual(['ssm:DescribeInstanceInformation', 'ssm:GetCommandInvocation', 'ssm:SendCommand']);
    expect(actions.filter((a) => a.startsWith('ebs:')).sort()).toEqual(['ebs:GetSnapshotBlock', 'ebs:ListSnapshotBlocks']);
    // Only the calls without resource-level permissions use "*" (the inventory's read-only listing calls have their
    // own test: test/infra/member-account-stack.test.ts).
    const star = statements.filter((s) => s.Effect === 'Allow' && list(s.Resource as string | string[]).includes('*')).flatMap((s) => list(s.Action));
    expect(star.filter((a) => !/^(ec2|autoscaling):Describe/.test(a) && !INVENTORY_ACTIONS.includes(a)).sort()).toEqual(['cloudtrail:LookupEvents', 'ssm:DescribeInstanceInformation', 'ssm:GetCommandInvocation']);
    expect(star.filter((a) => INVENTORY_ACTIONS.includes(a)).every((a) => /^[a-z0-9-]+:(List|Describe|Get)/.test(a))).toBe(true);
  });

  it('reads blocks only of snapshots tagged with a case, and never writes snapshots through the EBS direct APIs', async () => {
    const snapshot = `arn:aws:ec2:${REGION}::snapshot/snap-0123456789abcdef0`;
    expect(await decide('ebs:GetSnapshotBlock', snapshot, { 'aws:ResourceTag/amber:case': 'INC-1' })).toBe('Allowed');
    expect(await decide('ebs:ListSnapshotBlocks', snapshot, { 'aws:ResourceTag/amber:case': 'INC-1' })).toBe('Allowed');
    expect(await decide('ebs:GetSnapshotBlock', snapshot)).not.toBe('Allowed');
    for (const write of ['ebs:StartSnapshot', 'ebs:PutSnapshotBlock', 'ebs:CompleteSnapshot']) expect(await decide(write, snapshot, { 'aws:ResourceTag/amber:case': 'INC-1' }), write).not.toBe('Allowed');
  });
});
