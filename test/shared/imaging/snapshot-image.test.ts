import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { assembleImage, imageRecordBytes, imageSnapshot, planImage, storeImageChunk } from '../../../shared/imaging/snapshot-image.ts';
import type { EvidenceItem } from '../../../shared/evidence/model.ts';
import type { FetchedBlock, ListedBlock, SnapshotBlocks } from '../../../shared/ports/snapshot-blocks.ts';
import { TEST_ACTOR } from '../../helpers/case.ts';
import { MemoryObjectStore } from '../../helpers/memory-store.ts';

const BLOCK = 16;

/**
 * A snapshot held in memory, with a written behaviour: `data` maps block index to its bytes (every other block was
 * never written); each read answers the bytes with their SHA-256 checksum, except blocks in `corrupt`, whose bytes
 * arrive altered after the checksum was computed (a damaged transfer). `reads` counts reads per block.
 */
class MemorySnapshot implements SnapshotBlocks {
  readonly reads = new Map<number, number>();
  readonly corrupt = new Set<number>();
  constructor(
    readonly snapshotId: string,
    private readonly blockCount: number,
    private readonly data: ReadonlyMap<number, Buffer>,
  ) {}

  geometry() {
    return Promise.resolve({ volumeBytes: this.blockCount * BLOCK, blockBytes: BLOCK });
  }

  async *blocks(): AsyncIterable<ListedBlock> {
    for (const index of [...this.data.keys()].sort((a, b) => a - b)) yield { index, token: `t-${index}` };
  }

  read(block: ListedBlock): Promise<FetchedBlock> {
    this.reads.set(block.index, (this.reads.get(block.index) ?? 0) + 1);
    const bytes = Buffer.from(this.data.get(block.index)!);
    const checksum = createHash('sha256').update(bytes).digest('base64');
    if (this.corrupt.has(block.index)) bytes[0] = bytes[0]! ^ 0xff;
    return Promise.resolve({ data: bytes, checksum, checksumAlgorithm: 'SHA256' });
  }

  /** The raw image the volume holds. */
  image(): Buffer {
    const out = Buffer.alloc(this.blockCount * BLOCK);
    for (const [i, b] of this.data) b.copy(out, i * BLOCK);
    return out;
  }
}

function block(fill: string): Buffer {
  return Buffer.alloc(BLOCK, fill);
}

