/**
 * Fault injection at each step of collect: a run killed after storing an object, after writing its manifest,
 * in the middle of a ledger append, or after writing its checkpoint never blocks the case. The next collect
 * finishes the interrupted run's work on its own, and verify then finds the case intact with every file.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectEvidence } from '../../../shared/evidence/collect.ts';
import { LocalEvidenceSource } from '../../../shared/evidence/local-source.ts';
import { LocalObjectStore } from '../../../shared/evidence/local-object-store.ts';
import { ledgerKey } from '../../../shared/evidence/names.ts';
import { verifyCase } from '../../../shared/evidence/verify.ts';
import type { ObjectStore } from '../../../shared/ports/object-store.ts';
import { FaultyStore, type Step } from '../../helpers/faulty-store.ts';
import { runCli } from '../../helpers/cli.ts';
import { tempDir } from '../../helpers/tmp.ts';

const actor = { principal: 'analyst@test', tool: 'amber/test' };

async function setup(): Promise<{ src: string; store: LocalObjectStore }> {
  const base = await tempDir();
  const src = join(base, 'src');
  await mkdir(src);
  for (const name of ['a.log', 'b.log', 'c.log']) await writeFile(join(src, name), `${name} content\n`);
  return { src, store: await LocalObjectStore.open(join(base, 'locker'), { create: true }) };
}

async function collect(store: ObjectStore, src: string) {
  return collectEvidence({ store, caseName: 'C', sources: [await LocalEvidenceSource.open(src)], actor, concurrency: 1 });
}

function entries(text: string): Array<{ seq: number; action: string; detail?: Record<string, unknown>; items?: Array<{ key: string }> }> {
  return text.trimEnd().split('\n').map((l) => JSON.parse(l));
}

const steps: Array<[string, (s: FaultyStore) => void]> = [
  ['after an object is stored', (s) => s.crashAfter({ op: 'putImmutable', key: (k) => k.startsWith('cases/C/src/') })],
  ['after the manifest is written', (s) => s.crashAfter({ op: 'putImmutable', key: (k) => k.includes('/_amber/manifests/') })],
  ['in the middle of a ledger append', (s) => s.tearNextAppend()],
  ['after the checkpoint is written', (s) => s.crashAfter({ op: 'putImmutable', key: (k) => k.includes('/_amber/checkpoints/') } satisfies Step)],
];

describe('Use case: collectEvidence after a crash', () => {
  it.each(steps)('a run killed %s is finished by the next collect, and verify finds every file intact', async (_name, inject) => {
    const { src, store } = await setup();
    // A first, complete collect, so the crash happens on a case that already has a checkpoint.
    await writeFile(join(src, 'first.log'), 'first\n');
    await collect(store, src);
    await writeFile(join(src, 'd.log'), 'd content\n');

    const faulty = new FaultyStore(store);
    inject(faulty);
    await expect(collect(faulty, src)).rejects.toThrow();

    const rerun = await collect(store, src);
    expect(rerun.failures).toEqual([]);
    const report = await verifyCase({ store, caseName: 'C', actor, record: false });
    expect(report.failures).toEqual([]);
    expect(report.items.map((i) => i.key)).toEqual(['a.log', 'b.log', 'c.log', 'd.log', 'first.log'].map((n) => `cases/C/src/${n}`));
    const seqs = entries((await store.readText(ledgerKey('C')))!).map((e) => e.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('removes a torn ledger line only with its exact bytes and hash recorded, and verify meanwhile says a run was interrupted', async () => {
    const { src, store } = await setup();
    const faulty = new FaultyStore(store);
    faulty.tearNextAppend();
    await expect(collect(faulty, src)).rejects.toBeInstanceOf(Error);
    const torn = (await store.readText(ledgerKey('C')))!;
    expect(torn.endsWith('\n')).toBe(false);

    const between = await verifyCase({ store, caseName: 'C', actor, record: false });
    expect(between.failures).toContainEqual(expect.objectContaining({ kind: 'ledger-interrupted', reason: expect.stringMatching(/amber recover --case C/) }));

    await collect(store, src);
    const recovered = entries((await store.readText(ledgerKey('C')))!).find((e) => e.action === 'recovered')!;
    const tail = torn.slice(torn.lastIndexOf('\n') + 1);
    expect(recovered.detail).toMatchObject({ tornTail: { bytes: Buffer.from(tail).toString('base64'), length: Buffer.byteLength(tail) } });
    expect((await verifyCase({ store, caseName: 'C', actor, record: false })).intact).toBe(true);
  });

  it('amber recover is the one documented command that finishes an interrupted run, and says when there is none', async () => {
    const { src, store } = await setup();
    const faulty = new FaultyStore(store);
    faulty.tearNextAppend();
    await expect(collect(faulty, src)).rejects.toBeInstanceOf(Error);
    const cwd = await tempDir();
    const verifyBefore = await runCli(['verify', '--case', 'C', '--locker', store.root], { cwd });
    expect(verifyBefore.code).toBe(3);
    expect(verifyBefore.stdout).toMatch(/ledger-interrupted/);
    const recover = await runCli(['recover', '--case', 'C', '--locker', store.root], { cwd });
    expect(recover.code).toBe(0);
    expect(recover.stdout).toMatch(/finished the work of an interrupted run \(recovered entry \d+ in the ledger\)/);
    expect((await runCli(['recover', '--case', 'C', '--locker', store.root], { cwd })).stdout).toMatch(/no interrupted run to finish/);
    // The interrupted run's objects were stored but never recorded: collecting again records them.
    expect((await runCli(['collect', '--case', 'C', '--from', src, '--locker', store.root], { cwd })).code).toBe(0);
    expect((await runCli(['verify', '--case', 'C', '--locker', store.root], { cwd })).code).toBe(0);
  });

  it('names the manifest a killed run left, instead of refusing to seal over it', async () => {
    const { src, store } = await setup();
    const faulty = new FaultyStore(store);
    faulty.crashAfter({ op: 'putImmutable', key: (k) => k.includes('/_amber/manifests/') });
    await expect(collect(faulty, src)).rejects.toBeInstanceOf(Error);
    const summary = await collect(store, src);
    const recovered = entries((await store.readText(ledgerKey('C')))!).find((e) => e.action === 'recovered')!;
    expect(recovered.detail?.unsealedManifests).toEqual([expect.objectContaining({ key: 'cases/C/_amber/manifests/0000000004.json' })]);
    expect(summary.manifest.key).not.toBe('cases/C/_amber/manifests/0000000004.json');
  });

  it('refuses to build on entries no interrupted run accounts for (exit 3), naming them', async () => {
    const { src, store } = await setup();
    await collect(store, src);
    const path = store.pathOf(ledgerKey('C'));
    const text = await readFile(path, 'utf8');
    const { createHash } = await import('node:crypto');
    const last = text.trimEnd().split('\n').at(-1)!;
    const forged = { ...JSON.parse(last), seq: JSON.parse(last).seq + 1, prev: createHash('sha256').update(last).digest('hex'), action: 'accessed' };
    const { chmod, appendFile } = await import('node:fs/promises');
    await chmod(path, 0o644);
    await appendFile(path, `${JSON.stringify(forged)}\n`);
    await expect(collect(store, src)).rejects.toMatchObject({ exitCode: 3, message: expect.stringMatching(/entry \d+ is not anchored[\s\S]*nothing is added on top/) });
    expect(await readFile(path, 'utf8')).toBe(`${text}${JSON.stringify(forged)}\n`);
  });
});
