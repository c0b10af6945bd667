/**
 * The image use case into a REAL S3 endpoint with Object Lock (Ceph RADOS Gateway on 127.0.0.1): chunks larger
 * than one PUT go up as multipart uploads, and a later run resumes from them. Blocks come through the EBS SDK from
 * a fake EBS direct API on 127.0.0.1.
 *
 *   bash scripts/s3-server.sh start .s3-server && set -a && . .s3-server/env && set +a
 *   npx vitest run test/integration/ebs-image-s3.test.ts
 *
 * Without AWS_ENDPOINT_URL_S3 the suite is skipped, unless AMBER_REQUIRE_S3=1 (CI), which makes it fail.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CreateBucketCommand, PutObjectLockConfigurationCommand, type S3Client } from '@aws-sdk/client-s3';
import { EBSClient } from '@aws-sdk/client-ebs';
import { sdkClientConfig } from '../../functions/aws/adapters/aws-client.ts';
import { EbsSnapshotBlocks } from '../../functions/aws/adapters/ebs-snapshot-blocks.ts';
import { createS3Client, s3ConfigFromEnv } from '../../functions/aws/adapters/s3-client.ts';
import { S3ObjectStore } from '../../functions/aws/adapters/s3-object-store.ts';
import { verifyCase } from '../../shared/evidence/verify.ts';
import { imageSnapshot } from '../../shared/imaging/snapshot-image.ts';
import type { SnapshotBlocks } from '../../shared/ports/snapshot-blocks.ts';
import { TEST_ACTOR } from '../helpers/case.ts';
import { EBS_BLOCK, FakeEbs } from '../helpers/fake-ebs.ts';
import { readAll, TEST_CREDENTIALS } from '../helpers/s3.ts';

const START_HINT = 'start the local S3 server with: bash scripts/s3-server.sh start .s3-server && set -a && . .s3-server/env && set +a';
const endpoint = process.env.AWS_ENDPOINT_URL_S3;
const required = process.env.AMBER_REQUIRE_S3 === '1';

if (!endpoint && required) {
  describe('EBS image into S3 integration', () => {
    it('needs a real S3 endpoint (AMBER_REQUIRE_S3=1)', () => {
      throw new Error(`AMBER_REQUIRE_S3=1 but AWS_ENDPOINT_URL_S3 is not set; ${START_HINT}`);
    });
  });
} else if (!endpoint) {
  console.warn(`[ebs-image-s3] skipped: AWS_ENDPOINT_URL_S3 is not set; ${START_HINT}`);
}

const SNAP = 'snap-0a1b2c3d4e5f60718';
/** 40 blocks (20 MiB) taken from the fake's 1 GiB volume, chunks of 32 blocks (16 MiB: a multipart upload each). */
const BLOCKS = 40;

let client: S3Client | undefined;
function s3(): S3Client {
  client ??= createS3Client({ ...s3ConfigFromEnv(), maxAttempts: 3 });
  return client;
}

function firstBlocks(source: EbsSnapshotBlocks): SnapshotBlocks {
  return {
    snapshotId: source.snapshotId,
    geometry: () => Promise.resolve({ volumeBytes: BLOCKS * EBS_BLOCK, blockBytes: EBS_BLOCK }),
    async *blocks() {
      for await (const b of source.blocks()) if (b.index < BLOCKS) yield b;
    },
    read: (b) => source.read(b),
  };
}

describe.skipIf(!endpoint)('EBS image into S3 (real Ceph RADOS Gateway)', () => {
  it('stores the image as multipart chunks under Object Lock, resumes after a refused block, and verifies', async () => {
    // Prepare: data in blocks 0-19 and 35, the rest never written; block 35 first arrives damaged
    const data = new Map<number, Buffer>();
    for (let i = 0; i < 20; i += 1) data.set(i, randomBytes(EBS_BLOCK));
    data.set(35, randomBytes(EBS_BLOCK));
    const fake = new FakeEbs().addSnapshot(SNAP, 1, data);
    const ebs = new EBSClient({ ...sdkClientConfig({ region: 'eu-west-1', credentials: TEST_CREDENTIALS, maxAttempts: 2, retryBaseDelayMs: 1 }), endpoint: await fake.start() });
    fake.corrupt(35);
    const bucket = `amber-it-image-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    await s3().send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
    await s3().send(new PutObjectLockConfigurationCommand({ Bucket: bucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } } } }));
    const store = await S3ObjectStore.open({ bucket, client: s3() });
    const run = () => imageSnapshot({ store, caseName: 'img', actor: TEST_ACTOR, blocks: firstBlocks(new EbsSnapshotBlocks({ snapshotId: SNAP, client: ebs })), chunkBlocks: 32 });

    // Act
    const first = await run();
    const fixed = new FakeEbs().addSnapshot(SNAP, 1, data);
    const fixedEbs = new EBSClient({ ...sdkClientConfig({ region: 'eu-west-1', credentials: TEST_CREDENTIALS, maxAttempts: 2 }), endpoint: await fixed.start() });
    const second = await imageSnapshot({ store, caseName: 'img', actor: TEST_ACTOR, blocks: firstBlocks(new EbsSnapshotBlocks({ snapshotId: SNAP, client: fixedEbs })), chunkBlocks: 32 });
    await fake.stop();
    await fixed.stop();

    // Assess
    expect(first.image).toBeUndefined();
    expect(first.failures.some((f) => /block 35 of snap-0a1b2c3d4e5f60718 .* does not match the checksum/.test(f.reason))).toBe(true);
    expect(second.failures).toEqual([]);
    expect([...fixed.reads.keys()]).toEqual([35]); // the first chunk came back from the locker, not from EBS
    const image = Buffer.alloc(BLOCKS * EBS_BLOCK);
    for (const [i, b] of data) b.copy(image, i * EBS_BLOCK);
    expect(second.image?.sha256).toBe(createHash('sha256').update(image).digest('hex'));
    const stored = Buffer.concat([
      await readAll(await store.get(`cases/img/aws/ebs/${SNAP}/chunks/000000.raw`)),
      await readAll(await store.get(`cases/img/aws/ebs/${SNAP}/chunks/000001.raw`)),
    ]);
    expect(stored.equals(image)).toBe(true);
    const report = await verifyCase({ store, caseName: 'img', actor: TEST_ACTOR });
    expect(report.failures).toEqual([]);
    expect(report.intact).toBe(true);
  });
});
