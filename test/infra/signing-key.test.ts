/**
 * The seal-signing key of the evidence stack, asserted on the synthesized template (GIVEN / WHEN / THEN) and
 * evaluated with iam-simulate: an Ed25519 signing key, retained, never deleted or disabled by its policy; exactly
 * the functions that append to custody ledgers may sign with it, and they get its ARN; nobody else may use it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { Template } from 'aws-cdk-lib/assertions';
import { logicalIdAt, resolveCfn, rolePolicies, type CfnEnv, type CfnTemplate } from '../helpers/cfn.ts';
import { EVIDENCE_ACCOUNT, REGION, testApp, templates } from '../helpers/infra.ts';

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource?: unknown; Principal?: unknown; Condition?: Record<string, Record<string, unknown>> };
const list = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
const env: CfnEnv = { account: EVIDENCE_ACCOUNT, region: REGION };
const KEY_PATH = 'AmberEvidence/SigningKey/Resource/Resource';
// The functions that append to custody ledgers: record-custody, run-detections (accessed entries) and derive-object
// (the derived entry of each object it turns into Parquet).
const SIGNING_ROLES = ['AmberEvidence/RecordCustody/Role/Resource', 'AmberEvidence/Detections/RunDetections/Role/Resource', 'AmberEvidence/DeriveOnPreserve/DeriveObject/Role/Resource'];

describe('SigningKey in the evidence stack', () => {
  let template: Template;
  let json: CfnTemplate;
  let keyId: string;
  let keyArn: string;
  let keyPolicy: { Statement: Statement[] };

  beforeAll(async () => {
    // GIVEN the app with cdk.json's defaults; WHEN it is synthesized
    ({ evidence: template, evidenceJson: json } = templates(await testApp()));
    keyId = logicalIdAt(json, KEY_PATH);
    keyArn = resolveCfn({ 'Fn::GetAtt': [keyId, 'Arn'] }, json, env) as string;
    keyPolicy = resolveCfn(json.Resources[keyId]!.Properties!.KeyPolicy, json, env) as { Statement: Statement[] };
  });

  /** iam-simulate's decision for `roleId` calling `action` on the signing key (identity and key policy together). */
  async function decide(roleId: string, action: string, context: Record<string, string> = {}): Promise<string> {
    const principal = resolveCfn({ 'Fn::GetAtt': [roleId, 'Arn'] }, json, env) as string;
    const result = await runSimulation(
      {
        request: { principal, action, resource: { resource: keyArn, accountId: EVIDENCE_ACCOUNT }, contextVariables: { 'aws:SecureTransport': 'true', 'aws:PrincipalArn': principal, ...context } },
        identityPolicies: rolePolicies(json, roleId, env),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: keyPolicy,
      },
      {},
    );
    if (result.resultType === 'error') throw new Error(`simulation rejected ${action}: ${JSON.stringify(result.errors)}`);
    return String(result.overallResult);
  }

  it('is an Ed25519 signing key (ECC_NIST_EDWARDS25519, SIGN_VERIFY), without rotation (asymmetric keys cannot rotate), retained', () => {
    // THEN
    template.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: { KeySpec: 'ECC_NIST_EDWARDS25519', KeyUsage: 'SIGN_VERIFY', EnableKeyRotation: false, PendingWindowInDays: 30 },
    });
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/amber-signing', TargetKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    template.hasOutput('SigningKeyArn', { Value: { 'Fn::GetAtt': [keyId, 'Arn'] } });
  });

  it('gives its ARN to exactly the functions that append to custody ledgers', () => {
    const withKey = Object.values(json.Resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .flatMap((r) => {
        const vars = (r.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
        return 'SIGNING_KEY_ARN' in vars ? [[vars.AMBER_HANDLER, vars.SIGNING_KEY_ARN]] : [];
      });
    expect(withKey.sort()).toEqual([
      ['derive-object', { 'Fn::GetAtt': [keyId, 'Arn'] }],
      ['record-custody', { 'Fn::GetAtt': [keyId, 'Arn'] }],
      ['run-detections', { 'Fn::GetAtt': [keyId, 'Arn'] }],
    ]);
  });

  it('its policy keeps administration with the account, and neither deletes, disables, grants nor uses the key there', () => {
    const admin = keyPolicy.Statement.find((s) => s.Sid === 'KeyAdministrationWithoutDeletionOrUse')!;
    expect(admin.Principal).toEqual({ AWS: `arn:aws:iam::${EVIDENCE_ACCOUNT}:root` });
    const actions = keyPolicy.Statement.flatMap((s) => list(s.Action));
    for (const forbidden of ['kms:*', 'kms:ScheduleKeyDeletion', 'kms:DisableKey', 'kms:CreateGrant', 'kms:Verify', 'kms:Encrypt', 'kms:Decrypt']) expect(actions, forbidden).not.toContain(forbidden);
    expect(list(admin.Action)).not.toContain('kms:Sign');
    // Only the signing statements name kms:Sign, and only the signing roles, Ed25519 over raw messages only.
    const sign = keyPolicy.Statement.filter((s) => list(s.Action).includes('kms:Sign'));
    expect(sign).toHaveLength(1);
    const roleArns = SIGNING_ROLES.map((p) => resolveCfn({ 'Fn::GetAtt': [logicalIdAt(json, p), 'Arn'] }, json, env));
    expect(list((sign[0]!.Principal as { AWS: string | string[] }).AWS).sort()).toEqual([...roleArns].sort());
    expect(sign[0]!.Condition).toEqual({ StringEquals: { 'kms:SigningAlgorithm': 'ED25519_SHA_512', 'kms:MessageType': 'RAW' } });
  });

  it('no identity policy in the stack names the key for anything but kms:Sign and kms:GetPublicKey, nor kms:Sign on a wildcard', () => {
    const found: Array<{ role: string; actions: string[] }> = [];
    for (const [id, r] of Object.entries(json.Resources)) {
      if (r.Type !== 'AWS::IAM::Role') continue;
      for (const { policy } of rolePolicies(json, id, env)) {
        for (const s of list((policy as { Statement: Statement | Statement[] }).Statement)) {
          const actions = list(s.Action);
          const resources = list(s.Resource as string | string[]);
          if (actions.some((a) => a === 'kms:Sign' || a === 'kms:*' || a === '*')) expect(resources, id).toEqual([keyArn]);
          if (resources.includes(keyArn)) found.push({ role: id, actions: [...actions].sort() });
        }
      }
    }
    expect(found.map((f) => f.role).sort()).toEqual(SIGNING_ROLES.map((p) => logicalIdAt(json, p)).sort());
    for (const f of found) expect(f.actions).toEqual(['kms:GetPublicKey', 'kms:Sign']);
  });

  it('lets record-custody, run-detections and derive-object sign Ed25519 over raw messages and read the public key, and nothing more', async () => {
    for (const path of SIGNING_ROLES) {
      const role = logicalIdAt(json, path);
      expect(await decide(role, 'kms:Sign', { 'kms:SigningAlgorithm': 'ED25519_SHA_512', 'kms:MessageType': 'RAW' }), path).toBe('Allowed');
      expect(await decide(role, 'kms:GetPublicKey'), path).toBe('Allowed');
      expect(await decide(role, 'kms:Sign', { 'kms:SigningAlgorithm': 'ED25519_PH_SHA_512', 'kms:MessageType': 'DIGEST' }), path).not.toBe('Allowed');
      for (const action of ['kms:ScheduleKeyDeletion', 'kms:DisableKey', 'kms:PutKeyPolicy', 'kms:CreateGrant', 'kms:Verify']) expect(await decide(role, action), `${path} ${action}`).not.toBe('Allowed');
    }
  });

  it('no other role of the evidence stack may sign with it or read its public key', async () => {
    const signing = new Set(SIGNING_ROLES.map((p) => logicalIdAt(json, p)));
    const others = Object.entries(json.Resources).filter(([id, r]) => r.Type === 'AWS::IAM::Role' && !signing.has(id));
    expect(others.length).toBeGreaterThanOrEqual(10);
    for (const [id] of others) {
      expect(await decide(id, 'kms:Sign', { 'kms:SigningAlgorithm': 'ED25519_SHA_512', 'kms:MessageType': 'RAW' }), id).not.toBe('Allowed');
      expect(await decide(id, 'kms:GetPublicKey'), id).not.toBe('Allowed');
    }
  });
});