/** 10 blocks, data in 0, 1, 4 and 9: chunks of 3 give one chunk (6-8) with no data at all. */
function snapshot(): MemorySnapshot {
  return new MemorySnapshot('snap-0123456789abcdef0', 10, new Map([[0, block('a')], [1, block('b')], [4, block('e')], [9, block('j')]]));
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function chunkKey(n: number): string {
  return `cases/c1/aws/ebs/snap-0123456789abcdef0/chunks/${String(n).padStart(6, '0')}.raw`;
}

describe('Function: imageSnapshot', () => {
  it('preserves the raw image in order, with zeros where blocks were never written, and its SHA-256', async () => {
    // Prepare
    const snap = snapshot();
    const store = new MemoryObjectStore(false);

    // Act
    const summary = await imageSnapshot({ store, caseName: 'c1', actor: TEST_ACTOR, blocks: snap, chunkBlocks: 3 });

    // Assess
    expect(summary.failures).toEqual([]);
    const chunks = [0, 1, 2, 3].map((n) => store.objects.get(chunkKey(n))!);
    expect(Buffer.concat(chunks).equals(snap.image())).toBe(true);
    expect(chunks[3]!.length).toBe(BLOCK); // the last chunk holds the one remaining block
    expect(summary.image).toMatchObject({ sha256: sha(snap.image()), blocksWithData: 4, sparseBlocks: 6, volumeBytes: 10 * BLOCK });
    const record = JSON.parse(store.objects.get('cases/c1/aws/ebs/snap-0123456789abcdef0/image.json')!.toString('utf8'));
    expect(record.sha256).toBe(sha(snap.image()));
    expect(record.chunks.map((c: { offset: number; sha256: string }) => [c.offset, c.sha256])).toEqual(chunks.map((c, i) => [i * 3 * BLOCK, sha(c)]));
  });

  it('refuses a block whose bytes do not match its checksum, names it, keeps the other chunks and writes no image.json', async () => {
    // Prepare
    const snap = snapshot();
    snap.corrupt.add(4);
    const store = new MemoryObjectStore(false);

    // Act
    const summary = await imageSnapshot({ store, caseName: 'c1', actor: TEST_ACTOR, blocks: snap, chunkBlocks: 3 });

    // Assess
    expect(summary.image).toBeUndefined();
    expect(store.objects.has(chunkKey(1))).toBe(false);
    expect(store.objects.get(chunkKey(0))!.equals(Buffer.concat([block('a'), block('b'), Buffer.alloc(BLOCK)]))).toBe(true);
    expect(store.objects.has(chunkKey(3))).toBe(true);
    expect(store.objects.has('cases/c1/aws/ebs/snap-0123456789abcdef0/image.json')).toBe(false);
    const reasons = summary.failures.map((f) => f.reason).join('\n');
    expect(reasons).toMatch(/block 4 of snap-0123456789abcdef0 \(image bytes 64-79\) does not match the checksum/);
    expect(reasons).toMatch(/image of snap-0123456789abcdef0 is incomplete: 1 of 4 chunks not preserved \(first: 000001\.raw\)/);
  });

  it('resumes: chunks the ledger records are re-hashed and kept, only the missing one is read again', async () => {
    // Prepare
    const snap = snapshot();
    snap.corrupt.add(4);
    const store = new MemoryObjectStore(false);
    await imageSnapshot({ store, caseName: 'c1', actor: TEST_ACTOR, blocks: snap, chunkBlocks: 3 });
    snap.corrupt.clear();
    snap.reads.clear();

    // Act
    const summary = await imageSnapshot({ store, caseName: 'c1', actor: TEST_ACTOR, blocks: snap, chunkBlocks: 3 });

    // Assess
    expect(summary.failures).toEqual([]);
    expect(summary.image?.sha256).toBe(sha(snap.image()));
    expect([...snap.reads.keys()]).toEqual([4]);
  });

  it('refuses to resume from a stored chunk that no longer matches the SHA-256 the ledger recorded', async () => {
    // Prepare
    const snap = snapshot();
    snap.corrupt.add(9);
    const store = new MemoryObjectStore(false);
    await imageSnapshot({ store, caseName: 'c1', actor: TEST_ACTOR, blocks: snap, chunkBlocks: 3 });
    snap.corrupt.clear();
    store.objects.set(chunkKey(0), Buffer.concat([block('A'), block('b'), Buffer.alloc(BLOCK)])); // altered outside Amber

    // Act
    const summary = await imageSnapshot({ store, caseName: 'c1', actor: TEST_ACTOR, blocks: snap, chunkBlocks: 3 });

    // Assess
    expect(summary.image).toBeUndefined();
    expect(summary.failures.map((f) => f.reason).join('\n')).toMatch(/preserved chunk .*000000\.raw hashes to [0-9a-f]{64}, but the custody ledger recorded [0-9a-f]{64}: it was altered/);
  });

  it('gives the same image.json bytes on every run of the same snapshot', async () => {
    // Prepare
    const a = new MemoryObjectStore(false);
    const b = new MemoryObjectStore(false);

    // Act
    await imageSnapshot({ store: a, caseName: 'c1', actor: TEST_ACTOR, blocks: snapshot(), chunkBlocks: 4, parallel: 1 });
    await imageSnapshot({ store: b, caseName: 'c1', actor: TEST_ACTOR, blocks: snapshot(), chunkBlocks: 4, parallel: 3 });

    // Assess
    const key = 'cases/c1/aws/ebs/snap-0123456789abcdef0/image.json';
    expect(a.objects.get(key)!.equals(b.objects.get(key)!)).toBe(true);
  });
});

describe('Functions: planImage, storeImageChunk, assembleImage (the Distributed Map\'s steps)', () => {
  /** The snapshot as one chunk's task sees it: listed from its first block on (ListSnapshotBlocks' StartingBlockIndex). */
  const from = (snap: MemorySnapshot, first: number): SnapshotBlocks => ({
    snapshotId: snap.snapshotId,
    geometry: () => snap.geometry(),
    async *blocks() {
      for await (const b of snap.blocks()) if (b.index >= first) yield b;
    },
    read: (b) => snap.read(b),
  });

  it('stores chunks in any order and assembles the same image.json as amber image, with the whole image\'s SHA-256', async () => {
    const snap = snapshot();
    const plan = await planImage(snap, 3);
    expect(plan.chunks.map((c) => [c.index, c.firstBlock, c.lastBlock, c.blocksWithData])).toEqual([
      [0, 0, 2, 2],
      [1, 3, 5, 1],
      [2, 6, 8, 0],
      [3, 9, 9, 1],
    ]);
    expect(plan.chunks[1]!.origin).toBe('api:aws-ebs?SnapshotId=snap-0123456789abcdef0&FirstBlock=3&LastBlock=5');
    const store = new MemoryObjectStore(false);
    const recorded = new Map<string, EvidenceItem>();
    // The map's children finish in any order.
    for (const chunk of [...plan.chunks].reverse()) {
      const item = await storeImageChunk({ blocks: from(snap, chunk.firstBlock), store, caseName: 'c1', plan, chunk, actor: TEST_ACTOR });
      expect(item.key).toBe(chunkKey(chunk.index));
      recorded.set(item.key, item);
    }
    const assembled = await assembleImage({ store, caseName: 'c1', plan, recorded: (k) => recorded.get(k) });
    expect(assembled.missing).toEqual([]);
    expect(assembled.record!.sha256).toBe(sha(snap.image()));
    expect(assembled.record!.sparseBlocks).toBe(6);

    // The CLI's image of the same snapshot writes the same image.json.
    const cli = new MemoryObjectStore(false);
    await imageSnapshot({ store: cli, caseName: 'c1', actor: TEST_ACTOR, blocks: snapshot(), chunkBlocks: 3 });
    expect(imageRecordBytes(assembled.record!).equals(cli.objects.get('cases/c1/aws/ebs/snap-0123456789abcdef0/image.json')!)).toBe(true);
  });

  it('names chunks the ledger lacks and chunks altered since they were recorded, and gives no image record then', async () => {
    const snap = snapshot();
    const plan = await planImage(snap, 3);
    const store = new MemoryObjectStore(false);
    const recorded = new Map<string, EvidenceItem>();
    for (const chunk of plan.chunks.slice(0, 3)) {
      const item = await storeImageChunk({ blocks: from(snap, chunk.firstBlock), store, caseName: 'c1', plan, chunk, actor: TEST_ACTOR });
      recorded.set(item.key, item);
    }
    const altered = Buffer.from(store.objects.get(chunkKey(1))!);
    altered[0] = altered[0]! ^ 0xff;
    store.objects.set(chunkKey(1), altered);
    const assembled = await assembleImage({ store, caseName: 'c1', plan, recorded: (k) => recorded.get(k) });
    expect(assembled.record).toBeUndefined();
    expect(assembled.missing).toEqual([chunkKey(3)]);
    expect(assembled.damaged.map((d) => d.key)).toEqual([chunkKey(1)]);
    expect(assembled.damaged[0]!.reason).toContain(`the ledger recorded ${recorded.get(chunkKey(1))!.sha256}`);
  });

  it('refuses a chunk whose listing no longer matches the plan, and a block that does not match its checksum', async () => {
    const snap = snapshot();
    const plan = await planImage(snap, 3);
    const store = new MemoryObjectStore(false);
    const chunk = plan.chunks[0]!;
    await expect(storeImageChunk({ blocks: from(snap, chunk.firstBlock), store, caseName: 'c1', plan, chunk: { ...chunk, blocksWithData: 3 }, actor: TEST_ACTOR })).rejects.toThrow(/names 2 block\(s\) with data in blocks 0-2, the plan 3/);
    snap.corrupt.add(4);
    const second = plan.chunks[1]!;
    await expect(storeImageChunk({ blocks: from(snap, second.firstBlock), store, caseName: 'c1', plan, chunk: second, actor: TEST_ACTOR })).rejects.toThrow(/block 4 of snap-0123456789abcdef0 .* does not match the checksum/);
    expect(store.objects.has(chunkKey(1))).toBe(false);
  });
});
