/**
 * Export bundles from the core: hostile object keys stay inside the bundle and keep SHA256SUMS checkable, a zip
 * holds exactly the folder's tree and is byte-identical when written twice from one head, and bytes that no
 * longer match their record abort the export without leaving anything behind.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { lstat, readdir, readFile, realpath, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IntegrityError } from '../../../shared/errors.ts';
import { CustodyLedger } from '../../../shared/evidence/ledger.ts';
import type { EvidenceItem } from '../../../shared/evidence/model.ts';
import { Ed25519KeySigner } from '../../../shared/evidence/key-file-signer.ts';
import type { Signer } from '../../../shared/ports/signer.ts';
import { ledgerKey } from '../../../shared/evidence/names.ts';
import { bundlePathProblem, planBundle, type PaperSource } from '../../../shared/export/bundle.ts';
import { writeBundleFolder, writeBundleZip } from '../../../shared/export/write.ts';
import { MemoryObjectStore } from '../../helpers/memory-store.ts';
import { TEST_ACTOR } from '../../helpers/case.ts';
import { tempDir } from '../../helpers/tmp.ts';

const sha = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');

/** A case in memory whose objects sit under the given keys (bypassing collect, as a rewritten ledger or an S3 listing could). */
async function caseWithKeys(keys: Record<string, string>): Promise<MemoryObjectStore> {
  const store = new MemoryObjectStore();
  const ledger = await CustodyLedger.open(store, 'c');
  const at = new Date('2026-03-01T10:00:00.000Z');
  const items: EvidenceItem[] = [];
  for (const [key, body] of Object.entries(keys)) {
    const put = await store.putImmutable(key, Buffer.from(body));
    items.push({ id: sha(key).slice(0, 12), case: 'c', origin: `file:///src/${items.length}`, key, size: put.size, sha256: put.sha256, acquiredAt: at.toISOString(), acquiredBy: 'analyst@test', retainUntil: null, mediaType: 'text/plain' });
  }
  await ledger.append('acquired', TEST_ACTOR, at, { items });
  await ledger.checkpoint();
  return store;
}

async function ledgerText(store: MemoryObjectStore): Promise<string> {
  return (await store.readText(ledgerKey('c')))!;
}

/** Every file under `dir`, relative, with its bytes; fails on anything that is not a plain file or folder. */
async function tree(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (d: string): Promise<void> => {
    for (const name of await readdir(d)) {
      const path = join(d, name);
      const info = await lstat(path);
      if (info.isDirectory()) await walk(path);
      else if (info.isFile()) out.set(relative(dir, path).split(sep).join('/'), await readFile(path));
      else throw new Error(`${path} is neither a file nor a folder`);
    }
  };
  await walk(dir);
  return out;
}

describe('bundlePathProblem', () => {
  it.each([
    ['../x', 'empty, "." or ".."'],
    ['/etc/passwd', 'absolute'],
    ['a/\n/b', 'control'],
    ['a\u202etxt.exe', 'control, format'],
    ['a\\b', 'backslash'],
    [`${'x'.repeat(256)}`, 'segment longer'],
    [`${'x/'.repeat(460)}x`, 'longer than 900'],
  ])('refuses %j as a file name', (rel, reason) => {
    expect(bundlePathProblem(rel)).toContain(reason);
  });

  it('keeps ordinary keys, spaces and non-ASCII letters included, as they are', () => {
    expect(bundlePathProblem('evidence/AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/01/file name é.json.gz')).toBeUndefined();
  });
});

