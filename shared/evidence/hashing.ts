/** SHA-256 helpers: evidence is hashed while it streams, never by a second read. */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/** Lowercase hex SHA-256 of bytes or text (for small things: ledger lines, manifests). */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The hash of "nothing before": the `prev` of a ledger's first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * A pass-through stream that hashes and counts every byte going by. Read `sha256` and `size` after the
 * stream has finished; `onChunk` sees each chunk (progress, media-type sniffing) without copying it.
 */
export class HashingPassThrough extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private digestHex: string | undefined;
  size = 0;

  constructor(private readonly onChunk?: (chunk: Buffer) => void) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    this.onChunk?.(chunk);
    callback(null, chunk);
  }

  /** Hex digest; only valid once all data has passed. */
  get sha256(): string {
    this.digestHex ??= this.hash.digest('hex');
    return this.digestHex;
  }
}

/** SHA-256 and size of a whole stream (verification reads: the one read they exist to do). */
export async function hashStream(stream: AsyncIterable<Uint8Array>): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha256: hash.digest('hex'), size };
}
