/**
 * The `image` use case: a raw disk image of a block-storage snapshot, read block by block through the SnapshotBlocks
 * port (EBS direct APIs) and written into the evidence store without a forensic instance. Layout, relative to the
 * case:
 *
 *   aws/ebs/<snapshot>/chunks/000000.raw   the image's bytes, in order, `chunkBlocks` blocks per object
 *   aws/ebs/<snapshot>/image.json          geometry, every chunk's offset, size and SHA-256, and the SHA-256 of the
 *                                          whole image; written only when every chunk is preserved
 *
 * Concatenating the chunks in name order gives the raw image (`cat chunks/*.raw > image.raw`), whose SHA-256 is the
 * one in image.json. Every block's bytes are checked against the SHA-256 checksum the service sent with them before
 * they are kept; a block that does not match is refused and named, and its chunk is not preserved. Blocks the
 * listing does not name were never written and are zeros in the image, as on the volume.
 *
 * Resumable: a chunk the custody ledger already records is read back from the locker and re-hashed; when it matches
 * the recorded SHA-256 it is kept and not read from the service again (a chunk stored but not yet recorded is read
 * again, and the write-once locker accepts only the same bytes). Chunks are stored one at a time, in order, so the
 * image's SHA-256 is computed in the same pass that stores them (resumed chunks as they are read back).
 */
import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { AcquisitionError, InvalidInputError } from '../errors.ts';
import { collectEvidence, itemId, type CollectOptions, type CollectSummary } from '../evidence/collect.ts';
import { CustodyLedger } from '../evidence/ledger.ts';
import type { Actor, EvidenceItem } from '../evidence/model.ts';
import { evidenceKey } from '../evidence/names.ts';
import type { EvidenceSource, SourceObject, SourceProblem } from '../ports/evidence-source.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { ListedBlock, SnapshotBlocks, SnapshotGeometry } from '../ports/snapshot-blocks.ts';

/**
 * Blocks per chunk object when the caller does not say: 512 EBS blocks of 512 KiB, 256 MiB. Larger chunks spend
 * less of the run waiting for one chunk's last multipart parts before the next starts; smaller ones lose less
 * to an interruption.
 */
export const DEFAULT_CHUNK_BLOCKS = 512;

/** Blocks fetched at once inside a chunk when the caller does not say. */
export const DEFAULT_PARALLEL_BLOCKS = 8;

/** One chunk of the image, as image.json records it. */
export interface ImageChunk {
  readonly key: string;
  /** Byte offset of the chunk in the image. */
  readonly offset: number;
  readonly size: number;
  readonly sha256: string;
  /** Blocks of the chunk that hold data (the rest are zeros). */
  readonly blocksWithData: number;
}

/** What image.json says: enough to rebuild the image and check it without Amber. */
export interface ImageRecord {
  readonly snapshotId: string;
  readonly volumeBytes: number;
  readonly blockBytes: number;
  readonly chunkBlocks: number;
  readonly blocksWithData: number;
  readonly sparseBlocks: number;
  /** SHA-256 of the whole raw image (the chunks concatenated in order). */
  readonly sha256: string;
  readonly chunks: readonly ImageChunk[];
}

/** A chunk an earlier run stored and recorded. */
export interface PreservedChunk {
  /** The SHA-256 the custody ledger recorded for it. */
  readonly sha256: string;
  /** Its bytes as the locker holds them now. */
  open(): Promise<AsyncIterable<Uint8Array>>;
}

export interface SnapshotImageSourceOptions {
  readonly blocks: SnapshotBlocks;
  /**
   * Blocks per chunk object.
   * @default DEFAULT_CHUNK_BLOCKS
   */
  readonly chunkBlocks?: number;
  /**
   * Blocks fetched at once inside a chunk (the service's latency, not its bandwidth, bounds one fetch).
   * @default DEFAULT_PARALLEL_BLOCKS
   */
  readonly parallel?: number;
  /** An object the case's ledger records (relative path): its recorded SHA-256 and its stored bytes. Without it nothing is resumed. */
  readonly preserved?: (relPath: string) => Promise<PreservedChunk | undefined>;
}

