/**
 * Trusted timestamps and anchors, through the CLI against a real RFC 3161 timestamp authority (openssl ts on
 * 127.0.0.1): every signed seal and checkpoint gets a token openssl itself verifies; verify fails with exit 3
 * on a changed, swapped or removed token; a TSA that refuses or answers another nonce fails the run clearly
 * without sealing unstamped; an anchor kept outside the locker catches a rollback and a consistent rewrite
 * that verify alone calls intact.
 */
import { execFile } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../shared/evidence/canonical-json.ts';
import { runCli } from '../helpers/cli.ts';
import { makeWritable, tempDir } from '../helpers/tmp.ts';
import { startTsa, type TestTsa } from '../helpers/tsa-server.ts';

const run = promisify(execFile);
const sha = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

let tsa: TestTsa;
let otherCa: string;
beforeAll(async () => {
  const dir = await tempDir('amber-tsa-');
  tsa = await startTsa(join(dir, 'tsa'));
  // Another CA, to show a trust anchor that is not the TSA's root fails the chain check.
  otherCa = (await (await import('../helpers/tsa-server.ts')).makeTsaPki(join(dir, 'other'), 'Other')).caFile;
});
afterAll(async () => {
  await tsa.close();
});

interface Case {
  readonly cwd: string;
  readonly caseDir: string;
  readonly key: string;
  readonly signing: string[];
}

/** A key from `amber keys init`, and a case collected from two files with it and (unless told) with the TSA. */
async function stampedCase(options: { tsa?: boolean; sign?: boolean } = {}): Promise<Case> {
  const cwd = await tempDir();
  await mkdir(join(cwd, 'export'), { recursive: true });
  await writeFile(join(cwd, 'export', 'a.jsonl'), '{"eventName":"GetObject"}\n');
  await writeFile(join(cwd, 'export', 'b.log'), 'line\n');
  const key = join(cwd, 'keys', 'case.key');
  await mkdir(join(cwd, 'keys'));
  expect((await runCli(['keys', 'init', '--out', key], { cwd })).code).toBe(0);
  const signing = options.sign === false ? [] : ['--signing-key', key, ...(options.tsa === false ? [] : ['--tsa-url', tsa.url])];
  const collected = await runCli(['collect', '--case', 'C', '--from', 'export', ...signing], { cwd });
  expect(collected.stderr).toBe('');
  expect(collected.code).toBe(0);
  return { cwd, caseDir: join(cwd, 'evidence', 'cases', 'C'), key, signing };
}

async function verifyJson(cwd: string, extra: string[] = []) {
  const result = await runCli(['verify', '--case', 'C', '--json', ...extra], { cwd });
  const report = JSON.parse(result.stdout) as {
    intact: boolean;
    failures: Array<{ kind: string; key?: string; reason: string }>;
    timestamps?: { requiredSince?: number; trustAnchor: boolean; tokens: Array<{ signed: string; ok: boolean; genTime?: string; chainChecked: boolean }> };
    anchors?: Array<{ source: string; ok: boolean; kind?: string; signedBy?: string; genTime?: string }>;
  };
  return { code: result.code, report };
}

async function ls(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).sort();
}

