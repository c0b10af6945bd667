/**
 * Where the deployment anchors each case's ledger head, apart from the evidence bucket: a bucket of its own
 * with Object Lock in COMPLIANCE mode (a default retention as long as the evidence's), versioning, Block Public
 * Access, TLS only and a deny-delete policy. An anchor is a small signed JSON object (amber-anchor/1: case, ledger
 * sequence, SHA-256 of the head line, time, the signing key's fingerprint and signature), not secret, so S3-managed
 * encryption suffices. `amber verify --anchor s3://<bucket>` then catches a case rolled back or rewritten in the
 * evidence bucket: whoever could do that would also have to rewrite objects no one can change here.
 */
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, type IConstruct } from 'constructs';
import { acknowledgeWildcardResources } from '../nag.ts';
import { SECURE_BUCKET_DEFAULTS } from '../defaults.ts';

export interface AnchorBucketProps {
  /** Default Object Lock retention (COMPLIANCE) of every anchor, in days. */
  readonly retentionDays: number;
  /** The bucket that receives this bucket's server access logs (the evidence bucket's log bucket). */
  readonly accessLogsBucket: s3.IBucket;
}

export class AnchorBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: AnchorBucketProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Resource', {
      ...SECURE_BUCKET_DEFAULTS,
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectLockEnabled: true,
      objectLockDefaultRetention: s3.ObjectLockRetention.compliance(Duration.days(props.retentionDays)),
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'anchor-bucket/',
    });
    const anyone = new iam.AnyPrincipal();
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyAnchorDeletion',
        effect: iam.Effect.DENY,
        principals: [anyone],
        actions: ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:BypassGovernanceRetention'],
        resources: [this.bucket.arnForObjects('*')],
      }),
    );
  }

  /** Lets `grantee` write new anchors (and read them back, which the write-once store does to stay idempotent); never delete. */
  grantWriteAnchors(grantee: iam.IGrantable & IConstruct): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket', 's3:GetBucketLocation', 's3:GetBucketObjectLockConfiguration', 's3:GetBucketVersioning'],
        resources: [this.bucket.bucketArn],
      }),
    );
    const objects = [this.bucket.arnForObjects('*')];
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:GetObjectRetention', 's3:PutObject', 's3:PutObjectRetention'],
        resources: objects,
      }),
    );
    acknowledgeWildcardResources(grantee, objects, 'An anchor object is named after its case, sequence and time, known only at run time; this bucket holds only anchors, every one kept under Object Lock COMPLIANCE, and nobody may delete (bucket policy).');
  }
}
