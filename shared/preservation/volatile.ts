/**
 * `captureVolatile`: runs the volatile triage script on each instance through a RemoteCommandRunner (SSM Run
 * Command), waits for it (bounded), preserves its output objects from the evidence bucket into the case (each
 * hashed by Amber as it is stored) and records, per instance, `outcome: captured` or a failed step with the reason
 * (no agent, access denied, Undeliverable, TimedOut ...). One instance failing never stops the others.
 *
 * The script itself is preserved too (keyed by its SHA-256), and every ledger entry names the script's SHA-256
 * beside the output it produced, so a reader can tell exactly what ran.
 */
import type { Readable } from 'node:stream';
import { isAmberError, ObjectNotFoundError } from '../errors.ts';
import { itemId } from '../evidence/collect.ts';
import type { Actor, EvidenceItem } from '../evidence/model.ts';
import { evidenceKey, validateCaseName } from '../evidence/names.ts';
import type { SealFailure } from '../evidence/seal.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import { FINAL_STATES, type InvocationStatus, type OutputLocation, type RemoteCommandRunner, type ScriptPlatform, type SentCommand } from '../ports/remote-command.ts';
import type { Signer } from '../ports/signer.ts';
import { recordCustody, type CustodyBatch, type CustodyRecorded } from './custody.ts';
import { requestSlug } from './request.ts';
import { parseTriageOutput, triageScript, type TriageScript } from './triage/output.ts';

export interface RemoteRunOptions {
  readonly runner: RemoteCommandRunner;
  /** The case's locker. */
  readonly store: ObjectStore;
  /** Opens an output object the service wrote; throws ObjectNotFoundError when it is not there. */
  readonly openOutput: (location: Pick<OutputLocation, 'bucket' | 'key'>) => Promise<Readable>;
  /** Bucket and key prefix the service writes outputs to (a staging prefix of the evidence bucket). */
  readonly outputBucket: string;
  readonly outputPrefix: string;
  readonly actor: Actor;
  readonly signer?: Signer;
  /** @default () => new Date() */
  readonly clock?: () => Date;
  /** @default setTimeout-based sleep */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default 5 000 ms */
  readonly pollIntervalMs?: number;
  /** Stop waiting for invocations after this long (they go on; their outputs stay in the staging prefix). @default 15 minutes */
  readonly waitMs?: number;
  /** Seconds the script may run on the instance. @default 600 */
  readonly executionTimeoutSeconds?: number;
  readonly retainUntil?: Date;
}

export interface RemoteTarget {
  readonly instanceId: string;
  readonly platform: ScriptPlatform;
}

export interface VolatileRequest {
  readonly case: string;
  readonly requestId: string;
  readonly instances: readonly RemoteTarget[];
}

/** What happened on one instance. */
export interface InstanceOutcome {
  readonly instanceId: string;
  readonly outcome: 'captured' | 'failed';
  /** Why it failed (`no-agent`, `access-denied`, `Undeliverable`, `TimedOut`, `Failed`, `still-running` ...). */
  readonly reason?: string;
  readonly message?: string;
  readonly commandId?: string;
  readonly state?: InvocationStatus;
  readonly items: readonly EvidenceItem[];
  /** Sections found in the output, and what was wrong with it (missing sections, cut short). */
  readonly sections?: readonly string[];
  readonly problems?: readonly string[];
}

export interface VolatileSummary {
  readonly case: string;
  readonly instances: readonly InstanceOutcome[];
  readonly scripts: readonly { readonly name: string; readonly sha256: string; readonly key: string }[];
  readonly custody: CustodyRecorded;
}

/** What the triage yielded on every instance, before it is recorded. */
export interface VolatileRun {
  readonly case: string;
  readonly instances: readonly InstanceOutcome[];
  readonly scripts: readonly { readonly name: string; readonly sha256: string; readonly key: string }[];
  /** The ledger entries to append, in order: the scripts as sent, then one per instance. */
  readonly batches: readonly CustodyBatch[];
}

