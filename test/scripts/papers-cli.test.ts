/**
 * `amber certificate`, `amber custody` and `amber note` as a user runs them: papers from a collected case,
 * issuing recorded in the ledger with the paper's SHA-256, a broken case never certified, notes in the report.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { makeWritable, tempDir } from '../helpers/tmp.ts';
import { pdfFileText } from '../shared/papers/helpers.ts';

const sha = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');
const oneLine = (s: string): string => s.replace(/\s+/g, ' ');

const FILES: Record<string, string> = {
  'AWSLogs/111122223333/CloudTrail/ap-south-1/2026/03/01/a.json': '{"Records":[{"eventName":"GetObject"}]}\n',
  'notes/b.log': 'line\n',
};

/** A case C collected into ./evidence from ./export. */
async function collected(extra: string[] = []): Promise<{ cwd: string; locker: string; ledger: string }> {
  const cwd = await tempDir();
  for (const [name, body] of Object.entries(FILES)) {
    await mkdir(join(cwd, 'export', name, '..'), { recursive: true });
    await writeFile(join(cwd, 'export', name), body);
  }
  const run = await runCli(['collect', '--case', 'C', '--from', 'export', ...extra], { cwd });
  expect(run.code, run.stderr).toBe(0);
  const locker = join(cwd, 'evidence');
  return { cwd, locker, ledger: join(locker, 'cases/C/custody-ledger.jsonl') };
}

async function entries(ledger: string): Promise<Array<{ seq: number; prev: string; action: string; detail?: Record<string, unknown> }>> {
  return (await readFile(ledger, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l));
}

const pdftotext = (file: string): string => pdfFileText(file);

async function tamper(locker: string): Promise<void> {
  const file = join(locker, 'cases/C/export/notes/b.log');
  await makeWritable(file);
  await writeFile(file, 'LINE\n');
}

describe('CLI: amber certificate', () => {
  it('writes a PDF holding every record\'s SHA-256 and records the issue in the ledger with the file\'s SHA-256', async () => {
    const { cwd, ledger } = await collected();
    const run = await runCli(['certificate', '--case', 'C', '--out', 'cert.pdf'], { cwd });
    expect(run.code, run.stderr).toBe(0);
    const bytes = await readFile(join(cwd, 'cert.pdf'));
    const text = pdftotext(join(cwd, 'cert.pdf'));
    for (const body of Object.values(FILES)) expect(text).toContain(sha(body));
    const last = (await entries(ledger)).at(-1)!;
    expect(last.action).toBe('exported');
    expect(last.detail).toMatchObject({ kind: 'certificate', format: 'pdf', sha256: sha(bytes), bytes: bytes.length });
    expect(run.stdout).toContain(sha(bytes));
    // Issuing leaves a case that still verifies.
    expect((await runCli(['verify', '--case', 'C'], { cwd })).code).toBe(0);
  });

  it('--json prints what was issued; .html gives the same content as HTML', async () => {
    const { cwd } = await collected();
    const run = await runCli(['certificate', '--case', 'C', '--out', 'cert.html', '--json'], { cwd });
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as { format: string; sha256: string; verification: { intact: boolean }; recordedIn: number };
    const html = await readFile(join(cwd, 'cert.html'), 'utf8');
    expect(summary).toMatchObject({ format: 'html', sha256: sha(html), verification: { intact: true } });
    for (const body of Object.values(FILES)) expect(html).toContain(sha(body));
    expect(html).toContain('Section 63');
  });

  it('refuses a case verify finds broken (exit 3), writing no file and nothing to the ledger', async () => {
    const { cwd, locker, ledger } = await collected();
    await tamper(locker);
    const before = await readFile(ledger, 'utf8');
    const run = await runCli(['certificate', '--case', 'C', '--out', 'cert.pdf'], { cwd });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/no certificate is issued: hash-mismatch .*notes\/b\.log/);
    expect(run.stderr).toContain('amber accept');
    await expect(stat(join(cwd, 'cert.pdf'))).rejects.toThrow();
    expect(await readFile(ledger, 'utf8')).toBe(before);
  });

  it('certifies a case whose failures a person accepted, listing them and marking the record', async () => {
    const { cwd, locker } = await collected();
    await tamper(locker);
    expect((await runCli(['verify', '--case', 'C'], { cwd })).code).toBe(3);
    expect((await runCli(['accept', '--case', 'C', '--reason', 'restored copy confirmed by the provider'], { cwd })).code).toBe(0);
    const run = await runCli(['certificate', '--case', 'C', '--out', 'cert.pdf'], { cwd });
    expect(run.code, run.stderr).toBe(0);
    const text = oneLine(pdftotext(join(cwd, 'cert.pdf')));
    expect(text).toContain('restored copy confirmed by the provider');
    expect(text).toContain('DOES NOT MATCH');
    expect(text).toContain(sha('LINE\n'));
  });

  it('refuses an --out that is not .pdf or .html, or that lies inside the locker\'s cases (exit 2)', async () => {
    const { cwd } = await collected();
    const txt = await runCli(['certificate', '--case', 'C', '--out', 'cert.txt'], { cwd });
    expect(txt.code).toBe(2);
    expect(txt.stderr).toMatch(/must end in \.pdf or \.html/);
    const inside = await runCli(['certificate', '--case', 'C', '--out', 'evidence/cases/C/cert.pdf'], { cwd });
    expect(inside.code).toBe(2);
    expect(inside.stderr).toMatch(/inside the cases\/ folder/);
  });
});