/** The chunks of a snapshot's raw image as an EvidenceSource, then image.json once all are stored. */
export class SnapshotImageSource implements EvidenceSource {
  readonly spec: string;
  /** One chunk at a time, in order: the image's SHA-256 is computed as the chunks are stored. */
  readonly concurrency = 1;
  /** The image record, once every chunk is preserved (undefined while incomplete). */
  image: ImageRecord | undefined;
  private readonly blocks: SnapshotBlocks;
  private readonly chunkBlocks: number;
  private readonly parallel: number;
  private readonly preserved: ((relPath: string) => Promise<PreservedChunk | undefined>) | undefined;

  constructor(options: SnapshotImageSourceOptions) {
    this.blocks = options.blocks;
    this.spec = `api:aws-ebs?${new URLSearchParams({ SnapshotId: options.blocks.snapshotId }).toString()}`;
    this.chunkBlocks = options.chunkBlocks ?? DEFAULT_CHUNK_BLOCKS;
    this.parallel = options.parallel ?? DEFAULT_PARALLEL_BLOCKS;
    this.preserved = options.preserved;
    if (!Number.isInteger(this.chunkBlocks) || this.chunkBlocks < 1) {
      throw new InvalidInputError(`blocks per chunk must be a whole number of at least 1, got ${String(this.chunkBlocks)}`, { hint: `leave it out for ${DEFAULT_CHUNK_BLOCKS}` });
    }
  }

  /** Folder (relative to the case) of the image. */
  folder(): string {
    return `aws/ebs/${this.blocks.snapshotId}`;
  }

  async *list(onProblem: (problem: SourceProblem) => void): AsyncIterable<SourceObject> {
    const snap = this.blocks.snapshotId;
    const geometry = checkGeometry(await this.blocks.geometry(), snap, this.spec);
    const totalBlocks = geometry.volumeBytes / geometry.blockBytes;
    const chunkCount = Math.ceil(totalBlocks / this.chunkBlocks);
    const cursor = new BlockCursor(this.blocks.blocks(), totalBlocks, snap, this.spec);
    const whole = createHash('sha256');
    const chunks: ImageChunk[] = [];
    const missing: number[] = [];
    let blocksWithData = 0;
    for (let c = 0; c < chunkCount; c += 1) {
      const first = c * this.chunkBlocks;
      const last = Math.min(first + this.chunkBlocks, totalBlocks) - 1;
      const size = (last - first + 1) * geometry.blockBytes;
      const relPath = `${this.folder()}/chunks/${String(c).padStart(6, '0')}.raw`;
      const origin = `${this.spec}&FirstBlock=${first}&LastBlock=${last}`;
      let listed: ListedBlock[];
      try {
        listed = await cursor.takeUpTo(last);
      } catch (error) {
        // Without the listing no later chunk can be told from zeros: stop; what is stored stays.
        onProblem({ origin, reason: `${describe(error)}; the chunks from ${relPath} on were not read (run the same command again: stored chunks are checked and kept)` });
        missing.push(c);
        break;
      }
      blocksWithData += listed.length;

      const resumed = await this.resume(relPath, size, origin, whole, onProblem);
      if (resumed === 'damaged') {
        missing.push(c);
        continue;
      }
      if (resumed !== undefined) {
        // Recorded already (and in every manifest sealed from now on): nothing to store again.
        chunks.push({ key: relPath, offset: first * geometry.blockBytes, size, sha256: resumed, blocksWithData: listed.length });
        continue;
      }

      const hash = createHash('sha256');
      let stored = false;
      yield {
        origin,
        relPath,
        size,
        open: () => Promise.resolve(Readable.from(this.chunkBytes(geometry, first, last, listed, [hash, whole]))),
        afterRead: (bytesRead) => {
          stored = bytesRead === size;
          return Promise.resolve(undefined);
        },
      };
      if (!stored) {
        // collect recorded why (the refused block, the failed read); the image stays incomplete.
        missing.push(c);
        continue;
      }
      const sha256 = hash.digest('hex');
      chunks.push({ key: relPath, offset: first * geometry.blockBytes, size, sha256, blocksWithData: listed.length });
    }
    if (missing.length > 0) {
      onProblem({
        origin: this.spec,
        reason: `the image of ${snap} is incomplete: ${missing.length} of ${chunkCount} chunk${chunkCount === 1 ? '' : 's'} not preserved (first: ${String(missing[0]).padStart(6, '0')}.raw), so image.json was not written; run the same command again: preserved chunks are checked and kept, only the missing ones are read`,
      });
      return;
    }
    const record: ImageRecord = {
      snapshotId: snap,
      volumeBytes: geometry.volumeBytes,
      blockBytes: geometry.blockBytes,
      chunkBlocks: this.chunkBlocks,
      blocksWithData,
      sparseBlocks: totalBlocks - blocksWithData,
      sha256: whole.digest('hex'),
      chunks,
    };
    this.image = record;
    yield inMemory(this.spec, `${this.folder()}/image.json`, imageRecordBytes(record));
  }

