/**
 * `amber export`: a signed case handed over and checked with the README's own commands (sha256sum, openssl,
 * sh) and nothing of Amber's; the same commands fail once a byte of an object, a signature or a ledger line is
 * changed; a zip unzips to a tree that checks the same way; a broken case is refused.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFile, chmod, cp, lstat, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { makeWritable, tempDir } from '../helpers/tmp.ts';

const sha = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');

interface Case {
  readonly cwd: string;
  readonly key: string;
  readonly pub: string;
  readonly ledger: string;
}

/** A key from `amber keys init`, and case C collected with it from ./src (three files, one in a sub-folder). */
async function signedCase(options: { sign?: boolean } = {}): Promise<Case> {
  const cwd = await tempDir();
  await mkdir(join(cwd, 'src', 'logs'), { recursive: true });
  await writeFile(join(cwd, 'src', 'a.jsonl'), '{"eventName":"GetObject"}\n');
  await writeFile(join(cwd, 'src', 'logs', "it's b.log"), 'line one\nline two\n');
  await writeFile(join(cwd, 'src', 'logs', 'c.bin'), Buffer.from([0, 1, 2, 255, 10, 13]));
  const key = join(cwd, 'case.key');
  const pub = join(cwd, 'case.pub');
  expect((await runCli(['keys', 'init', '--out', key, '--public-out', pub], { cwd })).code).toBe(0);
  const signing = options.sign === false ? [] : ['--signing-key', key];
  expect((await runCli(['collect', '--case', 'C', '--from', 'src', ...signing], { cwd })).code).toBe(0);
  expect((await runCli(['verify', '--case', 'C', ...signing], { cwd })).code).toBe(0);
  return { cwd, key, pub, ledger: join(cwd, 'evidence', 'cases', 'C', 'custody-ledger.jsonl') };
}