describe('CLI: amber note and amber custody', () => {
  it('records legal requests and transfers as noted entries, and the custody report lists them with every entry', async () => {
    const { cwd, ledger } = await collected();
    const legal = await runCli(['note', '--case', 'C', '--kind', 'legal-request', '--provider', 'Example Cloud', '--portal', 'https://lers.example', '--reference', 'LR-2026-17', '--date', '2026-03-02', '--data-location', 'ap-south-1', '--jurisdiction', 'IN', '--status', 'submitted'], { cwd });
    expect(legal.code, legal.stderr).toBe(0);
    const transfer = await runCli(['note', '--case', 'C', '--kind', 'transfer', '--from', 'A. Analyst', '--to', 'B. Examiner', '--reason', 'forensic examination', '--json'], { cwd });
    expect(transfer.code, transfer.stderr).toBe(0);
    expect(JSON.parse(transfer.stdout).detail).toEqual({ kind: 'transfer', from: 'A. Analyst', to: 'B. Examiner', reason: 'forensic examination' });
    const noted = (await entries(ledger)).filter((e) => e.action === 'noted');
    expect(noted.map((e) => e.detail?.kind)).toEqual(['legal-request', 'transfer']);
    expect((await runCli(['verify', '--case', 'C'], { cwd })).code).toBe(0);

    const run = await runCli(['custody', '--case', 'C', '--out', 'custody.pdf'], { cwd });
    expect(run.code, run.stderr).toBe(0);
    const text = oneLine(pdftotext(join(cwd, 'custody.pdf')));
    for (const s of ['Provider: Example Cloud', 'Reference: LR-2026-17', 'Jurisdiction: IN', 'From: A. Analyst; To: B. Examiner; Reason: forensic examination']) expect(text).toContain(s);
    const all = await entries(ledger);
    // Every entry before the report's own `exported` entry, with its chain hash.
    for (const e of all.slice(0, -1)) expect(text).toContain(`prev SHA-256 ${e.prev}`);
    const last = all.at(-1)!;
    expect(last.detail).toMatchObject({ kind: 'custody', sha256: sha(await readFile(join(cwd, 'custody.pdf'))) });
  });

  it('refuses unknown kinds with the nearest one, and bad dates, writing nothing (exit 2)', async () => {
    const { cwd, ledger } = await collected();
    const before = await readFile(ledger, 'utf8');
    const kind = await runCli(['note', '--case', 'C', '--kind', 'transfr', '--from', 'A', '--to', 'B', '--reason', 'r'], { cwd });
    expect(kind.code).toBe(2);
    expect(kind.stderr).toContain('did you mean --kind transfer?');
    const date = await runCli(['note', '--case', 'C', '--kind', 'legal-request', '--provider', 'P', '--reference', 'R', '--date', '02/03/2026'], { cwd });
    expect(date.code).toBe(2);
    expect(date.stderr).toMatch(/not an ISO-8601 date/);
    expect(await readFile(ledger, 'utf8')).toBe(before);
  });

  it('shows a broken case\'s failures in the custody report and exits 3', async () => {
    const { cwd, locker } = await collected();
    await tamper(locker);
    expect((await runCli(['verify', '--case', 'C'], { cwd })).code).toBe(3);
    const run = await runCli(['custody', '--case', 'C', '--out', 'custody.html'], { cwd });
    expect(run.code).toBe(3);
    const html = await readFile(join(cwd, 'custody.html'), 'utf8');
    expect(html).toContain('BROKEN');
    expect(html).toContain('hash-mismatch');
    expect(html).toMatch(/_amber\/verifications\/[^<]+\.json/);
  });

  it('escapes a hostile actor in the HTML report and shows it as visible text in the PDF', async () => {
    const { cwd } = await collected();
    const env = { AMBER_ACTOR: 'eve\u202E<script>alert(1)</script>😀' };
    expect((await runCli(['note', '--case', 'C', '--kind', 'remark', '--text', '<b>bold</b> claim'], { cwd, env })).code).toBe(0);
    expect((await runCli(['custody', '--case', 'C', '--out', 'c.html'], { cwd, env })).code).toBe(0);
    const html = await readFile(join(cwd, 'c.html'), 'utf8');
    expect(html).not.toMatch(/<script|<b>/);
    expect(html).toContain('eve[U+202E]&#60;script&#62;alert(1)&#60;/script&#62;😀');
    expect((await runCli(['custody', '--case', 'C', '--out', 'c.pdf'], { cwd, env })).code).toBe(0);
    expect(pdftotext(join(cwd, 'c.pdf'))).toContain('eve[U+202E]<script>alert(1)</script>[U+1F600]');
  });
});

