/**
 * What the member account's collector role may read for the inventory (take-inventory, `amber inventory`):
 * exactly the IAM actions of the calls the inventory source makes (INVENTORY_CALLS), each on the narrowest
 * resource its service authorizes. Listing calls and EC2's Describe* have no resource-level permissions ("*");
 * the per-resource reads are held to this account's ARNs, except S3 buckets (their ARNs name no account) and
 * CloudTrail trails (an organisation trail lives in the management account).
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import { INVENTORY_CALLS } from '../../functions/aws/adapters/inventory-source.ts';

/** Every action the inventory needs, sorted. */
export const INVENTORY_ACTIONS: readonly string[] = [...new Set(Object.values(INVENTORY_CALLS))].sort();

/** Actions that list or describe everything of a kind: no resource-level permission applies. */
const LIST_ACTIONS = INVENTORY_ACTIONS.filter((a) => a.startsWith('ec2:') || /^(iam:List(Users|Roles|Policies)|s3:ListAllMyBuckets|s3:GetAccountPublicAccessBlock|lambda:ListFunctions|rds:DescribeDB(Instances|Snapshots)|kms:ListKeys|cloudtrail:DescribeTrails|guardduty:ListDetectors)$/.test(a));

/** The per-resource reads and the resources they may touch, for an account. */
function perResource(partition: string, account: string): Array<{ sid: string; actions: string[]; resources: string[] }> {
  return [
    { sid: 'InventoryIamUsers', actions: ['iam:GetAccessKeyLastUsed', 'iam:ListAccessKeys', 'iam:ListAttachedUserPolicies', 'iam:ListMFADevices'], resources: [`arn:${partition}:iam::${account}:user/*`] },
    { sid: 'InventoryIamRoles', actions: ['iam:ListAttachedRolePolicies'], resources: [`arn:${partition}:iam::${account}:role/*`] },
    { sid: 'InventoryBucketSettings', actions: ['s3:GetBucketAcl', 's3:GetBucketPolicy', 's3:GetBucketPolicyStatus', 's3:GetBucketPublicAccessBlock'], resources: [`arn:${partition}:s3:::*`] },
    { sid: 'InventoryFunctions', actions: ['lambda:GetPolicy', 'lambda:ListFunctionUrlConfigs'], resources: [`arn:${partition}:lambda:*:${account}:function:*`] },
    { sid: 'InventoryDbSnapshots', actions: ['rds:DescribeDBSnapshotAttributes'], resources: [`arn:${partition}:rds:*:${account}:snapshot:*`] },
    { sid: 'InventoryKeyPolicies', actions: ['kms:GetKeyPolicy'], resources: [`arn:${partition}:kms:*:${account}:key/*`] },
    { sid: 'InventoryTrailStatus', actions: ['cloudtrail:GetTrailStatus'], resources: [`arn:${partition}:cloudtrail:*:*:trail/*`] },
    { sid: 'InventoryDetectors', actions: ['guardduty:GetDetector'], resources: [`arn:${partition}:guardduty:*:${account}:detector/*`] },
  ];
}

/** The inventory's statements for the collector role of `account`. */
export function inventoryStatements(partition: string, account: string): iam.PolicyStatement[] {
  const specific = perResource(partition, account);
  const covered = new Set([...LIST_ACTIONS, ...specific.flatMap((s) => s.actions)]);
  const missing = INVENTORY_ACTIONS.filter((a) => !covered.has(a));
  // A call added to the source without its permission here fails the synth, not the first inventory.
  if (missing.length > 0) throw new Error(`inventory-permissions.ts grants no resource for ${missing.join(', ')}: add the action to a statement`);
  return [
    new iam.PolicyStatement({ sid: 'InventoryListAndDescribe', actions: [...LIST_ACTIONS], resources: ['*'] }),
    ...specific.map((s) => new iam.PolicyStatement({ sid: s.sid, actions: s.actions, resources: s.resources })),
  ];
}

/** Why each wildcard resource of the inventory's statements is needed (cdk-nag acknowledgements, by resource). */
export function inventoryWildcards(partition: string, account: string): Array<{ resources: string[]; reason: string }> {
  return [
    { resources: ['*'], reason: 'The inventory\'s listing calls (EC2 Describe*, IAM/Lambda/KMS/RDS/GuardDuty lists, s3:ListAllMyBuckets, the account\'s public access block) have no resource-level permissions; read-only.' },
    { resources: [`arn:${partition}:iam::${account}:user/*`, `arn:${partition}:iam::${account}:role/*`], reason: 'The inventory reads the keys, MFA devices and attached policies of every user and role of this account; read-only.' },
    { resources: [`arn:${partition}:s3:::*`], reason: 'The inventory reads the policy, ACL, policy status and public access block of every bucket (bucket ARNs name no account); bucket settings only, no object.' },
    { resources: [`arn:${partition}:lambda:*:${account}:function:*`, `arn:${partition}:rds:*:${account}:snapshot:*`, `arn:${partition}:kms:*:${account}:key/*`, `arn:${partition}:guardduty:*:${account}:detector/*`], reason: 'The inventory reads the resource policy or sharing of every function, manual DB snapshot, key and detector of this account in every region it covers; read-only.' },
    { resources: [`arn:${partition}:cloudtrail:*:*:trail/*`], reason: 'GetTrailStatus of every trail DescribeTrails shows, including an organisation trail owned by the management account; read-only.' },
  ];
}
