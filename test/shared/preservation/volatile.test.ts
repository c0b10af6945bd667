import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sdkClientConfig } from '../../../functions/aws/adapters/aws-client.ts';
import { SsmRemoteCommand } from '../../../functions/aws/adapters/ssm-remote-command.ts';
import { ObjectNotFoundError } from '../../../shared/errors.ts';
import { CustodyLedger } from '../../../shared/evidence/ledger.ts';
import { captureVolatile, type RemoteRunOptions } from '../../../shared/preservation/volatile.ts';
import { TRIAGE_SECTIONS } from '../../../shared/preservation/triage/output.ts';
import { TEST_ACTOR } from '../../helpers/case.ts';
import { FakeSsm } from '../../helpers/fake-ssm.ts';
import { MemoryObjectStore } from '../../helpers/memory-store.ts';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const OK = 'i-0aaaaaaaaaaaaaaa1';
const NO_AGENT = 'i-0bbbbbbbbbbbbbbb2';
const UNDELIVERABLE = 'i-0ccccccccccccccc3';
const TIMED_OUT = 'i-0ddddddddddddddd4';
const SLOW = 'i-0eeeeeeeeeeeeeee5';
const WIN = 'i-0fffffffffffffff6';

/** Output shaped like the triage script's, with synthetic content. */
function triageText(host: string, cutAfter: number = TRIAGE_SECTIONS.length): string {
  const parts = TRIAGE_SECTIONS.slice(0, cutAfter).map((s) => `=== amber-section ${s} begin ===\n${s === 'host' ? `hostname: ${host}` : `${s} of ${host}`}\n=== amber-section ${s} end rc=0 ===\n`);
  return parts.join('') + (cutAfter === TRIAGE_SECTIONS.length ? '=== amber-triage complete ===\n' : '=== amber-section network begin ===\ntcp 10.0.0.5:22\n');
}

