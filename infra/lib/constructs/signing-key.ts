/**
 * The seal-signing key: an asymmetric KMS key (ECC_NIST_EDWARDS25519, SIGN_VERIFY) that signs every sealed
 * manifest and ledger checkpoint the cloud functions write (functions/aws/adapters/kms-signer.ts). Verifying
 * needs only its public key, which each case's ledger records, so verify never calls KMS.
 *
 * Its policy keeps administration with the account (never deletion or disabling: a case keyed with this key
 * can only be extended with it) and lets exactly the roles given to `grantSign` call kms:Sign (Ed25519, RAW
 * messages) and kms:GetPublicKey, in the key policy and in their own policies, on this key alone.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { KEY_ADMIN_COMMON_ACTIONS } from '../kms-admin.ts';

export interface SigningKeyProps {
  /**
   * Alias of the key, for `amber ... --signing-key kms:<alias>`.
   * @default 'alias/amber-signing'
   */
  readonly alias?: string;
}

/** Administration the account keeps. Left out on purpose: deletion, disabling, grants, and every use of the key. */
export const SIGNING_KEY_ADMIN_ACTIONS = [
  'kms:DescribeKey',
  'kms:GetPublicKey',
  'kms:GetKeyPolicy',
  'kms:PutKeyPolicy',
  ...KEY_ADMIN_COMMON_ACTIONS,
];

/** What a function that writes seals and checkpoints may do with the key. */
export const SIGNING_KEY_USE_ACTIONS = ['kms:Sign', 'kms:GetPublicKey'];

/** The KMS key that signs seals and checkpoints, and who may sign with it. */
export class SigningKey extends Construct {
  readonly key: kms.Key;
  readonly alias: string;
  /** The key-policy statements naming the signing roles (created by the first grantSign). */
  private statements: iam.PolicyStatement[] | undefined;

  constructor(scope: Construct, id: string, props: SigningKeyProps = {}) {
    super(scope, id);
    this.alias = props.alias ?? 'alias/amber-signing';
    const account = new iam.AccountRootPrincipal();
    this.key = new kms.Key(this, 'Resource', {
      description: 'Amber seal signing (Ed25519): signs sealed manifests and custody-ledger checkpoints; each case ledger records its public key',
      keySpec: kms.KeySpec.ECC_NIST_EDWARDS25519,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
      // KMS rotates symmetric keys only; an asymmetric key cannot rotate. A case keeps one key (its ledger records
      // the public key), so a new key is a new SigningKey for new cases, never a rotation of this one.
      enableKeyRotation: false,
      pendingWindow: Duration.days(30),
      // Kept when the stack goes: without it, cases it keyed can still be verified, but never extended.
      removalPolicy: RemovalPolicy.RETAIN,
      // An explicit policy replaces CDK's default `kms:*` for the account.
      policy: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: 'KeyAdministrationWithoutDeletionOrUse',
            principals: [account],
            actions: SIGNING_KEY_ADMIN_ACTIONS,
            resources: ['*'],
          }),
        ],
      }),
    });
    this.key.addAlias(this.alias);
    this.node.addValidation({
      validate: () => (this.statements ? [] : ['SigningKey: no role may sign with it; call grantSign(role) for each function that writes seals or checkpoints']),
    });
  }

  /** Lets `role` sign seals and checkpoints with this key (and read its public key), and nothing else with it. */
  grantSign(role: iam.IRole): void {
    const principal = new iam.ArnPrincipal(role.roleArn);
    if (this.statements) {
      for (const statement of this.statements) statement.addPrincipals(principal);
    } else {
      // One statement per action, naming every signing role: Sign only as Ed25519 over a raw message.
      this.statements = [
        new iam.PolicyStatement({
          sid: 'SignSealsEd25519Only',
          principals: [principal],
          actions: ['kms:Sign'],
          resources: ['*'],
          conditions: { StringEquals: { 'kms:SigningAlgorithm': 'ED25519_SHA_512', 'kms:MessageType': 'RAW' } },
        }),
        new iam.PolicyStatement({ sid: 'ReadPublicKey', principals: [principal], actions: ['kms:GetPublicKey'], resources: ['*'] }),
      ];
      for (const statement of this.statements) this.key.addToResourcePolicy(statement);
    }
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'SignSealsWithSigningKey',
        actions: SIGNING_KEY_USE_ACTIONS,
        resources: [this.key.keyArn],
      }),
    );
  }
}
