/**
 * The anchor bucket of the evidence stack, asserted on the synthesized template and evaluated with iam-simulate:
 * Object Lock in COMPLIANCE mode for as long as the evidence is kept, deletion denied to everyone; record-custody
 * (which anchors each case's head after every custody step) may write anchors and never delete them, and no
 * other role of the stack may write there.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { Template } from 'aws-cdk-lib/assertions';
import { logicalIdAt, resolveCfn, rolePolicies, type CfnEnv, type CfnTemplate } from '../helpers/cfn.ts';
import { EVIDENCE_ACCOUNT, REGION, testApp, templates } from '../helpers/infra.ts';

const env: CfnEnv = { account: EVIDENCE_ACCOUNT, region: REGION };
const BUCKET_PATH = 'AmberEvidence/Anchors/Resource/Resource';
const WRITER = 'AmberEvidence/RecordCustody/Role/Resource';

describe('Anchor bucket in the evidence stack', () => {
  let template: Template;
  let json: CfnTemplate;
  let bucketId: string;
  let bucketArn: string;
  let bucketPolicy: unknown;

  beforeAll(async () => {
    // GIVEN the app with cdk.json's defaults; WHEN it is synthesized
    ({ evidence: template, evidenceJson: json } = templates(await testApp()));
    bucketId = logicalIdAt(json, BUCKET_PATH);
    bucketArn = resolveCfn({ 'Fn::GetAtt': [bucketId, 'Arn'] }, json, env) as string;
    const policy = Object.values(json.Resources).find((r) => r.Type === 'AWS::S3::BucketPolicy' && JSON.stringify(r.Properties!.Bucket) === JSON.stringify({ Ref: bucketId }))!;
    bucketPolicy = resolveCfn(policy.Properties!.PolicyDocument, json, env);
  }, 300_000);

  async function decide(roleId: string, action: string, key = 'INC-1/0000000005-20261207T120000000Z.json'): Promise<string> {
    const principal = resolveCfn({ 'Fn::GetAtt': [roleId, 'Arn'] }, json, env) as string;
    const result = await runSimulation(
      {
        request: { principal, action, resource: { resource: `${bucketArn}/${key}`, accountId: EVIDENCE_ACCOUNT }, contextVariables: { 'aws:SecureTransport': 'true', 'aws:PrincipalArn': principal } },
        identityPolicies: rolePolicies(json, roleId, env),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: bucketPolicy as never,
      },
      {},
    );
    if (result.resultType === 'error') throw new Error(`simulation rejected ${action}: ${JSON.stringify(result.errors)}`);
    return String(result.overallResult);
  }

  it('keeps every anchor under Object Lock COMPLIANCE for the evidence retention, versioned, private, and names it in an output', () => {
    const retention = (json.Resources[logicalIdAt(json, 'AmberEvidence/Evidence/Resource/Resource')]!.Properties!.ObjectLockConfiguration as { Rule: { DefaultRetention: { Days: number } } }).Rule.DefaultRetention.Days;
    template.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: retention } } },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: { DestinationBucketName: { Ref: logicalIdAt(json, 'AmberEvidence/Evidence/AccessLogs/Resource') }, LogFilePrefix: 'anchor-bucket/' },
    });
    template.hasOutput('AnchorBucketName', { Value: { Ref: bucketId } });
    const withBucket = Object.values(json.Resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .flatMap((r) => {
        const vars = (r.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
        return 'ANCHOR_BUCKET' in vars ? [[vars.AMBER_HANDLER, vars.ANCHOR_BUCKET]] : [];
      });
    expect(withBucket).toEqual([['record-custody', { Ref: bucketId }]]);
  });

  it('lets record-custody write and read anchors, and nobody delete them', async () => {
    const writer = logicalIdAt(json, WRITER);
    expect(await decide(writer, 's3:PutObject')).toBe('Allowed');
    expect(await decide(writer, 's3:GetObject')).toBe('Allowed');
    for (const action of ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:BypassGovernanceRetention']) expect(await decide(writer, action), action).not.toBe('Allowed');
  });

  it('no other role of the stack may write or delete an anchor', async () => {
    const writer = logicalIdAt(json, WRITER);
    const others = Object.entries(json.Resources).filter(([id, r]) => r.Type === 'AWS::IAM::Role' && id !== writer);
    expect(others.length).toBeGreaterThanOrEqual(10);
    for (const [id] of others) {
      for (const action of ['s3:PutObject', 's3:DeleteObject']) expect(await decide(id, action), `${id} ${action}`).not.toBe('Allowed');
    }
  });
});
