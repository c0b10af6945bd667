/**
 * The vpc-beaconing detection's SQL against an independent TypeScript implementation of RITA's beacon score
 * (activecm/rita analysis/beacons.go, default_config.hjson), pair by pair and subscore by subscore:
 * - with nearest-rank quantiles (what approx_percentile is on the embedded engine), the SQL must agree exactly;
 * - with RITA's own statistics (median-of-halves quartiles, interpolated medians), the score may differ only by
 *   the quantile method, which the detection documents; the bound is pinned here.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDetection } from '../../../../shared/detections/catalogue.ts';
import { DuckDbQueryEngine } from '../../../../shared/query/duckdb-engine.ts';
import { loadSourceTable, sourceRowLine } from '../../../../shared/sources/source-table.ts';
import { parseVpcFlowLogs, VPC_FLOW_SOURCE } from '../../../../shared/sources/vpcflow/index.ts';
import { FLOW_HEADER } from '../../../fixtures/aws/detection-fixtures.ts';
import { tempDir } from '../../../helpers/tmp.ts';

const DETECTION_DIR = fileURLToPath(new URL('../../../../shared/detections/vpc-beaconing', import.meta.url));

interface Flow {
  readonly src: string;
  readonly dst: string;
  readonly dport: number;
  readonly proto: number;
  readonly t: number;
  readonly bytes: number;
}

interface Scores {
  readonly ts: number;
  readonly ds: number;
  readonly hist: number;
  readonly dur: number;
  readonly score: number;
}

type Quantiles = (sorted: readonly number[]) => { q1: number; q2: number; q3: number; median: (v: readonly number[]) => number };

const r3 = (x: number): number => Math.round(x * 1000) / 1000;
const c3 = (x: number): number => Math.ceil(x * 1000) / 1000;
const sortNum = (v: readonly number[]): number[] => [...v].sort((a, b) => a - b);

/** Nearest rank, as approx_percentile is on the embedded engine: the value at rank ceil(n p). */
const nearest = (sorted: readonly number[], p: number): number => sorted[Math.max(0, Math.ceil(sorted.length * p) - 1)]!;
const NEAREST: Quantiles = (s) => ({ q1: nearest(s, 0.25), q2: nearest(s, 0.5), q3: nearest(s, 0.75), median: (v) => nearest(sortNum(v), 0.5) });

/** RITA's statistics library: interpolated median, quartiles as medians of the lower and upper halves. */
const interpolatedMedian = (v: readonly number[]): number => {
  const s = sortNum(v);
  const n = s.length;
  return n % 2 === 1 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
};
const RITA: Quantiles = (s) => {
  const n = s.length;
  const [c1, c2] = n % 2 === 0 ? [n / 2, n / 2] : [(n - 1) / 2, (n - 1) / 2 + 1];
  return { q1: interpolatedMedian(s.slice(0, c1)), q2: interpolatedMedian(s), q3: interpolatedMedian(s.slice(c2)), median: interpolatedMedian };
};

/** RITA's statistical subscore: mean of the Bowley skew score and the MAD score. */
function statistical(values: readonly number[], defaultMad: number, quantiles: Quantiles): number {
  const s = sortNum(values);
  const { q1, q2, q3, median } = quantiles(s);
  const skew = q3 - q1 >= 10 && q2 !== q1 && q2 !== q3 ? (q1 + q3 - 2 * q2) / (q3 - q1) : 0;
  const mad = median(s.map((x) => Math.abs(x - q2)));
  const madScore = q2 >= 1 ? Math.max((q2 - mad) / q2, 0) : defaultMad;
  return r3((1 - Math.abs(skew) + madScore) / 2);
}

