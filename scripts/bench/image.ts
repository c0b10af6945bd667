/**
 * bench:image — how fast `amber image` assembles a snapshot's raw image into an S3 locker compared with a plain
 * multipart upload (@aws-sdk/lib-storage, the same part size and parallelism) of the same bytes to the same S3
 * server, measured in the same run. Amber also checks every block's SHA-256 checksum, hashes each chunk and the
 * whole image, and records custody; the plain upload does none of that, so it is the ceiling.
 * Target: image >= 0.8 of the plain upload's throughput. Blocks come from memory, so the network to EBS is not
 * measured; the S3 server is the local Ceph RADOS Gateway:
 *
 *   bash scripts/s3-server.sh start .s3-server && set -a && . .s3-server/env && set +a
 *   npm run bench:image [-- --size-mb 256 --runs 2 --chunk-mib 256]
 *
 * The buckets are emptied and removed after each measurement (the local server holds 2 GiB in memory).
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createS3Client, s3ConfigFromEnv } from '../../functions/aws/adapters/s3-client.ts';
import { S3ObjectStore } from '../../functions/aws/adapters/s3-object-store.ts';
import { imageSnapshot } from '../../shared/imaging/snapshot-image.ts';
import type { FetchedBlock, ListedBlock, SnapshotBlocks } from '../../shared/ports/snapshot-blocks.ts';

const { values } = parseArgs({ options: { 'size-mb': { type: 'string', default: '256' }, runs: { type: 'string', default: '2' }, 'chunk-mib': { type: 'string', default: '256' } } });
const BLOCK = 524_288;
const sizeMb = Number(values['size-mb']);
const runs = Number(values.runs);
const blockCount = Math.max(1, Math.round((sizeMb * 1024 * 1024) / BLOCK));
const chunkBlocks = Number(values['chunk-mib']) * 2;

if (!process.env.AWS_ENDPOINT_URL_S3) {
  console.error('bench:image needs the local S3 server: bash scripts/s3-server.sh start .s3-server && set -a && . .s3-server/env && set +a');
  process.exit(2);
}

// 16 distinct random blocks, cycled; every 7th block never written (zeros), as on a real volume.
const distinct = Array.from({ length: 16 }, () => randomBytes(BLOCK));
const checksums = distinct.map((b) => createHash('sha256').update(b).digest('base64'));
const written = (i: number): boolean => i % 7 !== 3;

/** A snapshot held in memory, answering like the EBS adapter does (bytes and their SHA-256 checksum). */
const memorySnapshot: SnapshotBlocks = {
  snapshotId: 'snap-0000000000bench0',
  geometry: () => Promise.resolve({ volumeBytes: blockCount * BLOCK, blockBytes: BLOCK }),
  async *blocks(): AsyncIterable<ListedBlock> {
    for (let i = 0; i < blockCount; i += 1) if (written(i)) yield { index: i, token: String(i) };
  },
  read: (b: ListedBlock): Promise<FetchedBlock> => Promise.resolve({ data: distinct[b.index % 16]!, checksum: checksums[b.index % 16], checksumAlgorithm: 'SHA256' }),
};

async function* sameBytes(): AsyncGenerator<Buffer> {
  const zeros = Buffer.alloc(BLOCK);
  for (let i = 0; i < blockCount; i += 1) yield written(i) ? distinct[i % 16]! : zeros;
}

const client = createS3Client(s3ConfigFromEnv());

async function bucket(label: string): Promise<string> {
  const name = `amber-bench-${label}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  await client.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

/** Empties and removes a bench bucket: the local server keeps objects in 2 GiB of memory. */
async function drop(name: string): Promise<void> {
  for await (const page of paginateListObjectsV2({ client }, { Bucket: name })) {
    for (const o of page.Contents ?? []) await client.send(new DeleteObjectCommand({ Bucket: name, Key: o.Key! }));
  }
  await client.send(new DeleteBucketCommand({ Bucket: name }));
}

async function timeImage(): Promise<number> {
  const name = await bucket('image');
  const store = await S3ObjectStore.open({ bucket: name, client });
  const started = performance.now();
  const summary = await imageSnapshot({ store, caseName: 'bench', actor: { principal: 'bench', tool: 'amber/bench' }, blocks: memorySnapshot, chunkBlocks });
  const seconds = (performance.now() - started) / 1000;
  await drop(name);
  if (!summary.image || summary.failures.length > 0) throw new Error(`the image failed: ${JSON.stringify(summary.failures)}`);
  return seconds;
}

async function timeUpload(): Promise<number> {
  const name = await bucket('plain');
  const started = performance.now();
  await new Upload({ client, params: { Bucket: name, Key: 'image.raw', Body: Readable.from(sameBytes()) }, partSize: 8 * 1024 * 1024, queueSize: 4 }).done();
  const seconds = (performance.now() - started) / 1000;
  await drop(name);
  return seconds;
}

const mb = (blockCount * BLOCK) / 1e6;
console.log(`bench:image: ${mb.toFixed(0)} MB image (${blockCount} blocks of 512 KiB, 1 in 7 never written, chunks of ${chunkBlocks / 2} MiB), ${runs} run(s) each, S3 at ${process.env.AWS_ENDPOINT_URL_S3}`);
let bestImage = Infinity;
let bestUpload = Infinity;
for (let r = 0; r < runs; r += 1) {
  const u = await timeUpload();
  const i = await timeImage();
  bestUpload = Math.min(bestUpload, u);
  bestImage = Math.min(bestImage, i);
  console.log(`  run ${r + 1}: plain multipart upload ${(mb / u).toFixed(1)} MB/s, amber image ${(mb / i).toFixed(1)} MB/s`);
}
const ratio = bestUpload / bestImage;
console.log(`best: plain upload ${(mb / bestUpload).toFixed(1)} MB/s, amber image ${(mb / bestImage).toFixed(1)} MB/s, ratio ${ratio.toFixed(2)} (target >= 0.8) ${ratio >= 0.8 ? 'MET' : 'NOT MET'}`);