/** Runs the triage on every instance and records what each one yielded. */
export async function captureVolatile(options: RemoteRunOptions, request: VolatileRequest): Promise<VolatileSummary> {
  const run = await runVolatile(options, request);
  const custody = await recordCustody(
    { store: options.store, actor: options.actor, ...(options.clock ? { clock: options.clock } : {}), ...(options.signer ? { signer: options.signer } : {}) },
    { case: run.case, requestId: request.requestId, step: 'volatile-triage', action: 'acquired', batches: run.batches, seal: true },
  );
  return { case: run.case, instances: run.instances, scripts: run.scripts, custody };
}

/**
 * Runs the triage on every instance and preserves its output, without touching the custody ledger: the caller
 * records `batches` (the CLI at once; the state machine through record-custody, the ledger's one writer).
 */
export async function runVolatile(options: RemoteRunOptions, request: VolatileRequest): Promise<VolatileRun> {
  const caseName = validateCaseName(request.case);
  const platforms = [...new Set(request.instances.map((i) => i.platform))].sort();
  const scripts = new Map<ScriptPlatform, TriageScript>();
  for (const p of platforms) scripts.set(p, await triageScript(p));
  const clock = options.clock ?? (() => new Date());
  const scriptItems = new Map<ScriptPlatform, EvidenceItem>();
  for (const [p, script] of scripts) {
    const stored = await options.store.putImmutable(evidenceKey(caseName, `aws/ssm/scripts/${script.sha256}/${script.name}`), script.bytes, {
      mediaType: 'text/plain; charset=utf-8',
      ...(options.retainUntil ? { retainUntil: options.retainUntil } : {}),
    });
    scriptItems.set(p, itemOf(caseName, `amber:triage/${script.name}`, stored, clock(), options.actor, 'text/plain; charset=utf-8'));
  }
  const outcomes = await runOnInstances(options, caseName, request.requestId, 'triage', request.instances.map((t) => ({ ...t, script: scripts.get(t.platform)!.bytes.toString('utf8') })));
  const checked = outcomes.map((o): InstanceOutcome => {
    const stdout = o.items.find((i) => i.key.endsWith('/stdout'));
    if (o.outcome !== 'captured' || !stdout || o.stdoutText === undefined) return strip(o);
    const parsed = parseTriageOutput(o.stdoutText);
    return { ...strip(o), sections: parsed.sections.map((s) => s.name), problems: parsed.problems };
  });
  const batches: CustodyBatch[] = [
    { items: [...scriptItems.values()], detail: { purpose: 'volatile triage scripts, as sent to the instances' } },
    ...checked.map((o) => batchOf(o, scripts.get(request.instances.find((t) => t.instanceId === o.instanceId)!.platform)!, scriptItems)),
  ];
  return {
    case: caseName,
    instances: checked,
    scripts: [...scripts.values()].map((s) => ({ name: s.name, sha256: s.sha256, key: scriptItems.get(s.platform)!.key })),
    batches,
  };
}

function strip(o: RunOutcome): InstanceOutcome {
  const { stdoutText: _ignored, ...rest } = o;
  return rest;
}

/** The custody batch of one instance's command: its items, its failure (when it failed), and what the command did. */
export function commandBatch(o: InstanceOutcome, detail: Record<string, unknown>): CustodyBatch {
  const failures: SealFailure[] = o.outcome === 'failed' ? [{ origin: `ssm:${o.instanceId}${o.commandId ? `/${o.commandId}` : ''}`, reason: `${o.reason ?? 'failed'}: ${o.message ?? ''}`.trim() }] : [];
  return {
    items: o.items,
    failures,
    detail: {
      instanceId: o.instanceId,
      outcome: o.outcome,
      ...(o.reason ? { reason: o.reason } : {}),
      ...(o.commandId ? { commandId: o.commandId } : {}),
      ...(o.state ? { state: o.state.state, stateDetail: o.state.detail, responseCode: o.state.responseCode } : {}),
      ...detail,
    },
  };
}

