import { createHash } from 'node:crypto';
import { appendFile, chmod, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bucketName, bucketSeconds } from '../../shared/reports/activity-plot.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

interface Row { time: string; actor: string | null; identity: string | null; action: string | null; source_ip: string | null }
interface Finding { detection: string; event_time: string | null; first_time: string | null; last_time: string | null; evidence_key: string; evidence_record: number | null; evidence_sha256: string | null }
interface Chain { by: string; subject: string; stages: Array<{ tactic: string; steps: Array<{ time: string | null; detection: string; evidence: { key: string; record: number | null; sha256: string | null } }> }> }

const ledger = async (cwd: string): Promise<Array<{ action: string; detail?: Record<string, unknown> }>> =>
  (await readFile(join(cwd, 'evidence/cases/demo/custody-ledger.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
const jsonl = (text: string): Row[] => text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row);

let cwd: string;
let all: Row[];

beforeAll(async () => {
  cwd = await tempDir();
  expect((await runCli(['demo'], { cwd })).code).toBe(0);
  const run = await runCli(['timeline', '--case', 'demo', '--format', 'jsonl'], { cwd });
  expect(run.code, run.stderr).toBe(0);
  all = jsonl(run.stdout);
});

describe('CLI: amber timeline filters', () => {
  it('--ip keeps exactly the events from that address, and repeating it keeps either', async () => {
    const ips = [...new Set(all.map((r) => r.source_ip).filter((x): x is string => x !== null && x.includes('.')))].sort();
    const [a, b] = [ips[0]!, ips[1]!];
    const one = jsonl((await runCli(['timeline', '--case', 'demo', '--format', 'jsonl', '--ip', a], { cwd })).stdout);
    expect(one.length).toBe(all.filter((r) => r.source_ip === a).length);
    expect(one.length).toBeGreaterThan(0);
    const two = jsonl((await runCli(['timeline', '--case', 'demo', '--format', 'jsonl', '--ip', a, '--ip', b], { cwd })).stdout);
    expect(two.length).toBe(all.filter((r) => r.source_ip === a || r.source_ip === b).length);
  });

  it('--actor, --action, --since and --until combine (all must hold), times compared as instants', async () => {
    const pick = all.find((r) => r.action === 'ConsoleLogin' && r.actor)!;
    const word = pick.actor!.split(/[/:@]/).filter(Boolean).at(-1)!.toUpperCase();
    const since = '2026-11-20T02:06:00Z';
    const until = '2026-11-20T04:00:00+01:00'; // 03:00Z
    const run = await runCli(['timeline', '--case', 'demo', '--format', 'jsonl', '--actor', word, '--action', 'consolelogin', '--since', since, '--until', until], { cwd });
    expect(run.code, run.stderr).toBe(0);
    const want = all.filter(
      (r) => r.action === 'ConsoleLogin' && `${r.actor ?? ''} ${r.identity ?? ''}`.toLowerCase().includes(word.toLowerCase()) && Date.parse(r.time) >= Date.parse(since) && Date.parse(r.time) < Date.parse(until),
    );
    expect(jsonl(run.stdout)).toEqual(want);
    const entry = (await ledger(cwd)).filter((e) => e.action === 'exported').at(-1)!;
    expect(entry.detail).toMatchObject({ what: 'timeline', actions: ['consolelogin'], since: '2026-11-20T02:06:00.000Z', until: '2026-11-20T03:00:00.000Z', rows: want.length });
  });

  it('treats filter text as data: quotes and LIKE wildcards match nothing rather than everything', async () => {
    for (const hostile of ["' OR '1'='1", '%', '_', "x') OR 1=1 --"]) {
      const run = await runCli(['timeline', '--case', 'demo', '--format', 'jsonl', '--actor', hostile], { cwd });
      expect(run.code, run.stderr).toBe(0);
      expect(jsonl(run.stdout), hostile).toEqual([]);
    }
  });

  it('refuses a non-ISO time, an invalid address and an empty window with the fix, before opening the case', async () => {
    const before = (await ledger(cwd)).length;
    const cases: Array<[string[], RegExp]> = [
      [['--since', 'yesterday'], /--since "yesterday" is not an ISO-8601 time with a zone[\s\S]*fix: write it as --since 2026-03-01T14:30:00Z/],
      [['--until', '2026-11-20 03:00'], /--until "2026-11-20 03:00" is not an ISO-8601 time/],
      [['--ip', '10.0.0.256'], /--ip "10.0.0.256" is not an IP address[\s\S]*fix: give one IPv4 or IPv6 address/],
      [['--since', '2026-11-20T03:00:00Z', '--until', '2026-11-20T02:00:00Z'], /is not before --until/],
    ];
    for (const [flags, message] of cases) {
      const run = await runCli(['timeline', '--case', 'demo', ...flags], { cwd });
      expect(run.code, flags.join(' ')).toBe(2);
      expect(run.stderr).toMatch(message);
    }
    expect((await ledger(cwd)).length).toBe(before);
  });
});

describe('CLI: amber detect --since/--until and --param', () => {
  it('analyses only the window: no finding, chain step or cited record lies outside it', async () => {
    const whole = JSON.parse((await runCli(['detect', '--case', 'demo', '--json'], { cwd })).stdout) as { findings: Finding[] };
    const since = '2026-11-20T03:00:00Z';
    const until = '2026-11-20T04:00:00Z';
    const run = await runCli(['detect', '--case', 'demo', '--json', '--since', since, '--until', until], { cwd });
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as { window: unknown; findings: Finding[]; chains: Chain[] };
    expect(out.window).toEqual({ since: '2026-11-20T03:00:00.000Z', until: '2026-11-20T04:00:00.000Z' });
    expect(out.findings.length).toBeGreaterThan(0);
    expect(out.findings.length).toBeLessThan(whole.findings.length);
    for (const f of out.findings) {
      for (const time of [f.event_time, f.first_time, f.last_time].filter((x): x is string => x !== null)) {
        expect(Date.parse(time), `${f.detection} ${time}`).toBeGreaterThanOrEqual(Date.parse(since));
        expect(Date.parse(time), `${f.detection} ${time}`).toBeLessThan(Date.parse(until));
      }
    }
    for (const c of out.chains) for (const s of c.stages) for (const step of s.steps) expect(step.time! >= since && step.time! < until).toBe(true);
    const accessed = (await ledger(cwd)).filter((e) => e.action === 'accessed').at(-1)!;
    expect(accessed.detail).toMatchObject({ purpose: 'detect', since: '2026-11-20T03:00:00.000Z', until: '2026-11-20T04:00:00.000Z', findings: out.findings.length });
  });

  it('--param raises a threshold: the detection it names stops firing, the others are untouched, and the ledger records the value', async () => {
    const base = JSON.parse((await runCli(['detect', '--case', 'demo', '--json'], { cwd })).stdout) as { findings: Finding[] };
    expect(base.findings.some((f) => f.detection === 'console-login-failure-burst')).toBe(true);
    const run = await runCli(['detect', '--case', 'demo', '--json', '--param', 'console-login-failure-burst.min_failures=100000'], { cwd });
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as { findings: Finding[]; parameters: Record<string, string> };
    expect(out.parameters).toEqual({ 'console-login-failure-burst.min_failures': '100000' });
    expect(out.findings.filter((f) => f.detection === 'console-login-failure-burst')).toEqual([]);
    const others = (fs: Finding[]): string[] => fs.filter((f) => f.detection !== 'console-login-failure-burst').map((f) => JSON.stringify(f));
    expect(others(out.findings)).toEqual(others(base.findings));
    const accessed = (await ledger(cwd)).filter((e) => e.action === 'accessed').at(-1)!;
    expect(accessed.detail).toMatchObject({ parameters: { 'console-login-failure-burst.min_failures': '100000' } });
  });

  it('refuses unknown ids and names with "did you mean", and hostile values by type, recording nothing', async () => {
    const before = (await ledger(cwd)).length;
    const cases: Array<[string, RegExp]> = [
      ['s3-large-downlod.min_bytes=5', /no detection "s3-large-downlod" takes parameters[\s\S]*did you mean s3-large-download\.min_bytes\?/],
      ['s3-large-download.min_byte=5', /has no parameter "min_byte"[\s\S]*did you mean s3-large-download\.min_bytes\?/],
      ['s3-large-download.min_bytes=1 OR 1=1', /--param s3-large-download\.min_bytes: "1 OR 1=1" is not a valid int/],
      ['vpc-beaconing.min_score=0.7)--', /is not a valid number/],
      ['vpc-beaconing.min_score=2', /at most 1/],
      ['no-equals-sign', /is not detection-id\.name=value/],
    ];
    for (const [flag, message] of cases) {
      const run = await runCli(['detect', '--case', 'demo', '--param', flag], { cwd });
      expect(run.code, flag).toBe(2);
      expect(run.stderr, flag).toMatch(message);
    }
    const window = await runCli(['detect', '--case', 'demo', '--since', 'last tuesday'], { cwd });
    expect(window.code).toBe(2);
    expect(window.stderr).toMatch(/--since "last tuesday" is not an ISO-8601 time with a zone/);
    expect((await ledger(cwd)).length).toBe(before);
  });

  it('amber rules lists each parameter with its type and default', async () => {
    const run = await runCli(['rules'], { cwd });
    expect(run.stdout).toContain('--param s3-large-download.min_bytes=INT (default 1073741824)');
    expect(run.stdout).toContain('--param vpc-beaconing.min_score=NUMBER (default 0.7)');
  });
});

describe('CLI: attack chains', () => {
  it('groups findings per identity and per address in tactic order, each step citing the finding\'s evidence, the same on every run', async () => {
    const first = await runCli(['detect', '--case', 'demo', '--json'], { cwd });
    const second = await runCli(['detect', '--case', 'demo', '--json'], { cwd });
    const a = JSON.parse(first.stdout) as { chains: Chain[]; findings: Finding[] };
    const b = JSON.parse(second.stdout) as { chains: Chain[] };
    expect(JSON.stringify(b.chains)).toBe(JSON.stringify(a.chains));
    expect(a.chains.length).toBeGreaterThan(0);
    const order = ['reconnaissance', 'resource-development', 'initial-access', 'execution', 'persistence', 'privilege-escalation', 'defense-evasion', 'credential-access', 'discovery', 'lateral-movement', 'collection', 'command-and-control', 'exfiltration', 'inhibit-response-function', 'impair-process-control', 'impact', 'unmapped'];
    const cited = new Set(a.findings.map((f) => `${f.detection}|${f.evidence_key}|${f.evidence_record}|${f.evidence_sha256}`));
    for (const c of a.chains) {
      const ranks = c.stages.map((s) => order.indexOf(s.tactic));
      expect(ranks.every((r) => r >= 0)).toBe(true);
      expect(ranks).toEqual([...ranks].sort((x, y) => x - y));
      for (const s of c.stages) {
        const times = s.steps.map((x) => x.time ?? '');
        expect(times).toEqual([...times].sort());
        for (const step of s.steps) expect(cited.has(`${step.detection}|${step.evidence.key}|${step.evidence.record}|${step.evidence.sha256}`)).toBe(true);
      }
    }
    // The demo's intruder address reaches initial access and goes on to later stages.
    const multi = a.chains.filter((c) => c.stages.length >= 3);
    expect(multi.length).toBeGreaterThan(0);
  });

  it('is the report\'s first section, before the findings, with an adaptive plot', async () => {
    const run = await runCli(['report', '--case', 'demo', '--out', 'r.html'], { cwd });
    expect(run.code, run.stderr).toBe(0);
    const html = await readFile(join(cwd, 'r.html'), 'utf8');
    const sections = [...html.matchAll(/<section id="([a-z]+)"/g)].map((m) => m[1]);
    expect(sections[0]).toBe('chains');
    expect(sections.indexOf('chains')).toBeLessThan(sections.indexOf('findings'));
    // Bars as wide as the case's span needs: computed here from the timeline's first and last event.
    const times = all.map((r) => Date.parse(r.time) / 1000).sort((x, y) => x - y);
    const step = bucketSeconds(times[0]!, times.at(-1)!);
    expect(step).toBeLessThan(3600);
    expect(html).toContain(`one bar per ${bucketName(step)}`);
  });
});

describe('CLI: amber query', () => {
  it('answers a SELECT in table, csv and json, and records the query\'s SHA-256 as accessed', async () => {
    const sql = "SELECT eventname, count(*) AS n FROM cloudtrail WHERE eventname = 'ConsoleLogin' GROUP BY 1 ORDER BY 1";
    const want = all.filter((r) => r.action === 'ConsoleLogin' && (r as unknown as { source: string }).source === 'cloudtrail').length;
    const json = await runCli(['query', '--case', 'demo', sql, '--format', 'json'], { cwd });
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([{ eventname: 'ConsoleLogin', n: want }]);
    const csv = await runCli(['query', '--case', 'demo', sql, '--format', 'csv'], { cwd });
    expect(csv.stdout).toBe(`eventname,n\nConsoleLogin,${want}\n`);
    const table = await runCli(['query', '--case', 'demo', sql], { cwd });
    expect(table.stdout).toMatch(/^eventname\s+n\n-+\s+-+\nConsoleLogin\s+\d+\n\(1 row\)\n$/);
    const accessed = (await ledger(cwd)).filter((e) => e.action === 'accessed').at(-1)!;
    expect(accessed.detail).toMatchObject({ purpose: 'query', querySha256: createHash('sha256').update(sql).digest('hex'), rows: 1, format: 'table', query: sql });
  });

  it('gives byte-identical output for the same ordered query', async () => {
    const sql = 'WITH t AS (SELECT * FROM timeline) SELECT time, action, evidence_key, evidence_record FROM t ORDER BY time, evidence_key, evidence_record';
    const a = await runCli(['query', '--case', 'demo', sql, '--format', 'csv'], { cwd });
    const b = await runCli(['query', '--case', 'demo', sql, '--format', 'csv'], { cwd });
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout.split('\n').length).toBe(all.length + 2);
    expect(b.stdout).toBe(a.stdout);
  });

  it('refuses anything but one SELECT: writes, attaches, installs, settings and file reads, creating no file', async () => {
    const before = (await ledger(cwd)).length;
    const cases: Array<[string, RegExp]> = [
      [`COPY (SELECT * FROM cloudtrail) TO '${join(cwd, 'leak.csv')}'`, /refused: the query starts with "COPY"/],
      [`ATTACH '${join(cwd, 'other.db')}' AS other`, /refused: the query starts with "ATTACH"/],
      ['INSTALL httpfs', /refused: the query starts with "INSTALL"/],
      ['SET enable_external_access = true', /refused: the query starts with "SET"/],
      ['PRAGMA version', /refused: the query starts with "PRAGMA"/],
      [`SELECT 1; COPY (SELECT 1) TO '${join(cwd, 'leak2.csv')}'`, /refused: the query is 2 statements/],
      ["SELECT * FROM read_text('/etc/passwd')", /refused: the query reaches outside the case's tables[\s\S]*\/etc\/passwd/],
      [`SELECT * FROM read_csv('${join(cwd, 'evidence/cases/demo/custody-ledger.jsonl')}')`, /refused: the query reaches outside the case's tables/],
      [`SELECT * FROM read_blob('${join(cwd, 'r.html')}')`, /refused: the query reaches outside the case's tables/],
      [`WITH x AS (SELECT 1) SELECT * FROM read_parquet('${join(cwd, 'nothing.parquet')}')`, /refused: the query reaches outside the case's tables/],
    ];
    for (const [sql, message] of cases) {
      const run = await runCli(['query', '--case', 'demo', sql], { cwd });
      expect(run.code, sql).toBe(2);
      expect(run.stderr, sql).toMatch(message);
      expect(run.stdout, sql).toBe('');
    }
    for (const f of ['leak.csv', 'leak2.csv', 'other.db']) await expect(stat(join(cwd, f))).rejects.toThrow(/ENOENT/);
    expect((await ledger(cwd)).filter((e) => e.action === 'accessed').length).toBe((await ledger(cwd)).slice(0, before).filter((e) => e.action === 'accessed').length);
  });

  it('--help lists the tables and their columns', async () => {
    const run = await runCli(['query', '--help'], { cwd });
    expect(run.code).toBe(0);
    const cloudtrail = /cloudtrail: AWS CloudTrail[^\n]*\n((?: {6}[^\n]*\n)+)/.exec(run.stdout)?.[1] ?? '';
    expect(cloudtrail.split(/,\s*/).map((c) => c.trim())).toEqual(expect.arrayContaining(['eventname', 'useridentity', 'sourceipaddress', 'evidence_key', 'evidence_record']));
    expect(run.stdout).toMatch(/timeline: [\s\S]*source_ip/);
    expect(run.stdout).toContain('vpc_flow_logs');
  });

  it('exits 3 on tampered evidence before running the query', async () => {
    const dir = await tempDir();
    await runCli(['demo'], { cwd: dir });
    const day = join(dir, 'evidence/cases/demo/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20');
    const name = (await readdir(day))[0]!;
    await chmod(join(day, name), 0o644);
    await appendFile(join(day, name), ' ');
    const run = await runCli(['query', '--case', 'demo', 'SELECT count(*) AS n FROM cloudtrail'], { cwd: dir });
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`${name}: altered`);
  });
});
