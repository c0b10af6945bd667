/**
 * The EC2 permissions of instance preservation, by step, for one account: the collector role gets all of them
 * in a member account; the evidence account's own functions get their step's share for instances in the
 * evidence account itself (the handlers call their own account with their own credentials, and other accounts
 * through the collector role). Every statement names resources of that account and, where EC2 supports it,
 * carries a tag condition: snapshots must be tagged with the case on creation, quarantine groups with
 * `amber:purpose=quarantine`, and tags added later are Amber's own keys.
 */
import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { CASE_TAG } from './defaults.ts';
import { acknowledgeWildcardResources } from './nag.ts';

/** Tag isolate-instance puts on the quarantine group it creates (value `quarantine`). */
export const QUARANTINE_TAG = { key: 'amber:purpose', value: 'quarantine' } as const;

/** Where the statements apply. */
export interface Ec2Account {
  readonly partition: string;
  /** The account holding the instances (a token for the deploying account is fine). */
  readonly account: string;
}

const statement = (sid: string, actions: string[], resources: string[], conditions?: Record<string, Record<string, unknown>>): iam.PolicyStatement =>
  new iam.PolicyStatement({ sid, actions, resources, ...(conditions ? { conditions } : {}) });

/** ARNs of one account's EC2-family resources, any region. */
export function ec2Arns(a: Ec2Account): { instance: string; volume: string; snapshot: string; vpc: string; securityGroup: string; networkInterface: string; autoScalingGroup: string; key: string } {
  const arn = (service: string, resource: string): string => `arn:${a.partition}:${service}:*:${a.account}:${resource}`;
  return {
    instance: arn('ec2', 'instance/*'),
    volume: arn('ec2', 'volume/*'),
    // Snapshot ARNs carry no account.
    snapshot: `arn:${a.partition}:ec2:*::snapshot/*`,
    vpc: arn('ec2', 'vpc/*'),
    securityGroup: arn('ec2', 'security-group/*'),
    networkInterface: arn('ec2', 'network-interface/*'),
    autoScalingGroup: arn('autoscaling', 'autoScalingGroup:*:autoScalingGroupName/*'),
    key: arn('kms', 'key/*'),
  };
}

/** Describe calls of every step; EC2 and Auto Scaling Describe* take no resource ARNs. */
export function describeStatements(): iam.PolicyStatement[] {
  return [
    statement(
      'DescribeForPreservation',
      [
        'ec2:DescribeInstances',
        'ec2:DescribeVolumes',
        'ec2:DescribeSnapshots',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSecurityGroups',
        'ec2:DescribeIamInstanceProfileAssociations',
        'ec2:DescribeTags',
        'autoscaling:DescribeAutoScalingInstances',
      ],
      ['*'],
    ),
  ];
}

/** capture-instance: the instance's console output and attributes. */
export function captureStatements(a: Ec2Account): iam.PolicyStatement[] {
  return [statement('ReadInstanceState', ['ec2:GetConsoleOutput', 'ec2:DescribeInstanceAttribute'], [ec2Arns(a).instance])];
}

/** create-snapshots: one crash-consistent set, tagged with the case on creation; later only Amber's own tags. */
export function snapshotStatements(a: Ec2Account): iam.PolicyStatement[] {
  const r = ec2Arns(a);
  return [
    statement('CreateCaseSnapshots', ['ec2:CreateSnapshots'], [r.instance, r.volume, r.snapshot], { Null: { [`aws:RequestTag/${CASE_TAG}`]: 'false' } }),
    statement('TagSnapshotsOnCreate', ['ec2:CreateTags'], [r.snapshot], { StringEquals: { 'ec2:CreateAction': ['CreateSnapshots', 'CopySnapshot'] } }),
    statement('TagCaseSnapshots', ['ec2:CreateTags'], [r.snapshot], {
      Null: { [`aws:ResourceTag/${CASE_TAG}`]: 'false' },
      'ForAllValues:StringLike': { 'aws:TagKeys': ['amber:*'] },
    }),
  ];
}

