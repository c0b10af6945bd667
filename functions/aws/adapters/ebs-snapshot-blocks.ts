/**
 * The SnapshotBlocks port on the EBS direct APIs: ListSnapshotBlocks (paged with NextToken, read lazily so block
 * tokens are used soon after they are issued) and GetSnapshotBlock, whose x-amz-Checksum / x-amz-Checksum-Algorithm
 * headers go to the core, which checks them. Throttling (ThrottlingException, RequestThrottledException) is retried
 * by the SDK's retry strategy. The endpoint is the SDK's own resolution, so AWS_ENDPOINT_URL_EBS works.
 */
import { EBSClient, GetSnapshotBlockCommand, ListSnapshotBlocksCommand, type ListSnapshotBlocksCommandOutput } from '@aws-sdk/client-ebs';
import { AcquisitionError, InvalidInputError } from '../../../shared/errors.ts';
import type { FetchedBlock, ListedBlock, SnapshotBlocks, SnapshotGeometry } from '../../../shared/ports/snapshot-blocks.ts';
import { sdkClientConfig, type AwsClientConfig } from './aws-client.ts';

/** ListSnapshotBlocks' largest page (documented maximum of MaxResults). */
export const EBS_PAGE_SIZE = 10_000;

const GIB = 1024 ** 3;
const SNAPSHOT_ID = /^snap-[0-9a-f]{8,17}$/;

/** Throws InvalidInputError unless `id` looks like an EBS snapshot id. */
export function checkSnapshotId(id: string): string {
  if (!SNAPSHOT_ID.test(id)) {
    throw new InvalidInputError(`${JSON.stringify(id)} is not an EBS snapshot id`, { hint: 'write it like snap-0123456789abcdef0 (aws ec2 describe-snapshots lists them)' });
  }
  return id;
}

export interface EbsSnapshotBlocksOptions {
  readonly snapshotId: string;
  /** Client config (region, credentials, retries, a test HTTP handler). */
  readonly clientConfig?: AwsClientConfig;
  /**
   * The EBS client.
   * @default new EBSClient(sdkClientConfig(clientConfig)), built only when none is given
   */
  readonly client?: EBSClient;
  /**
   * Blocks asked for per listing page (tests use small pages).
   * @default EBS_PAGE_SIZE
   */
  readonly pageSize?: number;
  /**
   * List from this block on (ListSnapshotBlocks' StartingBlockIndex): one chunk's task reads only its range.
   * @default 0
   */
  readonly startingBlockIndex?: number;
}

/** An EBS snapshot read through the EBS direct APIs. */
export class EbsSnapshotBlocks implements SnapshotBlocks {
  readonly snapshotId: string;
  private readonly client: EBSClient;
  private readonly pageSize: number;
  private readonly startingBlockIndex: number | undefined;
  private first: Promise<ListSnapshotBlocksCommandOutput> | undefined;

  constructor(options: EbsSnapshotBlocksOptions) {
    this.snapshotId = checkSnapshotId(options.snapshotId);
    this.client = options.client ?? new EBSClient(sdkClientConfig(options.clientConfig));
    this.pageSize = options.pageSize ?? EBS_PAGE_SIZE;
    this.startingBlockIndex = options.startingBlockIndex;
  }

  async geometry(): Promise<SnapshotGeometry> {
    const page = await this.firstPage();
    if (page.VolumeSize === undefined || page.BlockSize === undefined) {
      throw new AcquisitionError(`ListSnapshotBlocks on ${this.snapshotId} did not say the volume or block size`, this.origin(), { hint: 'run again; report it if EBS keeps answering so' });
    }
    return { volumeBytes: page.VolumeSize * GIB, blockBytes: page.BlockSize };
  }

  async *blocks(): AsyncIterable<ListedBlock> {
    let page = await this.firstPage();
    for (;;) {
      for (const b of page.Blocks ?? []) {
        if (b.BlockIndex === undefined || b.BlockToken === undefined) continue;
        yield { index: b.BlockIndex, token: b.BlockToken };
      }
      const token = page.NextToken;
      if (!token) return;
      page = await this.list(token);
      if (page.NextToken === token) {
        throw new AcquisitionError(`ListSnapshotBlocks on ${this.snapshotId} returned the NextToken it was given, so listing on would never end`, this.origin(), {
          hint: 'run again; report it if EBS keeps answering so',
        });
      }
    }
  }

  async read(block: ListedBlock): Promise<FetchedBlock> {
    try {
      const out = await this.client.send(new GetSnapshotBlockCommand({ SnapshotId: this.snapshotId, BlockIndex: block.index, BlockToken: block.token }));
      const data = out.BlockData === undefined ? new Uint8Array() : await out.BlockData.transformToByteArray();
      return { data, checksum: out.Checksum, checksumAlgorithm: out.ChecksumAlgorithm };
    } catch (error) {
      throw this.failure(error, `GetSnapshotBlock for block ${block.index}`, 'ebs:GetSnapshotBlock');
    }
  }

  private firstPage(): Promise<ListSnapshotBlocksCommandOutput> {
    // Only a successful first page is kept; a failed one is asked for again by the next caller.
    this.first ??= this.list(undefined).catch((error: unknown) => {
      this.first = undefined;
      throw error;
    });
    return this.first;
  }

  private async list(token: string | undefined): Promise<ListSnapshotBlocksCommandOutput> {
    try {
      return await this.client.send(new ListSnapshotBlocksCommand({ SnapshotId: this.snapshotId, MaxResults: this.pageSize, ...(this.startingBlockIndex ? { StartingBlockIndex: this.startingBlockIndex } : {}), ...(token ? { NextToken: token } : {}) }));
    } catch (error) {
      throw this.failure(error, 'ListSnapshotBlocks', 'ebs:ListSnapshotBlocks');
    }
  }

  private origin(): string {
    return `api:aws-ebs?${new URLSearchParams({ SnapshotId: this.snapshotId }).toString()}`;
  }

  private failure(error: unknown, call: string, action: string): AcquisitionError {
    const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number; attempts?: number } };
    const name = e.name ?? 'Error';
    const status = e.$metadata?.httpStatusCode;
    const said = `${call} on ${this.snapshotId} failed: ${name}${status === undefined ? '' : ` (HTTP ${status})`}${e.$metadata?.attempts ? ` after ${e.$metadata.attempts} attempts` : ''}: ${e.message ?? String(error)}`;
    let hint = 'run the same command again: preserved chunks are checked and kept';
    if (name === 'AccessDeniedException' || status === 403) hint = `the credentials may not call ${action} on ${this.snapshotId} (grant it on this snapshot's ARN; an encrypted snapshot also needs kms:Decrypt on its key)`;
    else if (name === 'ResourceNotFoundException' || status === 404) hint = `no snapshot ${this.snapshotId} in this region and account: check --region and the id (aws ec2 describe-snapshots --snapshot-ids ${this.snapshotId})`;
    else if (/Throttl/i.test(name)) hint = 'EBS kept throttling after every retry: run the same command again later (preserved chunks are kept)';
    else if (name === 'ValidationException' && /token/i.test(e.message ?? '')) hint = 'the block tokens expired (the listing is valid for a limited time): run the same command again; it lists anew and resumes';
    return new AcquisitionError(said, this.origin(), { hint, cause: error });
  }
}
