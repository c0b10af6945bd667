/**
 * The evidence store: a customer managed KMS key (rotation on, no deletion or disabling in its policy), the
 * evidence bucket (Object Lock in COMPLIANCE mode with a default retention, versioning, SSE-KMS with that key,
 * Block Public Access, TLS only, deny-delete policy, access logs, a colder class after N days, retained when
 * the stack goes) and the separate bucket that receives the evidence bucket's server access logs.
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY } from 'aws-cdk-lib/cx-api';
import { Construct, type IConstruct } from 'constructs';
import { acknowledgeWildcardResources } from '../nag.ts';
import { SECURE_BUCKET_DEFAULTS } from '../defaults.ts';
import { KEY_ADMIN_COMMON_ACTIONS } from '../kms-admin.ts';

export interface EvidenceBucketProps {
  /** Default Object Lock retention (COMPLIANCE mode) of every new object version, in days. */
  readonly retentionDays: number;
  /**
   * Days after which object versions move to S3 Glacier Instant Retrieval (still millisecond reads, so Athena
   * keeps querying them); 0 keeps them in S3 Standard.
   * @default 90
   */
  readonly coldStorageAfterDays?: number;
  /**
   * Services whose principals in this account may use the key, always on behalf of a caller (kms:ViaService).
   * @default ['s3', 'ec2', 'sns']
   */
  readonly keyServices?: readonly string[];
  /**
   * Collector roles in member accounts that may use the key through EC2, to re-encrypt a case snapshot whose
   * own key cannot be shared before sharing it with this account.
   * @default - none (single-account mode)
   */
  readonly snapshotCollectors?: {
    readonly roleName: string;
    readonly accountIds: readonly string[];
    /** Any account of the organisation, when no accounts are listed. */
    readonly organizationId?: string;
  };
  /**
   * Member accounts whose instances write SSM Run Command output and memory images into the staging prefix with
   * their own instance profiles (instance preservation): the bucket policy lets principals of these accounts put
   * objects under `prefix` only, and the key policy lets them encrypt through S3 only. Nothing else becomes
   * writable, nothing becomes readable.
   * @default - none (single-account mode: the instances' profiles are in this account and need only their own IAM)
   */
  readonly memberInstanceStaging?: {
    /** Key prefix the instances write under, ending in `/` (EVIDENCE_LAYOUT.ssmStaging). */
    readonly prefix: string;
    readonly accountIds: readonly string[];
    /** Any account of the organisation (but this one), when no accounts are listed. */
    readonly organizationId?: string;
  };
}

/** What an instance needs of S3 to put its output (multipart included: the CLI and the SSM agent stream large files in parts). */
export const STAGING_WRITE_ACTIONS = ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'];
/**
 * What S3 asks of KMS, on the writer's behalf, for an SSE-KMS upload: a data key, and Decrypt of it for the
 * parts of a multipart upload (S3 documents both as required). Decrypt through S3 reads nothing by itself: the
 * bucket policy grants member accounts no read.
 */
export const STAGING_KEY_ACTIONS = ['kms:GenerateDataKey', 'kms:Decrypt'];

/** Key administration the account keeps; deletion and disabling are left out on purpose (crypto-shredding evidence). */
const KEY_ADMIN_ACTIONS = [
  'kms:DescribeKey',
  'kms:GetKeyPolicy',
  'kms:PutKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:EnableKeyRotation',
  'kms:RotateKeyOnDemand',
  'kms:ListKeyRotations',
  ...KEY_ADMIN_COMMON_ACTIONS,
];

/** What S3, EC2 (snapshot copies) and SNS do with the key on a caller's behalf. */
export const KEY_USE_ACTIONS = [
  'kms:Encrypt',
  'kms:Decrypt',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
  'kms:DescribeKey',
];