describe('CLI: the papers of a signed case', () => {
  it('need the case\'s key to be issued or noted, and leave a case that verifies with its public key', async () => {
    const cwd0 = await tempDir();
    const key = join(cwd0, 'case.key');
    const pub = join(cwd0, 'case.pub');
    expect((await runCli(['keys', 'init', '--out', key, '--public-out', pub], { cwd: cwd0 })).code).toBe(0);
    const { cwd } = await collected(['--signing-key', key]);
    const unsigned = await runCli(['note', '--case', 'C', '--kind', 'remark', '--text', 'x'], { cwd });
    expect(unsigned.code).toBe(2);
    expect((await runCli(['certificate', '--case', 'C', '--out', 'c.pdf'], { cwd })).code).toBe(2);
    expect((await runCli(['note', '--case', 'C', '--kind', 'remark', '--text', 'x', '--signing-key', key], { cwd })).code).toBe(0);
    const cert = await runCli(['certificate', '--case', 'C', '--out', 'c.pdf', '--signing-key', key], { cwd });
    expect(cert.code, cert.stderr).toBe(0);
    expect(oneLine(pdftotext(join(cwd, 'c.pdf')))).toMatch(/\d+ of \d+ signatures \(Ed25519\) valid/);
    expect((await runCli(['verify', '--case', 'C', '--public-key', pub], { cwd })).code).toBe(0);
  });
});

describe('CLI: help of the papers\' commands', () => {
  it.each(['certificate', 'custody', 'note'])('`amber help %s` shows its usage, explains every option and gives an example', async (name) => {
    const run = await runCli(['help', name], { cwd: '/' });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^Usage: amber ${name} --case C`));
    expect(run.stdout).toMatch(/\nExample:\n {2}amber /);
    const [usageLine, ...body] = run.stdout.split('\n');
    for (const flag of new Set(usageLine!.match(/--[a-z-]+/g) ?? [])) expect(body.join('\n'), `${name} ${flag}`).toContain(flag);
    expect((await runCli(['help'], { cwd: '/' })).stdout).toContain(`  ${name} `);
  });
});
