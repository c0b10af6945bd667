/**
 * The member-account stack: the collector role's trust (evidence account, external id, evidence stack roles
 * only) and permissions, and the event forwarding of multi-account mode.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { CfnTemplate } from '../helpers/cfn.ts';
import { EVIDENCE_ACCOUNT, MEMBER_ACCOUNT, MULTI_ACCOUNT, testApp, templates } from '../helpers/infra.ts';
import { INVENTORY_CALLS } from '../../functions/aws/adapters/inventory-source.ts';

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, unknown>> };
const list = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);

function collectorStatements(t: CfnTemplate): Statement[] {
  const roleId = Object.entries(t.Resources).find(([, r]) => r.Type === 'AWS::IAM::Role' && r.Properties?.RoleName === 'amber-collector')![0];
  return Object.values(t.Resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && (r.Properties!.Roles as Array<{ Ref: string }>).some((x) => x.Ref === roleId))
    .flatMap((r) => (r.Properties!.PolicyDocument as { Statement: Statement[] }).Statement);
}

describe('MemberAccountStack', () => {
  describe('in multi-account mode', () => {
    let member: Template;
    let json: CfnTemplate;

    beforeAll(async () => {
      // GIVEN an evidence account and one member account; WHEN synthesized
      ({ member, memberJson: json } = templates(await testApp({ context: { ...MULTI_ACCOUNT, 'amber:collectorExternalId': 'ext-id-for-tests' } })));
    });

    it('lets only the evidence stack\'s roles in the evidence account assume the collector, with the external id', () => {
      member.hasResourceProperties('AWS::IAM::Role', {
        RoleName: 'amber-collector',
        MaxSessionDuration: 3600,
        AssumeRolePolicyDocument: {
          Statement: [
            {
              Action: 'sts:AssumeRole',
              Effect: 'Allow',
              Principal: { AWS: `arn:aws:iam::${EVIDENCE_ACCOUNT}:root` },
              Condition: {
                StringEquals: { 'sts:ExternalId': 'ext-id-for-tests' },
                ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::${EVIDENCE_ACCOUNT}:role/AmberEvidence-*` },
              },
            },
          ],
        },
      });
    });

    it('has no managed policy and no S3 object permission except reading the trail (the inventory reads bucket settings only)', () => {
      const role = Object.values(json.Resources).find((r) => r.Type === 'AWS::IAM::Role' && r.Properties?.RoleName === 'amber-collector')!;
      expect(role.Properties!.ManagedPolicyArns).toBeUndefined();
      const s3Allows = collectorStatements(json).filter((s) => s.Effect === 'Allow' && !s.Sid?.startsWith('Inventory') && list(s.Action).some((a) => a.startsWith('s3:')));
      expect(s3Allows.flatMap((s) => list(s.Action)).sort()).toEqual(['s3:GetObject', 's3:ListBucket']);
      expect(JSON.stringify(s3Allows.map((s) => s.Resource))).not.toMatch(/Evidence|cases/);
      for (const s of s3Allows) expect(JSON.stringify(s.Resource)).toContain('aws-cloudtrail-logs-amber-example');
      const inventoryS3 = collectorStatements(json).filter((s) => s.Sid?.startsWith('Inventory')).flatMap((s) => list(s.Action)).filter((a) => a.startsWith('s3:'));
      expect(inventoryS3.sort()).toEqual(['s3:GetAccountPublicAccessBlock', 's3:GetBucketAcl', 's3:GetBucketPolicy', 's3:GetBucketPolicyStatus', 's3:GetBucketPublicAccessBlock', 's3:ListAllMyBuckets']);
    });

    it('reads for the inventory exactly the actions of the calls the inventory makes, read-only, per-resource reads held to this account', () => {
      const inventory = collectorStatements(json).filter((s) => s.Sid?.startsWith('Inventory'));
      const actions = inventory.flatMap((s) => list(s.Action));
      // Exactly the list, each once (INVENTORY_CALLS maps every call of the source to its action)
      expect([...actions].sort()).toEqual([...new Set(Object.values(INVENTORY_CALLS))].sort());
      expect(new Set(actions).size).toBe(actions.length);
      expect(inventory.every((s) => s.Effect === 'Allow' && s.Condition === undefined)).toBe(true);
      for (const a of actions) expect(a).toMatch(/^[a-z0-9]+:(List|Get|Describe)[A-Za-z]+$/);
      // "*" only for the listing calls; the rest name this account (bucket and organisation-trail ARNs cannot)
      const star = inventory.filter((s) => JSON.stringify(s.Resource) === '"*"');
      expect(star.map((s) => s.Sid)).toEqual(['InventoryListAndDescribe']);
      for (const a of list(star[0]!.Action)) expect(a).toMatch(/^(ec2:Describe|iam:List(Users|Roles|Policies)$|s3:(ListAllMyBuckets|GetAccountPublicAccessBlock)$|lambda:ListFunctions$|rds:DescribeDB(Instances|Snapshots)$|kms:ListKeys$|cloudtrail:DescribeTrails$|guardduty:ListDetectors$)/);
      for (const s of inventory.filter((x) => !['InventoryListAndDescribe', 'InventoryBucketSettings', 'InventoryTrailStatus'].includes(x.Sid!))) {
        expect(JSON.stringify(s.Resource), s.Sid).toMatch(new RegExp(`:${MEMBER_ACCOUNT}:|"Ref":"AWS::AccountId"`));
      }
    });

    it('denies itself deletes, retention changes, governance bypass and bucket policy changes on any bucket', () => {
      const deny = collectorStatements(json).find((s) => s.Sid === 'NeverTamperWithObjects')!;
      expect(deny.Effect).toBe('Deny');
      expect(deny.Resource).toBe('*');
      expect(list(deny.Action)).toEqual(
        expect.arrayContaining(['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:PutObjectRetention', 's3:BypassGovernanceRetention', 's3:PutBucketPolicy']),
      );
    });

    it('creates snapshots only with the case tag and shares tagged snapshots only with the evidence account', () => {
      const statements = collectorStatements(json);
      expect(statements.find((s) => s.Sid === 'CreateCaseSnapshots')!.Condition).toEqual({ Null: { 'aws:RequestTag/amber:case': 'false' } });
      expect(statements.find((s) => s.Sid === 'ShareCaseSnapshotsWithEvidenceAccount')!.Condition).toEqual({
        Null: { 'aws:ResourceTag/amber:case': 'false' },
        StringEquals: { 'ec2:Add/userId': EVIDENCE_ACCOUNT },
      });
      expect(statements.find((s) => s.Sid === 'ReadSourceSnapshotKeysThroughEc2')!.Condition).toEqual({ StringLike: { 'kms:ViaService': 'ec2.*.amazonaws.com' } });
      const evidenceKey = statements.find((s) => s.Sid === 'EncryptWithEvidenceKeyThroughEc2')!;
      expect(evidenceKey.Resource).toBe(`arn:aws:kms:*:${EVIDENCE_ACCOUNT}:key/*`);
      expect(evidenceKey.Condition).toEqual({ StringLike: { 'kms:ViaService': 'ec2.*.amazonaws.com' } });
      expect(statements.find((s) => s.Sid === 'CreateQuarantineGroup')!.Condition).toEqual({ StringEquals: { 'aws:RequestTag/amber:purpose': 'quarantine' } });
      const actions = statements.filter((s) => s.Effect === 'Allow').flatMap((s) => list(s.Action));
      expect(actions.filter((a) => a.includes('*'))).toEqual([]);
      for (const forbidden of ['ec2:TerminateInstances', 'ec2:DeleteSnapshot', 'ec2:DeleteVolume', 'iam:PassRole', 'kms:ScheduleKeyDeletion']) expect(actions).not.toContain(forbidden);
    });

    it('forwards the three triggers to the evidence account\'s default bus and nothing else', () => {
      member.resourceCountIs('AWS::Events::Rule', 3);
      member.allResourcesProperties('AWS::Events::Rule', {
        Targets: [Match.objectLike({ Arn: `arn:aws:events:eu-west-1:${EVIDENCE_ACCOUNT}:event-bus/default`, RoleArn: Match.anyValue() })],
      });
      const patterns = Object.values(json.Resources)
        .filter((r) => r.Type === 'AWS::Events::Rule')
        .map((r) => (r.Properties!.EventPattern as { source: string[] }).source[0])
        .sort();
      expect(patterns).toEqual(['amber', 'aws.guardduty', 'aws.securityhub']);
      member.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: { Statement: [{ Action: 'events:PutEvents', Effect: 'Allow', Resource: `arn:aws:events:eu-west-1:${EVIDENCE_ACCOUNT}:event-bus/default` }] },
      });
    });

    it('holds no key of its own: case snapshots are re-encrypted with the evidence key', () => {
      member.resourceCountIs('AWS::KMS::Key', 0);
    });
  });

  describe('in single-account mode (the default)', () => {
    let member: Template;

    beforeAll(async () => {
      ({ member } = templates(await testApp()));
    });

    it('trusts the same account, still with the external id', () => {
      member.hasResourceProperties('AWS::IAM::Role', {
        RoleName: 'amber-collector',
        AssumeRolePolicyDocument: {
          Statement: [Match.objectLike({ Principal: { AWS: `arn:aws:iam::${EVIDENCE_ACCOUNT}:root` }, Condition: Match.objectLike({ StringEquals: { 'sts:ExternalId': 'amber-evidence-collector' } }) })],
        },
      });
    });

    it('deploys no forwarding rules (events are already on the evidence bus) and no key', () => {
      member.resourceCountIs('AWS::Events::Rule', 0);
      member.resourceCountIs('AWS::KMS::Key', 0);
    });
  });
});