  /**
   * A chunk an earlier run stored and recorded: read back once, hashed (feeding the image's hash), and its SHA-256
   * returned when it matches the record; 'damaged' when it does not; undefined when there is none to resume.
   */
  private async resume(relPath: string, size: number, origin: string, whole: Hash, onProblem: (p: SourceProblem) => void): Promise<string | 'damaged' | undefined> {
    const preserved = await this.preserved?.(relPath);
    if (preserved === undefined) return undefined;
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const part of await preserved.open()) {
      hash.update(part);
      whole.update(part);
      bytes += part.length;
    }
    const actual = hash.digest('hex');
    if (actual === preserved.sha256 && bytes === size) return actual;
    onProblem({
      origin,
      reason:
        bytes === size
          ? `the preserved chunk ${relPath} hashes to ${actual}, but the custody ledger recorded ${preserved.sha256}: it was altered after it was stored; it is not read again (run amber verify on the case)`
          : `the preserved chunk ${relPath} is ${bytes} bytes, not ${size}: it was stored with another chunk size (use the same --chunk-mib as the first run) or altered (run amber verify)`,
    });
    return 'damaged';
  }

  /** The chunk's bytes in order: listed blocks fetched (a few at once) and checked, zeros for the rest. */
  private chunkBytes(geometry: SnapshotGeometry, first: number, last: number, listed: readonly ListedBlock[], hashes: readonly Hash[]): AsyncGenerator<Buffer> {
    return chunkBytes(this.blocks, geometry, first, last, listed, this.parallel, hashes);
  }
}

/**
 * The bytes of blocks `first`..`last` of the image, in order: the listed blocks (those of the range, ascending)
 * fetched `parallel` at once and each checked against the checksum the service sent, zeros for the rest. Every
 * hash in `hashes` is fed the bytes as they go.
 */
export async function* chunkBytes(blocks: SnapshotBlocks, geometry: SnapshotGeometry, first: number, last: number, listed: readonly ListedBlock[], parallel: number, hashes: readonly Hash[]): AsyncGenerator<Buffer> {
  const zeros = Buffer.alloc(geometry.blockBytes);
  const pending = new Map<number, Promise<Buffer>>();
  let next = 0;
  for (let index = first; index <= last; index += 1) {
    while (next < listed.length && pending.size < parallel) {
      const block = listed[next]!;
      next += 1;
      const fetching = fetchChecked(blocks, block, geometry);
      // Handled here so a failure of a block fetched ahead is not "unhandled" before its turn comes.
      fetching.catch(() => undefined);
      pending.set(block.index, fetching);
    }
    const fetching = pending.get(index);
    pending.delete(index);
    const bytes = fetching === undefined ? zeros : await fetching;
    for (const h of hashes) h.update(bytes);
    yield bytes;
  }
}

/** One block, refused unless it is a whole block whose SHA-256 is the checksum the service sent. */
async function fetchChecked(blocks: SnapshotBlocks, block: ListedBlock, geometry: SnapshotGeometry): Promise<Buffer> {
  const snap = blocks.snapshotId;
  const where = `block ${block.index} of ${snap} (image bytes ${block.index * geometry.blockBytes}-${(block.index + 1) * geometry.blockBytes - 1})`;
  const origin = `api:aws-ebs?${new URLSearchParams({ SnapshotId: snap }).toString()}&BlockIndex=${block.index}`;
  const fetched = await blocks.read(block);
  const data = Buffer.from(fetched.data.buffer, fetched.data.byteOffset, fetched.data.byteLength);
  if (fetched.checksumAlgorithm !== 'SHA256' || fetched.checksum === undefined) {
    throw new AcquisitionError(`${where} came without a SHA-256 checksum (algorithm ${JSON.stringify(fetched.checksumAlgorithm)}), so its bytes cannot be checked; it was refused`, origin, {
      hint: 'run again; if the service keeps answering without a checksum, report it',
    });
  }
  if (data.length !== geometry.blockBytes) {
    throw new AcquisitionError(`${where} is ${data.length} bytes, not the snapshot's block size of ${geometry.blockBytes}; it was refused`, origin, {
      hint: 'run the same command again: preserved chunks are kept and the block is read anew',
    });
  }
  const actual = createHash('sha256').update(data).digest('base64');
  if (actual !== fetched.checksum) {
    throw new AcquisitionError(`${where} does not match the checksum sent with it: the service said ${fetched.checksum}, the bytes hash to ${actual}; it was refused`, origin, {
      hint: 'run the same command again: preserved chunks are kept and the block is read anew; a block that never matches points at a damaged snapshot',
    });
  }
  return data;
}

