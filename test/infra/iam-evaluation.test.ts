/**
 * Offline IAM evaluation of the synthesized policies with @cloud-copilot/iam-simulate (AGPL: test-only, never
 * bundled): identity policies of each role, the evidence bucket policy, the KMS key policy and the collector's
 * trust policy are evaluated together, as AWS would, for the requests that matter.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { logicalIdAt, resolveCfn, rolePolicies, type CfnEnv, type CfnTemplate } from '../helpers/cfn.ts';
import { EVIDENCE_ACCOUNT, MEMBER_ACCOUNT, MULTI_ACCOUNT, OTHER_ACCOUNT, REGION, testApp, templates } from '../helpers/infra.ts';

type Decision = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';

interface Request {
  /** The caller: its ARN and identity policies. */
  readonly principal: string;
  readonly identity: Array<{ name: string; policy: unknown }>;
  readonly action: string;
  readonly resource: string;
  readonly resourceAccount: string;
  readonly resourcePolicy?: unknown;
  readonly context?: Record<string, string | string[]>;
}

/** iam-simulate's decision for one request; simulation input errors fail the test with their detail. */
async function decide(r: Request): Promise<Decision> {
  const result = await runSimulation(
    {
      request: {
        principal: r.principal,
        action: r.action,
        resource: { resource: r.resource, accountId: r.resourceAccount },
        contextVariables: { 'aws:SecureTransport': 'true', 'aws:PrincipalArn': r.principal, ...r.context },
      },
      identityPolicies: r.identity,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(r.resourcePolicy ? { resourcePolicy: r.resourcePolicy } : {}),
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(`simulation rejected ${r.action} on ${r.resource}: ${JSON.stringify(result.errors)}`);
  return result.overallResult as Decision;
}

const evidenceEnv: CfnEnv = { account: EVIDENCE_ACCOUNT, region: REGION };

/** What the tests need from a synthesized evidence template. */
function evidenceFacts(t: CfnTemplate): { bucket: string; bucketPolicy: unknown; keyArn: string; keyPolicy: unknown; workGroup: string } {
  const bucketId = logicalIdAt(t, 'AmberEvidence/Evidence/Resource/Resource');
  const [, policy] = Object.entries(t.Resources).find(([, r]) => r.Type === 'AWS::S3::BucketPolicy' && (r.Properties!.Bucket as { Ref: string }).Ref === bucketId)!;
  const keyId = logicalIdAt(t, 'AmberEvidence/Evidence/Key/Resource');
  return {
    bucket: resolveCfn({ Ref: bucketId }, t, evidenceEnv) as string,
    bucketPolicy: resolveCfn(policy.Properties!.PolicyDocument, t, evidenceEnv),
    keyArn: resolveCfn({ 'Fn::GetAtt': [keyId, 'Arn'] }, t, evidenceEnv) as string,
    keyPolicy: resolveCfn(t.Resources[keyId]!.Properties!.KeyPolicy, t, evidenceEnv),
    workGroup: 'amber',
  };
}

/** A role of the evidence template, as a caller. */
function evidenceRole(t: CfnTemplate, path: string): { principal: string; identity: Array<{ name: string; policy: unknown }> } {
  const id = logicalIdAt(t, path);
  return { principal: `arn:aws:iam::${EVIDENCE_ACCOUNT}:role/AmberEvidence-${id}-0A1B2C3D`, identity: rolePolicies(t, id, evidenceEnv) };
}

const LOCKED = { 's3:x-amz-server-side-encryption': 'aws:kms', 's3:object-lock-mode': 'COMPLIANCE' };

describe('IAM evaluation (iam-simulate over the synthesized policies)', () => {
  let multi: { evidence: CfnTemplate; member: CfnTemplate };
  let single: { evidence: CfnTemplate; member: CfnTemplate };

  beforeAll(async () => {
    // GIVEN the app in multi-account mode (evidence 111111111111, member 222222222222) and in single-account mode
    const m = templates(await testApp({ context: { ...MULTI_ACCOUNT, 'amber:collectorExternalId': 'ext-123' } }));
    const s = templates(await testApp());
    multi = { evidence: m.evidenceJson, member: m.memberJson };
    single = { evidence: s.evidenceJson, member: s.memberJson };
  });

  describe('collector role', () => {
    const collector = (member: CfnTemplate, account: string): { principal: string; identity: Array<{ name: string; policy: unknown }>; trust: unknown } => {
      const id = Object.entries(member.Resources).find(([, r]) => r.Type === 'AWS::IAM::Role' && r.Properties?.RoleName === 'amber-collector')![0];
      const env = { account, region: REGION };
      return {
        principal: `arn:aws:iam::${account}:role/amber-collector`,
        identity: rolePolicies(member, id, env),
        trust: resolveCfn(member.Resources[id]!.Properties!.AssumeRolePolicyDocument, member, env),
      };
    };

    const tampering: Array<[string, Record<string, string>]> = [
      ['s3:DeleteObject', {}],
      ['s3:DeleteObjectVersion', {}],
      ['s3:PutObjectRetention', { 's3:object-lock-mode': 'COMPLIANCE', 's3:object-lock-remaining-retention-days': '1' }],
      ['s3:PutObjectRetention', { 's3:object-lock-mode': 'GOVERNANCE' }],
      ['s3:BypassGovernanceRetention', {}],
      ['s3:PutObject', LOCKED],
      ['s3:GetObject', {}],
    ];

    it.each(tampering)('cannot %s evidence from a member account (context %j)', async (action, context) => {
      const c = collector(multi.member, MEMBER_ACCOUNT);
      const e = evidenceFacts(multi.evidence);
      const decision = await decide({ ...c, action, resource: `arn:aws:s3:::${e.bucket}/cases/C-1/AWSLogs/${MEMBER_ACCOUNT}/CloudTrail/eu-west-1/2026/01/02/x.json.gz`, resourceAccount: EVIDENCE_ACCOUNT, resourcePolicy: e.bucketPolicy, context });
      expect(decision).not.toBe('Allowed');
    });

    it.each(['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:PutObjectRetention', 's3:BypassGovernanceRetention'])(
      'is explicitly denied %s on evidence even in single-account mode, where it shares the account',
      async (action) => {
        const c = collector(single.member, EVIDENCE_ACCOUNT);
        const e = evidenceFacts(single.evidence);
        expect(await decide({ ...c, action, resource: `arn:aws:s3:::${e.bucket}/cases/C-1/x.json`, resourceAccount: EVIDENCE_ACCOUNT, resourcePolicy: e.bucketPolicy })).toBe('ExplicitlyDenied');
      },
    );

    it.each(['s3:PutBucketPolicy', 's3:DeleteBucketPolicy', 's3:PutBucketObjectLockConfiguration', 's3:PutLifecycleConfiguration'])(
      'cannot %s on the evidence bucket',
      async (action) => {
        const c = collector(single.member, EVIDENCE_ACCOUNT);
        const e = evidenceFacts(single.evidence);
        expect(await decide({ ...c, action, resource: `arn:aws:s3:::${e.bucket}`, resourceAccount: EVIDENCE_ACCOUNT, resourcePolicy: e.bucketPolicy })).toBe('ExplicitlyDenied');
      },
    );

    it('snapshots an instance only when the snapshots carry the case tag', async () => {
      const c = collector(multi.member, MEMBER_ACCOUNT);
      const instance = `arn:aws:ec2:${REGION}:${MEMBER_ACCOUNT}:instance/i-0123456789abcdef0`;
      const tagged = { 'aws:RequestTag/amber:case': 'C-1', 'aws:TagKeys': ['amber:case'] };
      expect(await decide({ ...c, action: 'ec2:CreateSnapshots', resource: instance, resourceAccount: MEMBER_ACCOUNT, context: tagged })).toBe('Allowed');
      expect(await decide({ ...c, action: 'ec2:CreateSnapshots', resource: instance, resourceAccount: MEMBER_ACCOUNT })).toBe('ImplicitlyDenied');
    });

    it('shares case snapshots with the evidence account only', async () => {
      const c = collector(multi.member, MEMBER_ACCOUNT);
      const snapshot = `arn:aws:ec2:${REGION}::snapshot/snap-0123456789abcdef0`;
      const base = { 'aws:ResourceTag/amber:case': 'C-1' };
      const share = (context: Record<string, string>): Promise<Decision> => decide({ ...c, action: 'ec2:ModifySnapshotAttribute', resource: snapshot, resourceAccount: MEMBER_ACCOUNT, context });
      expect(await share({ ...base, 'ec2:Add/userId': EVIDENCE_ACCOUNT })).toBe('Allowed');
      expect(await share({ ...base, 'ec2:Add/userId': OTHER_ACCOUNT })).toBe('ImplicitlyDenied');
      expect(await share({ ...base, 'ec2:Add/group': 'all' })).toBe('ImplicitlyDenied');
      expect(await share({ 'ec2:Add/userId': EVIDENCE_ACCOUNT })).toBe('ImplicitlyDenied');
    });

    it('re-encrypts with the evidence key only through EC2 (its identity policy and the evidence key policy together)', async () => {
      const c = collector(multi.member, MEMBER_ACCOUNT);
      const e = evidenceFacts(multi.evidence);
      const use = (action: string, context: Record<string, string>): Promise<Decision> =>
        decide({ ...c, action, resource: e.keyArn, resourceAccount: EVIDENCE_ACCOUNT, resourcePolicy: e.keyPolicy, context: { 'kms:CallerAccount': MEMBER_ACCOUNT, ...context } });
      expect(await use('kms:GenerateDataKeyWithoutPlaintext', { 'kms:ViaService': `ec2.${REGION}.amazonaws.com` })).toBe('Allowed');
      expect(await use('kms:CreateGrant', { 'kms:ViaService': `ec2.${REGION}.amazonaws.com`, 'kms:GrantIsForAWSResource': 'true' })).toBe('Allowed');
      expect(await use('kms:CreateGrant', { 'kms:ViaService': `ec2.${REGION}.amazonaws.com`, 'kms:GrantIsForAWSResource': 'false' })).not.toBe('Allowed');
      expect(await use('kms:Decrypt', {})).not.toBe('Allowed');
      expect(await use('kms:Decrypt', { 'kms:ViaService': `s3.${REGION}.amazonaws.com` })).not.toBe('Allowed');
      expect(await use('kms:PutKeyPolicy', {})).not.toBe('Allowed');
    });

    it('cannot terminate instances or delete snapshots', async () => {
      const c = collector(multi.member, MEMBER_ACCOUNT);
      expect(await decide({ ...c, action: 'ec2:TerminateInstances', resource: `arn:aws:ec2:${REGION}:${MEMBER_ACCOUNT}:instance/i-0123456789abcdef0`, resourceAccount: MEMBER_ACCOUNT })).toBe('ImplicitlyDenied');
      expect(await decide({ ...c, action: 'ec2:DeleteSnapshot', resource: `arn:aws:ec2:${REGION}::snapshot/snap-0123456789abcdef0`, resourceAccount: MEMBER_ACCOUNT, context: { 'aws:ResourceTag/amber:case': 'C-1' } })).toBe('ImplicitlyDenied');
    });

    describe('trust', () => {
      const assume = async (principal: string, externalId: string | undefined): Promise<Decision> => {
        const c = collector(multi.member, MEMBER_ACCOUNT);
        const capture = evidenceRole(multi.evidence, 'AmberEvidence/InstancePreservation/CaptureInstance/Role/Resource');
        return decide({
          principal,
          identity: capture.identity,
          action: 'sts:AssumeRole',
          resource: c.principal,
          resourceAccount: MEMBER_ACCOUNT,
          resourcePolicy: c.trust,
          context: externalId === undefined ? {} : { 'sts:ExternalId': externalId },
        });
      };

      it('lets the evidence stack\'s functions assume the role with the external id', async () => {
        expect(await assume(`arn:aws:iam::${EVIDENCE_ACCOUNT}:role/AmberEvidence-CaptureInstanceRole-0A1B2C3D`, 'ext-123')).toBe('Allowed');
      });

      it('refuses a wrong or missing external id, another role of the evidence account, and another account', async () => {
        expect(await assume(`arn:aws:iam::${EVIDENCE_ACCOUNT}:role/AmberEvidence-CaptureInstanceRole-0A1B2C3D`, 'guess')).not.toBe('Allowed');
        expect(await assume(`arn:aws:iam::${EVIDENCE_ACCOUNT}:role/AmberEvidence-CaptureInstanceRole-0A1B2C3D`, undefined)).not.toBe('Allowed');
        expect(await assume(`arn:aws:iam::${EVIDENCE_ACCOUNT}:role/SomeOtherStack-Role-0A1B2C3D`, 'ext-123')).not.toBe('Allowed');
        expect(await assume(`arn:aws:iam::${OTHER_ACCOUNT}:role/AmberEvidence-CaptureInstanceRole-0A1B2C3D`, 'ext-123')).not.toBe('Allowed');
      });
    });
  });

  describe('run-detections function', () => {
    const role = (): ReturnType<typeof evidenceRole> => evidenceRole(single.evidence, 'AmberEvidence/Detections/RunDetections/Role/Resource');
    const onEvidence = async (action: string, key: string, context: Record<string, string> = {}): Promise<Decision> => {
      const e = evidenceFacts(single.evidence);
      return decide({ ...role(), action, resource: `arn:aws:s3:::${e.bucket}/${key}`, resourceAccount: EVIDENCE_ACCOUNT, resourcePolicy: e.bucketPolicy, context });
    };

    it('reads evidence', async () => {
      expect(await onEvidence('s3:GetObject', `cases/C-1/AWSLogs/${EVIDENCE_ACCOUNT}/CloudTrail/eu-west-1/2026/01/02/x.json.gz`)).toBe('Allowed');
    });

    it('writes only findings and custody records of cases, SSE-KMS and COMPLIANCE only', async () => {
      expect(await onEvidence('s3:PutObject', 'findings/2026/01/02/20260102T030000Z-0123456789ab.json', LOCKED)).toBe('Allowed');
      expect(await onEvidence('s3:PutObject', 'cases/C-1/custody-ledger.jsonl', {})).toBe('Allowed');
      expect(await onEvidence('s3:PutObject', 'cases/C-1/_amber/checkpoints/0000000042.json', LOCKED)).toBe('Allowed');
      expect(await onEvidence('s3:PutObject', 'cases/C-1/AWSLogs/x.json.gz', LOCKED)).toBe('ImplicitlyDenied');
      expect(await onEvidence('s3:PutObject', '_work/log-listings/C-1/x.json', LOCKED)).toBe('ImplicitlyDenied');
      expect(await onEvidence('s3:PutObject', 'findings.json', LOCKED)).toBe('ImplicitlyDenied');
      expect(await onEvidence('s3:PutObject', 'findings/2026/01/02/x.json', { 's3:x-amz-server-side-encryption': 'AES256' })).toBe('ExplicitlyDenied');
      expect(await onEvidence('s3:PutObject', 'findings/2026/01/02/x.json', { 's3:object-lock-mode': 'GOVERNANCE' })).toBe('ExplicitlyDenied');
      expect(
        await onEvidence('s3:PutObject', 'findings/2026/01/02/x.json', {
          's3:x-amz-server-side-encryption': 'aws:kms',
          's3:x-amz-server-side-encryption-aws-kms-key-id': `arn:aws:kms:${REGION}:${OTHER_ACCOUNT}:key/other`,
        }),
      ).toBe('ExplicitlyDenied');
    });

    it.each(['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:BypassGovernanceRetention'])('cannot %s, even its own findings', async (action) => {
      expect(await onEvidence(action, 'findings/2026/01/02/x.json')).toBe('ExplicitlyDenied');
    });

    it('cannot change the bucket policy', async () => {
      const e = evidenceFacts(single.evidence);
      expect(await decide({ ...role(), action: 's3:PutBucketPolicy', resource: `arn:aws:s3:::${e.bucket}`, resourceAccount: EVIDENCE_ACCOUNT, resourcePolicy: e.bucketPolicy })).toBe('ImplicitlyDenied');
    });

    it('decrypts evidence only through S3 (identity policy and key policy together)', async () => {
      const e = evidenceFacts(single.evidence);
      const kms = (context: Record<string, string>): Promise<Decision> =>
        decide({ ...role(), action: 'kms:Decrypt', resource: e.keyArn, resourceAccount: EVIDENCE_ACCOUNT, resourcePolicy: e.keyPolicy, context: { 'kms:CallerAccount': EVIDENCE_ACCOUNT, ...context } });
      expect(await kms({ 'kms:ViaService': `s3.${REGION}.amazonaws.com` })).toBe('Allowed');
      expect(await kms({})).not.toBe('Allowed');
      expect(await kms({ 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com` })).not.toBe('Allowed');
    });

    it('queries in its workgroup only', async () => {
      const wg = (name: string): Promise<Decision> =>
        decide({ ...role(), action: 'athena:StartQueryExecution', resource: `arn:aws:athena:${REGION}:${EVIDENCE_ACCOUNT}:workgroup/${name}`, resourceAccount: EVIDENCE_ACCOUNT });
      expect(await wg('amber')).toBe('Allowed');
      expect(await wg('primary')).toBe('ImplicitlyDenied');
    });
  });

  describe('every evidence-account role', () => {
    it('is denied deleting evidence and cannot rewrite the bucket policy', async () => {
      const e = evidenceFacts(single.evidence);
      const roles = Object.entries(single.evidence.Resources).filter(([, r]) => r.Type === 'AWS::IAM::Role');
      expect(roles.length).toBeGreaterThanOrEqual(13);
      for (const [id] of roles) {
        const caller = { principal: `arn:aws:iam::${EVIDENCE_ACCOUNT}:role/AmberEvidence-${id}`, identity: rolePolicies(single.evidence, id, evidenceEnv) };
        for (const action of ['s3:DeleteObject', 's3:DeleteObjectVersion']) {
          expect(await decide({ ...caller, action, resource: `arn:aws:s3:::${e.bucket}/cases/C-1/x.json`, resourceAccount: EVIDENCE_ACCOUNT, resourcePolicy: e.bucketPolicy }), `${id} ${action}`).toBe('ExplicitlyDenied');
        }
        expect(await decide({ ...caller, action: 's3:PutBucketPolicy', resource: `arn:aws:s3:::${e.bucket}`, resourceAccount: EVIDENCE_ACCOUNT, resourcePolicy: e.bucketPolicy }), id).not.toBe('Allowed');
      }
    });
  });

  describe('log preservation state machine', () => {
    it('reads only the listings and writes only its map results', async () => {
      const e = evidenceFacts(single.evidence);
      const sm = evidenceRole(single.evidence, 'AmberEvidence/LogPreservation/Role/Resource/Resource');
      const on = (action: string, key: string): Promise<Decision> =>
        decide({ ...sm, action, resource: `arn:aws:s3:::${e.bucket}/${key}`, resourceAccount: EVIDENCE_ACCOUNT, resourcePolicy: e.bucketPolicy });
      expect(await on('s3:GetObject', '_work/log-listings/C-1/req-1-0123456789abcdef.json')).toBe('Allowed');
      expect(await on('s3:GetObject', 'cases/C-1/AWSLogs/x.json.gz')).toBe('ImplicitlyDenied');
      expect(await on('s3:PutObject', '_work/log-copies/map-run/manifest.json')).toBe('Allowed');
      expect(await on('s3:PutObject', 'cases/C-1/AWSLogs/x.json.gz')).toBe('ImplicitlyDenied');
      expect(await on('s3:PutObject', 'findings/x.json')).toBe('ImplicitlyDenied');
    });
  });

  describe('instance functions in the evidence account itself (own credentials, no collector)', () => {
    it('snapshot only with the case tag, isolate only through a quarantine group, and do nothing else', async () => {
      const create = evidenceRole(single.evidence, 'AmberEvidence/InstancePreservation/CreateSnapshots/Role/Resource');
      const isolate = evidenceRole(single.evidence, 'AmberEvidence/InstancePreservation/IsolateInstance/Role/Resource');
      const instance = `arn:aws:ec2:${REGION}:${EVIDENCE_ACCOUNT}:instance/i-0123456789abcdef0`;
      const tagged = { 'aws:RequestTag/amber:case': 'C-1', 'aws:TagKeys': ['amber:case', 'amber:request-id'] };
      expect(await decide({ ...create, action: 'ec2:CreateSnapshots', resource: instance, resourceAccount: EVIDENCE_ACCOUNT, context: tagged })).toBe('Allowed');
      expect(await decide({ ...create, action: 'ec2:CreateSnapshots', resource: instance, resourceAccount: EVIDENCE_ACCOUNT })).toBe('ImplicitlyDenied');
      expect(await decide({ ...create, action: 'ec2:CreateSnapshots', resource: `arn:aws:ec2:${REGION}:${OTHER_ACCOUNT}:instance/i-0123456789abcdef0`, resourceAccount: OTHER_ACCOUNT, context: tagged })).toBe('ImplicitlyDenied');
      expect(await decide({ ...create, action: 'ec2:ModifyInstanceAttribute', resource: instance, resourceAccount: EVIDENCE_ACCOUNT })).toBe('ImplicitlyDenied');
      const group = `arn:aws:ec2:${REGION}:${EVIDENCE_ACCOUNT}:security-group/sg-0123456789abcdef0`;
      expect(await decide({ ...isolate, action: 'ec2:RevokeSecurityGroupEgress', resource: group, resourceAccount: EVIDENCE_ACCOUNT, context: { 'aws:ResourceTag/amber:purpose': 'quarantine' } })).toBe('Allowed');
      expect(await decide({ ...isolate, action: 'ec2:RevokeSecurityGroupEgress', resource: group, resourceAccount: EVIDENCE_ACCOUNT })).toBe('ImplicitlyDenied');
      expect(await decide({ ...isolate, action: 'ec2:CreateSnapshots', resource: instance, resourceAccount: EVIDENCE_ACCOUNT, context: tagged })).toBe('ImplicitlyDenied');
    });
  });

  describe('copy-snapshots function', () => {
    it('copies shared snapshots into the evidence account only when the copy carries the case tag', async () => {
      const copy = evidenceRole(multi.evidence, 'AmberEvidence/InstancePreservation/CopySnapshots/Role/Resource');
      const snapshot = `arn:aws:ec2:${REGION}::snapshot/snap-0123456789abcdef0`;
      expect(await decide({ ...copy, action: 'ec2:CopySnapshot', resource: snapshot, resourceAccount: EVIDENCE_ACCOUNT, context: { 'aws:RequestTag/amber:case': 'C-1', 'aws:TagKeys': ['amber:case'] } })).toBe('Allowed');
      expect(await decide({ ...copy, action: 'ec2:CopySnapshot', resource: snapshot, resourceAccount: EVIDENCE_ACCOUNT })).toBe('ImplicitlyDenied');
    });
  });
});
