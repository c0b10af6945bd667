/**
 * `amber capture`: volatile data (and, with --memory, a memory image) of a running instance through SSM Run
 * Command. Output goes to the s3:// locker's bucket under amber-staging/ssm/ and is then stored into the case,
 * each object hashed by Amber. Loaded only when run, so the SSM client stays out of start-up.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Readable } from 'node:stream';
import { createS3Client, s3ConfigFromEnv } from '../../functions/aws/adapters/s3-client.ts';
import { isNotFound } from '../../functions/aws/adapters/s3-errors.ts';
import { parseS3Uri } from '../../functions/aws/adapters/s3-source.ts';
import { sdkClientConfig } from '../../functions/aws/adapters/aws-client.ts';
import { checkInstanceId, SsmRemoteCommand } from '../../functions/aws/adapters/ssm-remote-command.ts';
import { ObjectNotFoundError, UsageError } from '../../shared/errors.ts';
import { validateCaseName } from '../../shared/evidence/names.ts';
import { captureMemory, checkPinnedTool, type PinnedTool } from '../../shared/preservation/memory.ts';
import { captureVolatile, type RemoteRunOptions } from '../../shared/preservation/volatile.ts';
import type { Values } from '../amber.ts';
import { optionalString, requireString } from './args.ts';
import { actorFrom, lockerSpec, openLocker, signerFrom } from './context.ts';
import { t, type Io } from './io.ts';

export const CAPTURE_USAGE = 'amber capture --case C --instance i-... [--platform linux|windows] [--memory (--avml s3://tools/avml --avml-sha256 HEX | --winpmem s3://tools/winpmem.exe --winpmem-sha256 HEX)] [--region R] --locker s3://bucket [--json]';
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** Runs `amber capture`. */
export async function runCapture(values: Values, _positionals: string[], io: Io): Promise<number> {
  const caseName = validateCaseName(requireString(values, 'case', CAPTURE_USAGE));
  const instanceId = requireString(values, 'instance', CAPTURE_USAGE);
  checkInstanceId(instanceId);
  const platform = optionalString(values, 'platform') ?? 'linux';
  if (platform !== 'linux' && platform !== 'windows') throw new UsageError(`--platform ${JSON.stringify(platform)} is not linux or windows`, { hint: CAPTURE_USAGE });
  const region = optionalString(values, 'region');
  if (region !== undefined && !REGION.test(region)) throw new UsageError(`--region ${JSON.stringify(region)} is not an AWS region name`, { hint: 'write it like eu-west-1 or us-east-1' });
  const locker = lockerSpec(optionalString(values, 'locker'), io);
  if (!locker.startsWith('s3://')) {
    throw new UsageError(`amber capture needs an s3:// locker, got ${JSON.stringify(locker)}`, {
      hint: 'SSM writes command output to S3: pass --locker s3://evidence-bucket (the bucket the instance role may write to)',
    });
  }
  let tools: { avml?: PinnedTool; winpmem?: PinnedTool } | undefined;
  if (values.memory) {
    const tool = platform === 'linux' ? 'avml' : 'winpmem';
    const uri = optionalString(values, tool);
    const sha256 = optionalString(values, `${tool}-sha256`);
    if (!uri || !sha256) {
      throw new UsageError(
        platform === 'linux'
          ? '--memory on Linux needs --avml s3://tools-bucket/path/avml and --avml-sha256 HEX (the SHA-256 of the binary you vetted)'
          : '--memory on Windows needs --winpmem s3://tools-bucket/path/winpmem.exe and --winpmem-sha256 HEX (Get-FileHash -Algorithm SHA256 of the executable you vetted)',
        { hint: CAPTURE_USAGE },
      );
    }
    const parsed = parseS3Uri(uri);
    tools = { [tool]: checkPinnedTool({ bucket: parsed.bucket, key: parsed.prefix, sha256 }, tool === 'avml' ? 'AVML' : 'WinPmem') };
  }
  const signer = await signerFrom(optionalString(values, 'signing-key'), io);
  const store = await openLocker(locker, io, { create: true });
  const { bucket, prefix } = parseS3Uri(locker);
  const s3 = createS3Client(s3ConfigFromEnv(io.env));
  const openOutput = async (loc: { bucket: string; key: string }): Promise<Readable> => {
    try {
      const out = await s3.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
      return out.Body as Readable;
    } catch (error) {
      if (isNotFound(error)) throw new ObjectNotFoundError(loc.key, { cause: error });
      throw error;
    }
  };
  const options: RemoteRunOptions = {
    runner: new SsmRemoteCommand({ client: new SSMClient(sdkClientConfig(region ? { region } : {})), where: region ?? 'the configured region' }),
    store,
    openOutput,
    outputBucket: bucket,
    outputPrefix: `${prefix ? `${prefix.replace(/\/+$/, '')}/` : ''}amber-staging/ssm`,
    actor: actorFrom(io),
    ...(signer ? { signer } : {}),
  };
  const requestId = `capture-${new Date().toISOString().replace(/[:.]/g, '')}`;
  const instances = [{ instanceId, platform: platform as 'linux' | 'windows' }];
  const volatile = await captureVolatile(options, { case: caseName, requestId, instances });
  const memory = tools ? await captureMemory({ ...options, ...tools }, { case: caseName, requestId, instances }) : undefined;
  if (values.json) io.out(`${JSON.stringify({ volatile, ...(memory ? { memory } : {}) }, null, 2)}\n`);
  else {
    const lines: string[] = [];
    for (const o of [...volatile.instances.map((i) => ({ ...i, what: 'volatile triage' })), ...(memory?.instances ?? []).map((i) => ({ ...i, what: 'memory' }))]) {
      lines.push(o.outcome === 'captured' ? `${o.what} of ${o.instanceId}: captured, ${o.items.length} object(s) preserved` : `${o.what} of ${o.instanceId}: FAILED (${t(o.reason ?? '')}): ${t(o.message ?? '')}`);
      for (const item of o.items) lines.push(`  ${t(item.key)}  sha256 ${item.sha256}`);
    }
    io.out(`${lines.join('\n')}\n`);
  }
  if (memory?.instances.some((i) => i.integrityFailure)) return 3;
  return [...volatile.instances, ...(memory?.instances ?? [])].every((i) => i.outcome === 'captured') ? 0 : 1;
}
