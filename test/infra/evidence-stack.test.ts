/**
 * The evidence stack's security properties and wiring, asserted on the synthesized template
 * (Template.fromStack, GIVEN / WHEN / THEN). One app is synthesized per configuration and shared.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { HANDLER_ENV, type HandlerName } from '../../functions/aws/handlers/contracts.ts';
import { windowedSql, type Detection } from '../../shared/detections/catalogue.ts';
import { CLOUDTRAIL_COLUMNS } from '../../shared/query/tables/cloudtrail.ts';
import { ConfigError, readConfig } from '../../infra/lib/config.ts';
import { ATHENA_TABLES, SCHEDULED_TABLES } from '../../infra/lib/constructs/athena-tables.ts';
import { LOG_SOURCES } from '../../shared/sources/registry.ts';
import { detectionSchedules } from '../../infra/lib/constructs/scheduled-detections.ts';
import { assertTrinoSql } from '../helpers/trino-sql.ts';
import { catalogue, EVIDENCE_ACCOUNT, testApp, templates } from '../helpers/infra.ts';
import type { CfnTemplate } from '../helpers/cfn.ts';

type Statement = { Effect: string; Action: string | string[]; Resource?: unknown; Principal?: unknown; Condition?: Record<string, Record<string, unknown>>; Sid?: string };
const list = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

function resourcesOfType(t: CfnTemplate, type: string): Array<[string, Record<string, unknown>]> {
  return Object.entries(t.Resources)
    .filter(([, r]) => r.Type === type)
    .map(([id, r]) => [id, r.Properties ?? {}]);
}

function pathOf(t: CfnTemplate, id: string): string {
  return String(t.Resources[id]?.Metadata?.['aws:cdk:path'] ?? id);
}

/** The evidence bucket's logical id (construct path AmberEvidence/Evidence/Resource). */
function evidenceBucketId(t: CfnTemplate): string {
  const [id] = Object.entries(t.Resources).find(([, r]) => r.Metadata?.['aws:cdk:path'] === 'AmberEvidence/Evidence/Resource/Resource') ?? [];
  if (!id) throw new Error('no evidence bucket');
  return id;
}

function bucketPolicyStatements(t: CfnTemplate, bucketId: string): Statement[] {
  const policy = resourcesOfType(t, 'AWS::S3::BucketPolicy').find(([, p]) => (p.Bucket as { Ref?: string }).Ref === bucketId);
  if (!policy) throw new Error(`no policy for ${bucketId}`);
  return (policy[1].PolicyDocument as { Statement: Statement[] }).Statement;
}

/** Every policy statement in a template: IAM policies, inline role policies, key, bucket, queue and topic policies. */
export function allStatements(t: CfnTemplate): Array<{ where: string; statement: Statement }> {
  const out: Array<{ where: string; statement: Statement }> = [];
  const add = (where: string, doc: unknown): void => {
    for (const s of list((doc as { Statement?: Statement | Statement[] } | undefined)?.Statement)) out.push({ where, statement: s });
  };
  for (const [id, r] of Object.entries(t.Resources)) {
    const p = r.Properties ?? {};
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::S3::BucketPolicy' || r.Type === 'AWS::SQS::QueuePolicy' || r.Type === 'AWS::SNS::TopicPolicy') add(pathOf(t, id), p.PolicyDocument);
    if (r.Type === 'AWS::KMS::Key') add(pathOf(t, id), p.KeyPolicy);
    if (r.Type === 'AWS::IAM::Role') for (const inline of list(p.Policies as Array<{ PolicyDocument: unknown }>)) add(pathOf(t, id), inline.PolicyDocument);
  }
  return out;
}

