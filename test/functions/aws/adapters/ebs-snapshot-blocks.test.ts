/**
 * EbsSnapshotBlocks through the real EBS client (endpoint resolution, signing, retries, deserializer) against a
 * fake EBS direct API on 127.0.0.1, and the image use case on top of it.
 */
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EBSClient } from '@aws-sdk/client-ebs';
import { checkSnapshotId, EbsSnapshotBlocks } from '../../../../functions/aws/adapters/ebs-snapshot-blocks.ts';
import { sdkClientConfig } from '../../../../functions/aws/adapters/aws-client.ts';
import { imageSnapshot } from '../../../../shared/imaging/snapshot-image.ts';
import type { SnapshotBlocks } from '../../../../shared/ports/snapshot-blocks.ts';
import { TEST_ACTOR } from '../../../helpers/case.ts';
import { EBS_BLOCK, ebsBlock, FakeEbs } from '../../../helpers/fake-ebs.ts';
import { MemoryObjectStore } from '../../../helpers/memory-store.ts';
import { TEST_CREDENTIALS } from '../../../helpers/s3.ts';

const SNAP = 'snap-0123456789abcdef0';
let fake: FakeEbs;
let endpoint: string;

beforeEach(async () => {
  // Blocks 0, 1, 5 and 7 hold data; 2-4 and 6 were never written.
  fake = new FakeEbs().addSnapshot(SNAP, 1, new Map([[0, ebsBlock('a')], [1, ebsBlock('b')], [5, ebsBlock('f')], [7, ebsBlock('h')]]));
  endpoint = await fake.start();
});

afterEach(async () => {
  await fake.stop();
});

function blocks(pageSize = 2): EbsSnapshotBlocks {
  const client = new EBSClient({ ...sdkClientConfig({ region: 'eu-west-1', credentials: TEST_CREDENTIALS, maxAttempts: 3, retryBaseDelayMs: 1 }), endpoint });
  return new EbsSnapshotBlocks({ snapshotId: SNAP, client, pageSize });
}

/**
 * The same snapshot with its volume taken as 8 blocks (4 MiB) instead of the 1 GiB the listing says, so the image
 * tests stay small; listing and reads still go through the SDK to the fake.
 */
function eightBlocks(source: EbsSnapshotBlocks): SnapshotBlocks {
  return { snapshotId: source.snapshotId, geometry: () => Promise.resolve({ volumeBytes: 8 * EBS_BLOCK, blockBytes: EBS_BLOCK }), blocks: () => source.blocks(), read: (b) => source.read(b) };
}

function expectedImage(): Buffer {
  const out = Buffer.alloc(8 * EBS_BLOCK);
  for (const [i, seed] of [[0, 'a'], [1, 'b'], [5, 'f'], [7, 'h']] as const) ebsBlock(seed).copy(out, i * EBS_BLOCK);
  return out;
}

describe('Class: EbsSnapshotBlocks', () => {
  describe('Method: geometry', () => {
    it('reads the volume size in GiB and the block size from the first listing page', async () => {
      expect(await blocks().geometry()).toEqual({ volumeBytes: 1024 ** 3, blockBytes: EBS_BLOCK });
    });
  });

  describe('Method: blocks', () => {
    it('lists every written block in order across pages, leaving the never-written ones out', async () => {
      // Act
      const listed: number[] = [];
      for await (const b of blocks(2).blocks()) listed.push(b.index);

      // Assess
      expect(listed).toEqual([0, 1, 5, 7]);
      expect(fake.requests.list).toBe(2);
    });

    it('names the snapshot and the permission when EBS refuses', async () => {
      // Prepare
      fake.deny();

      // Act / Assess
      await expect(blocks().geometry()).rejects.toThrow(/ListSnapshotBlocks on snap-0123456789abcdef0 failed: AccessDeniedException \(HTTP 403\)/);
      await expect(blocks().geometry()).rejects.toMatchObject({ hint: expect.stringContaining('ebs:ListSnapshotBlocks on snap-0123456789abcdef0') });
    });
  });

  describe('Function: checkSnapshotId', () => {
    it('refuses what is not a snapshot id', () => {
      expect(() => checkSnapshotId('vol-0123456789abcdef0')).toThrow(/not an EBS snapshot id/);
      expect(checkSnapshotId(SNAP)).toBe(SNAP);
    });
  });
});

