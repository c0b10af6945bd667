/**
 * What `verify` promises about each item and each sealed manifest, beyond the failures list: a tampered or
 * missing item is never `ok`, the bytes total counts only verified bytes, and an edited or deleted manifest
 * breaks the case (exit 3 from the command), naming the manifest.
 */
import { appendFile, chmod, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectEvidence } from '../../../shared/evidence/collect.ts';
import { LocalEvidenceSource } from '../../../shared/evidence/local-source.ts';
import { LocalObjectStore } from '../../../shared/evidence/local-object-store.ts';
import { verifyCase } from '../../../shared/evidence/verify.ts';
import { runCli } from '../../helpers/cli.ts';
import { tempDir } from '../../helpers/tmp.ts';

const actor = { principal: 'analyst@test', tool: 'amber/test' };
const A = 'cases/INC-1/logs/a.json';
const B = 'cases/INC-1/logs/b.log';

/** Two files (24 and 10 bytes) collected into case INC-1. */
async function collected(): Promise<{ store: LocalObjectStore; manifest: string }> {
  const base = await tempDir();
  const src = join(base, 'logs');
  await mkdir(src, { recursive: true });
  await writeFile(join(src, 'a.json'), '{"Records":[{"a":1}]}\n\n\n'); // 24 bytes
  await writeFile(join(src, 'b.log'), 'line one\n\n'); // 10 bytes
  const store = await LocalObjectStore.open(join(base, 'locker'), { create: true });
  const summary = await collectEvidence({ store, caseName: 'INC-1', sources: [await LocalEvidenceSource.open(src)], actor });
  return { store, manifest: summary.manifest.key };
}

describe('Use case: verifyCase, per item', () => {
  it('marks every item of an untouched case ok and counts all their bytes', async () => {
    const { store } = await collected();
    const report = await verifyCase({ store, caseName: 'INC-1', actor, record: false });
    expect(report.intact).toBe(true);
    expect(report.items.map((i) => [i.key, i.ok])).toEqual([[A, true], [B, true]]);
    expect(report.bytes).toBe(34);
  });

  it('never marks an item whose bytes changed ok, and leaves its bytes out of the verified total', async () => {
    const { store } = await collected();
    await chmod(store.pathOf(A), 0o644);
    await appendFile(store.pathOf(A), 'x');
    const report = await verifyCase({ store, caseName: 'INC-1', actor, record: false });
    expect(report.intact).toBe(false);
    const a = report.items.find((i) => i.key === A)!;
    expect(a.ok).toBe(false);
    expect(a.storedSha256).not.toBe(a.recordedSha256);
    expect(report.items.find((i) => i.key === B)!.ok).toBe(true);
    expect(report.bytes).toBe(10);
  });

  it('never marks a missing item ok, and leaves its bytes out of the verified total', async () => {
    const { store } = await collected();
    await rm(store.pathOf(B), { force: true });
    const report = await verifyCase({ store, caseName: 'INC-1', actor, record: false });
    expect(report.intact).toBe(false);
    expect(report.items.find((i) => i.key === B)).toMatchObject({ ok: false });
    expect(report.items.find((i) => i.key === B)!.storedSha256).toBeUndefined();
    expect(report.bytes).toBe(24);
  });
});

describe('Use case: verifyCase, sealed manifests', () => {
  it('reports an edited manifest as manifest-mismatch naming it, with both hashes', async () => {
    const { store, manifest } = await collected();
    await chmod(store.pathOf(manifest), 0o644);
    await appendFile(store.pathOf(manifest), ' ');
    const report = await verifyCase({ store, caseName: 'INC-1', actor, record: false });
    expect(report.intact).toBe(false);
    expect(report.failures).toEqual([expect.objectContaining({ kind: 'manifest-mismatch', key: manifest, expected: expect.stringMatching(/^[0-9a-f]{64}$/), actual: expect.stringMatching(/^[0-9a-f]{64}$/) })]);
  });

  it('reports a deleted manifest as manifest-missing naming it', async () => {
    const { store, manifest } = await collected();
    await rm(store.pathOf(manifest), { force: true });
    const report = await verifyCase({ store, caseName: 'INC-1', actor, record: false });
    expect(report.intact).toBe(false);
    expect(report.failures).toEqual([expect.objectContaining({ kind: 'manifest-missing', key: manifest })]);
  });
});

describe('CLI: amber verify on an edited manifest', () => {
  it('exits 3 and names the manifest', async () => {
    const cwd = await tempDir();
    await mkdir(join(cwd, 'export'), { recursive: true });
    await writeFile(join(cwd, 'export', 'a.jsonl'), '{"eventName":"GetObject"}\n');
    expect((await runCli(['collect', '--case', 'C', '--from', 'export'], { cwd })).code).toBe(0);
    const manifests = join(cwd, 'evidence/cases/C/_amber/manifests');
    const [name] = await readdir(manifests);
    await chmod(join(manifests, name!), 0o644);
    await appendFile(join(manifests, name!), '\n');
    const run = await runCli(['verify', '--case', 'C'], { cwd });
    expect(run.code).toBe(3);
    expect(run.stdout + run.stderr).toContain(`cases/C/_amber/manifests/${name}`);
  });
});
