/**
 * What the disk-image handlers share: the EBS direct client of the snapshot's account and region (own
 * credentials, or the member's collector role), the chunk size of a request, and where its plan is kept.
 */
import { EBSClient } from '@aws-sdk/client-ebs';
import { sha256Hex } from '../../../shared/evidence/hashing.ts';
import { DEFAULT_CHUNK_BLOCKS } from '../../../shared/imaging/snapshot-image.ts';
import { requestSlug } from '../../../shared/preservation/request.ts';
import type { ImageTaskInput } from '../handlers/contracts.ts';
import type { CollectorConfigs } from './collector-config.ts';

/** EBS direct API blocks are 512 KiB. */
const BLOCKS_PER_MIB = 2;

/** Blocks per chunk of a request (chunkMib × 2), or Amber's default. */
export function chunkBlocksOf(task: Pick<ImageTaskInput, 'chunkMib'>): number {
  return task.chunkMib === undefined ? DEFAULT_CHUNK_BLOCKS : task.chunkMib * BLOCKS_PER_MIB;
}

/** `_work/image-plans/<case>/<snapshot>-<request>-<hash>`: the plan (`.json`) and the map's items (`-items.json`). */
export function planKeyOf(task: ImageTaskInput): string {
  const id = sha256Hex(Buffer.from(`${task.case}\n${task.requestId}\n${task.snapshotId}\n${chunkBlocksOf(task)}`)).slice(0, 16);
  return `_work/image-plans/${task.case}/${task.snapshotId}-${requestSlug(task.requestId)}-${id}`;
}

/** The EBS client of the snapshot's account and region. */
export function ebsClientFor(configs: CollectorConfigs, task: Pick<ImageTaskInput, 'accountId' | 'region'>): EBSClient {
  return new EBSClient(configs.for(task.accountId, task.region));
}