/** RITA's beacon score of one pair over the observation window [t0, t1]. */
function ritaScore(flows: readonly Flow[], t0: number, t1: number, quantiles: Quantiles): Scores {
  const stamps = sortNum([...new Set(flows.map((f) => f.t))]);
  const gaps = stamps.slice(1).map((t, i) => t - stamps[i]!);
  const ts = statistical(gaps, 1, quantiles);
  const ds = statistical(flows.map((f) => f.bytes), 0, quantiles);
  const bins = Array<number>(24).fill(0);
  for (const f of flows) bins[Math.min(Math.floor(((f.t - t0) * 24) / (t1 - t0)), 23)]! += 1;
  const busy = bins.filter((c) => c > 0).length;
  const mean = flows.length / 24;
  const cv = Math.sqrt(bins.reduce((a, c) => a + (c - mean) ** 2, 0) / 24) / mean;
  const cvScore = cv > 1 ? 0 : r3(1 - cv);
  const size = Math.ceil(Math.max(...bins) * 0.05);
  const groups = new Map<number, number>();
  for (const c of bins) if (c > 0) groups.set(Math.floor(c / size), (groups.get(Math.floor(c / size)) ?? 0) + 1);
  const [first = 0, second = 0] = [...groups.values()].sort((a, b) => b - a);
  const bimodal = busy >= 11 ? Math.min(r3((first + second) / Math.max(busy - 1, 1)), 1) : 0;
  const hist = Math.max(cvScore, bimodal);
  let longest = 0;
  let run = 0;
  for (let i = 0; i < 48; i++) {
    run = bins[i % 24]! > 0 ? run + 1 : 0;
    longest = Math.max(longest, run);
  }
  longest = Math.min(longest, 24);
  const first_t = stamps[0]!;
  const last_t = stamps.at(-1)!;
  const dur = busy >= 6 ? Math.max(Math.min(c3((last_t - first_t) / (t1 - t0)), 1), Math.min(c3(longest / 12), 1)) : 0;
  return { ts, ds, hist, dur, score: r3(0.25 * (ts + ds + hist + dur)) };
}

const PRIVATE = /^10\.|^192\.168\.|^172\.(1[6-9]|2[0-9]|3[01])\.|^100\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\.|^f[cd][0-9a-f]{2}:/;
const NOT_PUBLIC = /^$|^(10|127|0)\.|^169\.254\.|^192\.168\.|^172\.(1[6-9]|2[0-9]|3[01])\.|^100\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\.|^(22[4-9]|2[3-5][0-9])\.|^f[cd][0-9a-f]{2}:|^fe[89ab][0-9a-f]:|^ff[0-9a-f]{2}:|^::1?$/;

/** Every pair the detection scores, with the reference scores under both quantile methods. */
function reference(text: string): Map<string, { nearest: Scores; rita: Scores; connections: number }> {
  const flows: Flow[] = parseVpcFlowLogs(text, 'x')
    .rows.map((r) => r.row)
    .filter((r) => r.action === 'ACCEPT' && (r.log_status ?? 'OK') === 'OK' && r.start !== null && r.bytes !== null)
    .filter((r) => PRIVATE.test(String(r.srcaddr ?? '').toLowerCase()) && !NOT_PUBLIC.test(String(r.dstaddr ?? '').toLowerCase()))
    .filter((r) => (r.flow_direction ?? 'egress') === 'egress')
    .map((r) => ({ src: r.srcaddr as string, dst: r.dstaddr as string, dport: (r.dstport as number | null) ?? -1, proto: (r.protocol as number | null) ?? -1, t: r.start as number, bytes: r.bytes as number }));
  const t0 = Math.min(...flows.map((f) => f.t));
  const t1 = Math.max(...flows.map((f) => f.t));
  const pairs = new Map<string, Flow[]>();
  for (const f of flows) {
    const k = `${f.src} ${f.dst}:${f.dport}`;
    pairs.set(k, [...(pairs.get(k) ?? []), f]);
  }
  const out = new Map<string, { nearest: Scores; rita: Scores; connections: number }>();
  for (const [k, fs] of pairs) {
    if (new Set(fs.map((f) => f.t)).size < 4) continue;
    out.set(k, { nearest: ritaScore(fs, t0, t1, NEAREST), rita: ritaScore(fs, t0, t1, RITA), connections: fs.length });
  }
  return out;
}

let engine: DuckDbQueryEngine;
let scratch: string;
let unthresholdedSql: string;

beforeAll(async () => {
  engine = await DuckDbQueryEngine.create({ threads: 2 });
  scratch = await tempDir('amber-beacon-');
  const detection = await loadDetection(DETECTION_DIR);
  unthresholdedSql = detection.sql.replace('WHERE score >= 0.7', 'WHERE score >= 0');
  expect(unthresholdedSql).not.toBe(detection.sql);
});

afterAll(async () => {
  await engine?.close();
});

/** Runs the detection SQL (threshold removed) over a flow log text; subscores read back from the detail. */
async function sqlScores(text: string, name: string): Promise<Map<string, Scores>> {
  const parsed = parseVpcFlowLogs(text, name);
  expect(parsed.problems).toEqual([]);
  const path = join(scratch, `${name}.ndjson`);
  await writeFile(path, parsed.rows.map((r) => `${sourceRowLine(name, r.index, r.row)}\n`).join(''));
  await loadSourceTable(engine, VPC_FLOW_SOURCE, [path]);
  const rows = await engine.query<{ actor: string; target: string; detail: string }>(unthresholdedSql);
  const out = new Map<string, Scores>();
  for (const row of rows) {
    const m = /^beacon score ([\d.]+) .*: ts ([\d.]+), ds ([\d.]+), hist ([\d.]+), dur ([\d.]+);/.exec(row.detail);
    if (!m) throw new Error(`unexpected detail: ${row.detail}`);
    const [score, ts, ds, hist, dur] = m.slice(1).map(Number) as [number, number, number, number, number];
    out.set(`${row.actor} ${row.target.replace(/\/\w+$/, '')}`, { ts, ds, hist, dur, score });
  }
  return out;
}