/** Reads the listing lazily and hands out the blocks of one chunk at a time, checking their order. */
class BlockCursor {
  private readonly iterator: AsyncIterator<ListedBlock>;
  private held: ListedBlock | undefined;
  private previous = -1;
  private done = false;

  constructor(
    blocks: AsyncIterable<ListedBlock>,
    private readonly total: number,
    private readonly snap: string,
    private readonly origin: string,
  ) {
    this.iterator = blocks[Symbol.asyncIterator]();
  }

  /** The listed blocks with index up to `last`, in order. */
  async takeUpTo(last: number): Promise<ListedBlock[]> {
    const out: ListedBlock[] = [];
    for (;;) {
      if (this.held === undefined) {
        if (this.done) return out;
        const next = await this.iterator.next();
        if (next.done) {
          this.done = true;
          return out;
        }
        const block = next.value;
        if (!Number.isInteger(block.index) || block.index <= this.previous || block.index >= this.total) {
          throw new AcquisitionError(
            `the block listing of ${this.snap} named block ${block.index} after block ${this.previous}, outside ascending order within the ${this.total} blocks of the volume`,
            this.origin,
            { hint: 'run the same command again; report it if the listing keeps doing so' },
          );
        }
        this.previous = block.index;
        this.held = block;
      }
      if (this.held.index > last) return out;
      out.push(this.held);
      this.held = undefined;
    }
  }
}

function checkGeometry(g: SnapshotGeometry, snap: string, origin: string): SnapshotGeometry {
  if (!Number.isSafeInteger(g.blockBytes) || g.blockBytes < 1 || !Number.isSafeInteger(g.volumeBytes) || g.volumeBytes < 1 || g.volumeBytes % g.blockBytes !== 0) {
    throw new AcquisitionError(`the snapshot ${snap} reported a volume of ${g.volumeBytes} bytes in blocks of ${g.blockBytes} bytes, which is not a whole number of blocks`, origin, {
      hint: 'run again; report it if the service keeps saying so',
    });
  }
  return g;
}

function inMemory(origin: string, relPath: string, bytes: Buffer): SourceObject {
  return { origin, relPath, size: bytes.length, open: () => Promise.resolve(Readable.from([bytes])) };
}

function describe(error: unknown): string {
  const e = error as { name?: string; message?: string };
  return `${e.name ?? 'Error'}: ${e.message ?? String(error)}`;
}

/** The image of a snapshot preserved into a case, and the collect summary of the run. */
export interface ImageSummary extends CollectSummary {
  /** The image record (as in image.json), or undefined when the image is incomplete (see `failures`). */
  readonly image: ImageRecord | undefined;
}

export interface ImageSnapshotOptions extends Omit<CollectOptions, 'sources' | 'concurrency' | 'recognise' | 'source'> {
  readonly blocks: SnapshotBlocks;
  readonly chunkBlocks?: number;
  readonly parallel?: number;
}

/** Preserves a snapshot's raw image into a case, resuming from the chunks already stored there. */
export async function imageSnapshot(options: ImageSnapshotOptions): Promise<ImageSummary> {
  const { blocks, chunkBlocks, parallel, ...collect } = options;
  let recorded: Map<string, EvidenceItem> | undefined;
  const source = new SnapshotImageSource({
    blocks,
    ...(chunkBlocks === undefined ? {} : { chunkBlocks }),
    ...(parallel === undefined ? {} : { parallel }),
    preserved: async (relPath) => {
      const key = evidenceKey(options.caseName, relPath);
      const item = (recorded ??= (await CustodyLedger.open(options.store, options.caseName)).items()).get(key);
      return item === undefined ? undefined : { sha256: item.sha256, open: () => options.store.get(key) };
    },
  });
  const summary = await collectEvidence({ ...collect, sources: [source] });
  return { ...summary, image: source.image };
}