describe('Function: imageSnapshot (over EBS direct APIs)', () => {
  it('assembles the image with zeros for the gaps, and its SHA-256 matches the volume', async () => {
    // Prepare
    const store = new MemoryObjectStore(false);

    // Act
    const summary = await imageSnapshot({ store, caseName: 'c1', actor: TEST_ACTOR, blocks: eightBlocks(blocks()), chunkBlocks: 3 });

    // Assess
    expect(summary.failures).toEqual([]);
    const chunks = [0, 1, 2].map((n) => store.objects.get(`cases/c1/aws/ebs/${SNAP}/chunks/00000${n}.raw`)!);
    expect(Buffer.concat(chunks).equals(expectedImage())).toBe(true);
    expect(summary.image?.sha256).toBe(createHash('sha256').update(expectedImage()).digest('hex'));
    expect(summary.image).toMatchObject({ blocksWithData: 4, sparseBlocks: 4 });
  });

  it('refuses a block whose bytes do not match x-amz-Checksum and names it', async () => {
    // Prepare
    fake.corrupt(5);
    const store = new MemoryObjectStore(false);

    // Act
    const summary = await imageSnapshot({ store, caseName: 'c1', actor: TEST_ACTOR, blocks: eightBlocks(blocks()), chunkBlocks: 3 });

    // Assess
    expect(summary.image).toBeUndefined();
    expect(store.objects.has(`cases/c1/aws/ebs/${SNAP}/chunks/000001.raw`)).toBe(false);
    expect(store.objects.has(`cases/c1/aws/ebs/${SNAP}/chunks/000000.raw`)).toBe(true);
    const failure = summary.failures.find((f) => f.origin.includes('FirstBlock=3'));
    expect(failure?.reason).toMatch(/block 5 of snap-0123456789abcdef0 \(image bytes 2621440-3145727\) does not match the checksum sent with it: the service said \S+, the bytes hash to \S+; it was refused/);
  });

  it('rides out throttling: the SDK retries and the image is complete', async () => {
    // Prepare
    fake.throttle(2);
    const store = new MemoryObjectStore(false);

    // Act
    const summary = await imageSnapshot({ store, caseName: 'c1', actor: TEST_ACTOR, blocks: eightBlocks(blocks()), chunkBlocks: 4 });

    // Assess
    expect(summary.failures).toEqual([]);
    expect(fake.requests.throttled).toBe(2);
    expect(summary.image?.sha256).toBe(createHash('sha256').update(expectedImage()).digest('hex'));
  });

  it('resumes after a refused block without reading the preserved chunks again', async () => {
    // Prepare
    fake.corrupt(7);
    const store = new MemoryObjectStore(false);
    await imageSnapshot({ store, caseName: 'c1', actor: TEST_ACTOR, blocks: eightBlocks(blocks()), chunkBlocks: 3 });
    const fixed = new FakeEbs().addSnapshot(SNAP, 1, new Map([[0, ebsBlock('a')], [1, ebsBlock('b')], [5, ebsBlock('f')], [7, ebsBlock('h')]]));
    endpoint = await fixed.start();

    // Act
    const summary = await imageSnapshot({ store, caseName: 'c1', actor: TEST_ACTOR, blocks: eightBlocks(blocks()), chunkBlocks: 3 });
    await fixed.stop();

    // Assess
    expect(summary.failures).toEqual([]);
    expect([...fixed.reads.keys()]).toEqual([7]);
    expect(summary.image?.sha256).toBe(createHash('sha256').update(expectedImage()).digest('hex'));
  });
});