const fixtureText = (which: string): string => readFileSync(join(DETECTION_DIR, 'fixtures', `${which}.log`), 'utf8');

/** Deterministic pseudo-random numbers in [0, 1). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Forty synthetic pairs over a day: periods, jitter, size spread, active hours and gaps all drawn at random. */
function syntheticDay(seed: number): string {
  const rnd = random(seed);
  const day = Date.parse('2026-03-20T00:00:00Z') / 1000;
  const lines = [FLOW_HEADER, `5 111122223333 eni-0 10.9.0.1 192.0.2.1 1 443 6 1 40 ${day} ${day + 1} ACCEPT OK egress`, `5 111122223333 eni-0 10.9.0.1 192.0.2.1 1 443 6 1 40 ${day + 86399} ${day + 86400} ACCEPT OK egress`];
  for (let p = 0; p < 40; p++) {
    const period = [30, 60, 300, 600, 900, 3600][Math.floor(rnd() * 6)]!;
    const jitter = rnd() < 0.5 ? 0 : Math.floor(rnd() * period * 0.6);
    const from = Math.floor(rnd() * 20) * 3600;
    const to = Math.min(86399, from + (1 + Math.floor(rnd() * 24)) * 3600);
    const base = 100 + Math.floor(rnd() * 5000);
    const spread = rnd() < 0.5 ? 0 : Math.floor(rnd() * base * 3);
    const dropout = rnd() * 0.5;
    for (let t = from; t < to; t += period) {
      if (rnd() < dropout) continue;
      const at = Math.max(0, Math.min(86399, t + Math.floor(rnd() * (2 * jitter + 1)) - jitter));
      lines.push(`5 111122223333 eni-0 10.1.${p}.1 203.0.113.${p} ${1024 + (t % 60000)} ${8000 + p} 6 1 ${base + Math.floor(rnd() * (spread + 1))} ${day + at} ${day + at + 5} ACCEPT OK egress`);
    }
  }
  return `${lines.join('\n')}\n`;
}

describe('Detection: vpc-beaconing', () => {
  it.each(['match', 'no-match'])('scores every pair of the %s fixture exactly as the reference implementation (nearest-rank quantiles)', async (which) => {
    // Prepare
    const text = fixtureText(which);
    const expected = reference(text);

    // Act
    const actual = await sqlScores(text, which);

    // Assess
    expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [pair, ref] of expected) expect(actual.get(pair), pair).toEqual(ref.nearest);
  });

  it('flags the two beacons of the match fixture and nothing of the no-match one, at the documented 0.70 threshold', async () => {
    // Act
    const match = await sqlScores(fixtureText('match'), 'm');
    const noMatch = await sqlScores(fixtureText('no-match'), 'n');

    // Assess
    expect([...match].filter(([, s]) => s.score >= 0.7).map(([k]) => k).sort()).toEqual(['10.0.1.15 203.0.113.200:443', '10.0.2.20 198.51.100.44:8443']);
    expect([...noMatch].filter(([, s]) => s.score >= 0.7)).toEqual([]);
    expect(Math.max(...[...noMatch.values()].map((s) => s.score))).toBeLessThan(0.7);
  });

  it.each([20260320, 7, 99])('agrees with the reference on forty random pairs (seed %i)', async (seed) => {
    // Prepare
    const text = syntheticDay(seed);
    const expected = reference(text);

    // Act
    const actual = await sqlScores(text, `synthetic-${seed}`);

    // Assess
    expect(actual.size).toBe(expected.size);
    expect(actual.size).toBeGreaterThan(30);
    for (const [pair, ref] of expected) expect(actual.get(pair), pair).toEqual(ref.nearest);
  });

  it('stays within 0.05 of RITA\'s own statistics, and on the same side of the threshold, on the fixtures', () => {
    // Act
    const pairs = [...reference(fixtureText('match')), ...reference(fixtureText('no-match'))];

    // Assess
    for (const [pair, { nearest: n, rita }] of pairs) {
      expect(Math.abs(n.score - rita.score), pair).toBeLessThanOrEqual(0.05);
      expect(n.score >= 0.7, pair).toBe(rita.score >= 0.7);
    }
  });
});
