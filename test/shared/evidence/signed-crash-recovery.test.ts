/**
 * A signed case survives crashes as an unsigned one does: a run killed at any step (including between a
 * signature and the checkpoint it signs) is finished by the next signed collect, and verify then finds every
 * seal and checkpoint signed by the case's key.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectEvidence } from '../../../shared/evidence/collect.ts';
import { Ed25519KeySigner } from '../../../shared/evidence/key-file-signer.ts';
import { CustodyLedger } from '../../../shared/evidence/ledger.ts';
import { LocalEvidenceSource } from '../../../shared/evidence/local-source.ts';
import { LocalObjectStore } from '../../../shared/evidence/local-object-store.ts';
import { verifyCase } from '../../../shared/evidence/verify.ts';
import type { ObjectStore } from '../../../shared/ports/object-store.ts';
import type { Signer } from '../../../shared/ports/signer.ts';
import { FaultyStore } from '../../helpers/faulty-store.ts';
import { tempDir } from '../../helpers/tmp.ts';

const actor = { principal: 'analyst@test', tool: 'amber/test' };

async function setup(): Promise<{ src: string; store: LocalObjectStore; signer: Signer }> {
  const base = await tempDir();
  const src = join(base, 'src');
  await mkdir(src);
  for (const name of ['a.log', 'b.log']) await writeFile(join(src, name), `${name} content\n`);
  const keyFile = join(base, 'case.key');
  await writeFile(keyFile, Ed25519KeySigner.generate().privateKeyPem);
  return { src, store: await LocalObjectStore.open(join(base, 'locker'), { create: true }), signer: await Ed25519KeySigner.fromFile(keyFile) };
}

async function collect(store: ObjectStore, src: string, signer: Signer) {
  return collectEvidence({ store, caseName: 'C', sources: [await LocalEvidenceSource.open(src)], actor, concurrency: 1, signer });
}

const steps: Array<[string, (s: FaultyStore) => void]> = [
  ['after the manifest is written', (s) => s.crashAfter({ op: 'putImmutable', key: (k) => k.includes('/_amber/manifests/') })],
  ["after the manifest's signature is written", (s) => s.crashAfter({ op: 'putImmutable', key: (k) => k.includes('/_amber/signatures/manifests/') })],
  ["after the checkpoint's signature is written, before the checkpoint", (s) => s.crashAfter({ op: 'putImmutable', key: (k) => k.includes('/_amber/signatures/checkpoints/') })],
  ['in the middle of a ledger append', (s) => s.tearNextAppend()],
];

describe('Use case: collectEvidence with a signer, after a crash', () => {
  it.each(steps)('a run killed %s is finished by the next signed collect, and every seal and checkpoint verifies as signed', async (_name, inject) => {
    const { src, store, signer } = await setup();
    await collect(store, src, signer);
    await writeFile(join(src, 'c.log'), 'c content\n');
    const faulty = new FaultyStore(store);
    inject(faulty);
    await expect(collect(faulty, src, signer)).rejects.toThrow();

    const rerun = await collect(store, src, signer);
    expect(rerun.failures).toEqual([]);
    expect(rerun.signedBy).toBe(signer.fingerprint);
    const report = await verifyCase({ store, caseName: 'C', actor, record: false });
    expect(report.failures).toEqual([]);
    expect(report.signing?.fingerprint).toBe(signer.fingerprint);
    expect(report.signing?.signatures.length).toBeGreaterThanOrEqual(4);
    expect(report.signing?.signatures.every((s) => s.ok)).toBe(true);
  });

  it('an interrupted signed run is not finished by a writer without the key: it is refused before it writes', async () => {
    const { src, store, signer } = await setup();
    await collect(store, src, signer);
    const faulty = new FaultyStore(store);
    faulty.tearNextAppend();
    await writeFile(join(src, 'c.log'), 'c content\n');
    await expect(collect(faulty, src, signer)).rejects.toThrow();
    const before = await store.readText('cases/C/custody-ledger.jsonl');
    await expect(collectEvidence({ store, caseName: 'C', sources: [await LocalEvidenceSource.open(src)], actor })).rejects.toThrow(/no signing key was given/);
    expect(await store.readText('cases/C/custody-ledger.jsonl')).toBe(before);
  });
});

describe('Class: CustodyLedger with a signer', () => {
  it('records the key once, in the first entry, when several entries are appended at once', async () => {
    const { store, signer } = await setup();
    const ledger = await CustodyLedger.openForWriting(store, 'C', actor, new Date(), { signer });
    const at = new Date();
    await Promise.all([ledger.append('accessed', actor, at), ledger.append('accessed', actor, at), ledger.append('accessed', actor, at)]);
    await ledger.checkpoint();
    const actions = ((await store.readText('cases/C/custody-ledger.jsonl')) ?? '').trimEnd().split('\n').map((l) => JSON.parse(l).action);
    expect(actions).toEqual(['keyed', 'accessed', 'accessed', 'accessed']);
    const report = await verifyCase({ store, caseName: 'C', actor, record: false });
    expect(report.failures).toEqual([]);
    expect(report.signing?.signatures.map((s) => s.ok)).toEqual([true]);
  });
});