/**
 * copy-snapshots in a member account: a snapshot encrypted with a key the evidence account cannot use is first
 * copied in its own account, re-encrypted with the evidence key; then the case's snapshots are shared with the
 * evidence account, and only with it.
 */
export function shareStatements(a: Ec2Account, evidenceAccountId: string, evidenceKeys: string): iam.PolicyStatement[] {
  const r = ec2Arns(a);
  const ec2Via = { StringLike: { 'kms:ViaService': 'ec2.*.amazonaws.com' } };
  return [
    statement('ReencryptCaseSnapshots', ['ec2:CopySnapshot'], [r.snapshot], { Null: { [`aws:RequestTag/${CASE_TAG}`]: 'false' } }),
    statement('ReadSourceSnapshotKeysThroughEc2', ['kms:Decrypt', 'kms:ReEncryptFrom', 'kms:DescribeKey', 'kms:CreateGrant'], [r.key], ec2Via),
    statement('EncryptWithEvidenceKeyThroughEc2', ['kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptTo', 'kms:Decrypt', 'kms:DescribeKey', 'kms:CreateGrant'], [evidenceKeys], ec2Via),
    statement('ShareCaseSnapshotsWithEvidenceAccount', ['ec2:ModifySnapshotAttribute'], [r.snapshot], {
      Null: { [`aws:ResourceTag/${CASE_TAG}`]: 'false' },
      StringEquals: { 'ec2:Add/userId': evidenceAccountId },
    }),
  ];
}

/** isolate-instance: a rule-less quarantine group, the instance's interfaces moved to it, termination protection, out of its Auto Scaling group. */
export function isolationStatements(a: Ec2Account): iam.PolicyStatement[] {
  const r = ec2Arns(a);
  const quarantine = { StringEquals: { [`aws:ResourceTag/${QUARANTINE_TAG.key}`]: QUARANTINE_TAG.value } };
  return [
    statement('CreateQuarantineGroup', ['ec2:CreateSecurityGroup'], [r.vpc, r.securityGroup], { StringEquals: { [`aws:RequestTag/${QUARANTINE_TAG.key}`]: QUARANTINE_TAG.value } }),
    statement('TagQuarantineGroupOnCreate', ['ec2:CreateTags'], [r.securityGroup], { StringEquals: { 'ec2:CreateAction': 'CreateSecurityGroup' } }),
    statement('EmptyQuarantineGroup', ['ec2:RevokeSecurityGroupEgress', 'ec2:RevokeSecurityGroupIngress'], [r.securityGroup], quarantine),
    statement('QuarantineInstance', ['ec2:ModifyInstanceAttribute', 'ec2:ModifyNetworkInterfaceAttribute'], [r.instance, r.networkInterface, r.securityGroup]),
    statement('RememberPreviousGroups', ['ec2:CreateTags'], [r.networkInterface], { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['amber:previous-groups'] } }),
    statement('DetachFromAutoScalingGroup', ['autoscaling:DetachInstances'], [r.autoScalingGroup]),
  ];
}

/** SSM Run Command's two AWS-owned documents Amber sends scripts with (Linux, Windows). */
export const SSM_DOCUMENTS = ['AWS-RunShellScript', 'AWS-RunPowerShellScript'] as const;

/** The SSM document ARNs (AWS-owned documents carry no account), any region. */
export function ssmDocumentArns(a: Pick<Ec2Account, 'partition'>): string[] {
  return SSM_DOCUMENTS.map((d) => `arn:${a.partition}:ssm:*::document/${d}`);
}

/**
 * capture-volatile / capture-memory: whether the instance is managed, the scripts through the two AWS-owned
 * documents only, and the invocations' state. SendCommand is not tag-scoped: a compromised instance is captured
 * whatever its tags, and its owner cannot opt it out by removing one. DescribeInstanceInformation and
 * GetCommandInvocation support no resource-level permissions.
 */