async function ledgerEntries(caseDir: string): Promise<Array<{ seq: number; action: string; detail?: Record<string, unknown> }>> {
  return (await readFile(join(caseDir, 'custody-ledger.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { seq: number; action: string });
}

describe('RFC 3161 timestamps on seals', () => {
  it('stamps every signed seal and checkpoint with a token openssl verifies, and verify shows each genTime', async () => {
    const c = await stampedCase();
    const entries = await ledgerEntries(c.caseDir);
    expect(entries.map((e) => e.action).slice(0, 2)).toEqual(['keyed', 'timestamped']);
    expect(entries[1]!.detail?.tsa).toBe(tsa.url);
    const checkpoints = await ls(join(c.caseDir, '_amber', 'checkpoints'));
    const manifests = await ls(join(c.caseDir, '_amber', 'manifests'));
    expect(await ls(join(c.caseDir, '_amber', 'timestamps', 'checkpoints'))).toEqual(checkpoints.map((f) => f.replace('.json', '.tst')));
    expect(await ls(join(c.caseDir, '_amber', 'timestamps', 'manifests'))).toEqual(manifests.map((f) => f.replace('.json', '.tst')));
    // A third party needs openssl alone: the token over the checkpoint's exact bytes, chained to the TSA's root.
    const cp = checkpoints[0]!;
    const token = join(c.caseDir, '_amber', 'timestamps', 'checkpoints', cp.replace('.json', '.tst'));
    const checked = await run('openssl', ['ts', '-verify', '-in', token, '-token_in', '-data', join(c.caseDir, '_amber', 'checkpoints', cp), '-CAfile', tsa.caFile]);
    expect(checked.stdout).toContain('Verification: OK');
    const text = await run('openssl', ['ts', '-reply', '-in', token, '-token_in', '-text']);
    const digest = sha(await readFile(join(c.caseDir, '_amber', 'checkpoints', cp)));
    expect(text.stdout).toContain(`0000 - ${digest.slice(0, 16).match(/../g)!.join(' ')}-${digest.slice(16, 32).match(/../g)!.join(' ')}`);

    const plain = await runCli(['verify', '--case', 'C', ...c.signing], { cwd: c.cwd });
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/RFC 3161 timestamp tokens valid, required since entry 2/);
    expect(plain.stdout).toContain('NOT checked against a trusted root');
    const { code, report } = await verifyJson(c.cwd, ['--tsa-ca', tsa.caFile]);
    expect(code).toBe(0);
    expect(report.timestamps?.trustAnchor).toBe(true);
    expect(report.timestamps?.tokens.length).toBeGreaterThanOrEqual(checkpoints.length + manifests.length);
    for (const t of report.timestamps!.tokens) {
      expect(t.ok).toBe(true);
      expect(t.chainChecked).toBe(true);
      expect(Math.abs(Date.parse(t.genTime!) - Date.now())).toBeLessThan(120_000);
    }
  });

  it('fails with exit 3 naming the checkpoint when a byte of its token changes', async () => {
    const c = await stampedCase();
    const dir = join(c.caseDir, '_amber', 'timestamps', 'checkpoints');
    const name = (await ls(dir))[0]!;
    await makeWritable(dir);
    const bytes = await readFile(join(dir, name));
    bytes[bytes.length - 20] = bytes[bytes.length - 20]! ^ 0x01;
    await writeFile(join(dir, name), bytes);
    const { code, report } = await verifyJson(c.cwd);
    expect(code).toBe(3);
    const failure = report.failures.find((f) => f.kind === 'timestamp-invalid');
    expect(failure?.key).toBe(`cases/C/_amber/checkpoints/${name.replace('.tst', '.json')}`);
    const text = await runCli(['verify', '--case', 'C'], { cwd: c.cwd });
    expect(text.code).toBe(3);
    expect(text.stdout).toContain(`timestamp-invalid  cases/C/_amber/checkpoints/${name.replace('.tst', '.json')}: token cases/C/_amber/timestamps/checkpoints/${name} does not hold`);
  });

  it('fails with exit 3 when a token is swapped for another file\'s', async () => {
    const c = await stampedCase();
    const dir = join(c.caseDir, '_amber', 'timestamps');
    const checkpoint = (await ls(join(dir, 'checkpoints')))[0]!;
    const manifest = (await ls(join(dir, 'manifests')))[0]!;
    await makeWritable(dir);
    await copyFile(join(dir, 'manifests', manifest), join(dir, 'checkpoints', checkpoint));
    const { code, report } = await verifyJson(c.cwd);
    expect(code).toBe(3);
    expect(report.failures.find((f) => f.kind === 'timestamp-invalid')?.reason).toMatch(/a token for other bytes/);
  });

  it('fails with exit 3 when a token is removed from a timestamped case', async () => {
    const c = await stampedCase();
    const dir = join(c.caseDir, '_amber', 'timestamps', 'manifests');
    const manifest = (await ls(dir))[0]!;
    await makeWritable(dir);
    await rm(join(dir, manifest));
    const { code, report } = await verifyJson(c.cwd);
    expect(code).toBe(3);
    expect(report.failures).toContainEqual(expect.objectContaining({ kind: 'timestamp-missing', key: `cases/C/_amber/manifests/${manifest.replace('.tst', '.json')}` }));
  });

  it('fails with exit 3 when the TSA certificate does not chain to the trust anchor given', async () => {
    const c = await stampedCase();
    const { code, report } = await verifyJson(c.cwd, ['--tsa-ca', otherCa]);
    expect(code).toBe(3);
    expect(report.failures[0]?.kind).toBe('timestamp-untrusted');
  });

  it('refuses to write to a timestamped case without a timestamp authority (exit 2), writing nothing', async () => {
    const c = await stampedCase();
    const before = await readFile(join(c.caseDir, 'custody-ledger.jsonl'), 'utf8');
    const refused = await runCli(['collect', '--case', 'C', '--from', 'export', '--signing-key', c.key], { cwd: c.cwd });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/timestamped .*--tsa-url/s);
    expect(await readFile(join(c.caseDir, 'custody-ledger.jsonl'), 'utf8')).toBe(before);
  });

  it.each([
    ['reject', /refused the request: status 2 \(rejection\): test TSA refuses/],
    ['wrong-nonce', /not the nonce sent/],
  ] as const)('a TSA answering %s fails the collect clearly, seals nothing unstamped, and the next run finishes', async (mode, message) => {
    const c = await stampedCase();
    await writeFile(join(c.cwd, 'export', 'c.log'), 'more\n');
    tsa.setMode(mode);
    let failed;
    try {
      failed = await runCli(['collect', '--case', 'C', '--from', 'export', ...c.signing], { cwd: c.cwd });
    } finally {
      tsa.setMode('ok');
    }
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(message);
    expect(failed.stderr).toMatch(/stays preserved and recorded/);
    // Nothing sealed or anchored without its token.
    const { report } = await verifyJson(c.cwd);
    expect(report.failures.filter((f) => f.kind.startsWith('timestamp'))).toEqual([]);
    const again = await runCli(['collect', '--case', 'C', '--from', 'export', ...c.signing], { cwd: c.cwd });
    expect(again.code).toBe(0);
    const after = await verifyJson(c.cwd, ['--tsa-ca', tsa.caFile]);
    expect(after.code).toBe(0);
  });

  it('refuses --tsa-url without a signing key (exit 2)', async () => {
    const cwd = await tempDir();
    const r = await runCli(['collect', '--case', 'C', '--from', 'x', '--tsa-url', tsa.url], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--signing-key/);
  });
});

/** Cuts the ledger back to its first `keep` entries and deletes what later runs wrote: a consistent rollback. */
async function rollBack(caseDir: string, keep: number): Promise<void> {
  await makeWritable(caseDir);
  const lines = (await readFile(join(caseDir, 'custody-ledger.jsonl'), 'utf8')).split('\n').slice(0, keep);
  await writeFile(join(caseDir, 'custody-ledger.jsonl'), `${lines.join('\n')}\n`);
  for (const sub of ['checkpoints', 'signatures/checkpoints', 'timestamps/checkpoints', 'manifests', 'signatures/manifests', 'timestamps/manifests']) {
    for (const name of await ls(join(caseDir, '_amber', sub))) {
      if (Number(/^(\d+)/.exec(name)?.[1]) > keep) await rm(join(caseDir, '_amber', sub, name));
    }
  }
}

/** Rewrites entry `seq`'s actor and re-chains every later entry and checkpoint: what someone with the key (or on an unsigned case) can do. */
async function rewriteActor(caseDir: string, seq: number, actor: string): Promise<void> {
  await makeWritable(caseDir);
  const lines = (await readFile(join(caseDir, 'custody-ledger.jsonl'), 'utf8')).trim().split('\n');
  let prev = '0'.repeat(64);
  const hashes = new Map<number, string>();
  const out = lines.map((line) => {
    const e = JSON.parse(line) as { seq: number; prev: string; actor: string };
    const next = { ...e, prev, ...(e.seq === seq ? { actor } : {}) };
    const text = JSON.stringify(next);
    prev = sha(text);
    hashes.set(e.seq, prev);
    return text;
  });
  expect(JSON.parse(lines[0]!).prev).toBe('0'.repeat(64));
  await writeFile(join(caseDir, 'custody-ledger.jsonl'), `${out.join('\n')}\n`);
  const dir = join(caseDir, '_amber', 'checkpoints');
  let previous: { seq: number; sha256: string } | null = null;
  for (const name of await ls(dir)) {
    const c = JSON.parse(await readFile(join(dir, name), 'utf8')) as { case: string; seq: number };
    const body: string = `${JSON.stringify({ case: c.case, seq: c.seq, sha256: hashes.get(c.seq), prev: previous })}\n`;
    await writeFile(join(dir, name), body);
    previous = { seq: c.seq, sha256: sha(body) };
  }
}

describe('amber anchor', () => {
  it('anchors a signed, timestamped head to a file, and verify --anchor passes and shows it', async () => {
    const c = await stampedCase();
    const file = join(c.cwd, 'kept', 'C.anchors.jsonl');
    await mkdir(join(c.cwd, 'kept'));
    const anchored = await runCli(['anchor', '--case', 'C', '--to', file, ...c.signing, '--json'], { cwd: c.cwd });
    expect(anchored.stderr).toBe('');
    expect(anchored.code).toBe(0);
    const result = JSON.parse(anchored.stdout) as { record: { anchor: { seq: number; sha256: string }; signature?: string; timestamp?: string }; recordedIn: number };
    const entries = await ledgerEntries(c.caseDir);
    const last = entries.find((e) => e.seq === result.recordedIn)!;
    expect(last.action).toBe('anchored');
    expect(last.detail).toMatchObject({ seq: result.record.anchor.seq, destination: file, timestamped: true });
    expect(result.record.signature).toBeDefined();
    expect(result.record.timestamp).toBeDefined();
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(1);
    // A second anchor appends; the first line stays as it was.
    expect((await runCli(['anchor', '--case', 'C', '--to', file, ...c.signing], { cwd: c.cwd })).code).toBe(0);
    const two = (await readFile(file, 'utf8')).trim().split('\n');
    expect(two[0]).toBe(lines[0]);
    expect(two).toHaveLength(2);
    const text = await runCli(['verify', '--case', 'C', '--anchor', file, ...c.signing], { cwd: c.cwd });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`anchor .*C\\.anchors\\.jsonl:1: entry ${result.record.anchor.seq} of .* matches the ledger; signed by [0-9a-f]{64}; genTime 20`));
  });

  it('catches a rollback verify alone calls intact: exit 3, anchor-behind', async () => {
    const c = await stampedCase();
    const keep = (await ledgerEntries(c.caseDir)).length;
    const file = join(c.cwd, 'C.anchors.jsonl');
    // More evidence, then the anchor of the newer head.
    await writeFile(join(c.cwd, 'export', 'later.log'), 'later\n');
    expect((await runCli(['collect', '--case', 'C', '--from', 'export', ...c.signing], { cwd: c.cwd })).code).toBe(0);
    expect((await runCli(['anchor', '--case', 'C', '--to', file, ...c.signing], { cwd: c.cwd })).code).toBe(0);
    await rollBack(c.caseDir, keep);
    await rm(join(c.caseDir, 'export', 'later.log'));
    const alone = await verifyJson(c.cwd);
    expect(alone.report.failures).toEqual([]);
    expect(alone.code).toBe(0);
    const anchored = await verifyJson(c.cwd, ['--anchor', file]);
    expect(anchored.code).toBe(3);
    expect(anchored.report.failures).toContainEqual(expect.objectContaining({ kind: 'anchor-behind', key: `${file}:1` }));
  });

  it('catches a consistent rewrite of an unsigned case: exit 3, anchor-beside; the anchor says it is unsigned', async () => {
    const c = await stampedCase({ sign: false });
    const file = join(c.cwd, 'C.anchors.jsonl');
    const anchored = await runCli(['anchor', '--case', 'C', '--to', file], { cwd: c.cwd });
    expect(anchored.code).toBe(0);
    expect(anchored.stdout).toContain('UNSIGNED');
    await rewriteActor(c.caseDir, 1, 'someone-else@forged');
    const alone = await verifyJson(c.cwd);
    expect(alone.report.failures).toEqual([]);
    const { code, report } = await verifyJson(c.cwd, ['--anchor', file]);
    expect(code).toBe(3);
    expect(report.failures).toContainEqual(expect.objectContaining({ kind: 'anchor-beside' }));
  });

  it('catches a rewrite re-signed with the case\'s own key, which verify alone calls intact: exit 3, anchor-beside', async () => {
    const c = await stampedCase({ tsa: false });
    const file = join(c.cwd, 'C.anchors.jsonl');
    expect((await runCli(['anchor', '--case', 'C', '--to', file, ...c.signing], { cwd: c.cwd })).code).toBe(0);
    await rewriteActor(c.caseDir, 1, 'someone-else@forged');
    // Whoever holds the key re-signs every rewritten checkpoint, exactly as Amber signs them.
    const privateKey = createPrivateKey(await readFile(c.key, 'utf8'));
    const fingerprint = sha(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }));
    for (const name of await ls(join(c.caseDir, '_amber', 'checkpoints'))) {
      const signed = `cases/C/_amber/checkpoints/${name}`;
      const body = await readFile(join(c.caseDir, '_amber', 'checkpoints', name));
      const record = { algorithm: 'ed25519', keyFingerprint: fingerprint, signed, signedSha256: sha(body), signature: sign(null, body, privateKey).toString('base64') };
      await writeFile(join(c.caseDir, '_amber', 'signatures', 'checkpoints', name.replace('.json', '.sig.json')), `${canonicalJson(record)}\n`);
    }
    const alone = await verifyJson(c.cwd);
    expect(alone.report.failures).toEqual([]);
    const { code, report } = await verifyJson(c.cwd, ['--anchor', file]);
    expect(code).toBe(3);
    expect(report.failures).toEqual([expect.objectContaining({ kind: 'anchor-beside', key: `${file}:1` })]);
  });

  it('fails with exit 3 when an anchor was altered, and refuses an anchor inside the locker (exit 2)', async () => {
    const c = await stampedCase({ tsa: false });
    const file = join(c.cwd, 'C.anchors.jsonl');
    expect((await runCli(['anchor', '--case', 'C', '--to', file, ...c.signing], { cwd: c.cwd })).code).toBe(0);
    const line = (await readFile(file, 'utf8')).replace(/"seq":(\d+)/, (_m, n: string) => `"seq":${Number(n) - 1}`);
    const forged = join(c.cwd, 'forged.jsonl');
    await writeFile(forged, line);
    const { code, report } = await verifyJson(c.cwd, ['--anchor', forged]);
    expect(code).toBe(3);
    expect(report.failures[0]).toMatchObject({ kind: 'anchor-invalid', key: `${forged}:1` });
    expect(report.failures[0]!.reason).toMatch(/does not verify with the key the case records/);
    const inside = await runCli(['anchor', '--case', 'C', '--to', join(c.cwd, 'evidence', 'anchors.jsonl'), ...c.signing], { cwd: c.cwd });
    expect(inside.code).toBe(2);
    expect(inside.stderr).toMatch(/inside the evidence locker/);
    const nowhere = await runCli(['anchor', '--case', 'C', '--to', join(c.cwd, 'missing', 'a.jsonl'), ...c.signing], { cwd: c.cwd });
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toMatch(/does not exist[\s\S]*fix: create it first/);
  });

  it('refuses to anchor a signed case without its key (exit 2), writing no anchor and no ledger entry', async () => {
    const c = await stampedCase({ tsa: false });
    const before = await readFile(join(c.caseDir, 'custody-ledger.jsonl'), 'utf8');
    const file = join(c.cwd, 'C.anchors.jsonl');
    const refused = await runCli(['anchor', '--case', 'C', '--to', file], { cwd: c.cwd });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/no signing key was given/);
    await expect(readFile(file)).rejects.toThrow(/ENOENT/);
    expect(await readFile(join(c.caseDir, 'custody-ledger.jsonl'), 'utf8')).toBe(before);
  });

  it('refuses to anchor a case verify finds broken (exit 3), writing no anchor', async () => {
    const c = await stampedCase({ tsa: false });
    const object = join(c.caseDir, 'export', 'b.log');
    await makeWritable(c.caseDir);
    await writeFile(object, 'changed\n');
    const file = join(c.cwd, 'C.anchors.jsonl');
    const refused = await runCli(['anchor', '--case', 'C', '--to', file, ...c.signing], { cwd: c.cwd });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/hash-mismatch .*not anchored/);
    await expect(readFile(file)).rejects.toThrow(/ENOENT/);
  });
});

