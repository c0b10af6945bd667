/**
 * The log-preservation handlers run as the state machine runs them, against a stateful fake of S3 (the trail
 * bucket, the evidence bucket with Object Lock, a work bucket for the Distributed Map's results): list → Map of
 * copy batches (ItemBatcher, ResultWriter) → record-custody reading the Map's results and sealing.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import type { CopyBatchInput, CopyBatchOutput, CustodyInput, CustodyOutput, LogListing, LogObjectRef, LogTaskInput } from '../../../../functions/aws/handlers/contracts.ts';
import type { LambdaContext } from '../../../../functions/aws/runtime.ts';
import { S3ObjectStore } from '../../../../functions/aws/adapters/s3-object-store.ts';
import { CopyBatchError } from '../../../../shared/preservation/preserve-logs.ts';
import { CustodyLedger } from '../../../../shared/evidence/ledger.ts';
import { verifyCase } from '../../../../shared/evidence/verify.ts';
import { checkAnchors, loadAnchorsFromStore } from '../../../../shared/evidence/anchor.ts';
import { ledgerKey } from '../../../../shared/evidence/names.ts';
import { FakeKms } from '../../../helpers/fake-kms.ts';
import { FakeS3 } from '../../../helpers/fake-s3.ts';
import { EVIDENCE_BUCKET, LAMBDA_ENV, MEMBER_ACCOUNT, TRAIL_BUCKET, lambdaContext, stubLambdaEnv } from '../../../helpers/lambda.ts';
import { s3Error, testClient } from '../../../helpers/s3.ts';

type Handler<I, O> = (event: I, context?: LambdaContext) => Promise<O>;
const s3Mock = mockClient(S3Client);
// record-custody signs with the KMS key SIGNING_KEY_ARN names: a fake that really signs.
const signing = FakeKms.forHandlers(LAMBDA_ENV.SIGNING_KEY_ARN!);
let list: Handler<LogTaskInput, LogListing>;
let copyBatch: Handler<CopyBatchInput, CopyBatchOutput>;
let record: Handler<CustodyInput, CustodyOutput>;
let s3: FakeS3;

const TASK: LogTaskInput = { case: 'INC-7', requestId: 'req-cli-1', accounts: [MEMBER_ACCOUNT], regions: ['eu-west-1'], since: '2026-03-01T10:00:00Z', until: '2026-03-01T12:00:00Z' };
const day = `AWSLogs/o-abc123/${MEMBER_ACCOUNT}/CloudTrail/eu-west-1/2026/03/01/`;
const logKey = (hhmm: string) => `${day}${MEMBER_ACCOUNT}_CloudTrail_eu-west-1_20260301T${hhmm}Z_x${hhmm}.json.gz`;
const digestKey = `AWSLogs/o-abc123/${MEMBER_ACCOUNT}/CloudTrail-Digest/eu-west-1/2026/03/01/${MEMBER_ACCOUNT}_CloudTrail-Digest_eu-west-1_org-trail_us-east-1_20260301T110000Z.json.gz`;

beforeAll(async () => {
  stubLambdaEnv();
  list = (await import('../../../../functions/aws/handlers/list-log-objects.ts')).handler;
  copyBatch = (await import('../../../../functions/aws/handlers/copy-log-objects.ts')).handler;
  record = (await import('../../../../functions/aws/handlers/record-custody.ts')).handler;
});
afterAll(() => vi.unstubAllEnvs());

beforeEach(() => {
  s3 = new FakeS3().addBucket(EVIDENCE_BUCKET, { lockDays: 365 }).addBucket(LAMBDA_ENV.ANCHOR_BUCKET!, { lockDays: 365 }).addBucket(TRAIL_BUCKET).addBucket('amber-work').install(s3Mock);
  for (const hhmm of ['0900', '1005', '1010', '1105', '1150', '1530']) s3.put(TRAIL_BUCKET, logKey(hhmm), `gz bytes ${hhmm}`);
  s3.put(TRAIL_BUCKET, digestKey, 'digest');
});
afterEach(() => s3Mock.reset());

/** The Distributed Map: reads the listing (ItemReader), batches it (ItemBatcher), runs copy-log-objects, writes results (ResultWriter). */
async function distributedMap(listing: LogListing, run: string, batchSize = 2): Promise<{ Bucket: string; Key: string }> {
  const items = JSON.parse(s3.text(listing.itemsBucket, listing.itemsKey)!) as LogObjectRef[];
  const succeeded: unknown[] = [];
  const failed: unknown[] = [];
  for (let i = 0; i < items.length; i += batchSize) {
    const input: CopyBatchInput = { Items: items.slice(i, i + batchSize), BatchInput: { case: listing.case, requestId: listing.requestId } };
    try {
      // The Lambda task's raw result, as the item processor returns it when no selector trims it.
      const output = await copyBatch(input, lambdaContext('copy-log-objects'));
      succeeded.push({ Status: 'SUCCEEDED', Input: JSON.stringify(input), Output: JSON.stringify({ Payload: output, StatusCode: 200 }) });
    } catch (error) {
      failed.push({ Status: 'FAILED', Input: JSON.stringify(input), Error: (error as Error).name, Cause: (error as Error).message });
    }
  }
  s3.put('amber-work', `map/${run}/SUCCEEDED_0.json`, JSON.stringify(succeeded));
  s3.put('amber-work', `map/${run}/FAILED_0.json`, JSON.stringify(failed));
  s3.put('amber-work', `map/${run}/manifest.json`, JSON.stringify({ DestinationBucket: 'amber-work', MapRunArn: `arn:map:${run}`, ResultFiles: { SUCCEEDED: [{ Key: `map/${run}/SUCCEEDED_0.json` }], FAILED: [{ Key: `map/${run}/FAILED_0.json` }], PENDING: [] } }));
  return { Bucket: 'amber-work', Key: `map/${run}/manifest.json` };
}

