import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sdkClientConfig } from '../../../functions/aws/adapters/aws-client.ts';
import { SsmRemoteCommand } from '../../../functions/aws/adapters/ssm-remote-command.ts';
import { ObjectNotFoundError } from '../../../shared/errors.ts';
import { CustodyLedger } from '../../../shared/evidence/ledger.ts';
import { captureMemory, type MemoryOptions } from '../../../shared/preservation/memory.ts';
import { TEST_ACTOR } from '../../helpers/case.ts';
import { FakeSsm } from '../../helpers/fake-ssm.ts';
import { MemoryObjectStore } from '../../helpers/memory-store.ts';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const AVML_BYTES = Buffer.from('synthetic avml binary');
const GOOD = 'i-0aaaaaaaaaaaaaaa1';
const TAMPERED = 'i-0bbbbbbbbbbbbbbb2';
const BAD_TOOL = 'i-0ccccccccccccccc3';
const WIN = 'i-0ddddddddddddddd4';

describe('Use case: captureMemory', () => {
  let fake: FakeSsm;
  let store: MemoryObjectStore;
  let staging: Map<string, Buffer>;
  let options: MemoryOptions;

  /** Plays the instance: reads the image location and pinned hash from the script it was sent, streams an image there. */
  const instance = (image: Buffer, arrives: (b: Buffer) => Buffer = (b) => b, toolBytes = AVML_BYTES) => (script: string) => {
    const pinned = /^TOOL_SHA256='([0-9a-f]{64})'$/m.exec(script)![1]!;
    if (sha(toolBytes) !== pinned) return { stdout: `amber-memory: mem-bytes=${image.length} free-kib=900000\namber-memory: tool-sha256=${sha(toolBytes)}\namber-memory: error=tool-hash-mismatch expected=${pinned}\n`, responseCode: 11 };
    const uri = /^IMAGE_URI='s3:\/\/([^/]+)\/(.+)'$/m.exec(script)!;
    staging.set(`${uri[1]}/${uri[2]}`, arrives(image));
    return { stdout: `amber-memory: mem-bytes=${image.length} free-kib=900000\namber-memory: tool-sha256=${pinned}\namber-memory: image-sha256=${sha(image)}\n` };
  };

  beforeEach(async () => {
    fake = new FakeSsm();
    staging = new Map();
    fake.onOutput = (bucket, key, bytes) => void staging.set(`${bucket}/${key}`, bytes);
    const endpoint = await fake.start();
    store = new MemoryObjectStore();
    options = {
      runner: new SsmRemoteCommand({ client: new SSMClient({ ...sdkClientConfig({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 's' }, retryBaseDelayMs: 1 }), endpoint }) }),
      store,
      openOutput: async (loc) => {
        const bytes = staging.get(`${loc.bucket}/${loc.key}`);
        if (!bytes) throw new ObjectNotFoundError(loc.key);
        return Readable.from([bytes]);
      },
      outputBucket: 'evidence-bucket',
      outputPrefix: 'staging/ssm',
      actor: TEST_ACTOR,
      clock: () => new Date('2026-03-01T10:00:00Z'),
      sleep: async () => undefined,
      pollIntervalMs: 1_000,
      waitMs: 5_000,
      avml: { bucket: 'amber-tools', key: 'avml/0.14.0/avml', sha256: sha(AVML_BYTES) },
    };
  });

  afterEach(async () => {
    await fake.stop();
  });

  it('keeps an image whose hash matches, records a tampered one as an integrity failure, a wrong tool as refused, Windows without a pinned WinPmem as no-tool', async () => {
    const image = Buffer.from('LiME synthetic memory image '.repeat(100));
    fake
      .addInstance(GOOD, { states: ['InProgress', 'Success'], run: instance(image) })
      .addInstance(TAMPERED, { states: ['Success'], run: instance(image, (b) => Buffer.concat([b.subarray(0, 50), Buffer.from('X'), b.subarray(51)])) })
      .addInstance(BAD_TOOL, { states: ['Failed'], run: instance(image, undefined, Buffer.from('a different binary')) })
      .addInstance(WIN, { states: ['Success'] });

    const summary = await captureMemory(options, {
      case: 'INC-4',
      requestId: 'req-m',
      instances: [{ instanceId: GOOD, platform: 'linux' }, { instanceId: TAMPERED, platform: 'linux' }, { instanceId: BAD_TOOL, platform: 'linux' }, { instanceId: WIN, platform: 'windows' }],
    });

    expect(summary.instances.map((i) => [i.instanceId, i.outcome, i.reason])).toEqual([
      [GOOD, 'captured', undefined],
      [TAMPERED, 'failed', 'integrity-mismatch'],
      [BAD_TOOL, 'failed', 'tool-hash-mismatch'],
      [WIN, 'failed', 'no-tool'],
    ]);
    const good = summary.instances[0]!;
    const lime = good.items.find((i) => i.key.endsWith('/memory.lime'))!;
    expect(store.objects.get(lime.key)).toEqual(image);
    expect(lime.sha256).toBe(sha(image));
    expect(good).toMatchObject({ instanceSha256: sha(image), amberSha256: sha(image) });

    // The tampered image is kept exactly as it arrived, and both hashes are on record.
    const tampered = summary.instances[1]!;
    const kept = tampered.items.find((i) => i.key.endsWith('/memory.lime'))!;
    expect(kept.sha256).not.toBe(sha(image));
    expect(store.objects.get(kept.key)![50]).toBe('X'.charCodeAt(0));
    expect(tampered.message).toContain(`not the image the instance streamed (sha256 ${sha(image)})`);

    // Nothing ran for the wrong tool: no image was streamed.
    expect([...staging.keys()].some((k) => k.includes(BAD_TOOL) && k.endsWith('memory.lime'))).toBe(false);
    expect(fake.sent).toHaveLength(3);

    const entries = (await CustodyLedger.open(store, 'INC-4')).entries.filter((e) => e.detail?.step === 'memory-capture' && e.action === 'acquired');
    expect(entries.map((e) => [e.detail?.instanceId, e.detail?.outcome, e.detail?.reason ?? null])).toEqual([
      [GOOD, 'captured', null],
      [TAMPERED, 'failed', 'integrity-mismatch'],
      [BAD_TOOL, 'failed', 'tool-hash-mismatch'],
      [WIN, 'failed', 'no-tool'],
    ]);
    expect(entries[0]!.detail).toMatchObject({ tool: options.avml, instanceSha256: sha(image), amberSha256: sha(image), script: { template: 'avml.sh.tmpl' } });
    expect(entries[1]!.detail).toMatchObject({ integrityFailure: true, instanceSha256: sha(image), amberSha256: kept.sha256 });
  });

  it('refuses a pinned hash that is not a SHA-256 before anything is sent', async () => {
    fake.addInstance(GOOD, { states: ['Success'] });
    await expect(captureMemory({ ...options, avml: { ...options.avml!, sha256: 'latest' } }, { case: 'INC-4', requestId: 'r', instances: [{ instanceId: GOOD, platform: 'linux' }] })).rejects.toThrow(/sha256 "latest" is not 64 lowercase hex digits/);
    expect(fake.sent).toHaveLength(0);
  });

  it('WinPmem on Windows: the PowerShell script checks the pinned hash, hashes with Get-FileHash and uploads with Write-S3Object; Amber re-hashes on arrival', async () => {
    const WINPMEM_BYTES = Buffer.from('synthetic winpmem binary');
    const raw = Buffer.from('synthetic raw memory '.repeat(64));
    const winpmem = { bucket: 'amber-tools', key: 'winpmem/4.0/winpmem.exe', sha256: sha(WINPMEM_BYTES) };
    const windows = (arrives: (b: Buffer) => Buffer) => (script: string) => {
      const pinned = /^\$ToolSha256 = '([0-9a-f]{64})'$/m.exec(script)![1]!;
      expect(pinned).toBe(sha(WINPMEM_BYTES));
      const uri = /^\$ImageUri = 's3:\/\/([^/]+)\/(.+)'$/m.exec(script)!;
      staging.set(`${uri[1]}/${uri[2]}`, arrives(raw));
      return { stdout: `amber-memory: mem-bytes=${raw.length} free-bytes=9000000000\namber-memory: tool-sha256=${pinned}\namber-memory: image-bytes=${raw.length}\namber-memory: image-sha256=${sha(raw)}\n` };
    };
    const WIN2 = 'i-0eeeeeeeeeeeeeee5';
    fake.addInstance(WIN, { states: ['InProgress', 'Success'], run: windows((b) => b) }).addInstance(WIN2, { states: ['Success'], run: windows((b) => b.subarray(1)) });

    const summary = await captureMemory({ ...options, winpmem }, { case: 'INC-5', requestId: 'req-w', instances: [{ instanceId: WIN, platform: 'windows' }, { instanceId: WIN2, platform: 'windows' }] });

    expect(fake.sent.map((s) => s.DocumentName)).toEqual(['AWS-RunPowerShellScript', 'AWS-RunPowerShellScript']);
    const script = ((fake.sent[0]!.Parameters as { commands: string[] }).commands[0])!;
    expect(script).toContain(`$ToolUri = 's3://amber-tools/winpmem/4.0/winpmem.exe'`);
    expect(script).toMatch(/if \(\$got -ne \$ToolSha256\) \{ Stop-Amber "tool-hash-mismatch/);
    expect(script).toContain('Get-FileHash -Algorithm SHA256 -LiteralPath $raw');
    expect(script).toMatch(/Write-S3Object -BucketName \$image\.Bucket -Key \$image\.Key -File \$raw/);
    expect(script).not.toContain('@@');
    expect(summary.instances.map((i) => [i.instanceId, i.outcome, i.reason])).toEqual([
      [WIN, 'captured', undefined],
      [WIN2, 'failed', 'integrity-mismatch'],
    ]);
    const image = summary.instances[0]!.items.find((i) => i.key.endsWith('/memory.raw'))!;
    expect(image).toMatchObject({ sha256: sha(raw), size: raw.length, mediaType: 'application/octet-stream' });
    expect(store.objects.get(image.key)).toEqual(raw);
    const entries = (await CustodyLedger.open(store, 'INC-5')).entries.filter((e) => e.detail?.step === 'memory-capture' && e.action === 'acquired');
    expect(entries[0]!.detail).toMatchObject({ tool: winpmem, instanceSha256: sha(raw), amberSha256: sha(raw), script: { template: 'winpmem.ps1.tmpl' } });
    expect(entries[1]!.detail).toMatchObject({ integrityFailure: true, instanceSha256: sha(raw) });
  });
});
