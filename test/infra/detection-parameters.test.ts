import { afterEach, describe, expect, it, vi } from 'vitest';
import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient, PublishCommand } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { readConfig, ConfigError } from '../../infra/lib/config.ts';
import { FakeAthena } from '../helpers/fake-athena.ts';
import { FakeS3 } from '../helpers/fake-s3.ts';
import { testApp, templates } from '../helpers/infra.ts';
import { EVIDENCE_BUCKET, lambdaContext, stubLambdaEnv } from '../helpers/lambda.ts';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

describe('Detection parameters in the AWS deployment', () => {
  it('GIVEN amber:detectionParameters WHEN synthesised THEN the named queries use the value and run-detections gets it in DETECTION_PARAMETERS', async () => {
    const app = await testApp({ context: { 'amber:detectionParameters': { 'console-login-failure-burst.min_failures': 12 } } });
    const { evidenceJson } = templates(app);
    const resources = (evidenceJson as unknown as { Resources: Resources }).Resources;
    const query = Object.values(resources).find((r) => r.Type === 'AWS::Athena::NamedQuery' && r.Properties.Name === 'amber-console-login-failure-burst')!;
    expect(query.Properties.QueryString).toContain('HAVING count(*) >= 12');
    const fn = Object.values(resources).find((r) => r.Type === 'AWS::Lambda::Function' && (r.Properties.Environment as { Variables: Record<string, unknown> }).Variables.AMBER_HANDLER === 'run-detections')!;
    expect((fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables.DETECTION_PARAMETERS).toBe('{"console-login-failure-burst.min_failures":"12"}');
  });

  it('GIVEN a mistyped parameter WHEN synthesised THEN it fails naming the key with did-you-mean', async () => {
    await expect(testApp({ context: { 'amber:detectionParameters': { 'console-login-failure-burst.min_failure': 12 } } })).rejects.toThrow(/amber:detectionParameters: .*has no parameter "min_failure"/);
    await expect(testApp({ context: { 'amber:detectionParameters': { 'console-login-failure-burst.min_failures': '5; DROP' } } })).rejects.toThrow(/not a valid int/);
  });

  it('GIVEN -c with a value that is not an object THEN the config names the key', () => {
    expect(() => readConfig((k) => (k === 'amber:detectionParameters' ? '[1]' : undefined))).toThrow(ConfigError);
    expect(readConfig((k) => (k === 'amber:detectionParameters' ? '{"b.x": 2, "a.y": "3"}' : undefined)).detectionParameters).toEqual({ 'a.y': '3', 'b.x': '2' });
  });
});

describe('Handler: run-detections with DETECTION_PARAMETERS', () => {
  const athenaMock = mockClient(AthenaClient);
  const s3Mock = mockClient(S3Client);
  const snsMock = mockClient(SNSClient);
  afterEach(() => {
    athenaMock.reset();
    s3Mock.reset();
    snsMock.reset();
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('runs the detection with the overridden threshold on Athena', async () => {
    stubLambdaEnv({ DETECTION_PARAMETERS: '{"console-login-failure-burst.min_failures":"42"}' });
    new FakeS3().addBucket(EVIDENCE_BUCKET, { lockDays: 365 }).install(s3Mock);
    const athena = new FakeAthena().script({ match: /./, states: ['SUCCEEDED'], columns: [], rows: [] }).install(athenaMock);
    snsMock.on(PublishCommand).resolves({ MessageId: 'm' });
    const { handler } = await import('../../functions/aws/handlers/run-detections.ts');
    await handler({ detections: ['console-login-failure-burst'], window: 'PT1H', scheduledTime: '2026-03-01T12:00:00Z' }, lambdaContext('run-detections'));
    expect(athena.queries).toHaveLength(1);
    expect(athena.queries[0]!.sql).toContain('HAVING count(*) >= 42');
  });

  it('fails its cold start on a bad override, naming the variable', async () => {
    stubLambdaEnv({ DETECTION_PARAMETERS: '{"console-login-failure-burst.min_failures":"many"}' });
    await expect(import('../../functions/aws/handlers/run-detections.ts')).rejects.toThrow(/DETECTION_PARAMETERS: console-login-failure-burst\.min_failures: "many" is not a valid int/);
  });
});