function batchOf(o: InstanceOutcome, script: TriageScript, scriptItems: Map<ScriptPlatform, EvidenceItem>): CustodyBatch {
  return commandBatch(o, {
    script: { name: script.name, sha256: script.sha256, key: scriptItems.get(script.platform)!.key },
    ...(o.problems && o.problems.length > 0 ? { outputProblems: o.problems } : {}),
  });
}

/** One instance's run, with stdout's text when it was preserved (small outputs only, for parsing). */
export interface RunOutcome extends InstanceOutcome {
  readonly stdoutText?: string;
}

const MAX_PARSED_BYTES = 64 * 1024 * 1024;

/**
 * Sends a script to each instance, waits for all of them (bounded by `waitMs`), then preserves each one's output
 * objects under `cases/<case>/aws/ssm/<instance>/<request>/<purpose>/<command id>/` from whatever state it ended in: a failed or
 * timed-out script's partial output is evidence too.
 */
/** Where a run's outputs are staged in the evidence bucket (the service appends command and instance ids). */
export function stagingPrefix(options: Pick<RemoteRunOptions, 'outputPrefix'>, caseName: string, requestId: string, purpose: string): string {
  return `${options.outputPrefix.replace(/\/+$/, '')}/${caseName}/${requestSlug(requestId)}/${purpose}`;
}

export async function runOnInstances(
  options: RemoteRunOptions,
  caseName: string,
  requestId: string,
  purpose: string,
  targets: readonly (RemoteTarget & { readonly script: string })[],
): Promise<RunOutcome[]> {
  const clock = options.clock ?? (() => new Date());
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const interval = options.pollIntervalMs ?? 5_000;
  const waitMs = options.waitMs ?? 15 * 60_000;
  const sent = new Map<string, SentCommand>();
  const results = new Map<string, RunOutcome>();
  for (const t of targets) {
    try {
      sent.set(
        t.instanceId,
        await options.runner.send({
          instanceId: t.instanceId,
          platform: t.platform,
          script: t.script,
          outputBucket: options.outputBucket,
          outputPrefix: stagingPrefix(options, caseName, requestId, purpose),
          executionTimeoutSeconds: options.executionTimeoutSeconds ?? 600,
          comment: `amber ${caseName} ${purpose}`,
        }),
      );
    } catch (error) {
      results.set(t.instanceId, failed(t.instanceId, error));
    }
  }
  const states = new Map<string, InvocationStatus>();
  let waited = 0;
  for (;;) {
    for (const [id, command] of sent) {
      if (states.has(id) && FINAL_STATES.has(states.get(id)!.state)) continue;
      try {
        states.set(id, await options.runner.invocation(command));
      } catch (error) {
        results.set(id, { ...failed(id, error), commandId: command.commandId });
        sent.delete(id);
      }
    }
    const pending = [...sent.keys()].filter((id) => !FINAL_STATES.has(states.get(id)?.state ?? 'Pending'));
    if (pending.length === 0 || waited >= waitMs) break;
    await sleep(interval);
    waited += interval;
  }
  for (const [id, command] of sent) {
    const state = states.get(id) ?? { state: 'Pending' as const, detail: 'not seen', responseCode: -1 };
    const items: EvidenceItem[] = [];
    let stdoutText: string | undefined;
    const problems: string[] = [];
    if (FINAL_STATES.has(state.state)) {
      for (const location of command.outputs) {
        const got = await preserveOutput(options, caseName, requestId, `${purpose}/${command.commandId}`, id, location, clock, sleep, interval, location.stream === 'stdout' && state.state === 'Success' ? 3 : 1);
        if ('problem' in got) {
          if (location.stream === 'stdout' && state.state === 'Success') problems.push(got.problem);
          continue;
        }
        items.push(got.item);
        if (location.stream === 'stdout' && got.item.size <= MAX_PARSED_BYTES) stdoutText = (await readAll(await options.store.get(got.item.key))).toString('utf8');
      }
    }
    const base = { instanceId: id, commandId: command.commandId, state, items, ...(stdoutText === undefined ? {} : { stdoutText }) };
    if (state.state === 'Success' && problems.length === 0) results.set(id, { ...base, outcome: 'captured' });
    else if (!FINAL_STATES.has(state.state)) {
      results.set(id, { ...base, outcome: 'failed', reason: 'still-running', message: `still ${state.state} after ${Math.round(waitMs / 1000)} s of waiting; its output will land under s3://${options.outputBucket}/${command.outputs[0]?.key.replace(/\/[^/]+$/, '') ?? ''} and can be collected from there` });
    } else {
      const message = problems.length > 0 ? problems.join('; ') : `the command ended ${state.state} (${state.detail}, exit code ${state.responseCode})`;
      results.set(id, { ...base, outcome: 'failed', reason: state.state === 'Success' ? 'no-output' : state.state, message, ...(problems.length > 0 ? { problems } : {}) });
    }
  }
  return targets.map((t) => results.get(t.instanceId)!);
}