/**
 * The image split for a Step Functions Distributed Map: one item per chunk (its block range, its path and how
 * many of its blocks hold data), each stored by its own task (`storeImageChunk`), then checked and described by
 * `assembleImage`. The layout is the one `amber image` writes, so either can resume the other's chunks.
 */
export interface ImagePlanChunk {
  readonly index: number;
  readonly firstBlock: number;
  readonly lastBlock: number;
  /** Relative to the case: `aws/ebs/<snapshot>/chunks/000000.raw`. */
  readonly relPath: string;
  /** The request that reads it: `api:aws-ebs?SnapshotId=...&FirstBlock=...&LastBlock=...`. */
  readonly origin: string;
  readonly blocksWithData: number;
}

export interface ImagePlan {
  readonly snapshotId: string;
  readonly volumeBytes: number;
  readonly blockBytes: number;
  readonly chunkBlocks: number;
  readonly chunks: readonly ImagePlanChunk[];
}

/** Lists the snapshot's blocks once and splits the image into chunks of `chunkBlocks` blocks. */
export async function planImage(blocks: SnapshotBlocks, chunkBlocks: number = DEFAULT_CHUNK_BLOCKS): Promise<ImagePlan> {
  const spec = `api:aws-ebs?${new URLSearchParams({ SnapshotId: blocks.snapshotId }).toString()}`;
  if (!Number.isInteger(chunkBlocks) || chunkBlocks < 1) throw new InvalidInputError(`blocks per chunk must be a whole number of at least 1, got ${String(chunkBlocks)}`);
  const geometry = checkGeometry(await blocks.geometry(), blocks.snapshotId, spec);
  const totalBlocks = geometry.volumeBytes / geometry.blockBytes;
  const cursor = new BlockCursor(blocks.blocks(), totalBlocks, blocks.snapshotId, spec);
  const chunks: ImagePlanChunk[] = [];
  for (let c = 0; c * chunkBlocks < totalBlocks; c += 1) {
    const first = c * chunkBlocks;
    const last = Math.min(first + chunkBlocks, totalBlocks) - 1;
    const listed = await cursor.takeUpTo(last);
    chunks.push({ index: c, firstBlock: first, lastBlock: last, relPath: chunkPath(blocks.snapshotId, c), origin: `${spec}&FirstBlock=${first}&LastBlock=${last}`, blocksWithData: listed.length });
  }
  return { snapshotId: blocks.snapshotId, volumeBytes: geometry.volumeBytes, blockBytes: geometry.blockBytes, chunkBlocks, chunks };
}

/** `aws/ebs/<snapshot>/chunks/000000.raw`. */
export function chunkPath(snapshotId: string, index: number): string {
  return `aws/ebs/${snapshotId}/chunks/${String(index).padStart(6, '0')}.raw`;
}

export interface StoreChunkOptions {
  /** The snapshot, listing from the chunk's first block on (EbsSnapshotBlocks' startingBlockIndex). */
  readonly blocks: SnapshotBlocks;
  readonly store: ObjectStore;
  readonly caseName: string;
  readonly plan: Pick<ImagePlan, 'volumeBytes' | 'blockBytes'>;
  readonly chunk: ImagePlanChunk;
  readonly actor: Actor;
  readonly retainUntil?: Date;
  /** @default DEFAULT_PARALLEL_BLOCKS */
  readonly parallel?: number;
  /** @default () => new Date() */
  readonly clock?: () => Date;
}

/**
 * Reads one chunk's blocks (each checked against the service's checksum, unlisted ones as zeros) and stores it
 * write-once, hashed as it is stored. A retry stores the same bytes again, which the locker accepts.
 */