/** The evidence bucket, its key and its access-log bucket. */
export class EvidenceBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly key: kms.Key;
  readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: EvidenceBucketProps) {
    super(scope, id);
    const problems: string[] = [];
    if (!Number.isInteger(props.retentionDays) || props.retentionDays < 1) problems.push(`retentionDays must be a whole number of days >= 1, got ${props.retentionDays}`);
    const coldAfter = props.coldStorageAfterDays ?? 90;
    if (!Number.isInteger(coldAfter) || coldAfter < 0) problems.push(`coldStorageAfterDays must be a whole number of days >= 0, got ${coldAfter}`);
    if (problems.length > 0) throw new Error(`EvidenceBucket: ${problems.join('; ')}`);

    // Access-log delivery through a bucket policy, not ACLs (buckets here have ACLs disabled), whatever the app's flags.
    this.node.setContext(S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
    const stack = Stack.of(this);
    const services = (props.keyServices ?? ['s3', 'ec2', 'sns']).map((s) => `${s}.${stack.region}.amazonaws.com`);
    const account = new iam.AccountRootPrincipal();

    this.key = new kms.Key(this, 'Key', {
      description: 'Amber evidence: evidence bucket objects, snapshot copies, Athena results, findings topic',
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
      removalPolicy: RemovalPolicy.RETAIN,
      // An explicit policy replaces CDK's default `kms:*` for the account.
      policy: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: 'KeyAdministrationWithoutDeletion',
            principals: [account],
            actions: KEY_ADMIN_ACTIONS,
            resources: ['*'],
          }),
          new iam.PolicyStatement({
            sid: 'UseThroughAmberServicesOnly',
            principals: [account],
            actions: KEY_USE_ACTIONS,
            resources: ['*'],
            conditions: {
              StringEquals: { 'kms:CallerAccount': stack.account, 'kms:ViaService': services },
            },
          }),
          new iam.PolicyStatement({
            sid: 'GrantsForEbsSnapshotCopies',
            principals: [account],
            actions: ['kms:CreateGrant'],
            resources: ['*'],
            conditions: {
              Bool: { 'kms:GrantIsForAWSResource': 'true' },
              StringEquals: { 'kms:CallerAccount': stack.account, 'kms:ViaService': `ec2.${stack.region}.amazonaws.com` },
            },
          }),
          ...this.collectorStatements(props),
          ...this.stagingKeyStatements(props),
        ],
      }),
    });
    this.key.addAlias('alias/amber-evidence');

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      ...SECURE_BUCKET_DEFAULTS,
      // S3 server access logs can be delivered only to SSE-S3 buckets without Object Lock default retention.
      encryption: s3.BucketEncryption.S3_MANAGED,
      lifecycleRules: [
        {
          id: 'access-logs-to-cold-storage',
          transitions: [{ storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(90) }],
          noncurrentVersionTransitions: [{ storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(30) }],
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
    });
    Validations.of(this.accessLogsBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket is the destination of the evidence bucket\'s server access logs; logging it into itself would loop and a third bucket only moves the question.',
    });

    const transitions = coldAfter > 0 ? [{ storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(coldAfter) }] : [];
    this.bucket = new s3.Bucket(this, 'Resource', {
      ...SECURE_BUCKET_DEFAULTS,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      objectLockEnabled: true,
      objectLockDefaultRetention: s3.ObjectLockRetention.compliance(Duration.days(props.retentionDays)),
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'evidence-bucket/',
      lifecycleRules: [
        {
          id: 'evidence-to-cold-storage',
          transitions,
          noncurrentVersionTransitions: coldAfter > 0 ? [{ storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(coldAfter) }] : [],
          // Parts of uploads that never completed are not evidence (nothing was stored); Object Lock does not cover them.
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
    });

    // Object Created events feed the derive-on-preserve queue (every object preserved, whoever put it). Set on the
    // CloudFormation bucket itself: the L2 `eventBridgeEnabled` adds a custom-resource function with an AWS managed
    // policy, which this stack has none of.
    (this.bucket.node.defaultChild as s3.CfnBucket).addPropertyOverride('NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled', true);

    const objects = this.bucket.arnForObjects('*');
    const anyone = new iam.AnyPrincipal();
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyEvidenceDeletion',
        effect: iam.Effect.DENY,
        principals: [anyone],
        actions: ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:BypassGovernanceRetention'],
        resources: [objects],
      }),
    );
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyRetentionOtherThanCompliance',
        effect: iam.Effect.DENY,
        principals: [anyone],
        actions: ['s3:PutObject', 's3:PutObjectRetention'],
        resources: [objects],
        conditions: { Null: { 's3:object-lock-mode': 'false' }, StringNotEquals: { 's3:object-lock-mode': 'COMPLIANCE' } },
      }),
    );
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyEncryptionOtherThanEvidenceKey',
        effect: iam.Effect.DENY,
        principals: [anyone],
        actions: ['s3:PutObject'],
        resources: [objects],
        conditions: { Null: { 's3:x-amz-server-side-encryption': 'false' }, StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' } },
      }),
    );
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyOtherKmsKeys',
        effect: iam.Effect.DENY,
        principals: [anyone],
        actions: ['s3:PutObject'],
        resources: [objects],
        conditions: {
          Null: { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'false' },
          StringNotEquals: { 's3:x-amz-server-side-encryption-aws-kms-key-id': this.key.keyArn },
        },
      }),
    );
    const staging = this.stagingPrincipals(props);
    if (staging) {
      // The deny statements above still hold for these writes: SSE-KMS with this key only, COMPLIANCE only, no delete.
      this.bucket.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'MemberInstancesWriteSsmStaging',
          principals: staging.principals,
          actions: STAGING_WRITE_ACTIONS,
          resources: [this.bucket.arnForObjects(`${staging.prefix}*`)],
          conditions: { ...staging.conditions, StringEqualsIfExists: { 's3:x-amz-server-side-encryption': 'aws:kms' } },
        }),
      );
    }
  }

  /**
   * The member accounts' principals admitted to the staging prefix, and the condition that keeps them to those
   * accounts (listed accounts, or the organisation without this account).
   */
  private stagingPrincipals(props: EvidenceBucketProps): { prefix: string; principals: iam.IPrincipal[]; conditions: Record<string, Record<string, unknown>> } | undefined {
    const m = props.memberInstanceStaging;
    if (!m || (m.accountIds.length === 0 && !m.organizationId)) return undefined;
    if (!/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*\/$/.test(m.prefix)) throw new Error(`EvidenceBucket: memberInstanceStaging.prefix must be a key prefix ending in "/", got ${JSON.stringify(m.prefix)}`);
    const stack = Stack.of(this);
    if (m.accountIds.length > 0) {
      return {
        prefix: m.prefix,
        principals: m.accountIds.map((a) => new iam.AccountPrincipal(a)),
        conditions: { StringEquals: { 'aws:PrincipalAccount': [...m.accountIds] } },
      };
    }
    return {
      prefix: m.prefix,
      principals: [new iam.AnyPrincipal()],
      conditions: { StringEquals: { 'aws:PrincipalOrgID': m.organizationId }, StringNotEquals: { 'aws:PrincipalAccount': stack.account } },
    };
  }

  /**
   * Key policy statement letting the member accounts' instances encrypt their staged output: through S3 in this
   * region only. The key policy cannot name the evidence bucket in `kms:EncryptionContext:aws:s3:arn` (the bucket
   * already depends on the key, and CloudFormation refuses the cycle; with the S3 Bucket Key enabled that context
   * is the bucket's ARN anyway, never the object's, so it could not name the prefix). The bucket policy is what
   * confines the writes to the staging prefix.
   */
  private stagingKeyStatements(props: EvidenceBucketProps): iam.PolicyStatement[] {
    const staging = this.stagingPrincipals(props);
    if (!staging) return [];
    const stack = Stack.of(this);
    const callers = props.memberInstanceStaging!.accountIds;
    return [
      new iam.PolicyStatement({
        sid: 'MemberInstancesEncryptSsmStagingThroughS3',
        principals: staging.principals,
        actions: STAGING_KEY_ACTIONS,
        resources: ['*'],
        conditions: {
          StringEquals: {
            'kms:ViaService': `s3.${stack.region}.amazonaws.com`,
            ...(callers.length > 0 ? { 'kms:CallerAccount': [...callers] } : { 'aws:PrincipalOrgID': props.memberInstanceStaging!.organizationId }),
          },
          ...(callers.length > 0 ? {} : { StringNotEquals: { 'kms:CallerAccount': stack.account } }),
        },
      }),
    ];
  }

  /** Key policy statements admitting the member accounts' collector roles, through EC2 only. */
  private collectorStatements(props: EvidenceBucketProps): iam.PolicyStatement[] {
    const c = props.snapshotCollectors;
    if (!c || (c.accountIds.length === 0 && !c.organizationId)) return [];
    const stack = Stack.of(this);
    const principals = c.accountIds.length > 0 ? c.accountIds.map((a) => new iam.AccountPrincipal(a)) : [new iam.AnyPrincipal()];
    const conditions = {
      StringEquals: { 'kms:ViaService': `ec2.${stack.region}.amazonaws.com`, ...(c.accountIds.length === 0 ? { 'aws:PrincipalOrgID': c.organizationId } : {}) },
      ArnLike: { 'aws:PrincipalArn': `arn:${stack.partition}:iam::*:role/${c.roleName}` },
    };
    return [
      new iam.PolicyStatement({
        sid: 'MemberCollectorsReencryptSnapshots',
        principals,
        actions: ['kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptTo', 'kms:Decrypt', 'kms:DescribeKey'],
        resources: ['*'],
        conditions,
      }),
      new iam.PolicyStatement({
        sid: 'MemberCollectorsGrantsForSnapshots',
        principals,
        actions: ['kms:CreateGrant'],
        resources: ['*'],
        conditions: { ...conditions, Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      }),
    ];
  }

  /** The condition every KMS use through S3 carries. */
  private viaS3(): Record<string, Record<string, string>> {
    return { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } };
  }

  /**
   * Lets `grantee` read evidence under `prefixes` (object keys, `*` allowed) and list the bucket, with what the
   * S3 object store checks at start-up (Object Lock configuration, versioning).
   */
  grantReadEvidence(grantee: iam.IGrantable & IConstruct, prefixes: readonly string[] = ['*']): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket', 's3:ListBucketVersions', 's3:GetBucketLocation', 's3:GetBucketObjectLockConfiguration', 's3:GetBucketVersioning'],
        resources: [this.bucket.bucketArn],
      }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectRetention', 's3:GetObjectAttributes', 's3:GetObjectVersionAttributes'],
        resources: prefixes.map((p) => this.bucket.arnForObjects(p)),
      }),
    );
    acknowledgeWildcardResources(
      grantee,
      prefixes.map((p) => this.bucket.arnForObjects(p)),
      'Object keys under this prefix (cases/<case>/<source key>, a case\'s records, or the state machines\' working files) are known only at run time; read only.',
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [this.key.keyArn], conditions: this.viaS3() }),
    );
  }

  /**
   * Lets `grantee` add new evidence under `prefixes`: write-once object versions with COMPLIANCE retention and
   * SSE-KMS (the bucket default or this key, never another), multipart parts. No delete of any kind.
   */
  grantWriteEvidence(grantee: iam.IGrantable & IConstruct, prefixes: readonly string[]): void {
    const resources = prefixes.map((p) => this.bucket.arnForObjects(p));
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject', 's3:PutObjectRetention', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        resources,
        conditions: { StringEqualsIfExists: { 's3:x-amz-server-side-encryption': 'aws:kms', 's3:object-lock-mode': 'COMPLIANCE' } },
      }),
    );
    acknowledgeWildcardResources(
      grantee,
      resources,
      'New objects get keys known only at run time under this prefix; every version is kept under Object Lock COMPLIANCE, SSE-KMS only, and neither this role nor anyone may delete (bucket policy).',
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [this.key.keyArn],
        conditions: this.viaS3(),
      }),
    );
  }
}
