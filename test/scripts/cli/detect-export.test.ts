/**
 * Every finding leaves `amber detect`: `--json` (streamed) and the `--out` JSON Lines export hold them all, in
 * the same order, byte-identical across runs; the ledger's findings hash can be recomputed from the export alone.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { prettyJsonChunks } from '../../../scripts/cli/detect.ts';
import { writeSyntheticCloudTrail } from '../../helpers/cloudtrail-synth.ts';
import { runCli } from '../../helpers/cli.ts';
import { tempDir } from '../../helpers/tmp.ts';

let cwd: string;
let locker: string;

beforeAll(async () => {
  cwd = await tempDir();
  locker = join(cwd, 'locker');
  await writeSyntheticCloudTrail({ dir: join(cwd, 'src'), events: 4000, files: 4 });
  const run = await runCli(['collect', '--case', 'c', '--from', join(cwd, 'src', 'AWSLogs'), '--locker', locker], { cwd });
  expect(run.code, run.stderr).toBe(0);
}, 120_000);

/** Sorted keys, no whitespace: written here again, independently of the product's canonicalJson. */
function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${sortedJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

interface LedgerLine {
  readonly action: string;
  readonly detail?: Record<string, unknown>;
}

async function ledger(): Promise<LedgerLine[]> {
  return (await readFile(join(locker, 'cases', 'c', 'custody-ledger.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as LedgerLine);
}

describe('Command: amber detect --out FILE.jsonl', () => {
  it('exports every finding, identical across runs and equal to --json, with a ledger hash that the export alone reproduces', async () => {
    const a = await runCli(['detect', '--case', 'c', '--locker', locker, '--json', '--out', 'a.jsonl'], { cwd });
    const b = await runCli(['detect', '--case', 'c', '--locker', locker, '--json', '--out', 'b.jsonl'], { cwd });
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const bytesA = await readFile(join(cwd, 'a.jsonl'), 'utf8');
    expect(await readFile(join(cwd, 'b.jsonl'), 'utf8')).toBe(bytesA);

    const json = JSON.parse(a.stdout) as { findings: unknown[]; export: { sha256: string; bytes: number } };
    const lines = bytesA.trimEnd().split('\n');
    // Enough findings that a report would have to cut them; the export keeps each one.
    expect(json.findings.length).toBeGreaterThan(100);
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual(json.findings);
    expect(JSON.stringify((JSON.parse(b.stdout) as { findings: unknown[] }).findings)).toBe(JSON.stringify(json.findings));

    const entries = await ledger();
    const accessed = entries.filter((e) => e.action === 'accessed' && e.detail?.purpose === 'detect').at(-1)!;
    const exported = entries.filter((e) => e.action === 'exported' && e.detail?.what === 'findings').at(-1)!;
    const recomputed = createHash('sha256').update(`[${lines.map((l) => sortedJson(JSON.parse(l))).join(',')}]`).digest('hex');
    expect(accessed.detail!.findingsSha256).toBe(recomputed);
    expect(accessed.detail!.findings).toBe(lines.length);
    expect(exported.detail).toMatchObject({ format: 'jsonl', findings: lines.length, sha256: createHash('sha256').update(bytesA).digest('hex') });
    expect(json.export.sha256).toBe(exported.detail!.sha256);
  }, 120_000);

  it('says in text mode where it wrote the findings, and refuses an --out inside the locker before recording a run', async () => {
    const ok = await runCli(['detect', '--case', 'c', '--locker', locker, '--out', 'c.jsonl'], { cwd });
    expect(ok.stdout).toMatch(/Wrote \d+ findings \(JSON Lines\) to .*c\.jsonl, sha256 [0-9a-f]{64}/);
    const before = (await ledger()).length;
    const refused = await runCli(['detect', '--case', 'c', '--locker', locker, '--out', join(locker, 'cases', 'c', 'f.jsonl')], { cwd });
    expect(refused.code).toBe(2);
    expect((await ledger()).length).toBe(before);
  }, 120_000);
});

describe('Function: prettyJsonChunks', () => {
  it('gives the bytes of JSON.stringify(value, null, 2), arrays streamed element by element', () => {
    const value = { case: 'c', events: 3, findings: [{ a: 1, b: [1, 2], c: { d: null } }, { a: 'x\ny' }], empty: [], nested: { list: [1, { x: 2 }] }, gone: undefined, n: null };
    const chunks = [...prettyJsonChunks(value)];
    expect(chunks.join('')).toBe(JSON.stringify(value, null, 2));
    expect(chunks.length).toBeGreaterThan(6);
    expect([...prettyJsonChunks({})].join('')).toBe('{}');
  });
});
