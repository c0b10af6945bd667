/**
 * What collecting again records: a re-acquisition only when the bytes read are the bytes the ledger recorded,
 * and bytes an interrupted run stored without recording them are recorded as such, never silently.
 */
import { createHash } from 'node:crypto';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectEvidence } from '../../../shared/evidence/collect.ts';
import { LocalEvidenceSource } from '../../../shared/evidence/local-source.ts';
import { LocalObjectStore } from '../../../shared/evidence/local-object-store.ts';
import { ledgerKey } from '../../../shared/evidence/names.ts';
import { verifyCase } from '../../../shared/evidence/verify.ts';
import type { LedgerEntry } from '../../../shared/evidence/model.ts';
import { tempDir } from '../../helpers/tmp.ts';

const actor = { principal: 'analyst@test', tool: 'amber/test' };
const sha = (b: string): string => createHash('sha256').update(b).digest('hex');
const KEY = 'cases/INC-1/logs/a.json';

async function setup(): Promise<{ src: string; store: LocalObjectStore }> {
  const base = await tempDir();
  const src = join(base, 'logs');
  await mkdir(src, { recursive: true });
  await writeFile(join(src, 'a.json'), '{"Records":[{"v":1}]}');
  return { src, store: await LocalObjectStore.open(join(base, 'locker'), { create: true }) };
}

const collect = async (store: LocalObjectStore, src: string) => collectEvidence({ store, caseName: 'INC-1', sources: [await LocalEvidenceSource.open(src)], actor });
const entries = async (store: LocalObjectStore): Promise<LedgerEntry[]> => (await store.readText(ledgerKey('INC-1')))!.trimEnd().split('\n').map((l) => JSON.parse(l) as LedgerEntry);

describe('Use case: collectEvidence, collecting again', () => {
  it('records no re-acquisition when the stored bytes are not the ones the ledger recorded, and verify still fails', async () => {
    const { src, store } = await setup();
    await collect(store, src);
    // The preserved object is replaced, and the source now holds the same replacement bytes.
    const replaced = '{"Records":[{"v":2}]}';
    await chmod(store.pathOf(KEY), 0o644);
    await writeFile(store.pathOf(KEY), replaced);
    await writeFile(join(src, 'a.json'), replaced);
    const again = await collect(store, src);
    expect(again.reacquired).toBe(0);
    expect(again.created).toBe(0);
    // Refused as an integrity failure (exit 3), naming the key and both hashes; the ledger keeps one hash per key.
    expect(again.failures).toEqual([expect.objectContaining({ code: 'INTEGRITY', exitCode: 3, reason: expect.stringContaining(`${KEY} holds sha256 ${sha(replaced)}, but the custody ledger recorded ${sha('{"Records":[{"v":1}]}')}`) })]);
    const recorded = (await entries(store)).flatMap((e) => (e.action === 'acquired' ? (e.items ?? []) : [])).filter((i) => i.key === KEY);
    expect(new Set(recorded.map((i) => i.sha256))).toEqual(new Set([sha('{"Records":[{"v":1}]}')]));
    const claims = (await entries(store)).filter((e) => (e.detail as { reacquired?: boolean } | undefined)?.reacquired);
    expect(claims).toEqual([]);
    const report = await verifyCase({ store, caseName: 'INC-1', actor, record: false });
    expect(report.intact).toBe(false);
    expect(report.failures).toContainEqual(expect.objectContaining({ kind: 'hash-mismatch', key: KEY, actual: sha(replaced) }));
  });

  it('records a re-acquisition of unchanged bytes with the item as first recorded', async () => {
    const { src, store } = await setup();
    await collect(store, src);
    const again = await collect(store, src);
    expect(again).toMatchObject({ created: 0, reacquired: 1 });
    const last = (await entries(store)).filter((e) => e.action === 'acquired').at(-1)!;
    expect(last.detail).toMatchObject({ reacquired: true });
    expect(last.items).toEqual([expect.objectContaining({ key: KEY, sha256: sha('{"Records":[{"v":1}]}') })]);
  });
});

describe('Use case: collectEvidence over a preserved object removed from the locker', () => {
  it('stores the same bytes again as a re-acquisition saying so, and the case verifies', async () => {
    const { src, store } = await setup();
    await collect(store, src);
    await rm(store.pathOf(KEY), { force: true });
    const again = await collect(store, src);
    expect(again).toMatchObject({ created: 0, reacquired: 1, failures: [] });
    const last = (await entries(store)).filter((e) => e.action === 'acquired').at(-1)!;
    expect(last.detail).toMatchObject({ reacquired: true, restored: expect.stringContaining('missing from the locker') });
    expect((await verifyCase({ store, caseName: 'INC-1', actor, record: false })).intact).toBe(true);
  });

  it('refuses other bytes under the removed key with an integrity failure, and verify still fails', async () => {
    const { src, store } = await setup();
    await collect(store, src);
    await rm(store.pathOf(KEY), { force: true });
    await writeFile(join(src, 'a.json'), '{"Records":[{"v":3}]}');
    const again = await collect(store, src);
    expect(again.failures).toEqual([expect.objectContaining({ code: 'INTEGRITY', exitCode: 3, reason: expect.stringContaining('was missing from the locker') })]);
    expect((await verifyCase({ store, caseName: 'INC-1', actor, record: false })).intact).toBe(false);
  });
});

describe('Use case: collectEvidence after a run interrupted between storing and recording', () => {
  it('records the bytes already stored, saying they were stored but not yet recorded, and the case verifies', async () => {
    const { src, store } = await setup();
    // What an interrupted run leaves: the object stored, no ledger entry for it.
    await store.putImmutable(KEY, Buffer.from('{"Records":[{"v":1}]}'));
    const summary = await collect(store, src);
    expect(summary).toMatchObject({ created: 1, reacquired: 0, failures: [] });
    const acquired = (await entries(store)).filter((e) => e.action === 'acquired');
    expect(acquired).toEqual([
      expect.objectContaining({
        items: [expect.objectContaining({ key: KEY, sha256: sha('{"Records":[{"v":1}]}') })],
        detail: { recovered: 'object was already stored with these bytes but not yet recorded' },
      }),
    ]);
    expect((await verifyCase({ store, caseName: 'INC-1', actor, record: false })).intact).toBe(true);
  });
});
