/**
 * What capture-volatile and capture-memory share: asking Systems Manager whether the instance is managed (and
 * what it runs) before sending anything, the RemoteRunOptions of a task (SSM through the collector role, output
 * staged in the evidence bucket under `_work/ssm/`, stored into the case by this function), and turning a run's
 * custody batches into the one record-custody entry the state machine appends. Nothing here writes the ledger.
 */
import type { SSMClient } from '@aws-sdk/client-ssm';
import { DescribeInstanceInformationCommand } from '@aws-sdk/client-ssm';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { EvidenceItem } from '../../../shared/evidence/model.ts';
import { ObjectNotFoundError } from '../../../shared/errors.ts';
import type { CustodyBatch } from '../../../shared/preservation/custody.ts';
import type { InstanceOutcome, RemoteRunOptions } from '../../../shared/preservation/volatile.ts';
import type { ScriptPlatform } from '../../../shared/ports/remote-command.ts';
import type { RemoteCaptureResult } from '../handlers/contracts.ts';
import { awsErrorInfo, toCloudCallError } from './aws-errors.ts';
import { isNotFound } from './s3-errors.ts';

/** Where the instances write SSM output and memory images in the evidence bucket (infra: EVIDENCE_LAYOUT.ssmStaging). */
export const SSM_STAGING_PREFIX = '_work/ssm';

/** Seconds kept back from the Lambda timeout to store the outputs once the command has ended. */
const STORE_MARGIN_MS = 3 * 60_000;

/** The instance as Systems Manager sees it: a platform to script for, or why nothing can be sent. */
export type ManagedInstance = { readonly platform: ScriptPlatform } | { readonly reason: string; readonly message: string };

/** DescribeInstanceInformation for one instance: not listed (no agent, no profile), offline, or its platform. */
export async function managedInstance(ssm: SSMClient, instanceId: string, where: string): Promise<ManagedInstance> {
  let info;
  try {
    const out = await ssm.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [instanceId] }] }));
    info = out.InstanceInformationList?.find((i) => i.InstanceId === instanceId);
  } catch (error) {
    if (awsErrorInfo(error).name === 'InvalidInstanceId') info = undefined;
    else throw toCloudCallError(error, 'ssm:DescribeInstanceInformation', where);
  }
  if (!info) {
    return {
      reason: 'no-agent',
      message: `${instanceId} is not a managed instance in ${where} (no running SSM agent, or no instance profile allowing Systems Manager): its volatile data and memory were not captured; its disks are preserved by the snapshots`,
    };
  }
  if (info.PingStatus !== 'Online') {
    return { reason: 'agent-offline', message: `the SSM agent of ${instanceId} is ${String(info.PingStatus)} (last seen ${info.LastPingDateTime?.toISOString() ?? 'never'}): no command was sent` };
  }
  if (info.PlatformType === 'Windows') return { platform: 'windows' };
  if (info.PlatformType === 'Linux') return { platform: 'linux' };
  return { reason: 'unsupported-platform', message: `${instanceId} runs ${String(info.PlatformType)}: Amber has triage and memory scripts for Linux and Windows only` };
}

/** Opens an object an instance wrote into the staging prefix. */
export function stagedOutputs(s3: S3Client): RemoteRunOptions['openOutput'] {
  return async (loc) => {
    try {
      const out = await s3.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
      return out.Body as Readable;
    } catch (error) {
      if (isNotFound(error)) throw new ObjectNotFoundError(loc.key, { cause: error });
      throw error;
    }
  };
}

/** How long to wait for the command: the function's remaining time less a margin to store what it wrote. */
export function waitBudgetMs(remaining: number | undefined, cap: number): number {
  if (remaining === undefined) return cap;
  return Math.max(0, Math.min(cap, remaining - STORE_MARGIN_MS));
}

/** The result of a capture that sent nothing (the instance cannot take commands). */
export function notSent(instanceId: string, reason: string, message: string): RemoteCaptureResult {
  return { outcome: 'failed', reason, message, items: [], failures: [{ origin: `ssm:${instanceId}`, reason: `${reason}: ${message}` }], detail: { instanceId, outcome: 'failed', reason } };
}

/** One instance's run as one record-custody entry: every batch's items and failures, and each batch's facts. */
export function resultOf(outcome: InstanceOutcome, platform: ScriptPlatform, batches: readonly CustodyBatch[]): RemoteCaptureResult {
  const items: EvidenceItem[] = batches.flatMap((b) => [...(b.items ?? [])]);
  const failures = batches.flatMap((b) => [...(b.failures ?? [])]);
  return {
    outcome: outcome.outcome,
    ...(outcome.reason ? { reason: outcome.reason } : {}),
    ...(outcome.message ? { message: outcome.message } : {}),
    platform,
    items,
    failures,
    detail: { platform, batches: batches.map((b) => b.detail ?? {}) },
  };
}
