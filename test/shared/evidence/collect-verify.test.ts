import { createHash } from 'node:crypto';
import { appendFile, chmod, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { collectEvidence } from '../../../shared/evidence/collect.ts';
import { LocalEvidenceSource } from '../../../shared/evidence/local-source.ts';
import { LocalObjectStore } from '../../../shared/evidence/local-object-store.ts';
import { verifyCase } from '../../../shared/evidence/verify.ts';
import { ledgerKey } from '../../../shared/evidence/names.ts';
import { InvalidInputError } from '../../../shared/errors.ts';
import type { EvidenceSource } from '../../../shared/ports/evidence-source.ts';
import { tempDir } from '../../helpers/tmp.ts';

const actor = { principal: 'analyst@test', tool: 'amber/test' };
const sha = (b: string): string => createHash('sha256').update(b).digest('hex');

/** A source folder `logs/` with nested files, and an empty locker. */
async function setup(): Promise<{ src: string; store: LocalObjectStore; root: string }> {
  const base = await tempDir();
  const src = join(base, 'logs');
  await mkdir(join(src, 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20'), { recursive: true });
  await writeFile(join(src, 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/a.json'), '{"Records":[{"eventName":"ListBuckets"}]}');
  await writeFile(join(src, 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/b.json'), '{"Records":[]}');
  await writeFile(join(src, 'notes.txt'), 'not a log Amber can parse, preserved anyway\u0000\u00ff');
  const root = join(base, 'locker');
  return { src, root, store: await LocalObjectStore.open(root, { create: true }) };
}

async function collect(store: LocalObjectStore, ...paths: string[]) {
  const sources = await Promise.all(paths.map((p) => LocalEvidenceSource.open(p)));
  return collectEvidence({ store, caseName: 'INC-1', sources, actor });
}

describe('Use case: collectEvidence', () => {
  it('preserves every file recursively under cases/<case>/ keeping the relative path, with its SHA-256', async () => {
    const { src, store } = await setup();
    const summary = await collect(store, src);
    expect(summary).toMatchObject({ items: 3, created: 3, reacquired: 0, failures: [] });
    const report = await verifyCase({ store, caseName: 'INC-1', actor, record: false });
    expect(report.items.map((i) => i.key)).toEqual([
      'cases/INC-1/logs/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/a.json',
      'cases/INC-1/logs/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/b.json',
      'cases/INC-1/logs/notes.txt',
    ]);
    expect(report.items[1]!.recordedSha256).toBe(sha('{"Records":[]}'));
  });

  it('records each item with origin, size, hash, time, actor, retention and media type', async () => {
    const { src, store } = await setup();
    const retainUntil = new Date('2027-11-21T00:00:00.000Z');
    await collectEvidence({ store, caseName: 'INC-1', sources: [await LocalEvidenceSource.open(src)], actor, retainUntil, clock: () => new Date('2026-11-21T10:00:00Z') });
    const ledger = (await store.readText(ledgerKey('INC-1')))!.trim().split('\n').map((l) => JSON.parse(l));
    const acquired = ledger.filter((e) => e.action === 'acquired').flatMap((e) => e.items);
    expect(acquired.find((i: { key: string }) => i.key.endsWith('b.json'))).toEqual({
      id: expect.stringMatching(/^ev-[0-9a-f]{24}$/),
      case: 'INC-1',
      origin: expect.stringMatching(/^file:\/\/\/.*\/logs\/AWSLogs\/.*\/b\.json$/),
      key: 'cases/INC-1/logs/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/b.json',
      size: 14,
      sha256: sha('{"Records":[]}'),
      acquiredAt: '2026-11-21T10:00:00.000Z',
      acquiredBy: 'analyst@test',
      retainUntil: '2027-11-21T00:00:00.000Z',
      mediaType: 'application/json',
    });
    expect(ledger.at(-1)).toMatchObject({ action: 'sealed', detail: { items: 3 } });
  });

  it('is idempotent: collecting the same bytes again adds no item', async () => {
    const { src, store } = await setup();
    await collect(store, src);
    const again = await collect(store, src);
    expect(again).toMatchObject({ items: 3, created: 0, reacquired: 3 });
    const report = await verifyCase({ store, caseName: 'INC-1', actor });
    expect(report.items).toHaveLength(3);
    expect(report.intact).toBe(true);
  });

  it('refuses the same key with different bytes, naming it, and keeps the original', async () => {
    const { src, store } = await setup();
    await collect(store, src);
    await writeFile(join(src, 'notes.txt'), 'changed');
    const again = await collect(store, src);
    expect(again.failures).toEqual([
      expect.objectContaining({ code: 'WRITE_ONCE_VIOLATION', reason: expect.stringMatching(/refusing to overwrite preserved evidence cases\/INC-1\/logs\/notes\.txt/) }),
    ]);
    expect(await readFile(store.pathOf('cases/INC-1/logs/notes.txt'), 'utf8')).toMatch(/^not a log/);
    expect((await verifyCase({ store, caseName: 'INC-1', actor })).intact).toBe(true);
  });

  it('does not follow a symbolic link out of the source root, and says so', async () => {
    const { src, store } = await setup();
    const outside = join(src, '..', 'secret.txt');
    await writeFile(outside, 'outside the root');
    await symlink(outside, join(src, 'link-out'));
    await symlink(join(src, 'notes.txt'), join(src, 'link-in'));
    const summary = await collect(store, src);
    expect(summary.failures).toEqual([expect.objectContaining({ origin: expect.stringMatching(/link-out$/), reason: expect.stringMatching(/leaves the source root/) })]);
    expect(summary.created).toBe(4); // link-in is followed: it stays inside the root
  });

  it('reports a source that fails while being read and records nothing for it', async () => {
    const { root } = await setup();
    const store = await LocalObjectStore.open(root);
    const source: EvidenceSource = {
      spec: 'fake',
      async *list() {
        yield { origin: 'file:///fake/ok.log', relPath: 'fake/ok.log', open: async () => Readable.from([Buffer.from('fine')]) };
        yield {
          origin: 'file:///fake/bad.log',
          relPath: 'fake/bad.log',
          open: async () =>
            new Readable({
              read() {
                this.push(Buffer.from('half'));
                this.destroy(new Error('EIO: read error'));
              },
            }),
        };
      },
    };
    const summary = await collectEvidence({ store, caseName: 'INC-1', sources: [source], actor });
    expect(summary.created).toBe(1);
    expect(summary.failures).toEqual([expect.objectContaining({ origin: 'file:///fake/bad.log', reason: expect.stringMatching(/EIO: read error/) })]);
    const report = await verifyCase({ store, caseName: 'INC-1', actor });
    expect(report.items.map((i) => i.key)).toEqual(['cases/INC-1/fake/ok.log']);
    expect(report.intact).toBe(true);
  });

  it('preserves a truncated gzip file byte for byte (parsing never gates preservation)', async () => {
    const { src, store } = await setup();
    const broken = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00]);
    await writeFile(join(src, 'truncated.json.gz'), broken);
    await collect(store, src);
    expect(await readFile(store.pathOf('cases/INC-1/logs/truncated.json.gz'))).toEqual(broken);
  });
});

describe('Use case: verifyCase', () => {
  async function collected() {
    const { src, store, root } = await setup();
    await collect(store, src);
    return { store, root, key: 'cases/INC-1/logs/notes.txt' };
  }

  it('reports a modified object as a hash mismatch with both hashes', async () => {
    const { store, key } = await collected();
    await chmod(store.pathOf(key), 0o644);
    await appendFile(store.pathOf(key), 'x');
    const report = await verifyCase({ store, caseName: 'INC-1', actor });
    expect(report.intact).toBe(false);
    expect(report.failures).toEqual([expect.objectContaining({ kind: 'hash-mismatch', key, expected: expect.any(String), actual: expect.any(String) })]);
  });

  it('reports a deleted object as missing', async () => {
    const { store, key } = await collected();
    await rm(store.pathOf(key), { force: true });
    const report = await verifyCase({ store, caseName: 'INC-1', actor });
    expect(report.failures).toEqual([expect.objectContaining({ kind: 'missing-object', key })]);
  });

  it('reports an object the ledger does not know as extra', async () => {
    const { store } = await collected();
    await writeFile(store.pathOf('cases/INC-1/logs/planted.json'), '{}');
    const report = await verifyCase({ store, caseName: 'INC-1', actor });
    expect(report.failures).toEqual([expect.objectContaining({ kind: 'extra-object', key: 'cases/INC-1/logs/planted.json' })]);
  });

  it('reports an edited ledger entry', async () => {
    const { store } = await collected();
    const path = store.pathOf(ledgerKey('INC-1'));
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.replace('"acquiredBy":"analyst@test"', '"acquiredBy":"someone-else"'));
    const report = await verifyCase({ store, caseName: 'INC-1', actor });
    expect(report.failures.map((f) => f.kind)).toContain('ledger-edited');
  });

  it('records its own result in the ledger, and a later verify checks that entry too', async () => {
    const { store } = await collected();
    await verifyCase({ store, caseName: 'INC-1', actor });
    const second = await verifyCase({ store, caseName: 'INC-1', actor });
    expect(second.intact).toBe(true);
    const last = JSON.parse((await store.readText(ledgerKey('INC-1')))!.trim().split('\n').at(-1)!);
    expect(last).toMatchObject({ action: 'verified', detail: { intact: true, items: 3, failures: 0 } });
  });
});

describe('Use case: collectEvidence with sources that hold nothing or change', () => {
  it('refuses to collect from an empty folder (exit 2), naming it, and writes nothing into the case', async () => {
    const { store } = await setup();
    const empty = join(await tempDir(), 'empty');
    await mkdir(empty);
    const error = (await collect(store, empty).catch((e: unknown) => e)) as InvalidInputError;
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(/nothing preserved: ".*empty" holds no files/);
    expect(error.hint).toMatch(/pass --from with the file, folder or s3:\/\/bucket\/prefix that holds the logs/);
    expect(await store.readText(ledgerKey('INC-1'))).toBeUndefined();
  });

  it('collects the other sources and names the empty one as not preserved', async () => {
    const { src, store } = await setup();
    const empty = join(await tempDir(), 'empty');
    await mkdir(empty);
    const summary = await collect(store, src, empty);
    expect(summary.items).toBe(3);
    expect(summary.failures).toEqual([expect.objectContaining({ origin: empty, reason: expect.stringMatching(/holds no files/), exitCode: 2 })]);
  });

  it('preserves a file that grows while read with the hash of what was read, and warns in the summary and the ledger', async () => {
    const { src, store } = await setup();
    const growing = join(src, 'notes.txt');
    // The store's first read of this object happens after the source was opened: the file grows in between.
    const racing = Object.create(store) as LocalObjectStore;
    racing.putImmutable = async (key, body, options) => {
      if (key.endsWith('notes.txt')) await appendFile(growing, 'appended while collecting\n');
      return store.putImmutable(key, body, options);
    };
    const summary = await collectEvidence({ store: racing, caseName: 'INC-1', sources: [await LocalEvidenceSource.open(src)], actor });
    expect(summary.warnings).toEqual([{ origin: expect.stringMatching(/notes\.txt$/), reason: expect.stringMatching(/changed while it was read \(its size went from \d+ to \d+ bytes/) }]);
    const entry = (await store.readText(ledgerKey('INC-1')))!.trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.items?.[0]?.key.endsWith('notes.txt'));
    expect(entry.detail.changedWhileRead).toMatch(/what was preserved and hashed is exactly the bytes read/);
    const preserved = await readFile(store.pathOf('cases/INC-1/logs/notes.txt'));
    expect(entry.items[0].sha256).toBe(createHash('sha256').update(preserved).digest('hex'));
    expect((await verifyCase({ store, caseName: 'INC-1', actor, record: false })).intact).toBe(true);
  });
});