describe('Export bundle with hostile object keys', () => {
  const hostile = {
    'cases/c/../../escape.txt': 'climbs out',
    'cases/c/line\nbreak.txt': 'newline in name',
    'cases/c/back\\slash.txt': 'backslash in name',
    'cases/c/\u202egnp.exe': 'bidi override',
    [`cases/c/${'L'.repeat(300)}`]: 'over-long segment',
    'cases/c/dir': 'a file named like a folder',
    'cases/c/dir/inner.txt': 'a file inside that folder',
    'cases/c/plain/ok.txt': 'an ordinary key',
  };

  it('writes every object inside the bundle, lists renamed ones with their original key, and sha256sum -c passes', async () => {
    // Prepare
    const store = await caseWithKeys(hostile);
    const out = join(await tempDir(), 'bundle');
    // Act
    const plan = await planBundle({ store, caseName: 'c', ledgerText: await ledgerText(store), tool: 'amber/test' });
    await writeBundleFolder(plan, store, out);
    // Assess
    const files = await tree(out);
    for (const name of files.keys()) expect((await realpath(join(out, name))).startsWith(`${await realpath(out)}/`)).toBe(true);
    // Nothing climbed out: the bundle's folder is all its parent holds (a `../` key would have left a file beside it).
    expect(await readdir(dirname(out))).toEqual(['bundle']);
    expect(files.get('evidence/plain/ok.txt')?.toString()).toBe('an ordinary key');
    expect(files.get('evidence/dir')?.toString()).toBe('a file named like a folder');
    const index = files.get('renamed-keys.jsonl')!.toString().trim().split('\n').map((l) => JSON.parse(l) as { key: string; file: string });
    expect(index.map((r) => r.key).sort()).toEqual(Object.keys(hostile).filter((k) => !['cases/c/dir', 'cases/c/plain/ok.txt'].includes(k)).sort());
    for (const r of index) expect(files.get(r.file)?.toString()).toBe(hostile[r.key as keyof typeof hostile]);
    // The index stays one visible line per key (each parsed above): no raw bidi character either.
    expect(files.get('renamed-keys.jsonl')!.toString()).not.toContain('\u202e');
    const sums = files.get('SHA256SUMS')!.toString();
    expect(sums.split('\n').filter(Boolean)).toHaveLength(files.size - 1);
    const check = spawnSync('sha256sum', ['-c', '--strict', 'SHA256SUMS'], { cwd: out, encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it('keeps the zip inside its folder when unzipped, with the same tree as the folder export', async () => {
    const store = await caseWithKeys(hostile);
    const base = await tempDir();
    const plan = await planBundle({ store, caseName: 'c', ledgerText: await ledgerText(store), tool: 'amber/test' });
    await writeBundleFolder(plan, store, join(base, 'folder'));
    await writeBundleZip(plan, store, join(base, 'b.zip'));
    execFileSync('unzip', ['-q', join(base, 'b.zip'), '-d', join(base, 'unzipped')]);
    expect(await tree(join(base, 'unzipped'))).toEqual(await tree(join(base, 'folder')));
    expect(await readdir(base)).toEqual(expect.arrayContaining(['b.zip', 'folder', 'unzipped']));
    expect((await readdir(base)).length).toBe(3);
  });
});

describe('Export bundle determinism', () => {
  it('gives byte-identical zips from one ledger head, in any time zone, with the head time on every member', async () => {
    const store = await caseWithKeys({ 'cases/c/a.log': 'a\n', 'cases/c/sub/b.json': '{}\n' });
    const base = await tempDir();
    const text = await ledgerText(store);
    const first = await writeBundleZip(await planBundle({ store, caseName: 'c', ledgerText: text, tool: 'amber/test' }), store, join(base, '1.zip'));
    const tz = process.env.TZ;
    process.env.TZ = 'Pacific/Kiritimati';
    try {
      const second = await writeBundleZip(await planBundle({ store, caseName: 'c', ledgerText: text, tool: 'amber/test' }), store, join(base, '2.zip'));
      expect(second.sha256).toBe(first.sha256);
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
    expect(sha(await readFile(join(base, '1.zip')))).toBe(first.sha256);
    expect(await readFile(join(base, '2.zip'))).toEqual(await readFile(join(base, '1.zip')));
    const listing = execFileSync('zipinfo', ['-T', join(base, '1.zip')], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
    const times = [...listing.matchAll(/ (\d{8}\.\d{6}) /g)].map((m) => m[1]);
    expect(times.length).toBeGreaterThan(5);
    expect(new Set(times)).toEqual(new Set(['20260301.100000']));
  });
});

describe('Export bundle papers', () => {
  it('adds what a paper source renders under papers/, listed in SHA256SUMS and README', async () => {
    const store = await caseWithKeys({ 'cases/c/a.log': 'a\n' });
    const papers: PaperSource[] = [async ({ head }) => [{ name: 'certificate.txt', bytes: Buffer.from(`head ${head.seq}\n`) }]];
    const plan = await planBundle({ store, caseName: 'c', ledgerText: await ledgerText(store), tool: 'amber/test', papers });
    const out = join(await tempDir(), 'b');
    await writeBundleFolder(plan, store, out);
    expect(await readFile(join(out, 'papers/certificate.txt'), 'utf8')).toBe('head 1\n');
    expect(await readFile(join(out, 'SHA256SUMS'), 'utf8')).toContain(`${sha('head 1\n')}  papers/certificate.txt\n`);
    expect(await readFile(join(out, 'README.txt'), 'utf8')).toMatch(/papers\/ +certificate\.txt/);
  });
});

describe('Export bundle integrity', () => {
  it.each(['folder', 'zip'] as const)('aborts a %s export whose object no longer matches its record, leaving nothing behind', async (format) => {
    // Prepare: the bytes change after the export was planned (verified).
    const store = await caseWithKeys({ 'cases/c/a.log': 'original\n' });
    const plan = await planBundle({ store, caseName: 'c', ledgerText: await ledgerText(store), tool: 'amber/test' });
    store.objects.set('cases/c/a.log', Buffer.from('tampered\n'));
    const base = await tempDir();
    const out = join(base, format === 'zip' ? 'b.zip' : 'b');
    // Act
    const write = format === 'zip' ? writeBundleZip(plan, store, out) : writeBundleFolder(plan, store, out);
    // Assess
    await expect(write).rejects.toThrow(IntegrityError);
    await expect(write).rejects.toThrow(/cases\/c\/a\.log changed while it was exported/);
    expect(await readdir(base)).toEqual([]);
  });
});

describe('Export bundle README', () => {
  it('names every accepted failure on one line each, a hostile reason included', async () => {
    const store = await caseWithKeys({ 'cases/c/a.log': 'a\n' });
    const accepted = [{ kind: 'ledger-unanchored', where: 'entry 7', acceptedIn: 9, reason: 'ops note\nFAKE: all fine \u202e' }];
    const plan = await planBundle({ store, caseName: 'c', ledgerText: await ledgerText(store), tool: 'amber/test', accepted });
    const readme = Buffer.from((plan.files.find((f) => f.path === 'README.txt')!.content as { bytes: Uint8Array }).bytes).toString();
    expect(readme).toContain('   ledger-unanchored at entry 7: accepted in entry 9, reason: ops note\\u{a}FAKE: all fine \\u{202e}\n');
    expect(readme).not.toContain('\u202e');
  });

  it('refuses a ledger head whose time is not the ISO-8601 UTC time Amber writes, naming the entry', async () => {
    const store = await caseWithKeys({ 'cases/c/a.log': 'a\n' });
    const text = (await ledgerText(store)).replace(/"at":"[^"]*"/, '"at":"yesterday\\nnoon"');
    await expect(planBundle({ store, caseName: 'c', ledgerText: text, tool: 'amber/test' })).rejects.toThrow(/ledger entry 1 \(line 1\) has the time "yesterday\\nnoon"/);
  });
});

describe('Export bundle of a case signed in the statement form (a KMS key)', () => {
  /** An Ed25519 signer that, like a KMS key, signs at most 4096 bytes: every seal is signed as a statement. */
  function statementSigner(): Signer {
    const inner = new Ed25519KeySigner(generateKeyPairSync('ed25519').privateKey);
    return { algorithm: inner.algorithm, publicKeyPem: inner.publicKeyPem, fingerprint: inner.fingerprint, maxMessageBytes: 4096, sign: (data) => inner.sign(data) };
  }

  it('checks every statement signature and its file hash with openssl and sha256sum, and fails once the signed file changes', async () => {
    const store = new MemoryObjectStore();
    const at = new Date('2026-03-01T10:00:00.000Z');
    const ledger = await CustodyLedger.openForWriting(store, 'c', TEST_ACTOR, at, { signer: statementSigner() });
    const put = await store.putImmutable('cases/c/logs/a.json', Buffer.from('{"Records":[]}'));
    const item: EvidenceItem = { id: 'a1', case: 'c', origin: 'file:///src/a.json', key: 'cases/c/logs/a.json', size: put.size, sha256: put.sha256, acquiredAt: at.toISOString(), acquiredBy: 'analyst@test', retainUntil: null, mediaType: 'application/json' };
    await ledger.append('acquired', TEST_ACTOR, at, { items: [item] });
    await ledger.checkpoint();
    const plan = await planBundle({ store, caseName: 'c', ledgerText: await ledgerText(store), tool: 'amber/test' });
    expect(plan.signatures.length).toBeGreaterThan(0);
    const out = join(await tempDir('amber-export-statement-'), 'bundle');
    await writeBundleFolder(plan, store, out);
    for (const check of plan.signatures) {
      expect(check.statement, check.signature).toMatch(/\.statement$/);
      const run = spawnSync('sh', ['-c', check.command!], { cwd: out, encoding: 'utf8' });
      expect(run.status, `${check.command}\n${run.stderr}`).toBe(0);
    }
    // A checkpoint rewritten after signing: its statement still verifies, and the hash comparison catches it.
    const target = plan.signatures[0]!;
    const signedFile = join(out, target.signed);
    execFileSync('chmod', ['u+w', signedFile]);
    const bytes = await readFile(signedFile);
    bytes[0] = bytes[0]! ^ 1;
    await writeFile(signedFile, bytes);
    expect(spawnSync('sh', ['-c', target.command!], { cwd: out }).status).not.toBe(0);
  });
});
