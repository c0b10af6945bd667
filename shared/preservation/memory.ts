/**
 * `captureMemory`: a memory image of each Linux instance with AVML through SSM Run Command. The instance fetches
 * AVML from the tools bucket and refuses to run it unless its SHA-256 is the one pinned in configuration; the image
 * is streamed to a staging prefix of the evidence bucket (nothing written to the instance's disks) and hashed on
 * the instance as it goes. Amber then stores the image into the case, computing its own SHA-256 in that pass, and
 * compares: a mismatch is an integrity failure, recorded with both hashes (the bytes are kept as they arrived).
 *
 * Windows instances: WinPmem, through the same pinning. WinPmem writes its raw image to a file (it cannot stream
 * to a pipe), so the script first checks the system drive has room for the whole of memory plus 1 GiB, hashes
 * the file with Get-FileHash SHA256, uploads it with the AWS Tools for PowerShell's Write-S3Object (multipart for
 * large files, through the SDK's transfer utility) and deletes it. Amber re-hashes it on arrival exactly as for
 * AVML. An instance without a pinned tool for its platform is recorded as refused (`no-tool`).
 */
import { readFile } from 'node:fs/promises';
import { InvalidInputError } from '../errors.ts';
import { sha256Hex } from '../evidence/hashing.ts';
import type { EvidenceItem } from '../evidence/model.ts';
import { validateCaseName } from '../evidence/names.ts';
import { recordCustody, type CustodyBatch, type CustodyRecorded } from './custody.ts';
import { commandBatch, preserveOutput, runOnInstances, stagingPrefix, type InstanceOutcome, type RemoteRunOptions, type VolatileRequest } from './volatile.ts';

/** A memory tool kept in the tools bucket, with the SHA-256 it must have. */
export interface PinnedTool {
  readonly bucket: string;
  readonly key: string;
  readonly sha256: string;
}

export interface MemoryOptions extends RemoteRunOptions {
  /** AVML for Linux instances. @default - Linux instances are refused (`no-tool`) */
  readonly avml?: PinnedTool;
  /** WinPmem for Windows instances. @default - Windows instances are refused (`no-tool`) */
  readonly winpmem?: PinnedTool;
}

/** The script template and image name of each platform's tool. */
const TOOLS = {
  linux: { option: 'avml', label: 'AVML', template: 'avml.sh.tmpl', image: 'memory.lime', flags: '--avml s3://tools-bucket/avml --avml-sha256 HEX' },
  windows: { option: 'winpmem', label: 'WinPmem', template: 'winpmem.ps1.tmpl', image: 'memory.raw', flags: '--winpmem s3://tools-bucket/winpmem.exe --winpmem-sha256 HEX' },
} as const;

export interface MemoryOutcome extends InstanceOutcome {
  /** The image's SHA-256 as the instance computed it while streaming, and as Amber computed it while storing. */
  readonly instanceSha256?: string;
  readonly amberSha256?: string;
  /** True when the two differ: the image is kept but does not hold up. */
  readonly integrityFailure?: boolean;
}

export interface MemorySummary {
  readonly case: string;
  readonly instances: readonly MemoryOutcome[];
  /** SHA-256 of each template used (`avml.sh.tmpl`, `winpmem.ps1.tmpl`). */
  readonly script: { readonly sha256: string; readonly templates: Readonly<Record<string, string>> };
  readonly custody: CustodyRecorded;
}