describe('Use case: captureVolatile', () => {
  let fake: FakeSsm;
  let store: MemoryObjectStore;
  let staging: Map<string, Buffer>;
  let options: RemoteRunOptions;
  const scripts: string[] = [];

  beforeEach(async () => {
    fake = new FakeSsm();
    staging = new Map();
    scripts.length = 0;
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
    };
  });

  afterEach(async () => {
    await fake.stop();
  });

  it('preserves each instance\'s output hashed, records captured or the failed step with its reason, and the others go on', async () => {
    fake
      .addInstance(OK, { states: ['Pending', 'InProgress', 'Success'], lagging: true, run: (s) => (scripts.push(s), { stdout: triageText('web-1'), stderr: 'ss: not found\n' }) })
      .addInstance(UNDELIVERABLE, { states: ['Pending', 'Undeliverable'] })
      .addInstance(TIMED_OUT, { states: ['InProgress', 'TimedOut'], run: () => ({ stdout: triageText('db-1', 3), responseCode: 124 }) })
      .addInstance(SLOW, { states: ['InProgress'] });

    const summary = await captureVolatile(options, {
      case: 'INC-9',
      requestId: 'req-1',
      instances: [OK, NO_AGENT, UNDELIVERABLE, TIMED_OUT, SLOW].map((instanceId) => ({ instanceId, platform: 'linux' as const })),
    });

    const byId = Object.fromEntries(summary.instances.map((i) => [i.instanceId, i]));
    expect(summary.instances.map((i) => [i.instanceId, i.outcome, i.reason])).toEqual([
      [OK, 'captured', undefined],
      [NO_AGENT, 'failed', 'no-agent'],
      [UNDELIVERABLE, 'failed', 'Undeliverable'],
      [TIMED_OUT, 'failed', 'TimedOut'],
      [SLOW, 'failed', 'still-running'],
    ]);
    // The exact script shipped in the repo is what ran, and its hash is recorded.
    const linux = readFileSync(new URL('../../../shared/preservation/triage/linux.sh', import.meta.url));
    expect(scripts).toEqual([linux.toString('utf8')]);
    expect(summary.scripts).toEqual([{ name: 'linux.sh', sha256: sha(linux), key: `cases/INC-9/aws/ssm/scripts/${sha(linux)}/linux.sh` }]);
    expect(store.objects.get(summary.scripts[0]!.key)).toEqual(linux);

    // Outputs: the bytes the agent uploaded, kept unchanged, each with the SHA-256 Amber computed while storing.
    const ok = byId[OK]!;
    expect(ok.items.map((i) => i.key.split('/').slice(-2).join('/'))).toEqual([`${ok.commandId}/stdout`, `${ok.commandId}/stderr`]);
    for (const item of ok.items) {
      expect(store.objects.get(item.key)).toEqual(staging.get(item.origin.replace('s3://', '')));
      expect(item.sha256).toBe(sha(store.objects.get(item.key)!));
    }
    expect(ok.sections).toEqual([...TRIAGE_SECTIONS]);
    expect(ok.problems).toEqual([]);
    // A timed-out script's partial output is evidence too, and what is missing from it is said.
    expect(byId[TIMED_OUT]!.items).toHaveLength(1);
    expect(byId[NO_AGENT]!.message).toContain('not a managed instance');
    expect(byId[SLOW]!.message).toMatch(/still InProgress after 5 s of waiting; its output will land under s3:\/\/evidence-bucket\/staging\/ssm\/INC-9\/req-1\/triage\//);

    const ledger = await CustodyLedger.open(store, 'INC-9');
    const entries = ledger.entries.filter((e) => e.detail?.step === 'volatile-triage' && e.action === 'acquired');
    expect(entries.map((e) => [e.detail?.instanceId ?? 'scripts', e.detail?.outcome ?? null, e.detail?.reason ?? null])).toEqual([
      ['scripts', null, null],
      [OK, 'captured', null],
      [NO_AGENT, 'failed', 'no-agent'],
      [UNDELIVERABLE, 'failed', 'Undeliverable'],
      [TIMED_OUT, 'failed', 'TimedOut'],
      [SLOW, 'failed', 'still-running'],
    ]);
    expect(entries[1]!.detail).toMatchObject({ state: 'Success', responseCode: 0, script: { name: 'linux.sh', sha256: sha(linux) } });
    expect(entries[1]!.items!.map((i) => i.sha256)).toEqual(ok.items.map((i) => i.sha256));
    expect(entries[4]!.detail).toMatchObject({ state: 'TimedOut', stateDetail: 'ExecutionTimedOut', responseCode: 124 });
    expect(ledger.entries.at(-1)!.action).toBe('sealed');
  });

  it('records access denied for every instance when the role may not send commands', async () => {
    fake.addInstance(OK, { states: ['Success'] }).deny();
    const summary = await captureVolatile(options, { case: 'INC-9', requestId: 'req-2', instances: [{ instanceId: OK, platform: 'linux' }] });
    expect(summary.instances[0]).toMatchObject({ outcome: 'failed', reason: 'access-denied' });
    const ledger = await CustodyLedger.open(store, 'INC-9');
    expect(ledger.entries.find((e) => e.detail?.instanceId === OK)!.detail).toMatchObject({ failures: [{ origin: `ssm:${OK}`, reason: expect.stringContaining('access-denied') }] });
  });

  it('sends windows.ps1 to a Windows instance and fails a Success without any output object', async () => {
    fake.addInstance(WIN, { states: ['Success'] });
    const summary = await captureVolatile(options, { case: 'INC-9', requestId: 'req-3', instances: [{ instanceId: WIN, platform: 'windows' }] });
    expect(fake.sent[0]).toMatchObject({ DocumentName: 'AWS-RunPowerShellScript' });
    expect(summary.scripts.map((s) => s.name)).toEqual(['windows.ps1']);
    expect(summary.instances[0]).toMatchObject({ outcome: 'failed', reason: 'no-output', message: expect.stringContaining('stdout was not written') });
  });
});
