/**
 * Member-account instances deliver their SSM output and memory images to the evidence bucket's staging prefix
 * (`_work/ssm/`) with their own instance profiles. Evaluated offline with iam-simulate over the synthesized bucket
 * policy and key policy (GIVEN / WHEN / THEN): a member account's instance role may put objects there, SSE-KMS
 * with the evidence key through S3 only, and nowhere else; another account may not; nobody of a member account
 * gains a read or a delete; single-account deployments get no such statement.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { EvidenceBucket } from '../../infra/lib/constructs/evidence-bucket.ts';
import { EVIDENCE_LAYOUT } from '../../infra/lib/defaults.ts';
import { logicalIdAt, resolveCfn, type CfnEnv, type CfnTemplate } from '../helpers/cfn.ts';
import { EVIDENCE_ACCOUNT, MEMBER_ACCOUNT, MULTI_ACCOUNT, OTHER_ACCOUNT, REGION, testApp, templates } from '../helpers/infra.ts';

type Decision = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';
type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource?: string | string[]; Principal?: unknown; Condition?: Record<string, Record<string, unknown>> };
const list = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
const env: CfnEnv = { account: EVIDENCE_ACCOUNT, region: REGION };
const ORG = 'o-a1b2c3d4e5';

interface Facts {
  bucket: string;
  bucketPolicy: { Statement: Statement[] };
  keyArn: string;
  keyPolicy: { Statement: Statement[] };
}

function facts(t: CfnTemplate, path = 'AmberEvidence/Evidence'): Facts {
  const bucketId = logicalIdAt(t, `${path}/Resource/Resource`);
  const [, policy] = Object.entries(t.Resources).find(([, r]) => r.Type === 'AWS::S3::BucketPolicy' && (r.Properties!.Bucket as { Ref: string }).Ref === bucketId)!;
  const keyId = logicalIdAt(t, `${path}/Key/Resource`);
  return {
    bucket: resolveCfn({ Ref: bucketId }, t, env) as string,
    bucketPolicy: resolveCfn(policy.Properties!.PolicyDocument, t, env) as Facts['bucketPolicy'],
    keyArn: resolveCfn({ 'Fn::GetAtt': [keyId, 'Arn'] }, t, env) as string,
    keyPolicy: resolveCfn(t.Resources[keyId]!.Properties!.KeyPolicy, t, env) as Facts['keyPolicy'],
  };
}

/**
 * An instance role of `account` whose own IAM is broad (any S3 object, the key for anything), so the evidence
 * account's policies alone decide: the least the README asks for is a subset of this.
 */
function instanceRole(account: string, orgId?: string): { principal: string; identity: Array<{ name: string; policy: unknown }>; context: Record<string, string> } {
  return {
    principal: `arn:aws:iam::${account}:role/web-server-instance-role`,
    identity: [
      {
        name: 'broad',
        policy: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: ['s3:*', 'kms:*'], Resource: '*' }],
        },
      },
    ],
    context: { 'aws:PrincipalAccount': account, ...(orgId ? { 'aws:PrincipalOrgID': orgId } : {}) },
  };
}