/** What the memory capture yielded on every instance, before it is recorded. */
export interface MemoryRun {
  readonly case: string;
  readonly instances: readonly MemoryOutcome[];
  readonly script: MemorySummary['script'];
  readonly batches: readonly CustodyBatch[];
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const SAFE_KEY = /^[A-Za-z0-9!_.*()/-]{1,1024}$/;
const HEX64 = /^[0-9a-f]{64}$/;

/** Checks a pinned tool before it goes into a script (the values end up in shell quotes). */
export function checkPinnedTool(tool: PinnedTool, what: string): PinnedTool {
  const problems: string[] = [];
  if (!BUCKET.test(tool.bucket)) problems.push(`bucket ${JSON.stringify(tool.bucket)} is not an S3 bucket name`);
  if (!SAFE_KEY.test(tool.key) || tool.key.includes('..')) problems.push(`key ${JSON.stringify(tool.key)} must be letters, digits and !_.*()/- only`);
  if (!HEX64.test(tool.sha256)) problems.push(`sha256 ${JSON.stringify(tool.sha256)} is not 64 lowercase hex digits`);
  if (problems.length > 0) throw new InvalidInputError(`${what}: ${problems.join('; ')}`, { hint: 'pin the tool as s3://tools-bucket/path/<tool> with the SHA-256 of the exact binary you vetted (sha256sum, or Get-FileHash -Algorithm SHA256)' });
  return tool;
}

const IMAGE_URI = /^s3:\/\/[a-z0-9.-]+\/[A-Za-z0-9!_.*()/-]+$/;

async function template(name: string): Promise<string> {
  return readFile(new URL(`./triage/${name}`, import.meta.url), 'utf8');
}

async function toolScript(platform: 'linux' | 'windows', tool: PinnedTool, imageUri: string): Promise<string> {
  const t = TOOLS[platform];
  checkPinnedTool(tool, t.label);
  if (!IMAGE_URI.test(imageUri)) throw new InvalidInputError(`image location ${JSON.stringify(imageUri)} is not a plain s3:// URI`);
  return (await template(t.template)).replace('@@TOOL_URI@@', `s3://${tool.bucket}/${tool.key}`).replace('@@TOOL_SHA256@@', tool.sha256).replace('@@IMAGE_URI@@', imageUri);
}

/** The AVML script for one instance (the template beside triage/, values checked and substituted). */
export async function avmlScript(tool: PinnedTool, imageUri: string): Promise<string> {
  return toolScript('linux', tool, imageUri);
}

/** The WinPmem PowerShell script for one instance (the template beside triage/, values checked and substituted). */
export async function winpmemScript(tool: PinnedTool, imageUri: string): Promise<string> {
  return toolScript('windows', tool, imageUri);
}

/** Reads the `amber-memory: k=v ...` lines the script printed. */
export function memoryReport(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const m = /^amber-memory: (.*)$/.exec(line.trimEnd());
    if (!m) continue;
    for (const pair of m[1]!.split(' ')) {
      const eq = pair.indexOf('=');
      if (eq > 0) out[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return out;
}

/** Captures the memory of each instance; every outcome (and each refusal's reason) goes into the ledger. */
export async function captureMemory(options: MemoryOptions, request: VolatileRequest): Promise<MemorySummary> {
  const run = await runMemory(options, request);
  const custody = await recordCustody(
    { store: options.store, actor: options.actor, ...(options.clock ? { clock: options.clock } : {}), ...(options.signer ? { signer: options.signer } : {}) },
    { case: run.case, requestId: request.requestId, step: 'memory-capture', action: 'acquired', batches: run.batches, seal: true },
  );
  return { case: run.case, instances: run.instances, script: run.script, custody };
}

/**
 * Captures the memory of each instance and preserves each image, without touching the custody ledger: the caller
 * records `batches` (the CLI at once; the state machine through record-custody).
 */
export async function runMemory(options: MemoryOptions, request: VolatileRequest): Promise<MemoryRun> {
  const caseName = validateCaseName(request.case);
  if (options.avml) checkPinnedTool(options.avml, 'AVML');
  if (options.winpmem) checkPinnedTool(options.winpmem, 'WinPmem');
  const prefix = stagingPrefix(options, caseName, request.requestId, 'memory');
  const imageKey = (t: { instanceId: string; platform: 'linux' | 'windows' }) => `${prefix}/${t.instanceId}/${TOOLS[t.platform].image}`;
  const toolOf = (platform: 'linux' | 'windows'): PinnedTool | undefined => (platform === 'linux' ? options.avml : options.winpmem);
  const runnable = request.instances.filter((t) => toolOf(t.platform) !== undefined);
  const scripts = new Map<string, string>();
  for (const t of runnable) scripts.set(t.instanceId, await toolScript(t.platform, toolOf(t.platform)!, `s3://${options.outputBucket}/${imageKey(t)}`));
  const ran = await runOnInstances(options, caseName, request.requestId, 'memory', runnable.map((t) => ({ ...t, script: scripts.get(t.instanceId)! })));
  const outcomes: MemoryOutcome[] = [];
  for (const t of request.instances) {
    if (toolOf(t.platform) === undefined) {
      const tool = TOOLS[t.platform];
      outcomes.push({ instanceId: t.instanceId, outcome: 'failed', reason: 'no-tool', message: `no ${tool.label} was pinned for this ${t.platform} instance, so its memory was not captured (pin it with ${tool.flags})`, items: [] });
      continue;
    }
    const run = ran.find((r) => r.instanceId === t.instanceId)!;
    const { stdoutText, ...base } = run;
    const report = memoryReport(stdoutText ?? '');
    if (report.error) {
      outcomes.push({ ...base, outcome: 'failed', reason: report.error, message: `the instance refused: ${Object.entries(report).map(([k, v]) => `${k}=${v}`).join(' ')}` });
      continue;
    }
    if (run.outcome !== 'captured') {
      outcomes.push(base);
      continue;
    }
    const reported = report['image-sha256'];
    if (!reported || !/^[0-9a-f]{64}$/.test(reported)) {
      outcomes.push({ ...base, outcome: 'failed', reason: 'no-image-hash', message: 'the script ended without reporting the image SHA-256' });
      continue;
    }
    const got = await preserveOutput(options, caseName, request.requestId, `memory/${run.commandId}`, t.instanceId, { stream: TOOLS[t.platform].image, bucket: options.outputBucket, key: imageKey(t) }, options.clock ?? (() => new Date()), options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))), options.pollIntervalMs ?? 5_000, 3);
    if ('problem' in got) {
      outcomes.push({ ...base, outcome: 'failed', reason: 'no-image', message: got.problem, instanceSha256: reported });
      continue;
    }
    const items: EvidenceItem[] = [...base.items, got.item];
    if (got.item.sha256 !== reported) {
      outcomes.push({
        ...base,
        items,
        outcome: 'failed',
        reason: 'integrity-mismatch',
        message: `the image Amber stored (sha256 ${got.item.sha256}, ${got.item.size} bytes) is not the image the instance streamed (sha256 ${reported}): it was altered or cut on the way`,
        instanceSha256: reported,
        amberSha256: got.item.sha256,
        integrityFailure: true,
      });
      continue;
    }
    outcomes.push({ ...base, items, instanceSha256: reported, amberSha256: got.item.sha256 });
  }
  const templates: Record<string, string> = {};
  for (const p of [...new Set(runnable.map((t) => t.platform))].sort()) templates[TOOLS[p].template] = sha256Hex(Buffer.from(await template(TOOLS[p].template), 'utf8'));
  const batches: CustodyBatch[] = outcomes.map((o) => {
    const script = scripts.get(o.instanceId);
    const platform = request.instances.find((t) => t.instanceId === o.instanceId)!.platform;
    const name = TOOLS[platform].template;
    return commandBatch(o, {
      ...(script ? { script: { template: name, templateSha256: templates[name], sha256: sha256Hex(script) }, tool: toolOf(platform) } : {}),
      ...(o.instanceSha256 ? { instanceSha256: o.instanceSha256 } : {}),
      ...(o.amberSha256 ? { amberSha256: o.amberSha256 } : {}),
      ...(o.integrityFailure ? { integrityFailure: true } : {}),
    });
  });
  return { case: caseName, instances: outcomes, script: { sha256: templates['avml.sh.tmpl'] ?? templates['winpmem.ps1.tmpl'] ?? '', templates }, batches };
}
