import { createHash } from 'node:crypto';
import { appendFile, chmod, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateIncident } from '../../shared/demo/incident.ts';
import { generateMultiCloud } from '../../shared/demo/multicloud.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const ledger = async (cwd: string): Promise<Array<{ action: string; detail?: Record<string, unknown> }>> =>
  (await readFile(join(cwd, 'evidence/cases/demo/custody-ledger.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));

const STORY = [...generateIncident(), ...generateMultiCloud()];
const EVENTS = STORY.reduce((n, f) => n + f.records, 0);
let cwd: string;
let demo: { intact: boolean; events: number; findings: Array<Record<string, unknown>>; collected: { created: number } };

beforeAll(async () => {
  cwd = await tempDir();
  const run = await runCli(['demo', '--json'], { cwd });
  expect(run.code).toBe(0);
  demo = JSON.parse(run.stdout);
});

describe('CLI: amber demo', () => {
  it('preserves, verifies, detects and reports the synthetic intrusion', async () => {
    expect(demo).toMatchObject({ intact: true, events: EVENTS, collected: { created: STORY.length } });
    const ids = new Set(demo.findings.map((f) => f.detection));
    for (const id of [
      'console-login-without-mfa', 'cloudtrail-logging-disabled', 'root-account-usage', 's3-bucket-exposed', 'organization-leave', 'instance-credentials-outside-aws',
      'entra-risky-sign-in', 'm365-mail-forwarding-external', 'gcp-iam-powerful-role-granted', 'vpc-beaconing', 'vpc-large-egress-to-internet',
      'impossible-travel', 'credential-sharing', 'mqtt-plaintext-remote-client', 'mqtt-wildcard-subscription', 'mqtt-unknown-client-id',
    ]) {
      expect(ids, id).toContain(id);
    }
    expect(await readFile(join(cwd, 'amber-demo-report.html'), 'utf8')).toMatch(/<title>Amber case report: demo<\/title>/);
  });

  it('is idempotent: a second run adds no evidence and finds the same', async () => {
    const again = JSON.parse((await runCli(['demo', '--json'], { cwd })).stdout);
    expect(again.collected).toMatchObject({ created: 0, reacquired: STORY.length });
    expect(again.findings.map((f: { detection: string }) => f.detection)).toEqual(demo.findings.map((f) => f.detection));
  });
});

describe('CLI: amber detect', () => {
  it('prints {case, events, findings} where each finding cites the preserved object, record and its manifest SHA-256', async () => {
    const run = await runCli(['detect', '--case', 'demo', '--json'], { cwd });
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out).toMatchObject({ case: 'demo', events: EVENTS });
    const verified = JSON.parse((await runCli(['verify', '--case', 'demo', '--json'], { cwd })).stdout) as { items: Array<{ key: string; recordedSha256: string }> };
    const manifest = new Map(verified.items.map((i) => [i.key, i.recordedSha256]));
    for (const f of out.findings) {
      expect(Object.keys(f)).toEqual([
        'detection', 'title', 'severity', 'mitre', 'event_time', 'actor', 'source_ip', 'action', 'target', 'detail', 'first_time', 'last_time', 'records', 'repeats',
        'cloud', 'source', 'account', 'region', 'user_agent', 'outcome', 'error_code', 'evidence_key', 'evidence_record', 'evidence_sha256',
      ]);
      // Every cited record is on the timeline, so every finding knows where and how the call was made.
      expect(f.outcome, f.detection).toMatch(/^(success|failure)$/);
      expect(f.evidence_sha256).toBe(manifest.get(f.evidence_key));
      expect(f.evidence_record, f.detection).toBeGreaterThanOrEqual(0);
      if (f.evidence_key.includes('/CloudTrail/')) {
        const file = JSON.parse((await import('node:zlib')).gunzipSync(await readFile(join(cwd, 'evidence', f.evidence_key))).toString());
        expect(file.Records[f.evidence_record], f.detection).toMatchObject({ eventName: f.action });
      }
    }
    const accessed = (await ledger(cwd)).filter((e) => e.action === 'accessed').at(-1)!;
    expect(accessed.detail).toMatchObject({ purpose: 'detect', findings: out.findings.length });
  });

  it('--suppress leaves matching findings out, lists them apart with the rule and reason, and records the file\'s SHA-256', async () => {
    const all = JSON.parse((await runCli(['detect', '--case', 'demo', '--json'], { cwd })).stdout) as { findings: Array<{ detection: string; actor: string }> };
    const victim = all.findings[0]!;
    const rules = `suppress:\n  - detection: ${victim.detection}\n    principal: "${victim.actor}"\n    reason: "known <automation> & tests"\n`;
    await writeFile(join(cwd, 'rules.yml'), rules);
    const run = await runCli(['detect', '--case', 'demo', '--json', '--suppress', 'rules.yml'], { cwd });
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as { findings: unknown[]; suppressed: Array<{ finding: { detection: string; actor: string }; rule: { rule: number; reason: string } }>; suppressionSha256: string };
    const matching = all.findings.filter((f) => f.detection === victim.detection && f.actor === victim.actor).length;
    expect(out.suppressed).toHaveLength(matching);
    expect(out.suppressed[0]).toMatchObject({ finding: { detection: victim.detection, actor: victim.actor }, rule: { rule: 1, reason: 'known <automation> & tests' } });
    expect(out.findings).toHaveLength(all.findings.length - matching);
    expect(out.suppressionSha256).toBe(sha(rules));
    const accessed = (await ledger(cwd)).filter((e) => e.action === 'accessed').at(-1)!;
    expect(accessed.detail).toMatchObject({ purpose: 'detect', suppressionSha256: sha(rules), suppressed: matching, findings: all.findings.length - matching });

    const text = await runCli(['detect', '--case', 'demo', '--suppress', 'rules.yml'], { cwd });
    expect(text.stdout).toContain(`${matching} suppressed`);
    expect(text.stdout).toContain('[rule 1: known <automation> & tests]');

    const report = await runCli(['report', '--case', 'demo', '--suppress', 'rules.yml', '--out', 'suppressed.html'], { cwd });
    expect(report.code, report.stderr).toBe(0);
    const html = await readFile(join(cwd, 'suppressed.html'), 'utf8');
    expect(html).toContain(`Suppressed (${matching})`);
    expect(html).toContain('known &#60;automation&#62; &#38; tests');
  });

  it('--suppress with a rule that gives no reason is a usage error naming the rule, and records nothing', async () => {
    await writeFile(join(cwd, 'bad.yml'), 'suppress:\n  - userAgent: terraform\n');
    const before = (await ledger(cwd)).length;
    const run = await runCli(['detect', '--case', 'demo', '--suppress', 'bad.yml'], { cwd });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/bad\.yml: suppression rule 1 gives no reason/);
    expect((await ledger(cwd)).length).toBe(before);
  });

  it('exits 2 for an unknown case', async () => {
    const run = await runCli(['detect', '--case', 'nope'], { cwd });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown case "nope"/);
  });
});