async function decide(caller: ReturnType<typeof instanceRole>, action: string, resource: string, resourcePolicy: unknown, context: Record<string, string> = {}): Promise<Decision> {
  const result = await runSimulation(
    {
      request: {
        principal: caller.principal,
        action,
        resource: { resource, accountId: EVIDENCE_ACCOUNT },
        contextVariables: { 'aws:SecureTransport': 'true', 'aws:PrincipalArn': caller.principal, ...caller.context, ...context },
      },
      identityPolicies: caller.identity,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy,
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(`simulation rejected ${action} on ${resource}: ${JSON.stringify(result.errors)}`);
  return result.overallResult as Decision;
}

const IMAGE = '_work/ssm/C-1/req-1/memory/i-0123456789abcdef0/memory.lime';
const STDOUT = '_work/ssm/C-1/req-1/volatile/i-0123456789abcdef0/awsrunShellScript/0.awsrunShellScript/stdout';
const KMS_VIA_S3 = { 'kms:ViaService': `s3.${REGION}.amazonaws.com` };

describe('member instances write SSM output and memory images to _work/ssm/ of the evidence bucket', () => {
  let multi: Facts;
  let org: Facts;
  let single: Facts;

  beforeAll(async () => {
    // GIVEN a multi-account deployment listing member 222222222222, one naming only the organisation, and a single-account one
    multi = facts(templates(await testApp({ context: { ...MULTI_ACCOUNT } })).evidenceJson);
    // The organisation-only case on the evidence store alone, as the evidence stack builds it.
    const app = new App({ context: { 'aws:cdk:enable-path-metadata': true } });
    const stack = new Stack(app, 'OrgEvidence', { env: { account: EVIDENCE_ACCOUNT, region: REGION } });
    new EvidenceBucket(stack, 'Evidence', { retentionDays: 365, memberInstanceStaging: { prefix: EVIDENCE_LAYOUT.ssmStaging, accountIds: [], organizationId: ORG } });
    org = facts(Template.fromStack(stack).toJSON() as CfnTemplate, 'OrgEvidence/Evidence');
    single = facts(templates(await testApp()).evidenceJson);
  });

  describe('listed member accounts', () => {
    const member = (): ReturnType<typeof instanceRole> => instanceRole(MEMBER_ACCOUNT);
    const on = (action: string, key: string, context: Record<string, string> = {}): Promise<Decision> => decide(member(), action, `arn:aws:s3:::${multi.bucket}/${key}`, multi.bucketPolicy, context);

    it('may put the memory image and Run Command output under _work/ssm/, with or without the SSE-KMS header, and manage the multipart upload', async () => {
      expect(await on('s3:PutObject', IMAGE)).toBe('Allowed');
      expect(await on('s3:PutObject', STDOUT, { 's3:x-amz-server-side-encryption': 'aws:kms' })).toBe('Allowed');
      expect(await on('s3:PutObject', IMAGE, { 's3:x-amz-server-side-encryption': 'aws:kms', 's3:x-amz-server-side-encryption-aws-kms-key-id': multi.keyArn })).toBe('Allowed');
      expect(await on('s3:AbortMultipartUpload', IMAGE)).toBe('Allowed');
      expect(await on('s3:ListMultipartUploadParts', IMAGE)).toBe('Allowed');
    });

    it('may not put anything outside _work/ssm/ (cases, other working files, findings, the bucket root)', async () => {
      for (const key of ['cases/C-1/AWSLogs/x.json.gz', 'cases/C-1/custody-ledger.jsonl', '_work/log-listings/C-1/x.json', '_work/ssmx/C-1/x', '_work/x', 'findings/2026/01/02/x.json', 'x.json']) {
        expect(await on('s3:PutObject', key), key).toBe('ImplicitlyDenied');
      }
    });

    it('is held to SSE-KMS with the evidence key and COMPLIANCE retention even under _work/ssm/', async () => {
      expect(await on('s3:PutObject', IMAGE, { 's3:x-amz-server-side-encryption': 'AES256' })).toBe('ExplicitlyDenied');
      expect(await on('s3:PutObject', IMAGE, { 's3:x-amz-server-side-encryption': 'aws:kms', 's3:x-amz-server-side-encryption-aws-kms-key-id': `arn:aws:kms:${REGION}:${MEMBER_ACCOUNT}:key/mine` })).toBe('ExplicitlyDenied');
      expect(await on('s3:PutObject', IMAGE, { 's3:object-lock-mode': 'GOVERNANCE' })).toBe('ExplicitlyDenied');
    });

    it.each(['s3:GetObject', 's3:GetObjectVersion', 's3:DeleteObject', 's3:DeleteObjectVersion', 's3:PutObjectRetention', 's3:PutObjectAcl', 's3:BypassGovernanceRetention'])(
      'may not %s, its own staged output included',
      async (action) => {
        expect(await on(action, IMAGE)).not.toBe('Allowed');
        expect(await on(action, 'cases/C-1/AWSLogs/x.json.gz')).not.toBe('Allowed');
      },
    );

    it('may not list or reconfigure the bucket', async () => {
      for (const action of ['s3:ListBucket', 's3:ListBucketVersions', 's3:PutBucketPolicy', 's3:PutLifecycleConfiguration']) {
        expect(await decide(member(), action, `arn:aws:s3:::${multi.bucket}`, multi.bucketPolicy), action).not.toBe('Allowed');
      }
    });

    it('another account may not put under _work/ssm/, whatever its own IAM says', async () => {
      expect(await decide(instanceRole(OTHER_ACCOUNT), 's3:PutObject', `arn:aws:s3:::${multi.bucket}/${IMAGE}`, multi.bucketPolicy)).toBe('ImplicitlyDenied');
    });

    it('may use the evidence key through S3 only, for a data key and the multipart upload, and for nothing else', async () => {
      const kms = (caller: ReturnType<typeof instanceRole>, action: string, context: Record<string, string>): Promise<Decision> =>
        decide(caller, action, multi.keyArn, multi.keyPolicy, { 'kms:CallerAccount': caller.context['aws:PrincipalAccount']!, ...context });
      const ctx = { ...KMS_VIA_S3, 'kms:EncryptionContext:aws:s3:arn': `arn:aws:s3:::${multi.bucket}` };
      expect(await kms(member(), 'kms:GenerateDataKey', ctx)).toBe('Allowed');
      expect(await kms(member(), 'kms:Decrypt', ctx)).toBe('Allowed');
      expect(await kms(member(), 'kms:GenerateDataKey', { 'kms:EncryptionContext:aws:s3:arn': `arn:aws:s3:::${multi.bucket}` })).not.toBe('Allowed');
      expect(await kms(member(), 'kms:GenerateDataKey', { 'kms:ViaService': `ec2.${REGION}.amazonaws.com` })).not.toBe('Allowed');
      for (const action of ['kms:Encrypt', 'kms:ReEncryptFrom', 'kms:CreateGrant', 'kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion', 'kms:DisableKey']) {
        expect(await kms(member(), action, ctx), action).not.toBe('Allowed');
      }
      expect(await kms(instanceRole(OTHER_ACCOUNT), 'kms:GenerateDataKey', ctx)).not.toBe('Allowed');
    });

    it('no statement of the bucket or key policy grants a member account a read, a delete or a wildcard action, and its S3 writes name _work/ssm/ only', () => {
      const naming = (statements: Statement[]): Statement[] =>
        statements.filter((s) => s.Effect === 'Allow' && JSON.stringify(s.Principal ?? '').includes(MEMBER_ACCOUNT));
      const s3 = naming(multi.bucketPolicy.Statement);
      expect(s3.map((s) => s.Sid)).toEqual(['MemberInstancesWriteSsmStaging']);
      expect(list(s3[0]!.Action).sort()).toEqual(['s3:AbortMultipartUpload', 's3:ListMultipartUploadParts', 's3:PutObject']);
      expect(list(s3[0]!.Resource)).toEqual([`arn:aws:s3:::${multi.bucket}/_work/ssm/*`]);
      expect(s3[0]!.Condition).toMatchObject({ StringEquals: { 'aws:PrincipalAccount': [MEMBER_ACCOUNT] } });
      for (const a of list(s3[0]!.Action)) expect(a, a).not.toMatch(/^s3:(Get|Delete|List(Bucket|AllMyBuckets))|\*/);
      // Through S3, a member account gets a data key and Decrypt for multipart parts, nothing more; the only other
      // statements naming it are the collector role's snapshot re-encryption, through EC2.
      const key = naming(multi.keyPolicy.Statement);
      const viaS3 = key.filter((s) => JSON.stringify(s.Condition).includes(`s3.${REGION}.amazonaws.com`));
      expect(viaS3.map((s) => [s.Sid, list(s.Action).sort()])).toEqual([['MemberInstancesEncryptSsmStagingThroughS3', ['kms:Decrypt', 'kms:GenerateDataKey']]]);
      for (const s of key.filter((x) => !viaS3.includes(x))) expect(s.Condition?.StringEquals?.['kms:ViaService'], s.Sid).toBe(`ec2.${REGION}.amazonaws.com`);
      for (const a of key.flatMap((s) => list(s.Action))) expect(a, a).not.toMatch(/\*|^kms:(Encrypt|PutKeyPolicy|ScheduleKeyDeletion|DisableKey)$/);
    });
  });

  describe('an organisation without listed accounts', () => {
    it('admits the organisation\'s accounts under _work/ssm/ only, not an outside account', async () => {
      const inOrg = instanceRole(MEMBER_ACCOUNT, ORG);
      const outside = instanceRole(OTHER_ACCOUNT, 'o-zzzzzzzzzz');
      const put = (caller: ReturnType<typeof instanceRole>, key: string): Promise<Decision> => decide(caller, 's3:PutObject', `arn:aws:s3:::${org.bucket}/${key}`, org.bucketPolicy);
      expect(await put(inOrg, IMAGE)).toBe('Allowed');
      expect(await put(inOrg, 'cases/C-1/x.json')).toBe('ImplicitlyDenied');
      expect(await put(outside, IMAGE)).toBe('ImplicitlyDenied');
      const ctx = { ...KMS_VIA_S3, 'kms:EncryptionContext:aws:s3:arn': `arn:aws:s3:::${org.bucket}` };
      expect(await decide(inOrg, 'kms:GenerateDataKey', org.keyArn, org.keyPolicy, { 'kms:CallerAccount': MEMBER_ACCOUNT, ...ctx })).toBe('Allowed');
      expect(await decide(outside, 'kms:GenerateDataKey', org.keyArn, org.keyPolicy, { 'kms:CallerAccount': OTHER_ACCOUNT, ...ctx })).not.toBe('Allowed');
    });

    it('does not open _work/ssm/ to the evidence account\'s own principals through the organisation statement', async () => {
      // A role of the evidence account with no identity policy at all: only a resource policy could let it write.
      const bare = { principal: `arn:aws:iam::${EVIDENCE_ACCOUNT}:role/unrelated`, identity: [], context: { 'aws:PrincipalAccount': EVIDENCE_ACCOUNT, 'aws:PrincipalOrgID': ORG } };
      expect(await decide(bare, 's3:PutObject', `arn:aws:s3:::${org.bucket}/${IMAGE}`, org.bucketPolicy)).toBe('ImplicitlyDenied');
    });
  });

  describe('single-account deployment', () => {
    it('adds no member statement to the bucket or key policy', () => {
      const sids = [...single.bucketPolicy.Statement, ...single.keyPolicy.Statement].map((s) => s.Sid ?? '');
      expect(sids.filter((s) => s.startsWith('MemberInstances'))).toEqual([]);
      expect(multi.bucketPolicy.Statement.length).toBe(single.bucketPolicy.Statement.length + 1);
    });

    it('still gives an instance role of another account nothing under _work/ssm/', async () => {
      expect(await decide(instanceRole(MEMBER_ACCOUNT), 's3:PutObject', `arn:aws:s3:::${single.bucket}/${IMAGE}`, single.bucketPolicy)).toBe('ImplicitlyDenied');
    });
  });
});
