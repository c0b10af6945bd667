import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { readMapResults } from '../../../../functions/aws/adapters/map-results.ts';
import { FakeS3 } from '../../../helpers/fake-s3.ts';
import { testClient } from '../../../helpers/s3.ts';

const s3Mock = mockClient(S3Client);
let s3: FakeS3;
beforeEach(() => {
  s3 = new FakeS3().addBucket('work').install(s3Mock);
});
afterEach(() => s3Mock.reset());

const item = (key: string) => ({ id: `ev-${key}`, case: 'INC-7', origin: `s3://trail/${key}`, key: `cases/INC-7/${key}`, size: 1, sha256: 'c'.repeat(64), acquiredAt: '2026-03-01T12:00:00.000Z', acquiredBy: 'fn', retainUntil: null, mediaType: 'application/gzip' });

describe('Function: readMapResults', () => {
  it('reads every result file into custody batches: copies sorted by key, then batches that failed with every object they held', async () => {
    // Prepare
    s3.put('work', 'runs/abc/manifest.json', JSON.stringify({ DestinationBucket: 'work', MapRunArn: 'arn', ResultFiles: { SUCCEEDED: [{ Key: 'runs/abc/SUCCEEDED_0.json', Size: 1 }], FAILED: [{ Key: 'runs/abc/FAILED_0.json', Size: 1 }], PENDING: [] } }));
    s3.put('work', 'runs/abc/SUCCEEDED_0.json', JSON.stringify([
      { Status: 'SUCCEEDED', Input: '{}', Output: JSON.stringify({ Payload: { items: [item('b')], failures: [{ origin: 's3://trail/z', reason: 'gone', code: 'ACQUISITION_FAILED' }] } }) },
      { Status: 'SUCCEEDED', Input: '{}', Output: JSON.stringify({ items: [item('a')], failures: [] }) },
    ]));
    s3.put('work', 'runs/abc/FAILED_0.json', JSON.stringify([{ Status: 'FAILED', Error: 'CopyBatchError', Cause: 'SlowDown', Input: JSON.stringify({ Items: [{ bucket: 'trail', key: 'x' }, { bucket: 'trail', key: 'y' }], BatchInput: { case: 'INC-7', requestId: 'r' } }) }]));

    // Act
    const results = await readMapResults(testClient(), { Bucket: 'work', Key: 'runs/abc/manifest.json' });

    // Assess
    expect(results).toMatchObject({ succeeded: 2, failed: 1, pending: 0 });
    expect(results.batches.map((b) => b.items?.map((i) => i.key) ?? [])).toEqual([['cases/INC-7/a'], ['cases/INC-7/b'], []]);
    expect(results.batches[1]!.failures).toEqual([{ origin: 's3://trail/z', reason: 'gone' }]);
    expect(results.batches[2]!.failures).toEqual([
      { origin: 's3://trail/x', reason: 'the batch failed after its retries: CopyBatchError: SlowDown' },
      { origin: 's3://trail/y', reason: 'the batch failed after its retries: CopyBatchError: SlowDown' },
    ]);
  });

  it('refuses an object that is not a ResultWriter manifest', async () => {
    // Prepare
    s3.put('work', 'x.json', '{"hello":1}');

    // Act / Assess
    await expect(readMapResults(testClient(), { Bucket: 'work', Key: 'x.json' })).rejects.toThrow(/not a Distributed Map result manifest/);
  });

  it('refuses a child output that is not copy-log-objects\' answer', async () => {
    // Prepare
    s3.put('work', 'm.json', JSON.stringify({ ResultFiles: { SUCCEEDED: [{ Key: 's.json' }] } }));
    s3.put('work', 's.json', JSON.stringify([{ Status: 'SUCCEEDED', Output: '{"something":"else"}' }]));

    // Act / Assess
    await expect(readMapResults(testClient(), { Bucket: 'work', Key: 'm.json' })).rejects.toThrow(/not a copy-log-objects result/);
  });
});