export async function storeImageChunk(options: StoreChunkOptions): Promise<EvidenceItem> {
  const { chunk, plan } = options;
  const geometry = { volumeBytes: plan.volumeBytes, blockBytes: plan.blockBytes };
  const totalBlocks = plan.volumeBytes / plan.blockBytes;
  const cursor = new BlockCursor(options.blocks.blocks(), totalBlocks, options.blocks.snapshotId, chunk.origin);
  const listed = (await cursor.takeUpTo(chunk.lastBlock)).filter((b) => b.index >= chunk.firstBlock);
  if (listed.length !== chunk.blocksWithData) {
    throw new AcquisitionError(`the listing of ${options.blocks.snapshotId} now names ${listed.length} block(s) with data in blocks ${chunk.firstBlock}-${chunk.lastBlock}, the plan ${chunk.blocksWithData}: a snapshot does not change, so one of the listings was cut short`, chunk.origin, {
      hint: 'run the image again: its plan is made anew and stored chunks are kept',
    });
  }
  const size = (chunk.lastBlock - chunk.firstBlock + 1) * plan.blockBytes;
  const key = evidenceKey(options.caseName, chunk.relPath);
  const put = await options.store.putImmutable(key, Readable.from(chunkBytes(options.blocks, geometry, chunk.firstBlock, chunk.lastBlock, listed, options.parallel ?? DEFAULT_PARALLEL_BLOCKS, [])), {
    mediaType: 'application/octet-stream',
    sizeHint: size,
    ...(options.retainUntil ? { retainUntil: options.retainUntil } : {}),
  });
  if (put.size !== size) throw new AcquisitionError(`chunk ${chunk.relPath} was stored with ${put.size} bytes, not ${size}`, chunk.origin);
  return {
    id: itemId(put.key),
    case: options.caseName,
    origin: chunk.origin,
    key: put.key,
    size: put.size,
    sha256: put.sha256,
    acquiredAt: (options.clock ?? (() => new Date()))().toISOString(),
    acquiredBy: options.actor.principal,
    retainUntil: put.retainUntil ?? null,
    mediaType: 'application/octet-stream',
    ...(put.versionId ? { versionId: put.versionId } : {}),
  };
}

/** What `assembleImage` found: the image record when every chunk is recorded and intact, else what is wrong. */
export interface AssembledImage {
  readonly record?: ImageRecord;
  /** Chunks the ledger does not record (not stored yet, or their task failed). */
  readonly missing: readonly string[];
  /** Chunks whose stored bytes no longer match what the ledger recorded. */
  readonly damaged: readonly { readonly key: string; readonly reason: string }[];
}

/**
 * Reads every chunk back in order from the locker, checks it against the SHA-256 the custody ledger recorded for
 * it, and computes the whole image's SHA-256 over them in the same pass. image.json is for the caller to store.
 */
export async function assembleImage(options: { store: ObjectStore; caseName: string; plan: ImagePlan; recorded: (key: string) => EvidenceItem | undefined }): Promise<AssembledImage> {
  const { plan } = options;
  const whole = createHash('sha256');
  const missing: string[] = [];
  const damaged: { key: string; reason: string }[] = [];
  const chunks: ImageChunk[] = [];
  for (const chunk of plan.chunks) {
    const key = evidenceKey(options.caseName, chunk.relPath);
    const item = options.recorded(key);
    if (item === undefined) {
      missing.push(key);
      continue;
    }
    const size = (chunk.lastBlock - chunk.firstBlock + 1) * plan.blockBytes;
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const part of await options.store.get(key)) {
      const b = part as Buffer;
      hash.update(b);
      if (missing.length === 0 && damaged.length === 0) whole.update(b);
      bytes += b.length;
    }
    const actual = hash.digest('hex');
    if (actual !== item.sha256 || bytes !== size) {
      damaged.push({ key, reason: `stored as ${bytes} bytes hashing to ${actual}; the ledger recorded ${item.sha256} and the plan ${size} bytes (run amber verify on the case)` });
      continue;
    }
    chunks.push({ key: chunk.relPath, offset: chunk.firstBlock * plan.blockBytes, size, sha256: actual, blocksWithData: chunk.blocksWithData });
  }
  if (missing.length > 0 || damaged.length > 0) return { missing, damaged };
  const blocksWithData = plan.chunks.reduce((n, c) => n + c.blocksWithData, 0);
  return {
    missing,
    damaged,
    record: {
      snapshotId: plan.snapshotId,
      volumeBytes: plan.volumeBytes,
      blockBytes: plan.blockBytes,
      chunkBlocks: plan.chunkBlocks,
      blocksWithData,
      sparseBlocks: plan.volumeBytes / plan.blockBytes - blocksWithData,
      sha256: whole.digest('hex'),
      chunks,
    },
  };
}

/** image.json's bytes, as `amber image` writes them. */
export function imageRecordBytes(record: ImageRecord): Buffer {
  return Buffer.from(`${JSON.stringify(record, null, 2)}\n`);
}