function run(command: string, cwd: string): { status: number | null; out: string } {
  const r = spawnSync('sh', ['-c', command], { cwd, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** The checks README.txt gives, run as written: every file's hash, the ledger chain, and each signature. */
async function readmeChecks(bundle: string): Promise<Array<{ command: string; status: number | null; out: string }>> {
  const readme = await readFile(join(bundle, 'README.txt'), 'utf8');
  const commands = readme
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l === 'sha256sum -c SHA256SUMS' || l === 'sh check-ledger.sh' || l.startsWith('openssl pkeyutl -verify '));
  return commands.map((command) => ({ command, ...run(command, bundle) }));
}

async function tree(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (d: string): Promise<void> => {
    for (const name of await readdir(d)) {
      const path = join(d, name);
      if ((await lstat(path)).isDirectory()) await walk(path);
      else out.set(relative(dir, path).split(sep).join('/'), await readFile(path));
    }
  };
  await walk(dir);
  return out;
}

function lastEntry(ledgerText: string): { seq: number; action: string; detail: Record<string, unknown> } {
  return JSON.parse(ledgerText.trim().split('\n').at(-1)!);
}

/** Flips one bit of the byte at `offset` of a file (negative: from the end). */
async function flipByte(path: string, offset: number): Promise<void> {
  await chmod(path, 0o644);
  const bytes = await readFile(path);
  const i = offset < 0 ? bytes.length + offset : offset;
  bytes[i] = bytes[i]! ^ 0x01;
  await writeFile(path, bytes);
}

describe('amber export of a signed case', () => {
  it('writes a folder that the README commands check with sha256sum, openssl and sh alone, and records it in the ledger', async () => {
    // Prepare
    const c = await signedCase();
    const before = await readFile(c.ledger, 'utf8');
    // Act
    const result = await runCli(['export', '--case', 'C', '--out', 'handover', '--signing-key', c.key, '--json'], { cwd: c.cwd });
    // Assess
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const bundle = join(c.cwd, 'handover');
    const checks = await readmeChecks(bundle);
    const signatures = checks.filter((k) => k.command.startsWith('openssl'));
    expect(checks.map((k) => k.command)).toEqual(expect.arrayContaining(['sha256sum -c SHA256SUMS', 'sh check-ledger.sh']));
    // Every checkpoint and manifest of the case is signed (collect, verify): each has its command.
    expect(signatures.length).toBe((await readdir(join(bundle, '_amber/checkpoints'))).length + (await readdir(join(bundle, '_amber/manifests'))).length);
    for (const k of checks) expect({ command: k.command, status: k.status, out: k.out }).toMatchObject({ status: 0 });
    for (const k of signatures) expect(k.out).toContain('Signature Verified Successfully');
    // The objects, byte for byte; the public key the owner keeps; the ledger cut before the export's own entry.
    expect(await readFile(join(bundle, 'evidence/src/logs/c.bin'))).toEqual(Buffer.from([0, 1, 2, 255, 10, 13]));
    expect(await readFile(join(bundle, "evidence/src/logs/it's b.log"), 'utf8')).toBe('line one\nline two\n');
    expect(await readFile(join(bundle, 'public-key.pem'), 'utf8')).toBe(await readFile(c.pub, 'utf8'));
    expect(await readFile(join(bundle, 'custody-ledger.jsonl'), 'utf8')).toBe(before);
    const after = await readFile(c.ledger, 'utf8');
    expect(after.startsWith(before)).toBe(true);
    const entry = lastEntry(after);
    const files = await tree(bundle);
    expect(entry.action).toBe('exported');
    expect(entry.detail).toMatchObject({
      sha256: sha(files.get('SHA256SUMS')!),
      sha256Of: 'SHA256SUMS',
      files: files.size,
      bytes: [...files.values()].reduce((n, b) => n + b.length, 0),
      format: 'folder',
      to: bundle,
    });
    expect(JSON.parse(result.stdout)).toMatchObject({ exportedIn: entry.seq, files: files.size, objects: 3 });
    // The export is on record, signed: the case still verifies.
    expect((await runCli(['verify', '--case', 'C', '--public-key', c.pub], { cwd: c.cwd })).code).toBe(0);
  });

  it.each([
    ['an object', 'evidence/src/a.jsonl', 3, 'sha256sum -c SHA256SUMS'],
    ['a signature', '_amber/signatures/checkpoints', 10, 'openssl'],
    ['a ledger line', 'custody-ledger.jsonl', 20, 'sh check-ledger.sh'],
  ])('makes the standard check fail when one byte of %s is changed', async (_what, target, offset, failing) => {
    // Prepare
    const c = await signedCase();
    expect((await runCli(['export', '--case', 'C', '--out', 'handover', '--signing-key', c.key], { cwd: c.cwd })).code).toBe(0);
    const copy = join(c.cwd, 'copy');
    await cp(join(c.cwd, 'handover'), copy, { recursive: true });
    await makeWritable(copy);
    let file = join(copy, target);
    if ((await lstat(file)).isDirectory()) file = join(file, (await readdir(file)).find((n) => n.endsWith('.sig'))!);
    // Act
    await flipByte(file, offset);
    // Assess
    const checks = await readmeChecks(copy);
    const broken = checks.filter((k) => k.status !== 0);
    expect(broken.length).toBeGreaterThan(0);
    expect(broken.some((k) => k.command.startsWith(failing))).toBe(true);
    if (failing !== 'sha256sum -c SHA256SUMS') {
      // A forger who also rewrites SHA256SUMS is still caught by the check that does not rely on it.
      run("find . -type f ! -name 'SHA256SUMS*' | sed 's|^\\./||' | LC_ALL=C sort | xargs -d '\\n' sha256sum > SHA256SUMS.new && mv SHA256SUMS.new SHA256SUMS", copy);
      const again = await readmeChecks(copy);
      expect(again.find((k) => k.command === 'sha256sum -c SHA256SUMS')?.status).toBe(0);
      expect(again.some((k) => k.command.startsWith(failing) && k.status !== 0)).toBe(true);
    }
  });

  it('writes a zip that unzips to a tree the same commands check, hashed in the ledger', async () => {
    const c = await signedCase();
    const result = await runCli(['export', '--case', 'C', '--out', 'handover.zip', '--signing-key', c.key, '--json'], { cwd: c.cwd });
    expect(result.code).toBe(0);
    const zip = await readFile(join(c.cwd, 'handover.zip'));
    const entry = lastEntry(await readFile(c.ledger, 'utf8'));
    expect(entry.detail).toMatchObject({ format: 'zip', sha256Of: 'zip', sha256: sha(zip), zipBytes: zip.length });
    const out = join(c.cwd, 'unzipped');
    expect(spawnSync('unzip', ['-q', 'handover.zip', '-d', out], { cwd: c.cwd }).status).toBe(0);
    const files = await tree(out);
    expect(entry.detail).toMatchObject({ files: files.size, sumsSha256: sha(files.get('SHA256SUMS')!) });
    const listed = (await readFile(join(out, 'SHA256SUMS'), 'utf8')).trim().split('\n').map((l) => l.slice(66));
    expect([...listed, 'SHA256SUMS'].sort()).toEqual([...files.keys()].sort());
    for (const k of await readmeChecks(out)) expect({ command: k.command, status: k.status, out: k.out }).toMatchObject({ status: 0 });
    // The court papers travel with the bundle: the certificate names every preserved object's SHA-256.
    const certificate = spawnSync('pdftotext', ['-layout', join(out, 'papers', 'certificate.pdf'), '-'], { encoding: 'utf8' });
    expect(certificate.status).toBe(0);
    const text = certificate.stdout.replace(/\s+/g, '');
    const objects = [...files.keys()].filter((k) => k.startsWith('evidence/'));
    expect(objects.length).toBeGreaterThan(0);
    for (const k of objects) expect(text).toContain(sha(files.get(k)!));
    expect(files.has('papers/custody.pdf')).toBe(true);
  });

  it('exports twice with every earlier file identical, and only what the first export added to the case as new', async () => {
    const c = await signedCase();
    expect((await runCli(['export', '--case', 'C', '--out', 'one', '--signing-key', c.key], { cwd: c.cwd })).code).toBe(0);
    expect((await runCli(['export', '--case', 'C', '--out', 'two', '--signing-key', c.key], { cwd: c.cwd })).code).toBe(0);
    const one = await tree(join(c.cwd, 'one'));
    const two = await tree(join(c.cwd, 'two'));
    const changed = [...one.keys()].filter((k) => !two.get(k)?.equals(one.get(k)!));
    // The papers are issued at the new head, whose custody table now lists the first export.
    expect(changed.sort()).toEqual(['README.txt', 'SHA256SUMS', 'custody-ledger.jsonl', 'papers/certificate.pdf', 'papers/custody.pdf']);
    const added = [...two.keys()].filter((k) => !one.has(k));
    // The first export's checkpoint (and its signature, raw and JSON) and its run journal: nothing else.
    expect(added.length).toBe(5);
    for (const k of added) expect(k).toMatch(/^_amber\/(checkpoints|signatures\/checkpoints|runs)\//);
    const ledgerOne = one.get('custody-ledger.jsonl')!.toString();
    const ledgerTwo = two.get('custody-ledger.jsonl')!.toString();
    expect(ledgerTwo.startsWith(ledgerOne)).toBe(true);
    expect(lastEntry(ledgerTwo).action).toBe('exported');
  });
});

describe('amber export refusals', () => {
  it('refuses a broken case with exit 3 and the failures, and writes no bundle and no ledger entry', async () => {
    const c = await signedCase();
    const object = join(c.cwd, 'evidence/cases/C/src/a.jsonl');
    await chmod(object, 0o644);
    await appendFile(object, 'appended later\n');
    const before = await readFile(c.ledger, 'utf8');
    const result = await runCli(['export', '--case', 'C', '--out', 'handover.zip', '--signing-key', c.key], { cwd: c.cwd });
    expect(result.code).toBe(3);
    expect(result.stdout).toContain('hash-mismatch');
    expect(result.stdout).toContain('cases/C/src/a.jsonl');
    expect(result.stderr).toContain('not exported');
    expect(await readdir(c.cwd)).not.toContain('handover.zip');
    expect(await readFile(c.ledger, 'utf8')).toBe(before);
  });

  it('says it cannot yet export a case whose changed object was accepted, instead of listing unvouched bytes', async () => {
    const c = await signedCase();
    const object = join(c.cwd, 'evidence/cases/C/src/a.jsonl');
    await chmod(object, 0o644);
    await appendFile(object, 'appended later\n');
    expect((await runCli(['verify', '--case', 'C', '--signing-key', c.key], { cwd: c.cwd })).code).toBe(3);
    expect((await runCli(['accept', '--case', 'C', '--reason', 'test: known edit', '--signing-key', c.key], { cwd: c.cwd })).code).toBe(0);
    const result = await runCli(['export', '--case', 'C', '--out', 'handover', '--signing-key', c.key], { cwd: c.cwd });
    expect(result.stderr).toContain('not built yet');
    expect(result.stderr).toContain('cases/C/src/a.jsonl');
    expect(result.code).toBe(1);
    expect(await readdir(c.cwd)).not.toContain('handover');
  });

  it('refuses a signed case without its key (exit 2) before writing anything', async () => {
    const c = await signedCase();
    const before = await readFile(c.ledger, 'utf8');
    const result = await runCli(['export', '--case', 'C', '--out', 'handover'], { cwd: c.cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--signing-key');
    expect(await readdir(c.cwd)).not.toContain('handover');
    expect(await readFile(c.ledger, 'utf8')).toBe(before);
  });

  it.each([
    ['a folder that is not empty', async (cwd: string) => (await mkdir(join(cwd, 'out')), writeFile(join(cwd, 'out', 'x'), 'x')).then(() => 'out'), 'not empty'],
    ['an existing zip', async (cwd: string) => writeFile(join(cwd, 'old.zip'), 'x').then(() => 'old.zip'), 'exists'],
    ['a symbolic link', async (cwd: string) => (await mkdir(join(cwd, 'real')), symlink(join(cwd, 'real'), join(cwd, 'link'))).then(() => 'link'), 'symbolic link'],
    ['a folder inside the locker', async () => 'evidence/cases/C/_amber/out', 'inside the cases/ folder'],
  ])('refuses to write to %s (exit 2)', async (_what, prepare, message) => {
    const c = await signedCase();
    const out = await prepare(c.cwd);
    const result = await runCli(['export', '--case', 'C', '--out', out, '--signing-key', c.key], { cwd: c.cwd });
    expect(result.stderr).toContain(message);
    expect(result.code).toBe(2);
    expect(lastEntry(await readFile(c.ledger, 'utf8')).action).not.toBe('exported');
  });
});

describe('amber export --help', () => {
  it('shows its usage, explains every option it names, and gives an example', async () => {
    const run = await runCli(['help', 'export'], { cwd: '/' });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: amber export --case C --out DIR\|FILE\.zip/);
    expect(run.stdout).toMatch(/\nExample:\n {2}amber export /);
    const [usageLine, ...body] = run.stdout.split('\n');
    for (const flag of new Set(usageLine!.match(/--[a-z-]+/g) ?? [])) expect(body.join('\n'), flag).toContain(flag);
    expect((await runCli(['export', '--help'], { cwd: '/' })).stdout).toBe(run.stdout);
    expect((await runCli(['help'], { cwd: '/' })).stdout).toMatch(/\n {2}export +hand a verified case over/);
  });
});

describe('amber export of an unsigned case', () => {
  it('says so in the README, ships no public key, and still checks with sha256sum and check-ledger.sh', async () => {
    const c = await signedCase({ sign: false });
    expect((await runCli(['export', '--case', 'C', '--out', 'handover'], { cwd: c.cwd })).code).toBe(0);
    const bundle = join(c.cwd, 'handover');
    expect(await readdir(bundle)).not.toContain('public-key.pem');
    expect(await readFile(join(bundle, 'README.txt'), 'utf8')).toContain('This case is not signed');
    const checks = await readmeChecks(bundle);
    expect(checks.map((k) => k.command)).toEqual(['sha256sum -c SHA256SUMS', 'sh check-ledger.sh']);
    for (const k of checks) expect(k.status).toBe(0);
  });
});