describe('Timestamps in an export bundle', () => {
  it('lists one openssl ts -verify per token in README.txt, each passes with the TSA root, and fails once its file changes', async () => {
    const c = await stampedCase();
    expect((await runCli(['export', '--case', 'C', '--out', 'bundle', ...c.signing], { cwd: c.cwd })).code).toBe(0);
    const bundle = join(c.cwd, 'bundle');
    const readme = await readFile(join(bundle, 'README.txt'), 'utf8');
    const commands = readme.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('openssl ts -verify'));
    const tokens = (await ls(join(bundle, '_amber', 'timestamps', 'checkpoints'))).length + (await ls(join(bundle, '_amber', 'timestamps', 'manifests'))).length;
    expect(tokens).toBeGreaterThan(0);
    expect(commands.length).toBe(tokens);
    await copyFile(tsa.caFile, join(bundle, 'tsa-ca.pem'));
    for (const command of commands) {
      const { stdout } = await run('sh', ['-c', command], { cwd: bundle });
      expect(stdout).toContain('Verification: OK');
    }
    // One changed byte in a dated manifest: its token no longer matches.
    const target = /-data (\S+)/.exec(commands.find((x) => x.includes('_amber/manifests/'))!)![1]!;
    await makeWritable(join(bundle, target));
    const bytes = await readFile(join(bundle, target));
    bytes[bytes.length - 2] = bytes[bytes.length - 2]! ^ 1;
    await writeFile(join(bundle, target), bytes);
    await expect(run('sh', ['-c', commands.find((x) => x.includes(target))!], { cwd: bundle })).rejects.toThrow();
  });
});