describe('CLI: amber timeline', () => {
  it('writes one CSV row per timeline event and records the export with its SHA-256', async () => {
    const run = await runCli(['timeline', '--case', 'demo', '--format', 'csv', '--out', 'timeline.csv'], { cwd });
    expect(run.code).toBe(0);
    const csv = await readFile(join(cwd, 'timeline.csv'));
    const lines = csv.toString().trimEnd().split('\n');
    const jsonl = (await runCli(['timeline', '--case', 'demo', '--format', 'jsonl'], { cwd })).stdout.trim().split('\n').map((l) => JSON.parse(l) as { source: string });
    expect(lines).toHaveLength(jsonl.length + 1);
    // Every CloudTrail record is an event; a broker's own start-up lines stay in its table, not on the timeline.
    expect(jsonl.filter((r) => r.source === 'cloudtrail')).toHaveLength(generateIncident().reduce((n, f) => n + f.records, 0));
    expect(jsonl.length).toBeLessThanOrEqual(EVENTS);
    const exported = (await ledger(cwd)).filter((e) => e.action === 'exported' && e.detail?.format === 'csv').at(-1)!;
    expect(exported.detail).toMatchObject({ what: 'timeline', format: 'csv', rows: jsonl.length, sha256: sha(csv) });
  });

  it('shows one person across clouds with --identity', async () => {
    const run = await runCli(['timeline', '--case', 'demo', '--format', 'jsonl', '--identity', 'Alice@Corp.example'], { cwd });
    const rows = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { identity: string; source: string });
    expect(new Set(rows.map((r) => r.identity))).toEqual(new Set(['alice@corp.example']));
    expect(new Set(rows.map((r) => r.source))).toEqual(new Set(['entra-signin', 'm365-audit', 'gcp-audit']));
  });

  it('exits 2 on an unknown format', async () => {
    expect((await runCli(['timeline', '--case', 'demo', '--format', 'xml'], { cwd })).code).toBe(2);
  });
});

describe('CLI: amber report', () => {
  it('exits 3 naming the altered object, and writes no report computed from altered bytes', async () => {
    const dir = await tempDir();
    await runCli(['demo'], { cwd: dir });
    const day = join(dir, 'evidence/cases/demo/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20');
    const name = (await readdir(day))[3]!;
    const victim = join(day, name);
    await chmod(victim, 0o644);
    await appendFile(victim, 'x');
    const run = await runCli(['report', '--case', 'demo', '--out', 'r.html'], { cwd: dir });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`${name}: altered`);
    await expect(readFile(join(dir, 'r.html'), 'utf8')).rejects.toThrow(/ENOENT/);
  });
});

describe('CLI: detect and timeline on tampered evidence', () => {
  it('exit 3 naming every altered object, with no findings and no rows', async () => {
    const dir = await tempDir();
    await runCli(['demo'], { cwd: dir });
    const day = join(dir, 'evidence/cases/demo/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20');
    const names = (await readdir(day)).slice(0, 2);
    for (const name of names) {
      await chmod(join(day, name), 0o644);
      await appendFile(join(day, name), ' ');
    }
    const detect = await runCli(['detect', '--case', 'demo', '--json'], { cwd: dir });
    expect(detect.code).toBe(3);
    expect(detect.stdout).toBe('');
    for (const name of names) expect(detect.stderr).toContain(`${name}: altered`);
    const timeline = await runCli(['timeline', '--case', 'demo', '--format', 'jsonl'], { cwd: dir });
    expect(timeline.code).toBe(3);
    expect(timeline.stdout).toBe('');
  });
});
