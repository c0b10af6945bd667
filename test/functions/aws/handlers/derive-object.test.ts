import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import type { DeriveObjectEvent, DeriveObjectOutput } from '../../../../functions/aws/handlers/contracts.ts';
import type { LambdaContext } from '../../../../functions/aws/runtime.ts';
import { S3ObjectStore } from '../../../../functions/aws/adapters/s3-object-store.ts';
import { CustodyLedger } from '../../../../shared/evidence/ledger.ts';
import { itemId } from '../../../../shared/evidence/collect.ts';
import { recordCustody } from '../../../../shared/preservation/custody.ts';
import { FakeKms } from '../../../helpers/fake-kms.ts';
import { FakeS3 } from '../../../helpers/fake-s3.ts';
import { EVIDENCE_BUCKET, LAMBDA_ENV, lambdaContext, stubLambdaEnv } from '../../../helpers/lambda.ts';
import { testClient } from '../../../helpers/s3.ts';

const s3Mock = mockClient(S3Client);
// The case's entries are signed with the KMS key SIGNING_KEY_ARN names: a fake that really signs.
FakeKms.forHandlers(LAMBDA_ENV.SIGNING_KEY_ARN!);
let handler: (event: DeriveObjectEvent, context?: LambdaContext) => Promise<DeriveObjectOutput>;
let s3: FakeS3;
const context = lambdaContext('derive-object');
const CASE = 'INC-9';
const KEY = `cases/${CASE}/aws/vpcflow/AWSLogs/111122223333/vpcflowlogs/eu-west-1/2026/03/14/flows.log`;
const FLOWS = readFileSync(new URL('../../../../shared/detections/vpc-port-scan/fixtures/match.log', import.meta.url));

/** An S3 Object Created event as EventBridge delivers it, inside an SQS message. */
const message = (messageId: string, key: string, bucket = EVIDENCE_BUCKET) => ({
  messageId,
  body: JSON.stringify({ version: '0', source: 'aws.s3', 'detail-type': 'Object Created', detail: { bucket: { name: bucket }, object: { key: encodeURIComponent(key).replace(/%2F/g, '/'), size: 10 } } }),
});

beforeAll(async () => {
  stubLambdaEnv();
  handler = (await import('../../../../functions/aws/handlers/derive-object.ts')).handler;
});
afterAll(() => vi.unstubAllEnvs());

beforeEach(async () => {
  s3 = new FakeS3().addBucket(EVIDENCE_BUCKET, { lockDays: 365 }).install(s3Mock);
  const store = new S3ObjectStore({ bucket: EVIDENCE_BUCKET, client: testClient() });
  const put = await store.putImmutable(KEY, FLOWS);
  await recordCustody({ store, actor: { principal: 'fn', tool: 'amber/test' } }, {
    case: CASE,
    requestId: 'req-1',
    step: 'copy-log-objects',
    action: 'copied',
    batches: [{ items: [{ id: itemId(KEY), case: CASE, origin: 's3://logs/flows.log', key: KEY, size: put.size, sha256: put.sha256, acquiredAt: '2026-03-14T01:00:00.000Z', acquiredBy: 'fn', retainUntil: null, mediaType: 'text/plain' }] }],
  });
});

afterEach(() => s3Mock.reset());

describe('Handler: derive-object', () => {
  it('derives the object an Object Created event names, ignores Amber\'s own keys and other buckets, and retries an object without a custody record', async () => {
    // Act
    const out = await handler({ Records: [message('m1', KEY), message('m2', `cases/${CASE}/_amber/derived/parquet/vpc_flow_logs/2026/03/14/x.parquet`), message('m3', KEY, 'another-bucket'), message('m4', `cases/${CASE}/dropped/by hand.log`)] }, context);

    // Assess: one derivation, one retry, nothing else touched
    expect(out.results.map((r) => [r.key, r.status])).toEqual([
      [KEY, 'derived'],
      [`cases/${CASE}/dropped/by hand.log`, 'failed'],
    ]);
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm4' }]);
    const store = new S3ObjectStore({ bucket: EVIDENCE_BUCKET, client: testClient() });
    const ledger = await CustodyLedger.open(store, CASE);
    const derived = ledger.entries.filter((e) => e.action === 'derived');
    expect(derived).toHaveLength(1);
    expect(derived[0]!.detail).toMatchObject({ from: KEY, parser: 'vpcflow' });
    for (const item of derived[0]!.items!) expect(s3.text(EVIDENCE_BUCKET, item.key)).toBeDefined();

    // A second delivery of the same event (SQS is at-least-once) derives nothing again.
    const again = await handler({ Records: [message('m5', KEY)] }, context);
    expect(again.results).toEqual([expect.objectContaining({ key: KEY, status: 'already-derived' })]);
    expect((await CustodyLedger.open(store, CASE)).entries.filter((e) => e.action === 'derived')).toHaveLength(1);
  });

  it('derives a copy step\'s items when invoked directly, and fails the invocation when one cannot be derived', async () => {
    const out = await handler({ case: CASE, items: [{ key: KEY }] }, context);
    expect(out.results).toEqual([expect.objectContaining({ key: KEY, status: 'derived' })]);
    await expect(handler({ case: CASE, items: [{ key: `cases/${CASE}/unknown.log` }] }, context)).rejects.toMatchObject({ code: 'NOT_RECORDED' });
  });
});
