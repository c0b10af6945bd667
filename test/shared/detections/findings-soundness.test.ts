/**
 * The soundness rules on public data written by others, read in place from ../shared/data (never copied); each
 * corpus is skipped, with the reason in the test name, when absent.
 *
 * (1) Determinism: the same case gives byte-identical findings on every run and any DuckDB thread count.
 * (2) Faithful citations: every finding of every detection and analytic cites a record that produced it: the
 *     cited record (looked up in the case's timeline by evidence key and record index) has the finding's first
 *     event time, action and actor.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { detectInSession, openCaseSession, type SessionRun } from '../../../scripts/cli/case-session.ts';
import type { Io } from '../../../scripts/cli/io.ts';
import type { Finding } from '../../../shared/detections/run.ts';
import { runCli } from '../../helpers/cli.ts';
import { tempDir } from '../../helpers/tmp.ts';

const DATA = resolve(fileURLToPath(new URL('../../../', import.meta.url)), '../shared/data');
const CORPORA = ['invictus-aws-dataset', 'otrf-security-datasets', 'elastic-integrations-tests', 'aws-cloudtrail-userguide-examples', 'aws-iot-core-log-examples'];

const io: Io = { out: () => {}, err: () => {}, interactive: false, env: { AMBER_ACTOR: 'analyst@test' }, cwd: '/' };

/** Collects a corpus, read in place, into a fresh locker; returns the locker's folder. */
async function collected(corpus: string): Promise<string> {
  const cwd = await tempDir();
  const run = await runCli(['collect', '--case', 'c', '--from', join(DATA, corpus), '--locker', join(cwd, 'locker')], { cwd });
  expect(run.code, run.stderr).toBe(0);
  return join(cwd, 'locker');
}

/** The synthetic multi-cloud incident `amber demo` preserves (our own data, every source): its locker. */
async function demoLocker(): Promise<string> {
  const cwd = await tempDir();
  const run = await runCli(['demo', '--json', '--out', join(cwd, 'report.html')], { cwd });
  expect(run.code, run.stderr).toBe(0);
  return join(cwd, 'evidence');
}

/** One detect run on a fresh engine with `threads` workers: the output bytes, and the cited records. */
async function detect(locker: string, threads: number, caseName = 'c'): Promise<{ bytes: string; run: SessionRun; cited: Map<string, Cited> }> {
  const session = await openCaseSession(caseName, locker, io, { threads });
  try {
    const run = await detectInSession(session);
    const cited = new Map<string, Cited>();
    const keys = [...new Set([...run.findings, ...run.suppressed.map((s) => s.finding)].map((f) => f.evidence_key))];
    if (keys.length > 0 && session.tables.sources) {
      const rows = await session.engine.query<Cited>(
        `SELECT time, actor, identity, action, evidence_key, evidence_record FROM main.timeline WHERE evidence_key IN (${keys.map(() => '?').join(', ')})`,
        keys,
      );
      for (const r of rows) cited.set(`${r.evidence_key}|${Number(r.evidence_record)}`, r);
    }
    return { bytes: JSON.stringify({ findings: run.findings, suppressed: run.suppressed, errors: run.errors }), run, cited };
  } finally {
    await session.close();
  }
}

interface Cited {
  readonly time: string | null;
  readonly actor: string | null;
  readonly identity: string | null;
  readonly action: string | null;
  readonly evidence_key: string;
  readonly evidence_record: number;
}

/** Why a finding's cited record does not back it, or undefined when it does. */
export function citationMismatch(f: Finding, r: Cited | undefined): string | undefined {
  if (!r) return 'cited record not in the case';
  if (f.first_time !== r.time) return `first_time ${f.first_time} but the cited record is at ${r.time}`;
  if (f.action !== null && r.action !== null && f.action !== r.action) return `action ${f.action} but the cited record's is ${r.action}`;
  // Detections name an actor by the most readable field they have (ARN, user name, UPN): the cited record's
  // actor or identity must contain it, or it theirs.
  const names = [r.actor, r.identity].filter((n): n is string => !!n).map((n) => n.toLowerCase());
  const actor = f.actor?.toLowerCase();
  if (actor && names.length > 0 && !names.some((n) => n.includes(actor) || actor.includes(n))) return `actor ${f.actor} but the cited record's is ${r.actor}`;
  return undefined;
}

/** Runs detect 5 times (threads 1, 2, 1, 2, 2) and checks bytes and citations; returns the figures printed. */
async function checkCase(label: string, locker: string, caseName = 'c'): Promise<void> {
  const runs = [];
  for (const threads of [1, 2, 1, 2, 2]) runs.push(await detect(locker, threads, caseName));
  const distinct = new Set(runs.map((r) => r.bytes));
  const { run, cited } = runs[0]!;
  expect(run.errors).toEqual([]);
  const all = [...run.findings, ...run.suppressed.map((s) => s.finding)];
  const mismatches = all
    .map((f) => [f, citationMismatch(f, cited.get(`${f.evidence_key}|${f.evidence_record}`))] as const)
    .filter(([, why]) => why !== undefined)
    .map(([f, why]) => `${f.detection} ${f.evidence_key} record ${f.evidence_record}: ${why}`);
  console.log(`${label}: ${runs.length} runs (threads 1,2,1,2,2), ${distinct.size} distinct output(s); ${all.length} findings' citations checked, ${mismatches.length} mismatches`);
  expect(mismatches).toEqual([]);
  expect(distinct.size).toBe(1);
  // Counts read correctly: "1 address", never "1 addresses".
  const misread = all.map((f) => f.detail ?? '').filter((d) => /(?<![\d.])1 (?:[a-z]+ )?(?:addresses|calls|services|events|records|requests|users|actions|connections|findings|secrets|ports|hosts|objects|keys|endpoints|topics|commands|days|devices|agents)\b/.test(d));
  expect(misread).toEqual([]);
}

describe('Findings on the synthetic multi-cloud incident (amber demo)', () => {
  it('are byte-identical over 5 runs on 1 and 2 threads, and every finding cites a record that produced it', { timeout: 120_000 }, async () => {
    await checkCase('demo', await demoLocker(), 'demo');
  });
});

describe('Findings on public real-world data (../shared/data)', () => {
  for (const corpus of CORPORA) {
    const here = existsSync(join(DATA, corpus));
    it.runIf(here)(`${corpus}: byte-identical over 5 runs on 1 and 2 threads, and every finding cites a record that produced it`, { timeout: 120_000 }, async () => {
      await checkCase(corpus, await collected(corpus));
    });
    it.skipIf(here)(`${corpus}: SKIPPED, ../shared/data/${corpus} is absent (the corpora are not part of the repository)`, () => {});
  }
});