function failed(instanceId: string, error: unknown): RunOutcome {
  const reason = isAmberError(error) && 'reason' in error && typeof error.reason === 'string' ? error.reason : isAmberError(error) ? error.code : 'error';
  const message = error instanceof Error ? error.message : String(error);
  return { instanceId, outcome: 'failed', reason, message, items: [] };
}

/** Streams one object the instance wrote into the case (hashed while stored), retrying a not-yet-written object `attempts` times. */
export async function preserveOutput(
  options: RemoteRunOptions,
  caseName: string,
  requestId: string,
  purpose: string,
  instanceId: string,
  location: Pick<OutputLocation, 'bucket' | 'key'> & { readonly stream: string },
  clock: () => Date,
  sleep: (ms: number) => Promise<void>,
  interval: number,
  attempts: number,
): Promise<{ item: EvidenceItem } | { problem: string }> {
  const origin = `s3://${location.bucket}/${location.key}`;
  for (let attempt = 1; ; attempt++) {
    let body: Readable;
    try {
      body = await options.openOutput(location);
    } catch (error) {
      const missing = error instanceof ObjectNotFoundError || (isAmberError(error) && error.code === 'OBJECT_NOT_FOUND');
      if (!missing) return { problem: `${origin} could not be read: ${error instanceof Error ? error.message : String(error)}` };
      // The service uploads output a moment after the invocation ends: look again before calling it absent.
      if (attempt >= attempts) return { problem: `${origin} was not written (no ${location.stream} output)` };
      await sleep(interval);
      continue;
    }
    const key = evidenceKey(caseName, `aws/ssm/${instanceId}/${requestSlug(requestId)}/${purpose}/${location.stream}`);
    const mediaType = location.stream.endsWith('.lime') || location.stream.endsWith('.raw') ? 'application/octet-stream' : 'text/plain; charset=utf-8';
    const stored = await options.store.putImmutable(key, body, { mediaType, ...(options.retainUntil ? { retainUntil: options.retainUntil } : {}) });
    return { item: itemOf(caseName, origin, stored, clock(), options.actor, mediaType) };
  }
}

/** The evidence item of an object Amber stored. */
export function itemOf(caseName: string, origin: string, stored: { key: string; size: number; sha256: string; versionId?: string; retainUntil?: string }, at: Date, actor: Actor, mediaType: string): EvidenceItem {
  return {
    id: itemId(stored.key),
    case: caseName,
    origin,
    key: stored.key,
    size: stored.size,
    sha256: stored.sha256,
    acquiredAt: at.toISOString(),
    acquiredBy: actor.principal,
    retainUntil: stored.retainUntil ?? null,
    mediaType,
    ...(stored.versionId ? { versionId: stored.versionId } : {}),
  };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}
