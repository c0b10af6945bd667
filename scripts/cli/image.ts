/**
 * `amber image`: a raw disk image of an EBS snapshot, read through the EBS direct APIs into the case (no forensic
 * instance, no volume). Loaded only when run, so the EBS client stays out of start-up.
 */
import { EBSClient } from '@aws-sdk/client-ebs';
import { checkSnapshotId, EbsSnapshotBlocks } from '../../functions/aws/adapters/ebs-snapshot-blocks.ts';
import { sdkClientConfig } from '../../functions/aws/adapters/aws-client.ts';
import { UsageError } from '../../shared/errors.ts';
import { validateCaseName } from '../../shared/evidence/names.ts';
import { imageSnapshot, type ImageSummary } from '../../shared/imaging/snapshot-image.ts';
import type { Values } from '../amber.ts';
import { optionalString, positiveInt, requireString } from './args.ts';
import { noCredentialsError, noRegionError } from './aws-setup.ts';
import { actorFrom, lockerSpec, openLocker, signerFrom } from './context.ts';
import { formatBytes, ProgressBar, t, type Io } from './io.ts';

export const IMAGE_USAGE = 'amber image --case C --snapshot snap-... [--region R] [--chunk-mib N] [--locker DIR|s3://bucket] [--retain-days N] [--json]';
const DAY_MS = 86_400_000;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const EBS_BLOCK_MIB = 0.5;

/** Runs `amber image`. */
export async function runImage(values: Values, _positionals: string[], io: Io): Promise<number> {
  const caseName = validateCaseName(requireString(values, 'case', IMAGE_USAGE));
  const snapshotId = checkSnapshotId(requireString(values, 'snapshot', IMAGE_USAGE));
  const region = optionalString(values, 'region');
  if (region !== undefined && !REGION.test(region)) throw new UsageError(`--region ${JSON.stringify(region)} is not an AWS region name`, { hint: 'write it like eu-west-1 or us-east-1' });
  const chunkMib = positiveInt(values, 'chunk-mib', 64);
  if (chunkMib > 4096) throw new UsageError(`--chunk-mib ${chunkMib} is out of range`, { hint: 'use a whole number of MiB from 1 to 4096 (default 64)' });
  const retainDays = positiveInt(values, 'retain-days', 365);
  const signer = await signerFrom(optionalString(values, 'signing-key'), io);

  const client = new EBSClient({ ...sdkClientConfig(region ? { region } : {}) });
  try {
    if (!(await client.config.region())) throw new Error('empty region');
  } catch (cause) {
    throw noRegionError(snapshotId, io.env, cause);
  }
  try {
    await client.config.credentials();
  } catch (cause) {
    throw noCredentialsError(snapshotId, io.env, cause);
  }
  const store = await openLocker(lockerSpec(optionalString(values, 'locker'), io), io, { create: true });
  const progress = new ProgressBar(io, 'imaging');
  const summary = await imageSnapshot({
    store,
    caseName,
    actor: actorFrom(io),
    blocks: new EbsSnapshotBlocks({ snapshotId, client }),
    chunkBlocks: chunkMib / EBS_BLOCK_MIB,
    retainUntil: new Date(Date.now() + retainDays * DAY_MS),
    ...(signer ? { signer } : {}),
    onProgress: (p) => progress.update(p.bytes, undefined, `${formatBytes(p.bytes)}  ${p.current ?? ''}`),
  });
  progress.done();
  if (values.json) io.out(`${JSON.stringify(summary, null, 2)}\n`);
  else io.out(describe(summary, snapshotId));
  if (summary.failures.length === 0) return 0;
  return Math.max(...summary.failures.map((f) => f.exitCode));
}

function describe(s: ImageSummary, snapshotId: string): string {
  const lines: string[] = [];
  if (s.image) {
    lines.push(
      `Imaged ${snapshotId} into case ${t(s.case)}: ${formatBytes(s.image.volumeBytes)} in ${s.image.chunks.length} chunk${s.image.chunks.length === 1 ? '' : 's'} (${s.image.blocksWithData} blocks with data, ${s.image.sparseBlocks} never written, kept as zeros)`,
      `  image sha256 ${s.image.sha256}`,
      `  rebuild:  cat ${s.image.chunks[0]?.key.replace(/\d{6}\.raw$/, '*.raw') ?? ''} > ${snapshotId}.raw   (image.json lists every chunk's SHA-256)`,
    );
  } else {
    lines.push(`The image of ${snapshotId} in case ${t(s.case)} is INCOMPLETE: run the same command again (preserved chunks are checked and kept)`);
  }
  lines.push(
    `  ${formatBytes(s.bytes)} stored or re-checked in ${s.seconds.toFixed(2)} s (${s.mbPerSecond.toFixed(1)} MB/s); every block checked against the SHA-256 EBS sent`,
    `  locker:   ${t(s.locker)}`,
    `  manifest: ${t(s.manifest.key)} (sha256 ${s.manifest.sha256})`,
    `  ledger:   ${s.ledgerHead.seq} entries, head ${s.ledgerHead.sha256}`,
  );
  if (s.failures.length > 0) {
    lines.push('', `NOT preserved (${s.failures.length}):`);
    for (const f of s.failures) lines.push(`  ${t(f.origin)}: ${t(f.reason)}`);
  }
  return `${lines.join('\n')}\n`;
}