describe('Handlers: log preservation', () => {
  it('copies the window\'s log and digest files under the case, records them in order, seals, and verify finds the case intact', async () => {
    // Act
    const listing = await list(TASK, lambdaContext('list-log-objects'));
    const results = await distributedMap(listing, 'run-1');
    const recorded = await record({ case: TASK.case, requestId: TASK.requestId, step: 'copy-log-objects', resultWriterDetails: results, failures: listing.skipped, detail: { listing: listing.itemsKey } }, lambdaContext('record-custody'));

    // Assess
    expect(listing).toMatchObject({ itemsBucket: EVIDENCE_BUCKET, count: 5, skipped: [] });
    expect(s3.keys(EVIDENCE_BUCKET, 'cases/INC-7/')).toEqual(expect.arrayContaining([`cases/INC-7/${logKey('1005')}`, `cases/INC-7/${logKey('1150')}`, `cases/INC-7/${digestKey}`]));
    expect(s3.keys(EVIDENCE_BUCKET, `cases/INC-7/${logKey('0900')}`)).toEqual([]);
    expect(recorded).toMatchObject({ appended: 4, items: 5, failures: 0, sealed: { items: 5 } });
    const store = new S3ObjectStore({ bucket: EVIDENCE_BUCKET, client: testClient() });
    const ledger = await CustodyLedger.open(store, 'INC-7');
    const keys = ledger.entries.flatMap((e) => e.items ?? []).map((i) => i.key);
    expect(keys).toEqual([...keys].sort());
    expect(ledger.entries.at(-1)!.action).toBe('sealed');
    const report = await verifyCase({ store, caseName: 'INC-7', actor: { principal: 't', tool: 'amber/test' }, record: false });
    expect(report.failures).toEqual([]);
    expect(report.items).toHaveLength(5);
    // The seal (a manifest KMS could not sign whole) and the checkpoint are signed by the deployment's key.
    expect(report.signing?.fingerprint).toBe(FakeKms.fingerprint(signing.key));
    expect(report.signing?.signatures.map((s) => [s.signed.replace(/\d+/g, 'N'), s.ok])).toEqual(expect.arrayContaining([['cases/INC-N/_amber/manifests/N.json', true], ['cases/INC-N/_amber/checkpoints/N.json', true]]));

    // The sealed head is anchored, signed by the same key, in the anchor bucket: a later rollback of the ledger is caught.
    const anchorStore = new S3ObjectStore({ bucket: LAMBDA_ENV.ANCHOR_BUCKET!, client: testClient() });
    const anchors = await loadAnchorsFromStore(anchorStore, 'INC-7');
    expect(recorded.anchored.key).toMatch(/^INC-7\//);
    expect(anchors.map((a) => a.source)).toContain(`s3://${LAMBDA_ENV.ANCHOR_BUCKET!}/${recorded.anchored.key}`);
    const ledgerText = (await store.readText(ledgerKey('INC-7')))!;
    const checks = await checkAnchors('INC-7', ledgerText, ledger.entries, anchors);
    expect(checks.map((c) => [c.ok, c.seq, c.signedBy])).toEqual([[true, recorded.ledgerHead.seq, FakeKms.fingerprint(signing.key)]]);
    const rolledBack = `${ledgerText.trimEnd().split('\n').slice(0, -1).join('\n')}\n`;
    const behind = await checkAnchors('INC-7', rolledBack, ledger.entries.slice(0, -1), anchors);
    expect(behind.map((c) => c.kind)).toEqual(['anchor-behind']);
  });

  it('resumes a retried run without duplicates: same copies, nothing recorded twice', async () => {
    // Prepare
    const listing = await list(TASK, lambdaContext('list-log-objects'));
    const first = await distributedMap(listing, 'run-1');
    await record({ case: TASK.case, requestId: TASK.requestId, step: 'copy-log-objects', resultWriterDetails: first }, lambdaContext('record-custody'));
    const objects = s3.keys(EVIDENCE_BUCKET, 'cases/INC-7/AWSLogs/');

    // Act: the execution is redriven (list again, Map again, record again)
    const relisted = await list(TASK, lambdaContext('list-log-objects'));
    const second = await distributedMap(relisted, 'run-2');
    const again = await record({ case: TASK.case, requestId: TASK.requestId, step: 'copy-log-objects', resultWriterDetails: second }, lambdaContext('record-custody'));

    // Assess
    expect(relisted.itemsKey).toBe(listing.itemsKey);
    expect(s3.keys(EVIDENCE_BUCKET, 'cases/INC-7/AWSLogs/')).toEqual(objects);
    expect(again).toMatchObject({ appended: 0, alreadyRecorded: 4 });
  });

  it('fails a batch whose copies throttle past the retries, and its retry copies the rest without copying twice', async () => {
    // Prepare
    const listing = await list(TASK, lambdaContext('list-log-objects'));
    const items = JSON.parse(s3.text(listing.itemsBucket, listing.itemsKey)!) as LogObjectRef[];
    const batch: CopyBatchInput = { Items: items.slice(0, 3), BatchInput: { case: TASK.case, requestId: TASK.requestId } };
    s3.failNext('CopyObjectCommand', s3Error('SlowDown', 503, 6), 1);

    // Act
    const failing = copyBatch(batch, lambdaContext('copy-log-objects'));
    await expect(failing).rejects.toThrow(CopyBatchError);
    const copiesBefore = s3.count('CopyObjectCommand');
    const retried = await copyBatch(batch, lambdaContext('copy-log-objects'));

    // Assess
    expect(retried.items).toHaveLength(3);
    expect(retried.alreadyPreserved).toBe(2);
    expect(s3.count('CopyObjectCommand') - copiesBefore).toBe(1);
  });

  it('lists the failed batches\' objects as failures in the ledger and the manifest, never dropping them', async () => {
    // Prepare
    const listing = await list(TASK, lambdaContext('list-log-objects'));
    s3.failNext('CopyObjectCommand', s3Error('InternalError', 500, 6), 1);
    const results = await distributedMap(listing, 'run-1');

    // Act
    const recorded = await record({ case: TASK.case, requestId: TASK.requestId, step: 'copy-log-objects', resultWriterDetails: results }, lambdaContext('record-custody'));

    // Assess
    expect(recorded).toMatchObject({ items: 3, failures: 2 });
    const manifest = JSON.parse(s3.text(EVIDENCE_BUCKET, recorded.sealed!.key)!) as { failures: { origin: string }[] };
    expect(manifest.failures.map((f) => f.origin)).toHaveLength(2);
  });
});
