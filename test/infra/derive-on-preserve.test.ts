/**
 * The derive-on-preserve wiring: S3 Object Created events of the evidence bucket (Amber's own keys left out) reach
 * the derive-object function through a queue with a dead-letter queue, and the function may read cases and write
 * only Amber's records, never a preserved object's key and never a delete.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { requestOfObjectCreated } from '../../functions/aws/adapters/object-created.ts';
import { MAX_RECEIVES, NOT_DERIVED_KEYS } from '../../infra/lib/constructs/derive-on-preserve.ts';
import type { CfnTemplate } from '../helpers/cfn.ts';
import { testApp } from '../helpers/infra.ts';

let template: Template;
let json: CfnTemplate;

beforeAll(async () => {
  const app = await testApp();
  template = Template.fromStack(app.evidence);
  json = template.toJSON() as CfnTemplate;
}, 120_000);

function resourcesOfType(t: CfnTemplate, type: string): Array<[string, Record<string, unknown>]> {
  return Object.entries(t.Resources)
    .filter(([, r]) => r.Type === type)
    .map(([id, r]) => [id, r.Properties ?? {}]);
}

/** A shell-style wildcard as EventBridge matches it (`*` any run of characters). */
const wildcard = (pattern: string, key: string): boolean => new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, '\\$&')).join('.*')}$`).test(key);

describe('Construct: DeriveOnPreserve', () => {
  it('sends the evidence bucket\'s Object Created events to EventBridge', () => {
    template.hasResourceProperties('AWS::S3::Bucket', { ObjectLockEnabled: true, NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } } });
  });

  it('forwards every new object of the evidence bucket except the keys Amber writes itself, so derived Parquet never loops', () => {
    const [, rule] = resourcesOfType(json, 'AWS::Events::Rule').find(([id]) => id.startsWith('DeriveOnPreserve'))!;
    const pattern = rule.EventPattern as { source: string[]; 'detail-type': string[]; detail: { bucket: { name: unknown[] }; object: { key: [{ 'anything-but': { wildcard: string[] } }] } } };
    expect(pattern.source).toEqual(['aws.s3']);
    expect(pattern['detail-type']).toEqual(['Object Created']);
    expect(pattern.detail.bucket.name).toEqual([{ Ref: expect.stringMatching(/^Evidence/) }]);
    const excluded = pattern.detail.object.key[0]['anything-but'].wildcard;
    expect(excluded).toEqual([...NOT_DERIVED_KEYS]);
    const forwarded = (key: string): boolean => !excluded.some((w) => wildcard(w, key));
    expect(forwarded('cases/INC-1/aws/cloudtrail/AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/14/a.json.gz')).toBe(true);
    expect(forwarded('cases/INC-1/_amber/derived/parquet/cloudtrail/2026/03/14/x.parquet')).toBe(false);
    expect(forwarded('cases/INC-1/custody-ledger.jsonl')).toBe(false);
    expect(forwarded('derived-index/2026/03/14/INC-1')).toBe(false);
    expect(forwarded('findings/2026/03/14/run.json')).toBe(false);
    // The function's own fence agrees on what a case object is.
    expect(requestOfObjectCreated({ source: 'aws.s3', 'detail-type': 'Object Created', detail: { bucket: { name: 'b' }, object: { key: 'cases/INC-1/_amber/derived/parquet/x.parquet' } } }, 'b').request).toBeUndefined();
    expect(requestOfObjectCreated({ source: 'aws.s3', 'detail-type': 'Object Created', detail: { bucket: { name: 'b' }, object: { key: 'cases/INC-1/logs/a+b.log', 'version-id': 'v1' } } }, 'b').request).toEqual({ case: 'INC-1', key: 'cases/INC-1/logs/a b.log', versionId: 'v1' });
    expect(rule.Targets).toEqual([expect.objectContaining({ Arn: { 'Fn::GetAtt': [expect.stringMatching(/^DeriveOnPreserveQueue/), 'Arn'] }, DeadLetterConfig: { Arn: { 'Fn::GetAtt': [expect.stringMatching(/^FailedInvocations/), 'Arn'] } } })]);
  });

  it('delays delivery so a collect records an object before it is derived, and dead-letters a message after repeated failures', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      DelaySeconds: 60,
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 3600,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FailedInvocations'), 'Arn'] }, maxReceiveCount: MAX_RECEIVES },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DeriveOnPreserveQueue'), 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });

  it('lets the function read cases and write only Amber\'s records and the derived index, never delete', () => {
    const [, policy] = resourcesOfType(json, 'AWS::IAM::Policy').find(([id]) => id.startsWith('DeriveOnPreserveDeriveObjectRole'))!;
    const statements = (policy.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement;
    const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    // The only delete is of the queue messages it consumed (the event source needs sqs:DeleteMessage).
    expect(actions.filter((a) => /Delete|\*/.test(a))).toEqual(['sqs:DeleteMessage']);
    const put = statements.find((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]).includes('s3:PutObject'))!;
    const resources = JSON.stringify(put.Resource);
    expect(resources).toContain('/cases/*/_amber/*');
    expect(resources).toContain('/cases/*/custody-ledger.jsonl');
    expect(resources).toContain('/derived-index/*');
    expect(resources).not.toMatch(/\/cases\/\*"/);
  });
});
