import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { imageSnapshot } from '../../../shared/imaging/snapshot-image.ts';
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
