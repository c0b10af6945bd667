/**
 * The collector role in a member account: assumed by the evidence account's preservation functions, with an
 * external id. It describes and snapshots instances (every snapshot tagged with the case on creation),
 * re-encrypts case snapshots with the evidence key through EC2 when their key cannot be shared, shares case
 * snapshots with the evidence account only, isolates an instance on request, runs Amber's triage and memory
 * scripts through SSM Run Command (the two AWS-owned documents only), reads case snapshots' blocks through the
 * EBS direct APIs (snapshots tagged amber:case only), reads CloudTrail event history, reads the trail bucket, and reads
 * the account's configuration for the inventory (list, describe and get calls only, inventory-permissions.ts). It has
 * no access to the evidence bucket, and an explicit deny keeps it from deleting objects or weakening retention
 * anywhere.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { captureStatements, describeStatements, ebsReadStatements, grantEc2, isolationStatements, shareStatements, snapshotStatements, ssmCaptureStatements, type Ec2Account } from '../ec2-permissions.ts';
import { acknowledgeWildcardResources } from '../nag.ts';
import { inventoryStatements, inventoryWildcards } from '../inventory-permissions.ts';

export interface CollectorRoleProps {
  /** Account of the evidence stack (may be the same account). */
  readonly evidenceAccountId: string;
  /** Name of the evidence stack: only its roles (`<stack>-*`) may assume the collector. */
  readonly evidenceStackName: string;
  readonly externalId: string;
  /** The role's fixed name, which the evidence functions address it by. */
  readonly roleName: string;
  readonly trailBucket: string;
  readonly trailPrefix: string;
  /** @default - the trail is not SSE-KMS encrypted with a customer key */
  readonly trailKmsKeyArn?: string;
}

/** The member account's collector role. */
export class CollectorRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: CollectorRoleProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const p = stack.partition;
    const evidenceRoles = `arn:${p}:iam::${props.evidenceAccountId}:role/${props.evidenceStackName}-*`;

    this.role = new iam.Role(this, 'Resource', {
      roleName: props.roleName,
      description: 'Amber collector: describe, snapshot, share and isolate instances for the evidence account',
      maxSessionDuration: Duration.hours(1),
      assumedBy: new iam.AccountPrincipal(props.evidenceAccountId).withConditions({
        StringEquals: { 'sts:ExternalId': props.externalId },
        ArnLike: { 'aws:PrincipalArn': evidenceRoles },
      }),
    });
    const allow = (sid: string, actions: string[], resources: string[], conditions?: Record<string, Record<string, unknown>>): void => {
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions, resources, ...(conditions ? { conditions } : {}) }));
    };
    const account: Ec2Account = { partition: p, account: stack.account };
    grantEc2(this.role, account, [
      ...describeStatements(),
      ...captureStatements(account),
      ...snapshotStatements(account),
      ...shareStatements(account, props.evidenceAccountId, `arn:${p}:kms:*:${props.evidenceAccountId}:key/*`),
      ...isolationStatements(account),
      ...ssmCaptureStatements(account),
      ...ebsReadStatements(account),
    ]);
    // CloudTrail event history of this account (the log preservation's LookupEvents); no resource-level permissions,
    // so it shares the "*" statement's acknowledgement grantEc2 gave (calls without resource-level permissions).
    allow('LookupEventHistory', ['cloudtrail:LookupEvents'], ['*']);

    // The trail, read only.
    const trailLogs = `${props.trailPrefix ? `${props.trailPrefix}/` : ''}AWSLogs/`;
    allow('ListTrail', ['s3:ListBucket'], [`arn:${p}:s3:::${props.trailBucket}`], { StringLike: { 's3:prefix': [`${trailLogs}*`] } });
    allow('ReadTrail', ['s3:GetObject'], [`arn:${p}:s3:::${props.trailBucket}/${trailLogs}*`]);
    if (props.trailKmsKeyArn) allow('DecryptTrail', ['kms:Decrypt'], [props.trailKmsKeyArn], { StringLike: { 'kms:ViaService': 's3.*.amazonaws.com' } });

    // The inventory (take-inventory): read-only, exactly the calls the inventory source makes.
    for (const statement of inventoryStatements(p, stack.account)) this.role.addToPrincipalPolicy(statement);
    for (const w of inventoryWildcards(p, stack.account)) acknowledgeWildcardResources(this.role, w.resources, w.reason);

    // A guardrail that survives later edits: whatever else this role is given, it never removes or unlocks objects.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'NeverTamperWithObjects',
        effect: iam.Effect.DENY,
        actions: [
          's3:DeleteObject',
          's3:DeleteObjectVersion',
          's3:PutObjectRetention',
          's3:PutObjectLegalHold',
          's3:BypassGovernanceRetention',
          's3:PutBucketPolicy',
          's3:DeleteBucketPolicy',
          's3:PutBucketObjectLockConfiguration',
          's3:PutLifecycleConfiguration',
          's3:PutBucketVersioning',
        ],
        resources: ['*'],
      }),
    );

    acknowledgeWildcardResources(
      this.role,
      [`arn:${p}:kms:*:${props.evidenceAccountId}:key/*`],
      'The evidence key (its id is not known to this stack): used only through EC2 to re-encrypt a case snapshot for sharing; the evidence key\'s policy admits only collector roles, through EC2.',
    );
    acknowledgeWildcardResources(this.role, [`arn:${p}:s3:::${props.trailBucket}/${trailLogs}*`], 'The trail\'s CloudTrail objects under AWSLogs/, named by account, region and day at run time; read only.');
  }
}
