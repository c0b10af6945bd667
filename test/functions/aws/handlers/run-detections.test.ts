import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';
import { BatchImportFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import type { DetectionRunInput, DetectionRunOutput } from '../../../../functions/aws/handlers/contracts.ts';
import type { LambdaContext } from '../../../../functions/aws/runtime.ts';
import { S3ObjectStore } from '../../../../functions/aws/adapters/s3-object-store.ts';
import { CustodyLedger } from '../../../../shared/evidence/ledger.ts';
import { verifyCase } from '../../../../shared/evidence/verify.ts';
import { recordCustody } from '../../../../shared/preservation/custody.ts';
import { FakeAthena } from '../../../helpers/fake-athena.ts';
import { FakeKms } from '../../../helpers/fake-kms.ts';
import { FakeS3 } from '../../../helpers/fake-s3.ts';
import { EVIDENCE_ACCOUNT, EVIDENCE_BUCKET, LAMBDA_ENV, lambdaContext, stubLambdaEnv } from '../../../helpers/lambda.ts';
import { testClient } from '../../../helpers/s3.ts';

const athenaMock = mockClient(AthenaClient);
const s3Mock = mockClient(S3Client);
const snsMock = mockClient(SNSClient);
const shMock = mockClient(SecurityHubClient);
// Entries in cited cases are signed with the KMS key SIGNING_KEY_ARN names: a fake that really signs.
const signing = FakeKms.forHandlers(LAMBDA_ENV.SIGNING_KEY_ARN!);
let handler: (event: DetectionRunInput, context?: LambdaContext) => Promise<DetectionRunOutput>;
let s3: FakeS3;
let athena: FakeAthena;
const context = lambdaContext('run-detections');

const KEY = 'cases/INC-7/AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/01/111122223333_CloudTrail_eu-west-1_20260301T1105Z_a.json.gz';
const SHA = 'e'.repeat(64);
const COLUMNS = ['event_time', 'actor', 'source_ip', 'action', 'target', 'detail', 'evidence_key', 'evidence_record'].map((name) => ({ name, type: name === 'evidence_record' ? 'integer' : 'varchar' }));
const INPUT: DetectionRunInput = { detections: ['root-account-usage', 'console-login-without-mfa'], window: 'PT1H', scheduledTime: '2026-03-01T12:00:00Z' };

beforeAll(async () => {
  stubLambdaEnv();
  handler = (await import('../../../../functions/aws/handlers/run-detections.ts')).handler;
});
afterAll(() => vi.unstubAllEnvs());

beforeEach(async () => {
  s3 = new FakeS3().addBucket(EVIDENCE_BUCKET, { lockDays: 365 }).install(s3Mock);
  // A preserved case whose ledger knows the object the finding cites.
  const store = new S3ObjectStore({ bucket: EVIDENCE_BUCKET, client: testClient() });
  await recordCustody({ store, actor: { principal: 'fn', tool: 'amber/test' } }, {
    case: 'INC-7',
    requestId: 'req-1',
    step: 'copy-log-objects',
    action: 'copied',
    batches: [{ items: [{ id: 'ev-1', case: 'INC-7', origin: 's3://trail/x', key: KEY, size: 10, sha256: SHA, acquiredAt: '2026-03-01T11:10:00.000Z', acquiredBy: 'fn', retainUntil: null, mediaType: 'application/gzip' }] }],
  });
  athena = new FakeAthena()
    .script({ match: /root_events/, states: ['SUCCEEDED'], columns: COLUMNS, rows: [['2026-03-01T11:00:00Z', 'arn:aws:iam::111122223333:root', '203.0.113.7', 'ConsoleLogin', 'account 111122223333', 'root user made 1 call(s) \u001b[31m', KEY, null]] })
    .script({ match: /./, states: ['SUCCEEDED'], columns: COLUMNS, rows: [] })
    .install(athenaMock);
  snsMock.on(PublishCommand).resolves({ MessageId: 'm1' });
  shMock.on(BatchImportFindingsCommand).callsFake(async (input: { Findings: unknown[] }) => ({ SuccessCount: input.Findings.length, FailedCount: 0, FailedFindings: [] }));
});

afterEach(() => {
  athenaMock.reset();
  s3Mock.reset();
  snsMock.reset();
  shMock.reset();
});

describe('Handler: run-detections', () => {
  it('runs the selected detections on Athena over the window, writes the findings, records access in the cited case, and publishes', async () => {
    // Act
    const out = await handler(INPUT, context);

    // Assess: Athena got the catalogue's SQL over the Glue table, limited to the window
    expect(athena.queries).toHaveLength(2);
    expect(athena.queries[0]!.sql).toContain('FROM "amber"."cloudtrail" WHERE "timestamp" BETWEEN \'2026/03/01\' AND \'2026/03/01\' AND eventtime >= \'2026-03-01T11:00:00Z\' AND eventtime < \'2026-03-01T12:00:00Z\'');
    expect(athena.queries[0]!.input).toMatchObject({ WorkGroup: 'amber', QueryExecutionContext: { Database: 'amber' } });

    // the findings object, write-once, citing the evidence with its hash from the ledger
    expect(out).toMatchObject({ findings: 1, errors: [], cases: ['INC-7'], findingsKey: expect.stringMatching(/^findings\/2026\/03\/01\/20260301T120000Z-[0-9a-f]{12}\.json$/) });
    const written = JSON.parse(s3.text(EVIDENCE_BUCKET, out.findingsKey)!);
    expect(written).toMatchObject({ runId: out.runId, window: { since: '2026-03-01T11:00:00.000Z', until: '2026-03-01T12:00:00.000Z' }, detections: INPUT.detections.slice().sort() });
    expect(written.findings[0]).toMatchObject({ detection: 'root-account-usage', severity: 'high', evidence_key: KEY, evidence_sha256: SHA });

    // the cited case's ledger records the access
    const ledger = await CustodyLedger.open(new S3ObjectStore({ bucket: EVIDENCE_BUCKET, client: testClient() }), 'INC-7');
    // ... keyed with the deployment's KMS key on this first signed write, its checkpoint signed
    expect(ledger.signingKey).toMatchObject({ fingerprint: FakeKms.fingerprint(signing.key), keyLocation: LAMBDA_ENV.SIGNING_KEY_ARN });
    const verified = await verifyCase({ store: new S3ObjectStore({ bucket: EVIDENCE_BUCKET, client: testClient() }), caseName: 'INC-7', actor: { principal: 't', tool: 'amber/test' }, record: false });
    expect(verified.signing?.signatures.length).toBeGreaterThanOrEqual(1);
    expect(verified.signing?.signatures.every((s) => s.ok)).toBe(true);
    expect(ledger.entries.at(-1)).toMatchObject({ action: 'accessed', actor: `arn:aws:lambda:eu-west-1:${EVIDENCE_ACCOUNT}:function:amber-run-detections`, detail: { step: 'run-detections', findingsKey: out.findingsKey, findings: 1, detections: ['root-account-usage'] } });

    // the topic gets plain text with the log's control characters made visible; Security Hub gets ASFF
    const published = snsMock.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(published).toMatchObject({ TopicArn: LAMBDA_ENV.FINDINGS_TOPIC_ARN, Subject: 'Amber: 1 finding (1 high)' });
    expect(published.Message).toContain('[HIGH] root-account-usage: Root user used');
    expect(published.Message).toContain('root user made 1 call(s) \\x1b[31m');
    expect(published.Message).not.toContain('\u001b');
    expect(shMock.commandCalls(BatchImportFindingsCommand)[0]!.args[0].input.Findings).toHaveLength(1);
  });

  it('writes nothing new and records nothing twice when the same scheduled run is retried', async () => {
    // Prepare
    const first = await handler(INPUT, context);
    const entries = (await CustodyLedger.open(new S3ObjectStore({ bucket: EVIDENCE_BUCKET, client: testClient() }), 'INC-7')).entries.length;

    // Act
    const second = await handler(INPUT, context);

    // Assess
    expect(second.findingsKey).toBe(first.findingsKey);
    expect(s3.keys(EVIDENCE_BUCKET, 'findings/')).toHaveLength(1);
    expect((await CustodyLedger.open(new S3ObjectStore({ bucket: EVIDENCE_BUCKET, client: testClient() }), 'INC-7')).entries).toHaveLength(entries);
  });

  it('reports a detection whose query fails, and still runs and reports the others', async () => {
    // Prepare
    athenaMock.reset();
    new FakeAthena()
      .script({ match: /root_events/, states: ['FAILED'], reason: 'SYNTAX_ERROR: line 3:5' })
      .script({ match: /./, states: ['SUCCEEDED'], columns: COLUMNS, rows: [] })
      .install(athenaMock);

    // Act
    const out = await handler(INPUT, context);

    // Assess
    expect(out.errors).toEqual([{ detection: 'root-account-usage', error: expect.stringMatching(/Athena query q-\d+ failed: SYNTAX_ERROR/) }]);
    expect(snsMock.commandCalls(PublishCommand)[0]!.args[0].input.Subject).toBe('Amber: 0 findings, 1 detection error');
  });

  it('publishes nothing when nothing was found and nothing failed', async () => {
    // Act
    const out = await handler({ ...INPUT, detections: ['console-login-without-mfa'] }, context);

    // Assess
    expect(out.findings).toBe(0);
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(0);
    expect(s3.keys(EVIDENCE_BUCKET, 'findings/')).toHaveLength(1);
  });

  it('refuses an unknown detection id, naming it and the catalogue', async () => {
    await expect(handler({ ...INPUT, detections: ['no-such-thing'] }, context)).rejects.toThrow(/unknown detection id\(s\): "no-such-thing"/);
    expect(athena.queries).toHaveLength(0);
  });
});
