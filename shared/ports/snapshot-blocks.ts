/**
 * The SnapshotBlocks port: reading a block-storage snapshot block by block without attaching it to an
 * instance (EBS direct APIs in AWS: functions/aws/adapters/ebs-snapshot-blocks.ts). The core assembles the raw
 * image, checks every block's checksum and hashes the image; the adapter only lists and fetches.
 */

/** The shape of the snapshot's volume. */
export interface SnapshotGeometry {
  /** Size of the volume the snapshot was taken from, in bytes. */
  readonly volumeBytes: number;
  /** Size of one block in bytes (524,288 for EBS). */
  readonly blockBytes: number;
}

/** A block that holds data; blocks never listed were never written and read as zeros. */
export interface ListedBlock {
  readonly index: number;
  /** Opaque token the read needs (EBS block tokens expire; the listing is read lazily for that reason). */
  readonly token: string;
}

/** One block as the service sent it, with the checksum it sent beside it. */
export interface FetchedBlock {
  readonly data: Uint8Array;
  /** Base64 checksum the service computed over `data`. */
  readonly checksum: string | undefined;
  /** The checksum's algorithm as the service names it (`SHA256`). */
  readonly checksumAlgorithm: string | undefined;
}

export interface SnapshotBlocks {
  /** The snapshot, as the cloud names it (`snap-0123...`). */
  readonly snapshotId: string;
  /** Volume and block size (the first listing page says them). */
  geometry(): Promise<SnapshotGeometry>;
  /** Blocks holding data, in ascending index order, listed page by page as they are consumed. */
  blocks(): AsyncIterable<ListedBlock>;
  /** Reads one block. Errors name the snapshot and the block index. */
  read(block: ListedBlock): Promise<FetchedBlock>;
}