export function ssmCaptureStatements(a: Ec2Account): iam.PolicyStatement[] {
  return [
    statement('RunAmberScripts', ['ssm:SendCommand'], [ec2Arns(a).instance, ...ssmDocumentArns(a)]),
    statement('WatchCommands', ['ssm:GetCommandInvocation', 'ssm:DescribeInstanceInformation'], ['*']),
  ];
}

/** plan-image / image-chunk: the EBS direct read APIs, on snapshots tagged with a case only (Amber tags its own on creation). */
export function ebsReadStatements(a: Ec2Account): iam.PolicyStatement[] {
  const r = ec2Arns(a);
  return [
    statement('ReadCaseSnapshotBlocks', ['ebs:ListSnapshotBlocks', 'ebs:GetSnapshotBlock'], [r.snapshot], { Null: { [`aws:ResourceTag/${CASE_TAG}`]: 'false' } }),
    statement('DecryptCaseSnapshotsThroughEbs', ['kms:Decrypt', 'kms:DescribeKey'], [r.key], { StringLike: { 'kms:ViaService': 'ebs.*.amazonaws.com' } }),
  ];
}

/**
 * Adds `statements` to `role` and acknowledges, beside it, the AwsSolutions-IAM5 finding of each wildcard
 * resource they name, with its reason ("*" of the Describe calls included). A wildcard without a reason throws.
 */
export function grantEc2(role: iam.IRole & IConstruct, a: Ec2Account, statements: readonly iam.PolicyStatement[]): void {
  const reasons = new Map(ec2WildcardReasons(a));
  const resources = new Set<string>();
  for (const st of statements) {
    role.addToPrincipalPolicy(st);
    if (st.effect === iam.Effect.ALLOW) for (const r of st.resources) resources.add(r);
  }
  for (const r of resources) {
    if (r === '*') {
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'Only calls that support no resource-level permissions use "*" (service authorization reference): EC2 and Auto Scaling Describe*, and ssm:DescribeInstanceInformation / ssm:GetCommandInvocation.',
      });
      continue;
    }
    const reason = reasons.get(r);
    if (reason) acknowledgeWildcardResources(role, [r], reason);
  }
}

/** Why each wildcard resource above is needed, for the cdk-nag acknowledgements beside the role. */
export function ec2WildcardReasons(a: Ec2Account): Array<[string, string]> {
  const r = ec2Arns(a);
  return [
    [r.instance, 'Instances are named by the preservation request at run time; this account only.'],
    [r.volume, 'CreateSnapshots covers every volume of the requested instance; this account only.'],
    [r.snapshot, 'Snapshot ids exist only at run time; creation and copies require the amber:case request tag, sharing the amber:case resource tag with the evidence account as the only grantee.'],
    [r.vpc, 'The quarantine group is created in the instance\'s VPC, known at run time; creation requires the amber:purpose=quarantine tag.'],
    [r.securityGroup, 'Quarantine groups and the instance\'s groups are known at run time; rules are removed only from amber:purpose=quarantine groups.'],
    [r.networkInterface, 'The instance\'s network interfaces get the quarantine group (and a tag of their previous groups); known at run time.'],
    [r.autoScalingGroup, 'The instance\'s Auto Scaling group is known at run time; this account only.'],
    [r.key, 'Volumes use keys of this account chosen by its owner; used only through EC2 (kms:ViaService) to re-encrypt a case snapshot, or through EBS to read a case snapshot\'s blocks.'],
    [ssmDocumentArns(a)[0]!, 'The AWS-owned AWS-RunShellScript document, in whichever region the instance is; no other document.'],
    [ssmDocumentArns(a)[1]!, 'The AWS-owned AWS-RunPowerShellScript document, in whichever region the instance is; no other document.'],
  ];
}