describe('EvidenceStack', () => {
  let evidence: Template;
  let json: CfnTemplate;
  let detections: Detection[];
  let localOnly: Detection[];
  let all: Detection[];
  let info: string[];
  // A second configuration exercising every context value the first leaves at its default.
  let other: Template;
  let otherJson: CfnTemplate;

  beforeAll(async () => {
    // GIVEN the app with cdk.json's defaults, in single-account mode
    all = await catalogue();
    detections = all.filter((d) => SCHEDULED_TABLES.includes(d.table));
    localOnly = all.filter((d) => !ATHENA_TABLES.includes(d.table));
    // WHEN it is synthesized
    const app = await testApp();
    ({ evidence, evidenceJson: json } = templates(app));
    info = app.evidence.node.metadata.filter((m) => m.type === 'aws:cdk:info').map((m) => String(m.data));
    ({ evidence: other, evidenceJson: otherJson } = templates(
      await testApp({
        context: {
          'amber:retentionDays': 2555,
          'amber:coldStorageAfterDays': 30,
          'amber:athenaBytesScannedCutoff': 1073741824,
          'amber:guardDutyMinSeverity': 4.5,
          'amber:securityHubCustomAction': false,
          'amber:trailPrefix': 'org/trail',
          'amber:organizationId': 'o-a1b2c3d4e5',
          'amber:singleAccount': false,
          'amber:memberAccountIds': ['222222222222', '333333333333'],
        },
      }),
    ));
  });

  it('defines an Athena table for every table a detection reads', () => {
    expect(localOnly).toEqual([]);
    const glueTables = resourcesOfType(json, 'AWS::Glue::Table').map(([, t]) => (t.TableInput as { Name: string }).Name);
    for (const table of new Set(all.map((d) => d.table))) expect(glueTables, table).toContain(table);
    for (const s of LOG_SOURCES) expect(ATHENA_TABLES).toContain(s.table);
  });

  it('schedules every detection that has a table in Athena, and lists any other one with its reason', () => {
    expect(detections.length).toBeGreaterThan(0);
    const scheduled = resourcesOfType(json, 'AWS::Scheduler::Schedule').flatMap(([, s]) => (JSON.parse((s as { Target: { Input: string } }).Target.Input) as { detections: string[] }).detections);
    const athenaCapable = all.filter((d) => ATHENA_TABLES.includes(d.table));
    // Not only CloudTrail: every source's detections run on their schedule (per case over the derived Parquet).
    expect(new Set(athenaCapable.map((d) => d.table)).size).toBeGreaterThan(1);
    for (const d of athenaCapable) expect(scheduled, `${d.id} (${d.table})`).toContain(d.id);
    const listed = info.find((m) => m.includes('are not scheduled')) ?? '';
    for (const d of all.filter((x) => !ATHENA_TABLES.includes(x.table))) expect(listed, d.id).toContain(`${d.id} (${d.table})`);
    expect(info.join('\n')).not.toContain('no Athena table');
  });

  describe('Evidence bucket', () => {
    it('locks every object version in COMPLIANCE mode for the configured days, versioned, and is retained', () => {
      // THEN
      evidence.hasResource('AWS::S3::Bucket', {
        Properties: Match.objectLike({
          ObjectLockEnabled: true,
          ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 365 } } },
          VersioningConfiguration: { Status: 'Enabled' },
        }),
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    });

    it('takes its retention and cold-storage days from context', () => {
      // GIVEN other days in context; THEN
      other.hasResourceProperties('AWS::S3::Bucket', {
        ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 2555 } } },
        LifecycleConfiguration: {
          Rules: Match.arrayWith([Match.objectLike({ Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 30 }] })]),
        },
      });
    });

    it('encrypts with the customer managed key (bucket key on), blocks public access, logs to the separate log bucket, moves to a colder class', () => {
      const bucket = json.Resources[evidenceBucketId(json)]!.Properties!;
      expect(bucket.BucketEncryption).toEqual({
        ServerSideEncryptionConfiguration: [
          { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [expect.stringMatching(/^EvidenceKey/), 'Arn'] } } },
        ],
      });
      expect(bucket.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
      expect(bucket.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: expect.stringMatching(/^EvidenceAccessLogs/) }, LogFilePrefix: 'evidence-bucket/' });
      expect(bucket.LifecycleConfiguration).toEqual({
        Rules: [
          expect.objectContaining({
            Status: 'Enabled',
            Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 90 }],
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
          }),
        ],
      });
      expect(JSON.stringify(bucket.LifecycleConfiguration)).not.toMatch(/Expiration/);
    });

    it('has a bucket policy that denies non-TLS requests, every delete, governance bypass, weaker locks and other encryption', () => {
      const statements = bucketPolicyStatements(json, evidenceBucketId(json));
      const denies = statements.filter((s) => s.Effect === 'Deny');
      expect(denies).toContainEqual(expect.objectContaining({ Action: 's3:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
      expect(denies).toContainEqual(
        expect.objectContaining({ Sid: 'DenyEvidenceDeletion', Principal: { AWS: '*' }, Action: expect.arrayContaining(['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:BypassGovernanceRetention']) }),
      );
      expect(denies).toContainEqual(
        expect.objectContaining({
          Sid: 'DenyRetentionOtherThanCompliance',
          Action: expect.arrayContaining(['s3:PutObject', 's3:PutObjectRetention']),
          Condition: { Null: { 's3:object-lock-mode': 'false' }, StringNotEquals: { 's3:object-lock-mode': 'COMPLIANCE' } },
        }),
      );
      expect(denies).toContainEqual(
        expect.objectContaining({ Sid: 'DenyEncryptionOtherThanEvidenceKey', Condition: { Null: { 's3:x-amz-server-side-encryption': 'false' }, StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' } } }),
      );
      expect(denies.map((s) => s.Sid)).toContain('DenyOtherKmsKeys');
      // No statement in the bucket policy allows anything to anyone.
      expect(statements.filter((s) => s.Effect === 'Allow')).toEqual([]);
    });

    it('sends access logs to an SSE-S3, non-public, TLS-only bucket that S3 logging may write to', () => {
      const [logId, logBucket] = resourcesOfType(json, 'AWS::S3::Bucket').find(([id]) => id.startsWith('EvidenceAccessLogs'))!;
      expect(logBucket.BucketEncryption).toEqual({ ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] });
      expect(logBucket.ObjectLockEnabled).toBeUndefined();
      const statements = bucketPolicyStatements(json, logId);
      expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Allow', Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject' }));
      expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    });
  });

  describe('Evidence key', () => {
    it('rotates, is retained, and its policy neither deletes nor disables it nor grants kms:*', () => {
      const [[, key]] = resourcesOfType(json, 'AWS::KMS::Key') as [[string, Record<string, unknown>]];
      expect(key.EnableKeyRotation).toBe(true);
      evidence.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain' });
      const statements = (key.KeyPolicy as { Statement: Statement[] }).Statement;
      const actions = statements.flatMap((s) => list(s.Action));
      expect(actions).not.toContain('kms:*');
      expect(actions.filter((a) => a.includes('*'))).toEqual([]);
      for (const forbidden of ['kms:ScheduleKeyDeletion', 'kms:DisableKey', 'kms:DisableKeyRotation', 'kms:DeleteImportedKeyMaterial']) expect(actions).not.toContain(forbidden);
    });

    it('lets the account use the key only through S3, EC2 and SNS, and create grants only for AWS resources via EC2', () => {
      const [[, key]] = resourcesOfType(json, 'AWS::KMS::Key') as [[string, Record<string, unknown>]];
      const statements = (key.KeyPolicy as { Statement: Statement[] }).Statement;
      const use = statements.find((s) => s.Sid === 'UseThroughAmberServicesOnly')!;
      expect(use.Condition).toEqual({
        StringEquals: {
          'kms:CallerAccount': EVIDENCE_ACCOUNT,
          'kms:ViaService': ['s3.eu-west-1.amazonaws.com', 'ec2.eu-west-1.amazonaws.com', 'sns.eu-west-1.amazonaws.com'],
        },
      });
      const grants = statements.find((s) => s.Sid === 'GrantsForEbsSnapshotCopies')!;
      expect(grants.Action).toBe('kms:CreateGrant');
      expect(grants.Condition?.Bool).toEqual({ 'kms:GrantIsForAWSResource': 'true' });
      // Every statement but administration carries a condition.
      expect(statements.filter((s) => s.Sid !== 'KeyAdministrationWithoutDeletion' && !s.Condition)).toEqual([]);
      // Single-account mode: no other account appears in the key policy.
      expect(statements.map((s) => s.Sid)).not.toContain('MemberCollectorsReencryptSnapshots');
    });

    it('admits the member accounts\' collector roles in multi-account mode, through EC2 only', () => {
      const [[, key]] = resourcesOfType(otherJson, 'AWS::KMS::Key') as [[string, Record<string, unknown>]];
      const statements = (key.KeyPolicy as { Statement: Statement[] }).Statement;
      const use = statements.find((s) => s.Sid === 'MemberCollectorsReencryptSnapshots')!;
      expect(use.Principal).toEqual({ AWS: ['arn:aws:iam::222222222222:root', 'arn:aws:iam::333333333333:root'] });
      expect(use.Condition).toEqual({
        StringEquals: { 'kms:ViaService': 'ec2.eu-west-1.amazonaws.com' },
        ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/amber-collector' },
      });
      expect(list(use.Action).sort()).toEqual(['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptTo']);
      expect(statements.find((s) => s.Sid === 'MemberCollectorsGrantsForSnapshots')!.Condition!.Bool).toEqual({ 'kms:GrantIsForAWSResource': 'true' });
    });
  });

  describe('IAM', () => {
    it('grants no wildcard action anywhere, and no admin-style action in any allow', () => {
      const offenders = allStatements(json)
        .filter(({ statement }) => statement.Effect === 'Allow')
        .flatMap(({ where, statement }) => list(statement.Action).filter((a) => a.includes('*')).map((a) => `${where}: ${a}`));
      expect(offenders).toEqual([]);
    });

    it('gives every function its own role with inline statements, never an AWS managed policy', () => {
      for (const [id, role] of resourcesOfType(json, 'AWS::IAM::Role')) expect(role.ManagedPolicyArns, pathOf(json, id)).toBeUndefined();
    });
  });

  describe('Functions', () => {
    it('bundles every contract handler for Node.js 22 on ARM64 (derive-object on x86_64, for its DuckDB bindings), each with exactly its contract environment plus Powertools', () => {
      const fns = resourcesOfType(json, 'AWS::Lambda::Function');
      const names = fns.map(([, f]) => (f.Environment as { Variables: Record<string, string> }).Variables.AMBER_HANDLER).sort();
      expect(names).toEqual(Object.keys(HANDLER_ENV).sort());
      for (const [id, f] of fns) {
        expect(f.Runtime, id).toBe('nodejs22.x');
        const vars = (f.Environment as { Variables: Record<string, string> }).Variables;
        const handler = vars.AMBER_HANDLER as HandlerName;
        expect(f.Architectures, id).toEqual([handler === 'derive-object' ? 'x86_64' : 'arm64']);
        expect(f.Handler, id).toBe('index.handler');
        const own = Object.keys(vars).filter((k) => !k.startsWith('POWERTOOLS_') && k !== 'AMBER_HANDLER' && k !== 'NODE_OPTIONS').sort();
        expect(own, handler).toEqual([...HANDLER_ENV[handler]].sort());
        expect(vars.POWERTOOLS_SERVICE_NAME).toBe('amber');
        expect(vars.POWERTOOLS_LOG_LEVEL).toBe('INFO');
        expect(f.LoggingConfig).toEqual({ LogFormat: 'JSON', LogGroup: { Ref: expect.any(String) } });
      }
    });

    it('sets the contract values the handlers rely on', () => {
      const env = (handler: string): Record<string, unknown> =>
        (resourcesOfType(json, 'AWS::Lambda::Function').find(([, f]) => (f.Environment as { Variables: Record<string, string> }).Variables.AMBER_HANDLER === handler)![1].Environment as {
          Variables: Record<string, unknown>;
        }).Variables;
      expect(env('capture-instance')).toMatchObject({ RETENTION_DAYS: '365', COLLECTOR_ROLE_NAME: 'amber-collector', COLLECTOR_EXTERNAL_ID: 'amber-evidence-collector' });
      expect(env('copy-snapshots')).toMatchObject({ EVIDENCE_ACCOUNT_ID: EVIDENCE_ACCOUNT, EVIDENCE_KMS_KEY_ARN: { 'Fn::GetAtt': [expect.stringMatching(/^EvidenceKey/), 'Arn'] } });
      expect(env('start-preservation')).toMatchObject({ GUARDDUTY_MIN_SEVERITY: '7', DEFAULT_LOG_WINDOW_HOURS: '24' });
      expect(env('run-detections')).toMatchObject({ ATHENA_WORKGROUP: 'amber', ATHENA_DATABASE: 'amber', SECURITY_HUB_FINDINGS: 'false' });
      expect(env('list-log-objects')).toMatchObject({ TRAIL_BUCKET: 'aws-cloudtrail-logs-amber-example', TRAIL_PREFIX: '', ORGANIZATION_ID: '' });
    });

    it('serialises the custody writers, bounds timeouts and keeps logs for the configured retention', () => {
      const fns = resourcesOfType(json, 'AWS::Lambda::Function');
      const byHandler = new Map(fns.map(([, f]) => [(f.Environment as { Variables: Record<string, string> }).Variables.AMBER_HANDLER, f]));
      expect(byHandler.get('record-custody')!.ReservedConcurrentExecutions).toBe(1);
      expect(byHandler.get('run-detections')!.ReservedConcurrentExecutions).toBe(1);
      for (const [, f] of fns) expect(f.Timeout as number).toBeLessThanOrEqual(900);
      for (const [, g] of resourcesOfType(json, 'AWS::Logs::LogGroup')) expect(g.RetentionInDays).toBe(365);
    });

    it('sends failed asynchronous invocations (rules, schedules) to the dead-letter queue', () => {
      evidence.resourceCountIs('AWS::Lambda::EventInvokeConfig', 2);
      evidence.allResourcesProperties('AWS::Lambda::EventInvokeConfig', {
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FailedInvocations'), 'Arn'] } } },
      });
      evidence.allResourcesProperties('AWS::Events::Rule', {
        Targets: [Match.objectLike({ DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FailedInvocations'), 'Arn'] } } })],
      });
    });
  });

  describe('Athena tables', () => {
    const table = (name: string): Record<string, unknown> =>
      resourcesOfType(json, 'AWS::Glue::Table').find(([, t]) => (t.TableInput as { Name: string }).Name === name)![1].TableInput as Record<string, unknown>;

    it('projects the trail table by account, region and day over the AWSLogs layout', () => {
      const t = table('cloudtrail_files');
      expect(t.PartitionKeys).toEqual([
        { Name: 'account', Type: 'string' },
        { Name: 'region', Type: 'string' },
        { Name: 'timestamp', Type: 'string' },
      ]);
      expect(t.Parameters).toMatchObject({
        'projection.enabled': 'true',
        'projection.account.type': 'enum',
        'projection.account.values': EVIDENCE_ACCOUNT,
        'projection.timestamp.type': 'date',
        'projection.timestamp.format': 'yyyy/MM/dd',
        'projection.timestamp.range': '2024/01/01,NOW',
        'storage.location.template': 's3://aws-cloudtrail-logs-amber-example/AWSLogs/${account}/CloudTrail/${region}/${timestamp}',
      });
      expect((t.StorageDescriptor as Record<string, unknown>).InputFormat).toBe('com.amazon.emr.cloudtrail.CloudTrailInputFormat');
    });

    it('projects preserved evidence with an injected case partition in front of the source key layout', () => {
      const t = table('evidence_cloudtrail_files');
      expect((t.PartitionKeys as Array<{ Name: string }>).map((k) => k.Name)).toEqual(['case_name', 'account', 'region', 'timestamp']);
      const params = t.Parameters as Record<string, unknown>;
      expect(params['projection.case_name.type']).toBe('injected');
      const template = params['storage.location.template'] as { 'Fn::Join': [string, unknown[]] };
      expect(template['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : '<bucket>')).join('')).toBe(
        's3://<bucket>/cases/${case_name}/AWSLogs/${account}/CloudTrail/${region}/${timestamp}',
      );
    });

    it('follows an organisation trail and a prefix in both tables', () => {
      const params = (name: string): Record<string, unknown> =>
        (resourcesOfType(otherJson, 'AWS::Glue::Table').find(([, t]) => (t.TableInput as { Name: string }).Name === name)![1].TableInput as { Parameters: Record<string, unknown> }).Parameters;
      expect(params('cloudtrail_files')['storage.location.template']).toBe(
        's3://aws-cloudtrail-logs-amber-example/org/trail/AWSLogs/o-a1b2c3d4e5/${account}/CloudTrail/${region}/${timestamp}',
      );
      expect(JSON.stringify(params('evidence_cloudtrail_files')['storage.location.template'])).toContain('/cases/${case_name}/org/trail/AWSLogs/o-a1b2c3d4e5/${account}/CloudTrail/');
    });

    it('exposes both tables as Athena views with the embedded engine\'s columns, so detection SQL is the same', () => {
      for (const [name, extra] of [
        ['cloudtrail', []],
        ['evidence_cloudtrail', ['case_name']],
      ] as const) {
        const view = table(name);
        expect(view.TableType).toBe('VIRTUAL_VIEW');
        const encoded = /^\/\* Presto View: (.*) \*\/$/.exec(view.ViewOriginalText as string)![1]!;
        const presto = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as { originalSql: string; schema: string; columns: Array<{ name: string; type: string }> };
        expect(presto.schema).toBe('amber');
        expect(presto.columns.map((c) => c.name)).toEqual([...CLOUDTRAIL_COLUMNS.map((c) => c.name), ...extra]);
        expect(presto.columns.find((c) => c.name === 'useridentity')!.type).toMatch(/^row\(type varchar, principalid varchar, arn varchar,/);
        expect(presto.columns.find((c) => c.name === 'resources')!.type).toBe('array(row(arn varchar, accountid varchar, type varchar))');
        assertTrinoSql(presto.originalSql);
      }
    });

    it('runs queries in a workgroup that enforces SSE-KMS results, engine 3 and the bytes-scanned cutoff from context', () => {
      evidence.hasResourceProperties('AWS::Athena::WorkGroup', {
        Name: 'amber',
        WorkGroupConfiguration: Match.objectLike({
          EnforceWorkGroupConfiguration: true,
          BytesScannedCutoffPerQuery: 10737418240,
          EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
          ResultConfiguration: Match.objectLike({ EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EvidenceKey'), 'Arn'] } } }),
        }),
      });
      other.hasResourceProperties('AWS::Athena::WorkGroup', { WorkGroupConfiguration: Match.objectLike({ BytesScannedCutoffPerQuery: 1073741824 }) });
    });

    it('saves each detection twice as a named query: the catalogue SQL unchanged under windowedSql, over the trail and over a case', () => {
      const queries = resourcesOfType(json, 'AWS::Athena::NamedQuery').map(([, q]) => q as { Name: string; QueryString: string; Database: string });
      const trailDetections = all.filter((d) => d.table === 'cloudtrail');
      const sourceDetections = all.filter((d) => ATHENA_TABLES.includes(d.table) && d.table !== 'cloudtrail');
      expect(queries).toHaveLength(trailDetections.length * 2 + sourceDetections.length);
      for (const d of trailDetections) {
        const trail = queries.find((q) => q.Name === `amber-${d.id}`)!;
        const byCase = queries.find((q) => q.Name === `amber-case-${d.id}`)!;
        expect(trail.QueryString).toBe(windowedSql(d.sql, 'cloudtrail', '(SELECT * FROM "amber"."cloudtrail" WHERE "timestamp" BETWEEN ? AND ?)'));
        expect(byCase.QueryString).toBe(windowedSql(d.sql, 'cloudtrail', '(SELECT * FROM "amber"."evidence_cloudtrail" WHERE case_name = ?)'));
        // The detection's own statement is in there verbatim, after the CTE that shadows its table.
        const body = d.sql.trim().replace(/;\s*$/, '').replace(/^\s*(?:--[^\n]*\n)*\s*/, '').replace(/^WITH\s+/i, '');
        expect(trail.QueryString).toContain(body);
        assertTrinoSql(trail.QueryString);
        assertTrinoSql(byCase.QueryString);
      }
    });

    it('saves each detection on another source as a case query over that source\'s own table', () => {
      const queries = resourcesOfType(json, 'AWS::Athena::NamedQuery').map(([, q]) => q as { Name: string; QueryString: string; Database: string });
      const sourceDetections = all.filter((d) => ATHENA_TABLES.includes(d.table) && d.table !== 'cloudtrail');
      expect(sourceDetections.length).toBeGreaterThan(0);
      for (const d of sourceDetections) {
        expect(queries.find((q) => q.Name === `amber-${d.id}`)).toBeUndefined();
        const byCase = queries.find((q) => q.Name === `amber-case-${d.id}`)!;
        expect(byCase.Database).toBe('amber');
        expect(byCase.QueryString).toBe(windowedSql(d.sql, d.table, `(SELECT * FROM "amber"."${d.table}" WHERE case_name = ?)`));
        assertTrinoSql(byCase.QueryString);
      }
    });

    it('defines a Parquet table for every registered source (and CloudTrail) over its derived rows, partitioned by the injected case and the projected day', () => {
      const derived = [...LOG_SOURCES.map((s) => ({ name: s.table, folder: s.table, columns: [...s.columns.map((c) => c.name), 'evidence_key', 'evidence_record'] })), { name: 'cloudtrail_derived', folder: 'cloudtrail', columns: CLOUDTRAIL_COLUMNS.map((c) => c.name) }];
      for (const d of derived) {
        const t = table(d.name);
        expect(t, d.name).toBeDefined();
        expect(t.TableType).toBe('EXTERNAL_TABLE');
        expect(t.PartitionKeys).toEqual([{ Name: 'case_name', Type: 'string' }, { Name: 'day', Type: 'string' }]);
        const params = t.Parameters as Record<string, unknown>;
        expect(params).toMatchObject({ classification: 'parquet', 'projection.enabled': 'true', 'projection.case_name.type': 'injected', 'projection.day.type': 'date', 'projection.day.format': 'yyyy/MM/dd', 'projection.day.interval.unit': 'DAYS' });
        expect(params['projection.day.range']).toMatch(/^\d{4}\/\d{2}\/\d{2},NOW$/);
        const template = params['storage.location.template'] as { 'Fn::Join': [string, unknown[]] };
        expect(template['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : '<bucket>')).join('')).toBe(`s3://<bucket>/cases/\${case_name}/_amber/derived/parquet/${d.folder}/\${day}/`);
        const sd = t.StorageDescriptor as { Columns: Array<{ Name: string; Type: string }>; InputFormat: string; SerdeInfo: { SerializationLibrary: string } };
        expect(sd.Columns.map((c) => c.Name)).toEqual(d.columns);
        expect(sd.InputFormat).toBe('org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat');
        expect(sd.SerdeInfo.SerializationLibrary).toBe('org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe');
      }
    });

    it('types each source table\'s columns as the embedded engine writes them into the Parquet', () => {
      for (const s of LOG_SOURCES) {
        const t = table(s.table);
        const sd = t.StorageDescriptor as { Columns: Array<{ Name: string; Type: string }>; InputFormat: string; SerdeInfo: { SerializationLibrary: string } };
        expect(sd.Columns.map((c) => c.Name)).toEqual([...s.columns.map((c) => c.name), 'evidence_key', 'evidence_record']);
        const hive: Record<string, string> = { VARCHAR: 'string', BIGINT: 'bigint', INTEGER: 'int', DOUBLE: 'double', BOOLEAN: 'boolean', JSON: 'string' };
        expect(sd.Columns.slice(0, s.columns.length).map((c) => c.Type)).toEqual(s.columns.map((c) => hive[c.type]));
      }
    });

    it('lets run-detections read the tables it queries in Glue (the trail\'s and every derived table), scoped to the database', () => {
      const glue = allStatements(json)
        .filter(({ where }) => where.includes('RunDetections'))
        .filter(({ statement }) => list(statement.Action).some((a) => a.startsWith('glue:')));
      expect(glue.length).toBeGreaterThan(0);
      const resources = JSON.stringify(glue.map(({ statement }) => statement.Resource));
      expect(resources).not.toContain('*');
      for (const s of LOG_SOURCES) expect(resources).toContain(`table/amber/${s.table}"`);
      expect(resources).toContain('table/amber/cloudtrail"');
      expect(resources).toContain('table/amber/cloudtrail_derived"');
    });
  });

  describe('Scheduled detections', () => {
    it('creates one schedule per distinct schedule and window, invoking run-detections with the DetectionRunInput', () => {
      const groups = detectionSchedules(detections);
      expect(groups.length).toBe(new Set(detections.map((d) => `${d.schedule} ${d.window}`)).size);
      const schedules = resourcesOfType(json, 'AWS::Scheduler::Schedule').map(([, s]) => s as { ScheduleExpression: string; Target: { Input: string; Arn: unknown; RetryPolicy: unknown; DeadLetterConfig: unknown } });
      expect(schedules).toHaveLength(groups.length);
      const covered: string[] = [];
      for (const s of schedules) {
        const input = JSON.parse(s.Target.Input) as { detections: string[]; window: string; scheduledTime: string };
        expect(input.scheduledTime).toBe('<aws.scheduler.scheduled-time>');
        for (const id of input.detections) {
          const d = detections.find((x) => x.id === id)!;
          expect(d.schedule).toBe(s.ScheduleExpression);
          expect(d.window).toBe(input.window);
        }
        expect(s.Target.Arn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^DetectionsRunDetections/), 'Arn'] });
        expect(s.Target.DeadLetterConfig).toBeDefined();
        covered.push(...input.detections);
      }
      expect(covered.sort()).toEqual(detections.map((d) => d.id).sort());
    });

    it('publishes summaries to an SNS topic encrypted with the evidence key and reachable over TLS only', () => {
      evidence.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EvidenceKey'), 'Arn'] } });
      evidence.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    });
  });

  describe('Preservation triggers', () => {
    const rulePattern = (t: CfnTemplate, fragment: string): Record<string, unknown> =>
      resourcesOfType(t, 'AWS::Events::Rule').find(([id]) => id.includes(fragment))![1].EventPattern as Record<string, unknown>;

    it('starts preservation on Amber\'s event, GuardDuty EC2 findings at the threshold, and the Security Hub custom action', () => {
      expect(rulePattern(json, 'PreservationRequested')).toEqual({ source: ['amber'], 'detail-type': ['Preservation Requested'] });
      expect(rulePattern(json, 'GuardDutyFinding')).toEqual({
        source: ['aws.guardduty'],
        'detail-type': ['GuardDuty Finding'],
        detail: { severity: [{ numeric: ['>=', 7] }], resource: { resourceType: ['Instance'] } },
      });
      expect(rulePattern(json, 'SecurityHubCustomAction')).toEqual({
        source: ['aws.securityhub'],
        'detail-type': ['Security Hub Findings - Custom Action'],
        resources: [{ suffix: ':action/custom/AmberPreserve' }],
      });
      evidence.hasResourceProperties('AWS::SecurityHub::ActionTarget', { Name: 'Preserve evidence', Id: 'AmberPreserve' });
      // Every preservation trigger starts start-preservation (the inventory's own rule starts its state machine)
      const triggers = resourcesOfType(json, 'AWS::Events::Rule').filter(([id]) => id.startsWith('Triggers'));
      expect(triggers).toHaveLength(3);
      for (const [id, r] of triggers) expect(JSON.stringify((r.Targets as Array<{ Arn: unknown }>)[0]!.Arn), id).toMatch(/"Fn::GetAtt":\["TriggersStartPreservation/);
      const [[, inventory]] = resourcesOfType(json, 'AWS::Events::Rule').filter(([id]) => id.startsWith('InventoryOnDemand')) as [[string, Record<string, unknown>]];
      expect(JSON.stringify((inventory.Targets as Array<{ Arn: unknown }>)[0]!.Arn)).toMatch(/"Ref":"Inventory[A-Za-z0-9]*"/);
    });

    it('takes the GuardDuty threshold from context and can leave the Security Hub action out', () => {
      expect((rulePattern(otherJson, 'GuardDutyFinding').detail as Record<string, unknown>).severity).toEqual([{ numeric: ['>=', 4.5] }]);
      expect(resourcesOfType(otherJson, 'AWS::SecurityHub::ActionTarget')).toEqual([]);
    });

    it('accepts forwarded events only from the member accounts (or the organisation) in multi-account mode', () => {
      expect(resourcesOfType(json, 'AWS::Events::EventBusPolicy')).toEqual([]);
      other.hasResourceProperties('AWS::Events::EventBusPolicy', {
        Statement: Match.objectLike({ Principal: '*', Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } } }),
      });
      other.hasResourceProperties('AWS::Events::EventBusPolicy', {
        EventBusName: 'default',
        Statement: Match.objectLike({ Principal: { AWS: ['arn:aws:iam::222222222222:root', 'arn:aws:iam::333333333333:root'] }, Action: 'events:PutEvents' }),
      });
    });
  });
});

describe('readConfig', () => {
  it('reports every bad context value in one message, each with the key and the value', () => {
    const context: Record<string, unknown> = {
      'amber:retentionDays': 0,
      'amber:singleAccount': false,
      'amber:evidenceAccountId': '',
      'amber:memberAccountIds': ['12345'],
      'amber:guardDutyMinSeverity': 11,
      'amber:collectorExternalId': '',
      'amber:logRetentionDays': 42,
    };
    let error: ConfigError | undefined;
    try {
      readConfig((k) => context[k]);
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('amber:retentionDays must be a whole number of days from 1 to 36500, got 0'),
        expect.stringContaining('amber:memberAccountIds must list 12-digit account ids; not valid: "12345"'),
        expect.stringContaining('amber:guardDutyMinSeverity must be a number from 1 to 8.9, got 11'),
        expect.stringContaining('amber:collectorExternalId is required'),
        expect.stringContaining('amber:logRetentionDays must be one of'),
        expect.stringContaining('amber:evidenceAccountId is required when amber:singleAccount is false'),
      ]),
    );
    expect(error!.message.split('\n').length).toBeGreaterThanOrEqual(7);
  });

  it('parses -c strings: numbers, booleans and comma-separated lists', () => {
    const context: Record<string, unknown> = { 'amber:retentionDays': '30', 'amber:singleAccount': 'false', 'amber:evidenceAccountId': '111111111111', 'amber:memberAccountIds': '222222222222, 333333333333' };
    const config = readConfig((k) => context[k]);
    expect(config).toMatchObject({ retentionDays: 30, singleAccount: false, memberAccountIds: ['222222222222', '333333333333'] });
  });

  it('refuses member accounts in single-account mode instead of ignoring them', () => {
    const context: Record<string, unknown> = { 'amber:memberAccountIds': ['222222222222'] };
    expect(() => readConfig((k) => context[k])).toThrow(/amber:memberAccountIds lists 222222222222 but amber:singleAccount is true/);
  });
});
